//! Throughput of the spine on real infrastructure (not a test; run with
//! `cargo bench --bench pipeline`). Needs the broker and Redis of
//! `scripts/services` (started if `SKYLINE_TEST_KAFKA` / `SKYLINE_TEST_REDIS`
//! are not set). Prints:
//!
//! 1. datapoints/s folded into Redis windows, straight from memory;
//! 2. datapoints/s through Kafka into Redis: Datapoint events produced to a
//!    topic (also with librdkafka settings varied, to show what producing
//!    costs), consumed, decoded and folded (the window folder's path), with
//!    the time split between waiting for batches, decoding and folding;
//! 3. metrics/s (and per minute) analysed from Redis windows of 1,440
//!    points: windows read (pipelined) and judged with the early exit, on
//!    one core and on both;
//! 4. what skyline watching itself costs: the Analyzer service on the
//!    service runtime (Kafka in, Redis windows, events out) over the same
//!    datapoints with its telemetry on (counting, histograms, readiness and
//!    lag probed every 2 s) and off, alternating rounds; the cost is the
//!    difference of the medians. `cargo bench --bench pipeline --
//!    telemetry` runs this part alone.
//!
//! The series are real: NAB's `ec2_cpu_utilization_825cc2` values, spread
//! over many metric names.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use analyze::{run_ensemble, Algorithm, Series, Settings};
use topics::codec::{decode, encode};
use topics::kafka::{ensure_topics, Consumer, KafkaConfig, Producer};
use topics::Datapoint;
use windows::{RedisWindows, WindowSettings, Windows};

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

/// What a round took: wall seconds from the Analyzer's first commit to its
/// last (the group's join left out), and the CPU seconds the whole process
/// spent over the same span (every thread: the service, librdkafka's, the
/// readiness probe).
struct Round {
    wall: f64,
    cpu: f64,
}

/// CPU seconds (user + system) this process has spent, all threads.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The Analyzer service over `total` datapoints already on `topic`.
async fn analyzer_round(kafka: &str, redis: &str, topic: &str, total: i64, round: &str) -> Round {
    let mut config = stack::Config::default();
    config.kafka.bootstrap_servers = kafka.to_owned();
    config.kafka.group_id_prefix = format!("bench-{round}");
    config.redis = Some(redis.to_owned());
    config.windows.key_prefix = format!("bench-{round}");
    config.topics = config.topics.renamed(|t| format!("{t}.bench-{round}"));
    config.topics.datapoints = topic.to_owned();
    ensure_topics(&config.kafka, &config.topics.all(), Some(1))
        .await
        .unwrap();
    let windows = std::sync::Arc::new(stack::services::open_windows(&config).await.unwrap());
    let producer = Producer::new(&config.kafka).unwrap();
    let analyzer = stack::services::analyzer(&config, windows.clone(), producer).unwrap();
    let group = config.kafka.group_id(analyzer.context().name());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(analyzer.run(async {
        let _ = stopped.await;
    }));
    let mut first: Option<(Instant, f64)> = None;
    let round = loop {
        let done: i64 = topics::kafka::committed_offsets(&config.kafka, &group, topic)
            .await
            .map(|c| c.values().sum())
            .unwrap_or(0);
        if done > 0 && first.is_none() {
            first = Some((Instant::now(), cpu_seconds()));
        }
        if done >= total {
            let (wall, cpu) = first.unwrap_or((Instant::now(), cpu_seconds()));
            break Round {
                wall: wall.elapsed().as_secs_f64(),
                cpu: cpu_seconds() - cpu,
            };
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    windows.clear().await.unwrap();
    round
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// 4. The Analyzer service with its telemetry on and off.
async fn telemetry_overhead(kafka: &str, redis: &str, run: &str) {
    const METRICS: usize = 2_000;
    const POINTS: usize = 300;
    // More rounds narrow the medians: SKYLINE_BENCH_ROUNDS.
    let rounds: usize = std::env::var("SKYLINE_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let config = KafkaConfig {
        bootstrap_servers: kafka.to_owned(),
        ..KafkaConfig::default()
    };
    let topic = format!("bench.overhead.{run}");
    ensure_topics(&config, &[topic.as_str()], Some(3))
        .await
        .unwrap();
    let points = datapoints(METRICS, POINTS, 1_700_000_000);
    let producer = Producer::new(&config).unwrap();
    for chunk in points.chunks(10_000) {
        let records: Vec<(Vec<u8>, Vec<u8>)> = chunk
            .iter()
            .map(|d| (d.metric.as_bytes().to_vec(), encode(d).unwrap()))
            .collect();
        producer.send_batch(&topic, records).await.unwrap();
    }
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        for enabled in [true, false] {
            runtime::telemetry::set_enabled(enabled);
            let name = format!("{run}-{round}-{enabled}");
            let r = analyzer_round(kafka, redis, &topic, points.len() as i64, &name).await;
            if enabled {
                on.push(r)
            } else {
                off.push(r)
            }
        }
    }
    runtime::telemetry::set_enabled(true);
    let wall = |rs: &[Round]| rs.iter().map(|r| r.wall).collect::<Vec<_>>();
    let cpu = |rs: &[Round]| rs.iter().map(|r| r.cpu).collect::<Vec<_>>();
    println!("rounds, telemetry on (s):      {:.2?}", wall(&on));
    println!("rounds, telemetry off (s):     {:.2?}", wall(&off));
    println!("rounds, telemetry on (CPU s):  {:.2?}", cpu(&on));
    println!("rounds, telemetry off (CPU s): {:.2?}", cpu(&off));
    let (cpu_on, cpu_off) = (median(cpu(&on)), median(cpu(&off)));
    let (on, off) = (median(wall(&on)), median(wall(&off)));
    println!(
        "Analyzer service, telemetry on:  {:>10.0} datapoints/s (median of {rounds}, {:.2}s)",
        rate(points.len(), Duration::from_secs_f64(on)),
        on
    );
    println!(
        "Analyzer service, telemetry off: {:>10.0} datapoints/s (median of {rounds}, {:.2}s)",
        rate(points.len(), Duration::from_secs_f64(off)),
        off
    );
    println!(
        "telemetry cost, wall:            {:>+9.1} % (on / off − 1)",
        (on / off - 1.0) * 100.0
    );
    println!(
        "telemetry cost, CPU:             {:>+9.1} % (on / off − 1; medians {cpu_on:.2}s, {cpu_off:.2}s)",
        (cpu_on / cpu_off - 1.0) * 100.0
    );
    per_batch_cost(&topic);
}

/// What telemetry adds to each batch, against what a batch took: the
/// batches the Analyzer handled in the rounds with telemetry on (their
/// mean size and handling time, read from its own histograms), and the
/// work counting one such batch does — the consumer loop's
/// [`runtime::Telemetry::batch_handled`] and the Analyzer's
/// [`analyze::service::count_decisions`] with every outcome there is —
/// timed over many repetitions in this process. The readiness probe every
/// 2 s is not in this figure (the CPU comparison above has it).
fn per_batch_cost(topic: &str) {
    let t = runtime::telemetry();
    let service = "analyze";
    let handling = t.batch_seconds.with_label_values(&[service]);
    let sizes = t.batch_records.with_label_values(&[service]);
    let batches = handling.get_sample_count();
    if batches == 0 {
        println!("no batch counted: no per-batch figure");
        return;
    }
    let mean_seconds = handling.get_sample_sum() / batches as f64;
    let mean_size = (sizes.get_sample_sum() / sizes.get_sample_count() as f64).round() as usize;
    let records: Vec<topics::kafka::Record> = (0..mean_size.max(1))
        .map(|i| topics::kafka::Record {
            topic: topic.to_owned(),
            partition: (i % 3) as i32,
            offset: i as i64,
            key: Some(b"bench.metric".to_vec()),
            value: Some(Vec::new()),
            timestamp_ms: Some(1_700_000_000_000),
        })
        .collect();
    // Every outcome there is, and one kind of event, each counted in every
    // batch: nine counts, more than this bench's batches make (a few
    // outcomes each; events are rare).
    let mut decisions = analyze::service::Decisions::default();
    decisions.ended.push(topics::AnomalyEnded {
        id: uuid::Uuid::nil(),
        anomaly_id: uuid::Uuid::nil(),
        metric: "bench.metric".into(),
        source: topics::SourceApp::Analyzer,
        timestamp: 1_700_000_000,
        end_timestamp: 1_700_000_060,
        count: 1,
        decided_at_ms: 0,
    });
    for outcome in [
        "anomalous",
        "not_anomalous",
        "TooShort",
        "Stale",
        "Boring",
        "EmptyTimeseries",
        "mad_skipped",
        "not_analysed",
    ] {
        decisions.analyses.insert(outcome, 1);
    }
    const REPEAT: u32 = 200_000;
    let started = Instant::now();
    for _ in 0..REPEAT {
        t.batch_handled(service, std::hint::black_box(&records), mean_seconds);
        analyze::service::count_decisions(std::hint::black_box(&decisions));
    }
    let per_batch = started.elapsed().as_secs_f64() / f64::from(REPEAT);
    println!(
        "per batch ({batches} batches of {mean_size} records): handling {:.3} ms, counting {:.2} µs: {:.3} % of it",
        mean_seconds * 1e3,
        per_batch * 1e6,
        per_batch / mean_seconds * 100.0
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (kafka, redis) = services();
    if std::env::args().any(|a| a == "telemetry") {
        let run = uuid::Uuid::now_v7().simple().to_string();
        telemetry_overhead(&kafka, &redis, &run).await;
        return;
    }
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
    // Where producing time goes: the same events with librdkafka settings
    // varied, each to its own topic, before the measured run.
    for (what, extra) in [
        ("lz4 instead of zstd", vec![("compression.type", "lz4")]),
        ("no compression", vec![("compression.type", "none")]),
        (
            "no idempotence, acks=1",
            vec![("enable.idempotence", "false"), ("acks", "1")],
        ),
        ("linger 50 ms", vec![("linger.ms", "50")]),
    ] {
        let mut varied = config.clone();
        for (k, v) in extra {
            varied.extra.insert(k.to_owned(), v.to_owned());
        }
        let topic = format!(
            "bench.produce.{run}.{}",
            what.replace(' ', "-").replace(',', "")
        );
        ensure_topics(&varied, &[topic.as_str()], Some(6))
            .await
            .unwrap();
        let producer = Producer::new(&varied).unwrap();
        let t = Instant::now();
        producer
            .send_batch(&topic, records.iter().map(|(k, v)| (k, v)))
            .await
            .unwrap();
        println!(
            "  produce, {what:<24} {:>10.0} datapoints/s",
            rate(records.len(), t.elapsed())
        );
    }
    let t = Instant::now();
    producer.send_batch(&topic, records).await.unwrap();
    let produced = t.elapsed();
    let consumer =
        Consumer::with_group(&config, &format!("bench-{run}"), "bench", &[topic.as_str()]).unwrap();
    let mut folded = 0;
    let mut first: Option<Instant> = None;
    let (mut in_consume, mut in_decode, mut in_fold) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    while folded < points.len() {
        let t = Instant::now();
        let batch = consumer.next_batch(20_000).await;
        if first.is_none() {
            first = Some(Instant::now());
        } else {
            in_consume += t.elapsed();
        }
        let t = Instant::now();
        let decoded: Vec<Datapoint> = batch
            .iter()
            .filter_map(|r| decode(r.payload()).ok())
            .collect();
        in_decode += t.elapsed();
        let t = Instant::now();
        windows.fold(&decoded).await.unwrap();
        in_fold += t.elapsed();
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
    println!(
        "  where the time goes:          waiting for batches {:.2}s, decoding {:.2}s, folding {:.2}s",
        in_consume.as_secs_f64(),
        in_decode.as_secs_f64(),
        in_fold.as_secs_f64()
    );
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
    let judge = |w: &[(i64, f64)], scratch: &mut Series| {
        scratch.extend_from_points(w);
        let e = run_ensemble(
            scratch,
            &Algorithm::ALL,
            analyzer.consensus,
            true,
            now,
            analyzer.full_duration,
        );
        usize::from(e.anomalous)
    };

    // 3a. One core: read 500 windows (one pipelined round trip), judge them.
    let t = Instant::now();
    let (mut anomalous, mut in_read) = (0, Duration::ZERO);
    let mut scratch = Series::default();
    for chunk in names.chunks(500) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let r = Instant::now();
        let read = windows.windows(&refs).await.unwrap();
        in_read += r.elapsed();
        for w in read {
            anomalous += judge(&w, &mut scratch);
        }
    }
    let d = t.elapsed();
    println!(
        "analyse from Redis windows:     {:>10.0} metrics/s = {:.2}M metrics/min ({} metrics of 1440 points, {} anomalous, one core; reading {:.2}s of {:.2}s)",
        rate(metrics, d),
        rate(metrics, d) * 60.0 / 1e6,
        metrics,
        anomalous,
        in_read.as_secs_f64(),
        d.as_secs_f64()
    );

    // 3b. Both cores: the next chunk is read while this one is judged
    // (rayon), as a consumer handling several batches would.
    let windows = std::sync::Arc::new(windows);
    let read_chunk = |chunk: Vec<String>| {
        let windows = windows.clone();
        tokio::spawn(async move {
            let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
            windows.windows(&refs).await.unwrap()
        })
    };
    let t = Instant::now();
    let mut chunks = names.chunks(500).map(<[String]>::to_vec);
    let mut next = chunks.next().map(read_chunk);
    let mut anomalous_par = 0;
    while let Some(pending) = next.take() {
        let read = pending.await.unwrap();
        next = chunks.next().map(read_chunk);
        anomalous_par += tokio::task::block_in_place(|| {
            use rayon::prelude::*;
            read.par_iter()
                .map_init(Series::default, |scratch, w| judge(w, scratch))
                .sum::<usize>()
        });
    }
    let d = t.elapsed();
    assert_eq!(anomalous_par, anomalous);
    println!(
        "analyse from Redis windows:     {:>10.0} metrics/s = {:.2}M metrics/min (both cores: reads overlapped, judged with rayon)",
        rate(metrics, d),
        rate(metrics, d) * 60.0 / 1e6,
    );
    windows.clear().await.unwrap();

    telemetry_overhead(&kafka, &redis, &run).await;
}
