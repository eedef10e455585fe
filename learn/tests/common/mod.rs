//! Shared by the learn crate's tests: the real NAB series they learn from.
#![allow(dead_code)]

/// `ec2_cpu_utilization_825cc2` (NAB, 5-minute points over two weeks).
pub fn nab_series() -> Vec<(i64, f64)> {
    numeric::reference::read_nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv")
}

/// Means per `resolution` seconds (what the long window holds).
pub fn rolled_up(series: &[(i64, f64)], resolution: i64) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64, usize)> = Vec::new();
    for &(t, v) in series {
        let b = t - t.rem_euclid(resolution);
        match out.last_mut() {
            Some(last) if last.0 == b => {
                last.1 += v;
                last.2 += 1;
            }
            _ => out.push((b, v, 1)),
        }
    }
    out.into_iter().map(|(b, s, n)| (b, s / n as f64)).collect()
}

/// A not-anomalous label on a seasonal check at `t0` (the lead's seasonal
/// service hands fingerprint such checks): the 7 days before `t0` of
/// `series` at 600 s (the merged week it judged, 1 008 points) and the last
/// 24 h at full resolution as its echo series.
pub fn seasonal_label(series: &[(i64, f64)], id: Uuid, metric: &str, t0: i64) -> topics::Label {
    const DAY: i64 = 86_400;
    let within = |span: i64| -> Vec<(i64, f64)> {
        series
            .iter()
            .filter(|p| p.0 > t0 - span && p.0 <= t0)
            .copied()
            .collect()
    };
    let points = |s: Vec<(i64, f64)>| -> Vec<topics::SeriesPoint> {
        s.into_iter()
            .map(|(timestamp, value)| topics::SeriesPoint { timestamp, value })
            .collect()
    };
    topics::Label {
        id,
        metric: metric.to_owned(),
        anomaly_id: Some(topics::ids::anomaly_id(
            metric,
            t0,
            topics::SourceApp::Seasonal,
        )),
        training_id: None,
        timestamp: t0,
        not_anomalous: true,
        learn: false,
        layers_json: None,
        operator: "ops".into(),
        labelled_at_ms: 1,
        check_id: Some(Uuid::from_u128(id.as_u128() ^ 0xc4ec)),
        full_duration: Some(7 * DAY),
        series: Some(points(rolled_up(&within(7 * DAY), 600))),
        description: Some("weekly batch".into()),
        echo_series: Some(points(within(DAY))),
    }
}

use std::time::{Duration, Instant};

use topics::codec::{decode, Event};
use topics::kafka::{Consumer, KafkaConfig};
use topics::names::TopicNames;
use uuid::Uuid;

/// The test broker, one partition per topic, a group prefix of the test's
/// own.
pub fn kafka() -> KafkaConfig {
    KafkaConfig {
        partitions: 1,
        session_timeout_ms: 6_000,
        group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
        ..KafkaConfig::for_brokers(topics::testing::service("SKYLINE_TEST_KAFKA"))
    }
}

/// Topic names of the test's own.
pub fn topic_names() -> TopicNames {
    let tag = Uuid::now_v7().simple().to_string();
    let t = TopicNames::default();
    t.renamed(|name| format!("{name}.{tag}"))
}

/// Reads `topic` (partition 0) from offset 0 until `done` holds for what
/// was read or `timeout` passes; returns what was read.
pub async fn read_until<E: Event>(
    kafka: &KafkaConfig,
    topic: &str,
    timeout: Duration,
    done: impl Fn(&[E]) -> bool,
) -> Vec<E> {
    let group = format!("reader-{}", Uuid::now_v7());
    let consumer =
        Consumer::assigned(kafka, &group, &group, &[(topic.to_owned(), 0, 0)]).expect("a reader");
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    while !done(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        if let Ok(batch) = tokio::time::timeout(left, consumer.next_batch(1_000)).await {
            got.extend(batch.iter().filter_map(|r| decode::<E>(r.payload()).ok()));
        }
    }
    consumer.close().await;
    got
}
