//! Heartbeats and the stall watchdog (issue 21, item 3) with real
//! processes: `skyline ingest`, `skyline alert` (and `skyline console`) on the test broker, a
//! real HTTP webhook receiver as the alerter. Every process publishes a
//! heartbeat per service it runs on `skyline.system`; the watchdog in
//! `skyline alert` judges them; a forced stall (ingest's input paused for
//! twice `ingest_silent`) reaches the webhook as exactly one stall and one
//! recovery, also when the stall ends while the watchdog is down.

mod support;

use std::net::SocketAddr;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use support::{Run, Services};
use topics::{DeliveryEvent, SystemEvent, SystemKind};

/// What the webhook received: each body with its Idempotency-Key.
#[derive(Clone, Default)]
struct Hook(Arc<Mutex<Vec<(String, serde_json::Value)>>>);

impl Hook {
    /// The system notices received: (key, kind, subject, body).
    fn notices(&self) -> Vec<(String, String, String, serde_json::Value)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, b)| b.get("system").is_some())
            .map(|(k, b)| {
                let s = &b["system"];
                (
                    k.clone(),
                    s["kind"].as_str().unwrap_or("").to_owned(),
                    s["subject"].as_str().unwrap_or("").to_owned(),
                    s.clone(),
                )
            })
            .collect()
    }
}

async fn receive(State(h): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|k| k.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    h.0.lock().unwrap().push((key, json));
    StatusCode::OK
}

async fn hook() -> (Hook, SocketAddr) {
    let h = Hook::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(h.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (h, addr)
}

/// Heartbeats every second, judged every second, ingest silent after
/// `ingest_silent` s; the alert process's `/metrics` on a port of its own.
fn config(addr: SocketAddr, ingest_silent: i64) -> String {
    format!(
        r#"
[telemetry]
listen = "127.0.0.1:0"
heartbeat_interval = 1
instance = "test-host"

[watchdog]
tick = 1
ingest_silent = {ingest_silent}

[[alerters]]
kind = "webhook"
name = "hook"
url = "http://{addr}/hook"
[alerters.delivery]
first_backoff_ms = 50
max_backoff_ms = 500
"#
    )
}

/// A forced-stall run named `name`: the webhook receiver, the run
/// (ingest silent after `silent` s), `skyline ingest` started and its HTTP
/// address, and `skyline alert` (the watchdog) started.
async fn stall_run(name: &str, silent: i64) -> (Hook, Run, Services, SocketAddr, Child) {
    let (received, addr) = hook().await;
    let run = Run::new(name, &config(addr, silent));
    let ingest = Services(vec![run.spawn(&["ingest"], "ingest")]);
    let alert = run.spawn(&["alert"], "alert");
    let ingest_http = run.listening("ingest", "http:");
    (received, run, ingest, ingest_http, alert)
}

/// Posts one datapoint of `metric` now to ingest's HTTP listener.
async fn post_point(http: &reqwest::Client, ingest: SocketAddr, metric: &str, value: f64) {
    let now = topics::clock::now_ms() / 1000;
    let body = format!("[{{\"metric\": \"{metric}\", \"timestamp\": {now}, \"value\": {value}}}]");
    let r = http
        .post(format!("http://{ingest}/api/v1/datapoints"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("ingest answers");
    assert!(r.status().is_success(), "{}", r.status());
}

/// Posts a datapoint every 200 ms for `for_how_long`.
async fn feed(http: &reqwest::Client, ingest: SocketAddr, for_how_long: Duration) {
    let started = Instant::now();
    let mut v = 0.0;
    while started.elapsed() < for_how_long {
        post_point(http, ingest, "watchdog.test.feed", v).await;
        v += 1.0;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forced_stall_alerts_once_and_recovers_once_through_a_webhook() {
    const SILENT: i64 = 5;
    let (received, run, _ingest, ingest_http, alert) = stall_run("watchdog", SILENT).await;
    let _alert = Services(vec![alert]);
    let http = reqwest::Client::new();

    // Fed until the watchdog has surely judged ingest fine (it judges
    // once caught up with the heartbeats), then paused for twice the
    // threshold, then fed again.
    let started = Instant::now();
    feed(&http, ingest_http, Duration::from_secs(15)).await;
    assert!(
        received.notices().is_empty(),
        "nothing stalls while ingest receives: {:?}",
        received.notices()
    );
    let paused_at = topics::clock::now_ms() / 1000;
    tokio::time::sleep(Duration::from_secs(2 * SILENT as u64)).await;
    let resumed_at = topics::clock::now_ms() / 1000;
    let stalled_during_pause = received
        .notices()
        .iter()
        .filter(|n| n.1 == "stalled")
        .count();
    // Fed again until the recovery arrives (bounded), then a while more:
    // no second notice may come.
    let feeding = {
        let http = http.clone();
        tokio::spawn(async move { feed(&http, ingest_http, Duration::from_secs(120)).await })
    };
    let waited = Instant::now();
    until_notice(&received, "recovered", Duration::from_secs(30)).await;
    let recovered_after = waited.elapsed();
    tokio::time::sleep(Duration::from_secs(8)).await;

    let notices = received.notices();
    eprintln!(
        "notices after {:?}: {:#?}",
        started.elapsed(),
        notices.iter().map(|n| &n.3).collect::<Vec<_>>()
    );
    assert_eq!(
        stalled_during_pause, 1,
        "the stall is told during the pause"
    );
    let kinds: Vec<(&str, &str)> = notices
        .iter()
        .map(|n| (n.1.as_str(), n.2.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("stalled", "ingest.received"),
            ("recovered", "ingest.received")
        ],
        "exactly one stall and one recovery, nothing else"
    );
    let (stall, recovery) = (&notices[0].3, &notices[1].3);
    let since = stall["since"].as_i64().unwrap();
    assert!(
        since <= paused_at && since >= paused_at - 3,
        "the stall is since the last datapoint ({since}, paused at {paused_at})"
    );
    assert_eq!(recovery["since"].as_i64(), Some(since));
    assert!(stall["at"].as_i64().unwrap() >= since + SILENT);
    assert!(recovery["at"].as_i64().unwrap() >= resumed_at);
    assert!(
        recovery["text"]
            .as_str()
            .unwrap()
            .starts_with("[skyline] RECOVERED ingest.received after "),
        "{recovery}"
    );
    // The Idempotency-Key is the event's id, and both are on the system
    // topic with alert = true.
    assert_eq!(notices[0].0, stall["id"].as_str().unwrap());
    eprintln!("recovery delivered {recovered_after:?} after feeding again");

    let kafka = run.kafka_config();
    let ids = [notices[0].0.clone(), notices[1].0.clone()];
    let system: Vec<SystemEvent> = support::decoded(
        &support::consume_until(&kafka, &run.topic("system"), Duration::from_secs(30), |v| {
            support::decoded::<SystemEvent>(v)
                .iter()
                .filter(|e| ids.contains(&e.id.to_string()))
                .count()
                >= 2
        })
        .await,
    );
    let told: Vec<&SystemEvent> = system.iter().filter(|e| e.alert).collect();
    assert_eq!(told.len(), 2, "{told:#?}");
    assert_eq!(
        (told[0].kind, told[1].kind),
        (SystemKind::Stalled, SystemKind::Recovered)
    );
    assert_eq!(told[0].service, "watchdog");
    // Each delivery recorded: alert_id the event's id, the check as metric.
    let deliveries: Vec<DeliveryEvent> = support::decoded(
        &support::consume_until(
            &kafka,
            &run.topic("deliveries"),
            Duration::from_secs(30),
            |v| v.len() >= 2,
        )
        .await,
    );
    let delivered: Vec<(String, &str)> = deliveries
        .iter()
        .filter(|d| d.outcome == topics::DeliveryOutcome::Delivered)
        .map(|d| (d.alert_id.to_string(), d.metric.as_str()))
        .collect();
    assert_eq!(
        delivered,
        vec![
            (ids[0].clone(), "ingest.received"),
            (ids[1].clone(), "ingest.received")
        ]
    );
    assert!(deliveries.iter().all(|d| d.anomaly_id.is_nil()));
    // Counted for /metrics by alerter and outcome.
    let metrics_at = run.listening("alert", "telemetry:");
    let metrics = http
        .get(format!("http://{metrics_at}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains("skyline_alert_deliveries_total{alerter=\"hook\",outcome=\"delivered\"} 2"),
        "{metrics}"
    );
    // Fed until here: a silence after this would be a stall of its own.
    feeding.abort();
}

/// Waits (bounded) until the webhook has a notice of `kind`.
async fn until_notice(received: &Hook, kind: &str, within: Duration) {
    let waited = Instant::now();
    while !received.notices().iter().any(|n| n.1 == kind) && waited.elapsed() < within {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stall_over_while_the_watchdog_was_down_is_told_recovered_after_its_restart() {
    const SILENT: i64 = 5;
    let (received, run, _ingest, ingest_http, mut alert) =
        stall_run("watchdog-restart", SILENT).await;
    let http = reqwest::Client::new();

    // Fed, then paused until the stall is told.
    feed(&http, ingest_http, Duration::from_secs(15)).await;
    until_notice(&received, "stalled", Duration::from_secs(30)).await;
    let stalls: Vec<_> = received.notices();
    assert_eq!(stalls.len(), 1, "{stalls:?}");
    assert_eq!(
        (stalls[0].1.as_str(), stalls[0].2.as_str()),
        ("stalled", "ingest.received")
    );
    // The watchdog killed (no clean stop) while ingest is fed again: the
    // stall ends while nobody watches.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = alert.kill();
    let _ = alert.wait();
    let feeding = {
        let http = http.clone();
        tokio::spawn(async move { feed(&http, ingest_http, Duration::from_secs(180)).await })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _alert = Services(vec![run.spawn(&["alert"], "alert-2")]);

    // The new watchdog reads the stall back and tells its recovery, once;
    // the stall is not told again.
    until_notice(&received, "recovered", Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    feeding.abort();
    let notices = received.notices();
    let kinds: Vec<(&str, &str)> = notices
        .iter()
        .map(|n| (n.1.as_str(), n.2.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("stalled", "ingest.received"),
            ("recovered", "ingest.received")
        ],
        "{}",
        run.log("alert-2")
    );
    assert_eq!(notices[1].3["since"], notices[0].3["since"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_running_service_beats_with_its_figures() {
    let (received, addr) = hook().await;
    let console = "\n[console]\nlisten = \"127.0.0.1:0\"\n";
    let run = Run::new("heartbeat", &format!("{}{console}", config(addr, 299)));
    let sqlite = run.dir.join("projections.sqlite");
    let ingest = run.spawn(&["ingest"], "ingest");
    let alert = run.spawn(&["alert"], "alert");
    let console = run.spawn(
        &["console", "--sqlite", sqlite.to_str().unwrap()],
        "console",
    );
    let _services = Services(vec![ingest, alert, console]);
    let ingest_http = run.listening("ingest", "http:");
    let http = reqwest::Client::new();
    post_point(&http, ingest_http, "heartbeat.test", 1.0).await;
    let posted_at = topics::clock::now_ms() / 1000;

    // Beats of ingest (having received), the alerter and the watchdog,
    // each with partitions assigned, and of the console, ready (its
    // database and Redis answer).
    let wanted = ["ingest", "alert.hook", "watchdog", "console"];
    let done = |beats: &[SystemEvent]| {
        wanted.iter().all(|s| {
            beats.iter().any(|b| {
                b.subject == *s
                    && match *s {
                        "ingest" => b.figure("last_received").is_some(),
                        "console" => b.ready == Some(true),
                        _ => b.figure("partitions").is_some_and(|p| p > 0.0),
                    }
            })
        })
    };
    let beats: Vec<SystemEvent> = support::decoded(
        &support::consume_until(
            &run.kafka_config(),
            &run.topic("system"),
            Duration::from_secs(60),
            |v| done(&support::decoded::<SystemEvent>(v)),
        )
        .await,
    );
    assert!(done(&beats), "not every service beat: {beats:#?}");
    assert!(beats
        .iter()
        .all(|b| b.kind == SystemKind::Heartbeat && !b.alert));
    assert!(beats.iter().all(|b| b.instance == "test-host"));
    let ingest = beats
        .iter()
        .rev()
        .find(|b| b.subject == "ingest" && b.figure("last_received").is_some())
        .unwrap();
    let last = ingest.figure("last_received").unwrap() as i64;
    assert!(
        (posted_at - 2..=posted_at).contains(&last),
        "{last} vs {posted_at}"
    );
    assert_eq!(ingest.ready, Some(true));
    let alerter = beats
        .iter()
        .rev()
        .find(|b| b.subject == "alert.hook" && b.figure("partitions").is_some_and(|p| p > 0.0))
        .unwrap();
    for figure in ["lag_records", "lag_seconds", "partitions", "records"] {
        assert!(alerter.figure(figure).is_some(), "{figure}: {alerter:?}");
    }
    // One heartbeat per service per second or so, ids by service/instance/at.
    let mut ids: Vec<_> = beats.iter().map(|b| b.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), beats.len(), "one id per heartbeat");
    // Nothing stalled.
    assert!(received.notices().is_empty());
}
