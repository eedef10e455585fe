//! `windows::replay` against a real Kafka-protocol broker (the one named by
//! `SKYLINE_TEST_KAFKA`, else the one `scripts/services` starts): datapoints
//! produced to a fresh topic are folded into cleared memory windows, and
//! what was there before the replay is gone.

use std::time::Duration;

use topics::codec::encode;
use topics::kafka::{ensure_topics, KafkaConfig, Producer};
use topics::Datapoint;
use uuid::Uuid;
use windows::{MemoryWindows, WindowSettings, Windows};

fn kafka() -> KafkaConfig {
    KafkaConfig {
        group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
        ..topics::testing::config()
    }
}

fn point(metric: &str, timestamp: i64, value: f64) -> Datapoint {
    Datapoint {
        metric: metric.to_owned(),
        timestamp,
        value,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_folds_the_datapoints_topic_into_cleared_windows() {
    topics::testing::in_time(replay_into_memory()).await;
}

async fn replay_into_memory() {
    let kafka = kafka();
    let topic = topics::testing::unique("replay");
    ensure_topics(&kafka, &[&topic], Some(2))
        .await
        .expect("ensure_topics");

    // Two metrics, out of order, with one point sent twice.
    let base = 1_700_000_000;
    let mut sent: Vec<Datapoint> = (0..50)
        .rev()
        .map(|i| point("replay.a", base + 60 * i, i as f64))
        .chain((0..30).map(|i| point("replay.b", base + 60 * i, 100.0 - i as f64)))
        .collect();
    sent.push(point("replay.a", base + 60 * 7, 7.0));
    let records: Vec<(Vec<u8>, Vec<u8>)> = sent
        .iter()
        .map(|d| (d.metric.as_bytes().to_vec(), encode(d).expect("encode")))
        .collect();
    let producer = Producer::new(&kafka).expect("producer");
    producer
        .send_batch(&topic, records)
        .await
        .expect("send_batch");

    let windows = Windows::Memory(MemoryWindows::new(WindowSettings::default()));
    // Folded before the replay, so the replay must forget it.
    windows
        .fold(&[point("stale", base, 1.0)])
        .await
        .expect("fold");

    let replayed = windows::replay(&windows, &kafka, &topic, Duration::from_secs(3))
        .await
        .expect("replay");
    assert_eq!(replayed.datapoints, sent.len() as u64);
    assert!(replayed.seconds >= 0.0);

    let mut metrics = windows.metrics().await.expect("metrics");
    metrics.sort();
    assert_eq!(metrics, ["replay.a", "replay.b"]);
    let folded = windows
        .windows(&["replay.a", "replay.b"])
        .await
        .expect("windows");
    let a: Vec<(i64, f64)> = (0..50).map(|i| (base + 60 * i, i as f64)).collect();
    let b: Vec<(i64, f64)> = (0..30).map(|i| (base + 60 * i, 100.0 - i as f64)).collect();
    assert_eq!(folded, [a, b]);
}
