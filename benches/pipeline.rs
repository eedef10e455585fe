//! Throughput of the spine on real infrastructure (not a test; run with
//! `cargo bench --bench pipeline`). Needs the broker and Redis of
//! `scripts/services` (started if `SKYLINE_TEST_KAFKA` / `SKYLINE_TEST_REDIS`
//! are not set). Prints:
//!
//! 1. datapoints/s folded into Redis windows, straight from memory;
//! 2. datapoints/s through Kafka into Redis: Datapoint events produced to a
//!    topic, consumed, decoded and folded (the window folder's path);
//! 3. metrics/s (and per minute) analysed from Redis windows of 1,440
//!    points: windows read (pipelined) and judged with the early exit.
//!
//! The series are real: NAB's `ec2_cpu_utilization_825cc2` values, spread
//! over many metric names.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use analyze::{run_ensemble, Algorithm, Series, Settings};
use ingest::windows::{RedisWindows, WindowSettings, Windows};
use topics::codec::{decode, encode};
use topics::kafka::{ensure_topics, Consumer, KafkaConfig, Producer};
use topics::Datapoint;

fn services() -> (String, String) {
    if let (Ok(k), Ok(r)) = (
        std::env::var("SKYLINE_TEST_KAFKA"),
        std::env::var("SKYLINE_TEST_REDIS"),
    ) {
        return (k, r);
    }
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/services"))
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/services");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {k}=")))
            .map(|v| v.trim_matches('\'').to_owned())
            .expect("address exported")
    };
    (get("SKYLINE_TEST_KAFKA"), get("SKYLINE_TEST_REDIS"))
}

fn values() -> Vec<f64> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/nab/ec2_cpu_utilization_825cc2.csv"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap().1.parse().unwrap())
        .collect()
}

/// `metrics` metrics × `per_metric` points at 60 s, in time order.
fn datapoints(metrics: usize, per_metric: usize, start: i64) -> Vec<Datapoint> {
    let v = values();
    let mut out = Vec::with_capacity(metrics * per_metric);
    for i in 0..per_metric {
        for m in 0..metrics {
            out.push(Datapoint {
                metric: format!("bench.host{m:05}.cpu"),
                timestamp: start + i as i64 * 60,
                value: v[(i + m * 7) % v.len()],
            });
        }
    }
    out
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (kafka, redis) = services();
    let run = uuid::Uuid::now_v7().simple().to_string();
    let settings = WindowSettings {
        key_prefix: format!("bench-{run}"),
        ..WindowSettings::default()
    };
    let windows = Windows::Redis(
        RedisWindows::connect(&redis, settings)
            .await
            .expect("Redis"),
    );

    // 1. Fold from memory: 10,000 metrics × 60 points, in batches of 20,000.
    let points = datapoints(10_000, 60, 1_700_000_000);
    let t = Instant::now();
    for chunk in points.chunks(20_000) {
        windows.fold(chunk).await.unwrap();
    }
    let d = t.elapsed();
    println!(
        "fold into Redis windows:        {:>10.0} datapoints/s ({} points, {:.2}s)",
        rate(points.len(), d),
        points.len(),
        d.as_secs_f64()
    );
    windows.clear().await.unwrap();

    // 2. Through Kafka: produce, consume, decode, fold.
    let config = KafkaConfig {
        partitions: 6,
        session_timeout_ms: 6_000,
        ..KafkaConfig::for_brokers(kafka.clone())
    };
    let topic = format!("bench.datapoints.{run}");
    ensure_topics(&config, &[topic.as_str()], Some(6))
        .await
        .unwrap();
    let producer = Producer::new(&config).unwrap();
    let points = datapoints(5_000, 100, 1_700_000_000);
    let records: Vec<(Vec<u8>, Vec<u8>)> = points
        .iter()
        .map(|d| (d.metric.as_bytes().to_vec(), encode(d).unwrap()))
        .collect();
    let t = Instant::now();
    producer.send_batch(&topic, records).await.unwrap();
    let produced = t.elapsed();
    let consumer =
        Consumer::with_group(&config, &format!("bench-{run}"), "bench", &[topic.as_str()]).unwrap();
    let mut folded = 0;
    let mut first: Option<Instant> = None;
    while folded < points.len() {
        let batch = consumer.next_batch(20_000).await;
        first.get_or_insert_with(Instant::now);
        let decoded: Vec<Datapoint> = batch
            .iter()
            .filter_map(|r| decode(r.payload()).ok())
            .collect();
        windows.fold(&decoded).await.unwrap();
        folded += batch.len();
    }
    let consumed = first.unwrap().elapsed();
    consumer.close().await;
    println!(
        "produce Datapoint events:       {:>10.0} datapoints/s ({} events, {:.2}s)",
        rate(points.len(), produced),
        points.len(),
        produced.as_secs_f64()
    );
    println!("consume + decode + fold:        {:>10.0} datapoints/s (from the first batch, group join excluded, {:.2}s)", rate(folded, consumed), consumed.as_secs_f64());
    windows.clear().await.unwrap();

    // 3. Analyse from Redis windows: 2,000 metrics × 1,440 points.
    let metrics = 2_000;
    let points = datapoints(metrics, 1_440, 1_700_000_000);
    for chunk in points.chunks(50_000) {
        windows.fold(chunk).await.unwrap();
    }
    let names: Vec<String> = (0..metrics)
        .map(|m| format!("bench.host{m:05}.cpu"))
        .collect();
    let analyzer = Settings::default();
    let now = 1_700_000_000 + 1_439 * 60;
    let t = Instant::now();
    let mut anomalous = 0;
    let mut scratch = Series::default();
    for chunk in names.chunks(500) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        for w in windows.windows(&refs).await.unwrap() {
            scratch.extend_from_points(&w);
            let e = run_ensemble(
                &scratch,
                &Algorithm::ALL,
                analyzer.consensus,
                true,
                now,
                analyzer.full_duration,
            );
            anomalous += usize::from(e.anomalous);
        }
    }
    let d = t.elapsed();
    println!(
        "analyse from Redis windows:     {:>10.0} metrics/s = {:.2}M metrics/min ({} metrics of 1440 points, {} anomalous, one core)",
        rate(metrics, d),
        rate(metrics, d) * 60.0 / 1e6,
        metrics,
        anomalous
    );
    windows.clear().await.unwrap();
}
