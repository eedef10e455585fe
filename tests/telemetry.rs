//! `/metrics` and `/health` of real services (issue 21, first part): the
//! Analyzer on `[telemetry] listen`, ingest on its HTTP listener, scraped
//! over HTTP and read with a real Prometheus-format parser
//! (`prometheus-parse`): every name valid, counters equal to what flowed
//! (the records the Analyzer handled are the datapoints produced; the
//! datapoints ingest accepted and refused are the lines posted), and
//! `/health` ready once the consumer has its partitions.

mod support;

use std::time::{Duration, Instant};

use support::{nab, produce_datapoints, Run};

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

    // Ingest: lines posted, accepted and refused counted, and healthy.
    let body = "[{\"metric\": \"a.b\", \"timestamp\": 1700000000, \"value\": 1.5}, \
                {\"metric\": \"a.b\", \"timestamp\": 1700000060, \"value\": \"x\"}, \
                {\"metric\": \"a.b\", \"timestamp\": 1700000120, \"value\": 2.5}]";
    let r = http
        .post(format!("http://{ingest_http}/api/v1/datapoints"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().as_u16() == 400,
        "{}",
        r.status()
    );
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
        Some(1.0)
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
    let stopped = Instant::now();
    let (status, body) = loop {
        let (status, body) = health(&http, addr).await;
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
async fn self_metrics_are_windowed_like_any_metric() {
    let run = Run::new(
        "telemetry-self",
        "\n[telemetry]\nself_metrics_interval = 1\ninstance = \"test-host\"\n",
    );
    let mut analyze = run.spawn(&["analyze"], "analyze");
    let points: Vec<(i64, f64)> = nab(SERIES).into_iter().take(300).collect();
    produce_datapoints(
        &run.kafka_config(),
        &run.topic("datapoints"),
        "nab.cpu",
        &points,
    )
    .await;
    let windows = run.windows().await;
    let started = Instant::now();
    let own = loop {
        let own: Vec<String> = windows
            .metrics()
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.starts_with("skyline.analyze.test-host."))
            .collect();
        if own
            .iter()
            .any(|m| m.starts_with("skyline.analyze.test-host.records."))
            || started.elapsed() > Duration::from_secs(60)
        {
            break own;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let _ = analyze.kill();
    let _ = analyze.wait();
    windows.clear().await.unwrap();
    assert!(
        own.iter()
            .any(|m| m.starts_with("skyline.analyze.test-host.records.")),
        "{own:?}\n{}",
        run.log("analyze")
    );
    assert!(
        own.iter()
            .any(|m| m.starts_with("skyline.analyze.test-host.analyses.")),
        "{own:?}"
    );
}
