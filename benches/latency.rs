//! End-to-end latency of the running stack (not a test): from a datapoint
//! produced to `skyline.datapoints` to its anomaly event consumed from
//! `skyline.anomalies`, at 10,000 metrics × 1 point/s. Run through
//! `scripts/bench-latency`, which starts the services with `scripts/stack`
//! (the commands of `docker-compose.yml`) and passes this the stack's
//! config in `SKYLINE_CONFIG` (with the same `SKYLINE_…` overrides).
//!
//! 1. History: every metric gets `HISTORY` points, one a second, ending
//!    just before now (real NAB values, a different stretch per metric),
//!    and the Analyzers are let catch up, so every metric is judged from
//!    the first live second.
//! 2. Live: for `SECONDS` seconds, every metric gets its point of that
//!    second, in ten slices 100 ms apart; each second `SPIKES` metrics not
//!    spiked before get a value far outside their window, which the
//!    ensemble flags.
//! 3. Each anomaly event of a spiked point is matched to when its point was
//!    produced: the latency is consumed − produced (wall clock, one
//!    process). p50, p90, p99 and the maximum are printed, with how many
//!    spikes were found and how far behind the Analyzers ended.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use topics::codec::{decode, encode};
use topics::kafka::{committed_offsets, ensure_topics, Consumer, KafkaConfig, Producer};
use topics::{AnomalyEvent, Datapoint};

const METRICS: usize = 10_000;
const HISTORY: usize = 120;
const SECONDS: usize = 60;
const SPIKES: usize = 5;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn values() -> Vec<f64> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/nab/ec2_cpu_utilization_825cc2.csv"
    );
    std::fs::read_to_string(path)
        .expect("the bundled NAB series")
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(',').and_then(|(_, v)| v.parse().ok()))
        .collect()
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

fn main() {
    let metrics = env_usize("SKYLINE_BENCH_METRICS", METRICS);
    let seconds = env_usize("SKYLINE_BENCH_SECONDS", SECONDS);
    let mut config = stack::Config::load(
        std::env::var_os("SKYLINE_CONFIG")
            .as_deref()
            .map(std::path::Path::new),
    )
    .expect("the stack's config (SKYLINE_CONFIG)");
    // Where the broker is, as the services were told (`--kafka`'s variable).
    config.apply(&stack::Infra {
        kafka: std::env::var("SKYLINE_KAFKA").ok(),
        redis: None,
        database: None,
        allow_short_retention: false,
    });
    let kafka: KafkaConfig = config.kafka.clone();
    let topics = config.topics.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        ensure_topics(&kafka, &topics.all(), None).await.expect("topics");
        let producer = Producer::new(&kafka).expect("a producer");
        let series = values();
        let names: Vec<String> = (0..metrics).map(|i| format!("bench.latency.m{i:05}")).collect();
        let value = |metric: usize, k: usize| series[(metric * 97 + k) % series.len()];

        // 1. History, then wait for the Analyzers to catch up.
        let start = now_s() - HISTORY as i64;
        let mut records = Vec::with_capacity(metrics * HISTORY);
        for k in 0..HISTORY {
            for (i, name) in names.iter().enumerate() {
                let point = Datapoint {
                    metric: name.clone(),
                    timestamp: start + k as i64,
                    value: value(i, k),
                };
                records.push((name.clone().into_bytes(), encode(&point).expect("encode")));
            }
        }
        let t = Instant::now();
        producer
            .send_batch(&topics.datapoints, records)
            .await
            .expect("history produced");
        eprintln!(
            "history: {} points produced in {:.1?}",
            metrics * HISTORY,
            t.elapsed()
        );
        let group = kafka.group_id(&config.analyzer_service.consumer);
        let caught_up = |target: u64| {
            let (kafka, group, topic) = (kafka.clone(), group.clone(), topics.datapoints.clone());
            async move {
                let done: i64 = committed_offsets(&kafka, &group, &topic)
                    .await
                    .map(|c| c.values().sum())
                    .unwrap_or(0);
                (done as u64) >= target
            }
        };
        let t = Instant::now();
        while !caught_up((metrics * HISTORY) as u64).await {
            assert!(t.elapsed() < Duration::from_secs(1800), "the Analyzers never caught up");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        eprintln!("history judged in {:.1?}", t.elapsed());

        // 2. The anomalies reader, from the end of what is there.
        let produced: Arc<Mutex<HashMap<(String, i64), Instant>>> = Arc::default();
        let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
        let reader = {
            let consumer = Consumer::with_group(
                &kafka,
                &format!("bench-latency-{}", uuid::Uuid::now_v7()),
                "bench-latency",
                &[topics.anomalies.as_str()],
            )
            .expect("a consumer");
            let (produced, latencies) = (produced.clone(), latencies.clone());
            tokio::spawn(async move {
                loop {
                    let Ok(batch) =
                        tokio::time::timeout(Duration::from_secs(1), consumer.next_batch(10_000))
                            .await
                    else {
                        continue;
                    };
                    let seen = Instant::now();
                    for r in batch.iter() {
                        let Ok(a) = decode::<AnomalyEvent>(r.payload()) else {
                            continue;
                        };
                        let at = produced
                            .lock()
                            .unwrap()
                            .remove(&(a.metric.clone(), a.timestamp));
                        if let Some(at) = at {
                            latencies
                                .lock()
                                .unwrap()
                                .push(seen.duration_since(at).as_secs_f64());
                        }
                    }
                }
            })
        };
        // Let the reader join its group before the first live second.
        tokio::time::sleep(Duration::from_secs(10)).await;

        // 3. Live seconds.
        let first = now_s();
        let mut spiked = 0usize;
        for s in 0..seconds {
            let second = Instant::now();
            let ts = first + s as i64;
            let k = HISTORY + s;
            for slice in 0..10 {
                let lo = metrics * slice / 10;
                let hi = metrics * (slice + 1) / 10;
                let mut records = Vec::with_capacity(hi - lo);
                let mut spikes = Vec::new();
                for (i, name) in names.iter().enumerate().take(hi).skip(lo) {
                    let spike = (s * SPIKES..(s + 1) * SPIKES).contains(&i);
                    let v = if spike {
                        spikes.push(name.clone());
                        1_000.0 * (1.0 + value(i, k).abs())
                    } else {
                        value(i, k)
                    };
                    let point = Datapoint {
                        metric: name.clone(),
                        timestamp: ts,
                        value: v,
                    };
                    records.push((name.clone().into_bytes(), encode(&point).expect("encode")));
                }
                let at = Instant::now();
                {
                    let mut p = produced.lock().unwrap();
                    for m in spikes {
                        p.insert((m, ts), at);
                        spiked += 1;
                    }
                }
                producer
                    .send_batch(&topics.datapoints, records)
                    .await
                    .expect("live points produced");
                let next = second + Duration::from_millis(100 * (slice as u64 + 1));
                tokio::time::sleep_until(next.into()).await;
            }
        }
        // Whatever is still coming, for up to 30 s.
        let t = Instant::now();
        while latencies.lock().unwrap().len() < spiked && t.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        reader.abort();
        let behind: i64 = {
            let total = (metrics * (HISTORY + seconds)) as i64;
            let done: i64 = committed_offsets(&kafka, &group, &topics.datapoints)
                .await
                .map(|c| c.values().sum())
                .unwrap_or(0);
            total - done
        };
        let mut l = latencies.lock().unwrap().clone();
        l.sort_by(f64::total_cmp);
        println!(
            "end-to-end latency, datapoint produced -> anomaly consumed, {metrics} metrics x 1 point/s for {seconds} s:"
        );
        println!(
            "  spikes found {} of {spiked}; p50 {:.3} s, p90 {:.3} s, p99 {:.3} s, max {:.3} s; datapoints not yet committed by the Analyzers at the end: {behind}",
            l.len(),
            quantile(&l, 0.5),
            quantile(&l, 0.9),
            quantile(&l, 0.99),
            l.last().copied().unwrap_or(f64::NAN),
        );
    });
}
