//! Alerts per second from the alerter's transport to real receivers on
//! this machine: a webhook receiver (axum, in process) and an SMTP server
//! (aiosmtpd from the reference venv), each alert its own request or mail,
//! 16 at once as an alerter's queue sends them; and the mail's PNG graph
//! alone. The broker is not in the path (its throughput is the runtime's
//! benchmark, not the alerter's).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use alert::config::AlerterConfig;
use alert::{Links, Transport};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::stream::{self, StreamExt};
use topics::{AlertEvent, SeriesPoint, SourceApp};
use uuid::Uuid;

const BATCH: usize = 200;
const CONCURRENCY: usize = 16;

fn alert(i: usize) -> AlertEvent {
    let t = 1_700_000_000;
    AlertEvent {
        id: Uuid::now_v7(),
        anomaly_id: Uuid::now_v7(),
        metric: format!("stats.host{i}.requests"),
        timestamp: t,
        value: 120.0,
        source: SourceApp::Analyzer,
        alerter: "bench".into(),
        rule: "stats.*".into(),
        triggered_algorithms: vec!["grubbs".into(), "histogram_bins".into()],
        decided_at_ms: t * 1000,
        // A day of minutely points: the graph a mail carries.
        series: Some(
            (0..1440)
                .map(|k| SeriesPoint {
                    timestamp: t - (1440 - k) * 60,
                    value: 40.0 + 8.0 * (k as f64 / 90.0).sin(),
                })
                .collect(),
        ),
        full_duration: Some(86_400),
        expiration_time: Some(3_600),
        boundary: None,
        fingerprinted: false,
        test: false,
    }
}

/// Sends every alert, [`CONCURRENCY`] at once; each must be delivered.
fn deliver_all(rt: &tokio::runtime::Runtime, transport: &Arc<Transport>, alerts: &[AlertEvent]) {
    rt.block_on(async {
        let delivered = stream::iter(alerts)
            .map(|a| {
                let t = Arc::clone(transport);
                async move { t.attempt(a).await }
            })
            .buffer_unordered(CONCURRENCY)
            .filter(|r| std::future::ready(matches!(r, alert::retry::Attempt::Delivered(_))))
            .count()
            .await;
        assert_eq!(delivered, alerts.len());
    });
}

fn transport(toml: &str) -> Arc<Transport> {
    let config: AlerterConfig = toml::from_str(toml).unwrap();
    Arc::new(Transport::new(&config, Links::new(Some("http://console.test"))).unwrap())
}

fn webhook(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        let app = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    });
    let transport = transport(&format!(
        "kind = \"webhook\"\nname = \"bench\"\nurl = \"http://{addr}/hook\"\nsecret = \"s\"\n"
    ));
    let alerts: Vec<AlertEvent> = (0..BATCH).map(alert).collect();
    let mut group = c.benchmark_group("deliver");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.bench_function("webhook", |b| {
        b.iter(|| deliver_all(&rt, &transport, &alerts))
    });
    group.finish();
}

fn smtp(c: &mut Criterion) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("skyline-bench-smtp-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut server = Command::new(numeric::reference::reference_python())
        .arg(numeric::reference::repo_root().join("pyref/smtp_sink.py"))
        .arg(port.to_string())
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting aiosmtpd");
    let mut ready = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let transport = transport(&format!(
        "kind = \"smtp\"\nname = \"bench\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\n\
         sender = \"skyline@example.org\"\ndefault_recipients = [\"ops@example.org\"]\n"
    ));
    let alerts: Vec<AlertEvent> = (0..BATCH / 4).map(alert).collect();
    let mut group = c.benchmark_group("deliver");
    group.throughput(Throughput::Elements(alerts.len() as u64));
    group.sample_size(10);
    group.bench_function("smtp with graph", |b| {
        b.iter(|| deliver_all(&rt, &transport, &alerts))
    });
    group.finish();
    let one = alert(0);
    c.bench_function("mail graph png (1440 points)", |b| {
        b.iter(|| alert::send::graph_png(&one).unwrap())
    });
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, webhook, smtp);
criterion_main!(benches);
