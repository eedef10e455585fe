//! `/metrics` and `/health` of real services (issue 21): every service
//! on `[telemetry] listen`, ingest on its HTTP listener, scraped over HTTP
//! and read with a real Prometheus-format parser (`prometheus-parse`):
//! every name valid, counters equal to what flowed (each service's records
//! are the records on the topics it reads; the points judged, anomalies,
//! seasonal verdicts and fingerprint checks are those on the topics; the
//! datapoints ingest accepted and refused are the lines posted, what the
//! Analyzer and ingest dead-letter is counted by reason and is on the
//! dead-letter topic), and
//! `/health` ready once the consumers have their partitions, not ready
//! within 5 s of Redis, the database or the broker going away (servers of
//! the tests' own) and ready again when they are back.

#[path = "../projections/tests/common/private_mariadb.rs"]
mod private_mariadb;
mod support;

use std::time::{Duration, Instant};

use private_mariadb::PrivateMariaDb;
use support::{decoded, nab, produce_datapoints, Run, Services};
use topics::kafka::Producer;

const SERIES: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";

/// The scrape of `addr`'s `/metrics`.
async fn scrape(http: &reqwest::Client, addr: std::net::SocketAddr) -> prometheus_parse::Scrape {
    let body = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("/metrics answers")
        .text()
        .await
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned())))
        .unwrap_or_else(|e| panic!("not the Prometheus text format ({e}):\n{body}"));
    // Every name valid, skyline's own prefixed, counters ending in _total.
    // `[a-zA-Z_:][a-zA-Z0-9_:]*`, the data model's metric names.
    let valid = |name: &str| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    for s in &scrape.samples {
        assert!(valid(&s.metric), "invalid name {}", s.metric);
        assert!(s.metric.starts_with("skyline_"), "{}", s.metric);
        if matches!(s.value, prometheus_parse::Value::Counter(_)) {
            assert!(s.metric.ends_with("_total"), "counter {}", s.metric);
        }
    }
    scrape
}

/// The value of the sample `metric` with `labels`.
fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

async fn health(http: &reqwest::Client, addr: std::net::SocketAddr) -> (u16, serde_json::Value) {
    let r = http
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("/health answers");
    (r.status().as_u16(), r.json().await.unwrap())
}

/// `/health` once it says ready, or as it is after a minute.
async fn ready(http: &reqwest::Client, addr: std::net::SocketAddr) -> (u16, serde_json::Value) {
    let started = Instant::now();
    loop {
        let (status, body) = health(http, addr).await;
        if status == 200 || started.elapsed() > Duration::from_secs(60) {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_analyzer_and_ingest_are_scraped_and_healthy() {
    let run = Run::new("telemetry", "\n[telemetry]\nlisten = \"127.0.0.1:0\"\n");
    let http = reqwest::Client::new();
    let mut analyze = run.spawn(&["analyze"], "analyze");
    let mut ingest = run.spawn(&["ingest"], "ingest");
    let analyzer = run.listening("analyze", "telemetry:");
    let ingest_http = run.listening("ingest", "http:");

    // Ready once the Analyzer's consumer has its partitions.
    let (status, body) = ready(&http, analyzer).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["components"]["analyze"]["ready"], true, "{body:#}");

    // A NAB series (14 days, its outage on the 7th) straight to the
    // datapoints topic.
    let points: Vec<(i64, f64)> = nab(SERIES);
    produce_datapoints(
        &run.kafka_config(),
        &run.topic("datapoints"),
        "nab.cpu",
        &points,
    )
    .await;
    let datapoints = run.topic("datapoints");
    let labels = [("service", "analyze"), ("topic", datapoints.as_str())];
    let started = Instant::now();
    let handled = loop {
        let s = scrape(&http, analyzer).await;
        let handled = value(&s, "skyline_records_total", &labels).unwrap_or(0.0);
        if handled >= points.len() as f64 || started.elapsed() > Duration::from_secs(60) {
            break handled;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(handled, points.len() as f64, "{}", run.log("analyze"));
    let s = scrape(&http, analyzer).await;
    assert!(value(
        &s,
        "skyline_batches_total",
        &[("service", "analyze"), ("outcome", "ok")]
    )
    .is_some_and(|b| b >= 1.0));
    // Every point judged is counted by outcome (the first ones TooShort),
    // and the anomaly events counted are those on the topic.
    let analysed: f64 = s
        .samples
        .iter()
        .filter(|x| x.metric == "skyline_analyses_total")
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(analysed, points.len() as f64);
    assert_eq!(
        value(&s, "skyline_window_points_folded_total", &[]),
        Some(points.len() as f64),
        "every point judged is folded into its window"
    );
    assert!(
        value(&s, "skyline_analyses_total", &[("outcome", "TooShort")]).is_some_and(|v| v > 0.0)
    );
    let published = value(
        &s,
        "skyline_analyzer_events_total",
        &[("kind", "anomalies")],
    )
    .unwrap_or(0.0);
    assert!(published > 0.0, "the outage is anomalous");
    let on_topic = support::consume_settled(
        &run.kafka_config(),
        &run.topic("anomalies"),
        published as usize,
        Duration::from_secs(2),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(on_topic.len() as f64, published);
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == "skyline_batch_handling_seconds_count"
            || matches!(x.value, prometheus_parse::Value::Histogram(_))));

    // What the Analyzer refuses is counted by reason: a record that is not a
    // datapoint, and a NaN encoded straight onto the topic.
    let producer = Producer::new(&run.kafka_config()).unwrap();
    producer
        .send(&datapoints, b"m", b"\x00\x00\x00\x00\x01garbage")
        .await
        .unwrap();
    let nan = topics::codec::encode(&topics::Datapoint {
        metric: "direct.nan".into(),
        timestamp: 1_700_000_000,
        value: f64::NAN,
    })
    .unwrap();
    producer
        .send(&datapoints, b"direct.nan", &nan)
        .await
        .unwrap();
    let dead = |reason: &'static str| [("service", "analyze"), ("reason", reason)];
    let started = Instant::now();
    let s = loop {
        let s = scrape(&http, analyzer).await;
        let counted = total(&s, "skyline_dead_letters_total", &[("service", "analyze")]);
        if counted >= 2.0 || started.elapsed() > Duration::from_secs(30) {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        value(&s, "skyline_dead_letters_total", &dead("undecodable")),
        Some(1.0),
        "{}",
        run.log("analyze")
    );
    assert_eq!(
        value(&s, "skyline_dead_letters_total", &dead("value")),
        Some(1.0)
    );

    // Ingest: lines posted, accepted and refused counted (dead letters by
    // reason), and healthy.
    let body = "[{\"metric\": \"a.b\", \"timestamp\": 1700000000, \"value\": 1.5}, \
                {\"metric\": \"a.b\", \"timestamp\": 1700000060, \"value\": \"x\"}, \
                {\"metric\": \"a b\", \"timestamp\": 1700000090, \"value\": 2}, \
                {\"metric\": \"a.b\", \"timestamp\": -5, \"value\": 2}, \
                {\"metric\": \"a.b\", \"timestamp\": 1700000120, \"value\": 2.5}]";
    for body in [body, "{\"not\": \"an array\"}"] {
        let r = http
            .post(format!("http://{ingest_http}/api/v1/datapoints"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{}", r.text().await.unwrap());
    }
    let s = scrape(&http, ingest_http).await;
    assert_eq!(
        value(
            &s,
            "skyline_ingest_datapoints_total",
            &[("outcome", "accepted")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &s,
            "skyline_ingest_datapoints_total",
            &[("outcome", "refused")]
        ),
        Some(4.0)
    );
    let dead = |reason: &'static str| [("service", "ingest"), ("reason", reason)];
    for (reason, n) in [
        ("unparsable", 2.0),
        ("metric_name", 1.0),
        ("timestamp", 1.0),
    ] {
        assert_eq!(
            value(&s, "skyline_dead_letters_total", &dead(reason)),
            Some(n),
            "{reason}"
        );
    }
    // Each counted letter is on the dead-letter topic, signed by who
    // refused it.
    let letters = support::consume_settled(
        &run.kafka_config(),
        &run.topic("deadletter"),
        6,
        Duration::from_secs(2),
        Duration::from_secs(30),
    )
    .await;
    let mut by_consumer: Vec<String> = letters
        .iter()
        .map(|l| {
            topics::codec::decode::<topics::DeadLetter>(l)
                .unwrap()
                .consumer
        })
        .collect();
    by_consumer.sort();
    assert_eq!(
        by_consumer,
        ["analyze", "analyze", "ingest", "ingest", "ingest", "ingest"]
    );
    let (status, body) = ready(&http, ingest_http).await;
    assert_eq!(body["components"]["ingest"]["ready"], true, "{body:#}");
    assert_eq!(status, 200, "{body:#}");

    let _ = analyze.kill();
    let _ = analyze.wait();
    let _ = ingest.kill();
    let _ = ingest.wait();
    run.windows().await.clear().await.unwrap();
}

/// `/health` once it says not ready (503), which must be within 5 s of
/// now (the moment something it needs was stopped).
async fn not_ready_within_5_s(
    http: &reqwest::Client,
    addr: std::net::SocketAddr,
) -> serde_json::Value {
    let stopped = Instant::now();
    let (status, body) = loop {
        let (status, body) = health(http, addr).await;
        if status == 503 || stopped.elapsed() > Duration::from_secs(10) {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, 503, "{body:#}");
    assert!(
        stopped.elapsed() <= Duration::from_secs(5),
        "{:?}",
        stopped.elapsed()
    );
    body
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Redis of the test's own, on a free port (the shared one cannot be
/// stopped under other tests).
fn start_redis(port: u16) -> std::process::Child {
    let child = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (installed with Redis)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn health_follows_redis_going_away_and_coming_back() {
    let port = free_port();
    let mut redis = start_redis(port);
    let url = format!("redis://127.0.0.1:{port}");
    let run = Run::new(
        "telemetry-redis",
        "\n[telemetry]\nlisten = \"127.0.0.1:0\"\n",
    );
    let http = reqwest::Client::new();
    let mut analyze = run.spawn(&["analyze", "--redis", &url], "analyze");
    let addr = run.listening("analyze", "telemetry:");
    let (status, body) = ready(&http, addr).await;
    assert_eq!(status, 200, "{body:#}");

    // Redis stopped: not ready within 5 s, saying why.
    let _ = redis.kill();
    let _ = redis.wait();
    let body = not_ready_within_5_s(&http, addr).await;
    let reason = body["components"]["analyze"]["reason"].as_str().unwrap();
    assert!(reason.contains("redis"), "{reason}");

    // Back: ready again.
    let mut redis = start_redis(port);
    let (status, body) = ready(&http, addr).await;
    assert_eq!(status, 200, "{body:#}");

    let _ = analyze.kill();
    let _ = analyze.wait();
    let _ = redis.kill();
    let _ = redis.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn self_metrics_are_windowed_and_projected_like_any_metric() {
    let run = Run::new(
        "telemetry-self",
        "\n[telemetry]\nself_metrics_interval = 1\ninstance = \"test-host\"\n",
    );
    let sqlite = run.dir.join("projections.sqlite");
    let sqlite_arg = sqlite.to_str().unwrap().to_owned();
    let _services = Services(vec![
        run.spawn(&["analyze"], "analyze"),
        run.spawn(&["project", "--sqlite", &sqlite_arg], "project"),
    ]);
    let points: Vec<(i64, f64)> = nab(SERIES).into_iter().take(300).collect();
    produce_datapoints(
        &run.kafka_config(),
        &run.topic("datapoints"),
        "nab.cpu",
        &points,
    )
    .await;
    let own_in = |names: Vec<String>| -> Vec<String> {
        names
            .into_iter()
            .filter(|m| m.starts_with("skyline.analyze.test-host."))
            .collect()
    };
    let complete = |own: &[String]| {
        own.iter()
            .any(|m| m.starts_with("skyline.analyze.test-host.records."))
            && own
                .iter()
                .any(|m| m.starts_with("skyline.analyze.test-host.analyses."))
    };
    let windows = run.windows().await;
    let db = projections::Database::open(&format!("sqlite://{sqlite_arg}"))
        .await
        .unwrap();
    let started = Instant::now();
    let (windowed, projected) = loop {
        let windowed = own_in(windows.metrics().await.unwrap());
        let projected: Vec<String> = own_in(
            sqlx::query_scalar("SELECT name FROM metric_activity")
                .fetch_all(db.pool())
                .await
                .unwrap(),
        );
        if (complete(&windowed) && complete(&projected))
            || started.elapsed() > Duration::from_secs(60)
        {
            break (windowed, projected);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    windows.clear().await.unwrap();
    assert!(complete(&windowed), "{windowed:?}\n{}", run.log("analyze"));
    assert!(
        complete(&projected),
        "{projected:?}\n{}",
        run.log("project")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_follows_the_database_going_away_and_coming_back() {
    use sqlx::Connection;
    let mut server = PrivateMariaDb::install();
    server.start().await;
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&format!("{}/mysql", server.url()))
        .await
        .unwrap();
    sqlx::query("CREATE DATABASE skyline")
        .execute(&mut admin)
        .await
        .unwrap();
    drop(admin);
    let url = format!("{}/skyline", server.url());
    let run = Run::new("telemetry-db", "\n[telemetry]\nlisten = \"127.0.0.1:0\"\n");
    let http = reqwest::Client::new();
    let _project = Services(vec![run.spawn(&["project", "--mysql", &url], "project")]);
    let addr = run.listening("project", "telemetry:");
    let (status, body) = ready(&http, addr).await;
    assert_eq!(status, 200, "{body:#}\n{}", run.log("project"));

    // The database stopped: not ready within 5 s, each projection saying
    // why.
    server.stop();
    let body = not_ready_within_5_s(&http, addr).await;
    let reasons: Vec<&str> = body["components"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|c| c["reason"].as_str())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("database")), "{body:#}");

    // Back on the same data and port: ready again.
    server.start().await;
    let (status, body) = ready(&http, addr).await;
    assert_eq!(status, 200, "{body:#}");
}

/// The tansu broker `scripts/services` installs (`target/broker-venv`).
fn tansu() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| support::repo().join("target"));
    let bin = target.join("broker-venv/bin/tansu");
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/services (scripts/test does) to install the broker",
        bin.display()
    );
    bin
}

/// A tansu broker of the test's own on `port` (memory storage: each start
/// is an empty broker).
fn start_broker(port: u16, log: &std::path::Path) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = std::process::Command::new(tansu())
        .args([
            "broker",
            "--listener-url",
            &format!("tcp://127.0.0.1:{port}"),
            "--advertised-listener-url",
            &format!("tcp://127.0.0.1:{port}"),
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "tansu did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn health_follows_the_broker_going_away_and_coming_back() {
    let port = free_port();
    let run = Run::new(
        "telemetry-broker",
        "\n[telemetry]\nlisten = \"127.0.0.1:0\"\n",
    );
    let broker_log = run.dir.join("broker.log");
    let mut broker = start_broker(port, &broker_log);
    let bootstrap = format!("127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let _analyze = Services(vec![run
        .command(&["analyze"], "analyze")
        .env("SKYLINE_KAFKA__BOOTSTRAP_SERVERS", &bootstrap)
        .spawn()
        .unwrap()]);
    let addr = run.listening("analyze", "telemetry:");
    let (status, body) = ready(&http, addr).await;
    assert_eq!(status, 200, "{body:#}\n{}", run.log("analyze"));

    // The broker stopped: not ready within 5 s, saying why.
    let _ = broker.kill();
    let _ = broker.wait();
    let body = not_ready_within_5_s(&http, addr).await;
    let reason = body["components"]["analyze"]["reason"].as_str().unwrap();
    assert!(reason.contains("broker"), "{reason}");

    // A broker back on the same address, its topics made again (this one
    // keeps nothing across a restart): the consumer rejoins, ready again.
    let _broker = Services(vec![start_broker(port, &broker_log)]);
    let mut kafka = run.kafka_config();
    kafka.bootstrap_servers = bootstrap;
    topics::kafka::ensure_topics(&kafka, &run.topic_names().all(), None)
        .await
        .unwrap();
    let (status, body) = ready(&http, addr).await;
    assert_eq!(status, 200, "{body:#}\n{}", run.log("analyze"));
}

/// Every `skyline_records_total` sample of a scrape, as `(service, topic,
/// records)`.
fn records_by_topic(scrape: &prometheus_parse::Scrape) -> Vec<(String, String, f64)> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == "skyline_records_total")
        .filter_map(|s| {
            let v = match s.value {
                prometheus_parse::Value::Counter(v) => v,
                _ => return None,
            };
            Some((
                s.labels.get("service")?.to_owned(),
                s.labels.get("topic")?.to_owned(),
                v,
            ))
        })
        .collect()
}

/// The sum of every sample of `metric` whose labels include `labels`.
fn total(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
            _ => 0.0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_service_is_scraped_and_counts_what_flowed() {
    let console_port = free_port();
    // A webhook receiver that takes every alert.
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::OK }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hook).await });
    let extra = format!(
        r#"
[telemetry]
listen = "127.0.0.1:0"
# Heartbeats would keep skyline.system growing while the counts are
# compared with it (tests/watchdog.rs covers them).
heartbeat_interval = 0

[[alerters]]
kind = "webhook"
name = "downstream"
url = "http://{hook_addr}/hook"

[[alerts]]
pattern = "nab"
alerter = "downstream"
second_order_resolution_hours = 168

[seasonal]
checks_per_minute = 1000000
stale_seconds = 3600000000

[console]
listen = "127.0.0.1:{console_port}"
"#
    );
    let run = Run::new("telemetry-all", &extra);
    let sqlite = run.dir.join("projections.sqlite");
    let sqlite = sqlite.to_str().unwrap().to_owned();
    let commands: [(&str, Vec<&str>); 7] = [
        ("analyze", vec!["analyze"]),
        ("seasonal", vec!["seasonal"]),
        ("fingerprint", vec!["fingerprint"]),
        ("learn", vec!["learn"]),
        ("alert", vec!["alert"]),
        ("project", vec!["project", "--sqlite", &sqlite]),
        ("console", vec!["console", "--sqlite", &sqlite]),
    ];
    let _services = Services(
        commands
            .iter()
            .map(|(log, args)| run.spawn(args, log))
            .collect(),
    );
    let http = reqwest::Client::new();
    let addrs: Vec<(&str, std::net::SocketAddr)> = commands
        .iter()
        .map(|(log, _)| (*log, run.listening(log, "telemetry:")))
        .collect();
    for (log, addr) in &addrs {
        let (status, body) = ready(&http, *addr).await;
        assert_eq!(status, 200, "{log}: {body:#}\n{}", run.log(log));
    }
    let (_, console_health) = health(&http, addrs[6].1).await;
    assert_eq!(
        console_health["components"]["database"]["ready"], true,
        "{console_health:#}"
    );

    // A NAB series (14 days, its outage on the 7th) straight to the
    // datapoints topic; the outage goes on to the seasonal re-check.
    let points: Vec<(i64, f64)> = nab(SERIES);
    let kafka = run.kafka_config();
    let names = run.topic_names();
    produce_datapoints(&kafka, &names.datapoints, "nab.cpu", &points).await;
    // Once the Analyzer has handled every point, the events downstream
    // settle.
    let started = Instant::now();
    while total(
        &scrape(&http, addrs[0].1).await,
        "skyline_records_total",
        &[("service", "analyze")],
    ) < points.len() as f64
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{}",
            run.log("analyze")
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Every topic read to its end, again until nothing changed for 10 s.
    let read_all = || async {
        let mut all = std::collections::BTreeMap::new();
        for topic in names.all() {
            let mut values: Vec<Vec<u8>> = Vec::new();
            topics::kafka::read_to_end(
                &kafka,
                "telemetry-test",
                topic,
                Duration::from_secs(2),
                |batch| {
                    values.extend(batch.iter().map(|r| r.payload().to_vec()));
                    async { Ok::<_, topics::kafka::Error>(()) }
                },
            )
            .await
            .unwrap();
            all.insert(topic.to_owned(), values);
        }
        all
    };
    let (mut on_topic, mut since) = (read_all().await, Instant::now());
    while since.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = read_all().await;
        if now != on_topic {
            (on_topic, since) = (now, Instant::now());
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "never settled"
        );
    }
    let count = |topic: &str| on_topic[topic].len() as f64;
    assert!(count(&names.checks) > 0.0, "the outage is anomalous");
    assert!(count(&names.seasonal) > 0.0, "and re-checked over 7 days");

    // Each service's records counted are the records on the topics it
    // reads (asked again until the last batches are in).
    let mut scrapes = std::collections::BTreeMap::new();
    for (log, addr) in &addrs {
        let started = Instant::now();
        let s = loop {
            let s = scrape(&http, *addr).await;
            let wrong: Vec<_> = records_by_topic(&s)
                .into_iter()
                .filter(|(_, topic, v)| on_topic.get(topic).map(|r| r.len() as f64) != Some(*v))
                .collect();
            if wrong.is_empty() {
                break s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{log}: records counted differ from the topics: {wrong:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        scrapes.insert(*log, s);
    }
    // Every consumer counted what it read (the alerter: when the seasonal
    // re-check left an alert).
    for (log, topic) in [
        ("analyze", &names.datapoints),
        ("seasonal", &names.checks),
        ("fingerprint", &names.checks),
        ("alert", &names.alerts),
        ("project", &names.anomalies),
        ("project", &names.seasonal),
    ] {
        assert!(
            count(topic) == 0.0
                || records_by_topic(&scrapes[log])
                    .iter()
                    .any(|(_, t, v)| t == topic && *v > 0.0),
            "{log} counted nothing of {topic}"
        );
    }

    // What each service decided, counted as it is on the topics.
    let analyze = &scrapes["analyze"];
    assert_eq!(
        total(analyze, "skyline_analyses_total", &[]),
        points.len() as f64
    );
    let by_analyzer = decoded::<topics::AnomalyEvent>(&on_topic[&names.anomalies])
        .iter()
        .filter(|a| a.source == topics::SourceApp::Analyzer)
        .count();
    assert_eq!(
        total(
            analyze,
            "skyline_analyzer_events_total",
            &[("kind", "anomalies")]
        ),
        by_analyzer as f64
    );
    // The Analyzer's checks on the topic: the seasonal ones (the seasonal
    // service adds fingerprint checks of its own).
    let seasonal_checks = decoded::<topics::CheckRequest>(&on_topic[&names.checks])
        .iter()
        .filter(|c| c.target == topics::CheckTarget::Seasonal)
        .count();
    assert_eq!(
        total(
            analyze,
            "skyline_analyzer_events_total",
            &[("kind", "checks")]
        ),
        seasonal_checks as f64
    );
    assert_eq!(
        total(&scrapes["seasonal"], "skyline_seasonal_checks_total", &[]),
        count(&names.seasonal)
    );
    let fingerprint_checks = decoded::<topics::CheckRequest>(&on_topic[&names.checks])
        .iter()
        .filter(|c| c.target == topics::CheckTarget::Fingerprint)
        .count();
    assert_eq!(
        total(
            &scrapes["fingerprint"],
            "skyline_fingerprint_checks_total",
            &[]
        ),
        fingerprint_checks as f64
    );
    // Every delivery attempt the alerter recorded is counted by outcome.
    assert_eq!(
        total(&scrapes["alert"], "skyline_alert_deliveries_total", &[]),
        count(&names.deliveries)
    );
    let project = &scrapes["project"];
    let folded = total(
        project,
        "skyline_projection_events_total",
        &[("outcome", "folded")],
    );
    let read = total(project, "skyline_records_total", &[]);
    assert!(folded > 0.0 && folded <= read, "{folded} of {read}");
    assert_eq!(
        total(project, "skyline_projection_events_total", &[]),
        read,
        "every record a projection read is folded, skipped or refused"
    );
    assert!(total(project, "skyline_projection_rows_total", &[]) > 0.0);
    assert_eq!(total(project, "skyline_database_errors_total", &[]), 0.0);
    // Lag is measured per partition, and nothing is left behind.
    assert!(
        analyze
            .samples
            .iter()
            .any(|s| s.metric == "skyline_consumer_lag_records"
                && s.labels.get("partition").is_some())
    );
    assert_eq!(total(analyze, "skyline_consumer_lag_records", &[]), 0.0);
    run.windows().await.clear().await.unwrap();
}
