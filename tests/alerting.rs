//! `skyline alert` as operators run it: a NAB series through ingest and
//! analyze to a mail on a real SMTP server; the test command's answers and
//! exit status; config errors naming the key; and the alerter killed with
//! SIGKILL ten times mid-stream while every alert still reaches a real
//! webhook receiver (duplicates counted).

#[path = "../alert/tests/common/smtp_sink.rs"]
mod smtp_sink;
mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use support::{Run, Services};
use topics::codec::encode;
use topics::kafka::{ensure_topics, Producer};
use topics::{AlertEvent, SourceApp};
use uuid::Uuid;

/// Idempotency keys received, with how many times each came.
#[derive(Clone, Default)]
struct Hook {
    keys: Arc<Mutex<HashMap<String, usize>>>,
    status: u16,
}

async fn receive(State(h): State<Hook>, headers: HeaderMap, _body: Bytes) -> StatusCode {
    if let Some(key) = headers.get("idempotency-key").and_then(|k| k.to_str().ok()) {
        *h.keys.lock().unwrap().entry(key.to_owned()).or_default() += 1;
    }
    StatusCode::from_u16(h.status).unwrap()
}

async fn hook(status: u16) -> (Hook, SocketAddr) {
    let h = Hook {
        status,
        ..Hook::default()
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(h.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (h, addr)
}

fn webhook_toml(name: &str, addr: SocketAddr) -> String {
    format!(
        r#"
[[alerters]]
kind = "webhook"
name = "{name}"
url = "http://{addr}/hook"
[alerters.delivery]
first_backoff_ms = 50
max_backoff_ms = 500
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_test_prints_each_answer_and_fails_when_one_did_not_deliver() {
    let (ok, ok_addr) = hook(200).await;
    let (_bad, bad_addr) = hook(503).await;
    let extra = format!(
        "{}{}",
        webhook_toml("good-hook", ok_addr),
        webhook_toml("bad-hook", bad_addr)
    );
    let run = Run::new("alerttest", &extra);
    let out = run
        .command(&["alert", "test", "stats.web01.requests"], "test")
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "one alerter failed: {stdout}");
    assert!(
        stdout.contains("good-hook (webhook): delivered: HTTP 200"),
        "{stdout}"
    );
    assert!(
        stdout.contains("bad-hook (webhook): failed: HTTP 503"),
        "{stdout}"
    );
    assert_eq!(ok.keys.lock().unwrap().len(), 1, "sent straight, once");

    let only = run
        .command(
            &[
                "alert",
                "test",
                "stats.web01.requests",
                "--alerter",
                "good-hook",
            ],
            "test-one",
        )
        .output()
        .unwrap();
    assert!(only.status.success(), "{}", run.log("test-one"));
}

#[test]
fn a_rule_naming_an_undeclared_alerter_is_a_config_error_naming_the_key() {
    let run = Run::new(
        "alertcfg",
        "[[alerts]]\npattern = \"stats.*\"\nalerter = \"ops-mail|ops-hook\"\n",
    );
    let out = run.command(&["alert"], "alert").output().unwrap();
    assert!(!out.status.success());
    let log = run.log("alert");
    assert!(
        log.contains("alerts[0].alerter") && log.contains("\"ops-mail\""),
        "{log}"
    );
    let run = Run::new(
        "alertcfg",
        "[[alerters]]\nkind = \"webhook\"\nname = \"h\"\nurl = \"not a url\"\n",
    );
    let out = run.command(&["alert"], "alert").output().unwrap();
    assert!(!out.status.success());
    assert!(
        run.log("alert").contains("alerters[0].url"),
        "{}",
        run.log("alert")
    );
    let run = Run::new(
        "alertcfg",
        "[[alerters]]\nkind = \"smtp\"\nname = \"m\"\nsender = \"s@example.org\"\n",
    );
    let out = run.command(&["alert"], "alert").output().unwrap();
    assert!(!out.status.success());
    assert!(run.log("alert").contains("host"), "{}", run.log("alert"));
}

fn alert(i: usize) -> AlertEvent {
    let now_ms = topics::clock::now_ms();
    AlertEvent {
        id: Uuid::now_v7(),
        anomaly_id: Uuid::now_v7(),
        metric: format!("stats.host{}.requests", i % 40),
        timestamp: now_ms / 1000,
        value: i as f64,
        source: SourceApp::Analyzer,
        alerter: "hook".to_owned(),
        rule: "stats.*".to_owned(),
        triggered_algorithms: vec!["grubbs".into()],
        decided_at_ms: now_ms,
        series: None,
        full_duration: Some(86_400),
        expiration_time: Some(3_600),
        boundary: None,
        fingerprinted: false,
        test: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_alert_is_delivered_through_ten_sigkills_of_the_alerter() {
    let (received, addr) = hook(200).await;
    let run = Run::new("alertkill", &webhook_toml("hook", addr));
    let names = run.topic_names();
    let kafka = run.kafka_config();
    ensure_topics(&kafka, &names.all(), None).await.unwrap();
    let producer = Producer::new(&kafka).unwrap();

    const KILLS: usize = 10;
    const PER_ROUND: usize = 30;
    let mut sent = Vec::new();
    // A killed member holds its partitions until its session times out:
    // the shortest the broker allows, so the restarts take over sooner.
    let start = |log: &str| {
        run.command(&["alert"], log)
            .env("SKYLINE_KAFKA__SESSION_TIMEOUT_MS", "6000")
            .spawn()
            .unwrap()
    };
    let mut alerter = start("alert-0");
    for round in 0..KILLS {
        for i in 0..PER_ROUND {
            let a = alert(round * PER_ROUND + i);
            producer
                .send(&names.alerts, a.metric.as_bytes(), &encode(&a).unwrap())
                .await
                .unwrap();
            sent.push(a.id.to_string());
        }
        // Kill it while it delivers: once it has delivered something of
        // this round, or after a while.
        let before = received.keys.lock().unwrap().len();
        let started = Instant::now();
        while received.keys.lock().unwrap().len() == before
            && started.elapsed() < Duration::from_secs(20)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        alerter.kill().unwrap(); // SIGKILL
        alerter.wait().unwrap();
        alerter = start(&format!("alert-{}", round + 1));
    }
    let _last = Services(vec![alerter]);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let all = {
            let got = received.keys.lock().unwrap();
            sent.iter().all(|id| got.contains_key(id))
        };
        if all {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Anything still in flight has landed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = received.keys.lock().unwrap().clone();
    let missing: Vec<_> = sent.iter().filter(|id| !got.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} alerts never delivered",
        missing.len()
    );
    let duplicates: usize = got.values().map(|n| n - 1).sum();
    eprintln!(
        "{} alerts through {KILLS} SIGKILLs: every one delivered, {duplicates} duplicate posts ({:.1} per kill)",
        sent.len(),
        duplicates as f64 / KILLS as f64
    );
    assert_eq!(got.len(), sent.len(), "only the alerts sent");
    // A resend is an alert posted whose outcome was not yet on the
    // deliveries topic at the kill: at most the posts in flight (the
    // alerter's concurrency, 16) and those being recorded. A restart that
    // ignored the recorded deliveries would resend whole rounds (30 each,
    // over 1,000 in all).
    assert!(duplicates <= KILLS * 32, "{duplicates} duplicates");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nab_series_in_and_its_alert_mail_out() {
    use mail_parser::{MessageParser, MimeHeaders};

    const METRIC: &str = "nab.ec2_cpu_utilization_825cc2";
    let sink = smtp_sink::SmtpSink::start();
    let extra = format!(
        r#"
[[alerters]]
kind = "smtp"
name = "ops-mail"
host = "127.0.0.1"
port = {port}
tls = "none"
sender = "skyline@example.org"
default_recipients = ["ops@example.org"]

[[alerts]]
pattern = "nab"
alerter = "ops-mail"

[console]
public_url = "https://skyline.example.org"
"#,
        port = sink.port
    );
    let run = Run::new("alertmail", &extra);
    let _services = Services(vec![
        run.spawn(&["ingest"], "ingest"),
        run.spawn(&["analyze"], "analyze"),
        run.spawn(&["alert"], "alert"),
    ]);
    let points = support::nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    support::produce_lines(&run, support::graphite_lines(METRIC, &points)).await;

    let started = Instant::now();
    while sink.mails().is_empty() && started.elapsed() < Duration::from_secs(180) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mails = sink.mails();
    assert!(
        !mails.is_empty(),
        "no mail; alert log:\n{}",
        run.log("alert")
    );
    let (envelope, raw) = &mails[0];
    assert_eq!(envelope["rcpt_tos"], serde_json::json!(["ops@example.org"]));
    let mail = MessageParser::default().parse(raw).expect("a MIME message");
    assert_eq!(
        mail.subject(),
        Some(format!("[Skyline alert] - Analyzer ALERT - {METRIC}").as_str())
    );
    let text = mail.body_text(0).expect("a plain part");
    assert!(
        text.contains("https://skyline.example.org/anomalies/"),
        "{text}"
    );
    let graph = mail
        .parts
        .iter()
        .find(|p| p.content_id() == Some("graph"))
        .expect("the inline graph");
    let png = graph.contents();
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/alert-mail-nab.png"),
        png,
    );
    let info = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .expect("a PNG")
        .info()
        .clone();
    assert_eq!((info.width, info.height), (800, 360));
}

#[test]
fn mutes_are_made_listed_and_ended_from_the_command_line() {
    let run = Run::new("alertmute", "");
    let stdout = |args: &[&str], log: &str| {
        let out = run
            .command(args, log)
            .stdout(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", run.log(log));
        String::from_utf8(out.stdout).unwrap()
    };
    let made = stdout(
        &[
            "alert",
            "mute",
            "stats\\.web.*",
            "--for",
            "2h",
            "--reason",
            "deploy",
        ],
        "mute",
    );
    assert!(made.starts_with("muted stats\\.web.* until "), "{made}");
    let id = made
        .trim()
        .rsplit("(id ")
        .next()
        .unwrap()
        .trim_end_matches(')')
        .to_owned();
    assert!(Uuid::parse_str(&id).is_ok(), "{made}");

    let listed = stdout(&["alert", "mutes"], "mutes");
    assert!(
        listed.contains(&id) && listed.contains("stats\\.web.*") && listed.contains("(deploy)"),
        "{listed}"
    );
    let ended = stdout(&["alert", "unmute", &id], "unmute");
    assert!(ended.contains("unmuted stats\\.web.*"), "{ended}");
    assert!(stdout(&["alert", "mutes"], "mutes-after").contains("no mutes in force"));

    for (args, says) in [
        (vec!["alert", "mute", "x", "--for", "0s"], "longer than 0"),
        (vec!["alert", "mute", "x", "--for", "400d"], "366 days"),
        (
            vec!["alert", "mute", "a[", "--for", "1h"],
            "not a valid regex",
        ),
        (vec!["alert", "unmute", &id], "no mute"),
    ] {
        let out = run.command(&args, "refused").output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(
            run.log("refused").contains(says),
            "{args:?}: {}",
            run.log("refused")
        );
    }
}
