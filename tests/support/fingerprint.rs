//! Checks and profiles made from real series, for the fingerprint tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use fingerprint::matching::profile_features;
use fingerprint::FEATURES_VERSION;
use topics::codec::{decode, encode, Event};
use topics::ids::{anomaly_id, check_id, derived_id, label_profile_id};
use topics::kafka::{KafkaConfig, Producer};
use topics::{
    AlertRoute, CheckRequest, CheckTarget, FeatureValue, MatchResult, ProfileAction, ProfileEvent,
    SeriesPoint, SourceApp,
};
use uuid::Uuid;

use crate::support::{consume_until, nab};

/// A daily pattern with small noise: every day looks like every other.
pub const DAILY: &str = "artificialNoAnomaly/art_daily_small_noise.csv";
/// Noise around a level: nothing like the daily pattern.
pub const NOISY: &str = "artificialNoAnomaly/art_noisy.csv";
/// A real CPU series.
pub const CPU: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";

/// Points per day at NAB's 5-minute resolution.
pub const DAY: usize = 288;

/// Day `day` (0-based, 288 points) of a NAB file.
pub fn day_window(file: &str, day: usize) -> Vec<SeriesPoint> {
    nab(file)
        .into_iter()
        .skip(day * DAY)
        .take(DAY)
        .map(|(timestamp, value)| SeriesPoint { timestamp, value })
        .collect()
}

/// A check the analyzer would have made for the last point of `series`,
/// aimed at fingerprint, carrying `alerters`.
pub fn check(metric: &str, series: Vec<SeriesPoint>, alerters: &[&str]) -> CheckRequest {
    let last = *series.last().expect("a non-empty window");
    let anomaly = anomaly_id(metric, last.timestamp, SourceApp::Analyzer);
    CheckRequest {
        id: check_id(anomaly, CheckTarget::Fingerprint),
        anomaly_id: anomaly,
        target: CheckTarget::Fingerprint,
        metric: metric.to_owned(),
        timestamp: last.timestamp,
        value: last.value,
        triggered_algorithms: vec!["grubbs".into(), "ks_test".into()],
        second_order_resolution_hours: None,
        series,
        decided_at_ms: 1,
        full_duration: Some(86_400),
        echo_series: None,
        alerts: alerters
            .iter()
            .map(|a| AlertRoute {
                alerter: (*a).to_owned(),
                rule: ".*".to_owned(),
                expiration_time: None,
            })
            .collect(),
        periodic: false,
        derivative: false,
    }
}

/// The profile an operator's "not anomalous" label on `series` makes.
pub fn profile(metric: &str, series: Vec<SeriesPoint>) -> ProfileEvent {
    let values: Vec<f64> = series.iter().map(|p| p.value).collect();
    let (features, features_sum) = profile_features(&values);
    let label = derived_id(
        "test-label",
        &[metric.as_bytes(), &series[0].timestamp.to_be_bytes()],
    );
    let profile_id = label_profile_id(label, FEATURES_VERSION);
    ProfileEvent {
        id: derived_id("test-profile-event", &[profile_id.as_bytes()]),
        profile_id,
        action: ProfileAction::Created,
        metric: metric.to_owned(),
        parent_id: None,
        generation: 0,
        full_duration: 86_400,
        features: features
            .iter()
            .map(|(id, _, value)| FeatureValue {
                id: u32::from(id),
                value,
            })
            .collect(),
        features_sum,
        anomaly_timestamp: series.last().map(|p| p.timestamp),
        series,
        layers_json: None,
        label_id: Some(label),
        at_ms: 1,
        validated: true,
        learn: false,
        learn_settings: None,
        description: Some("daily bump".into()),
        operator: Some("test".into()),
        check_id: None,
        disabled_with: None,
    }
}

/// Produces `events`, each keyed by `key(event)`.
pub async fn produce<E: Event>(
    kafka: &KafkaConfig,
    topic: &str,
    events: &[E],
    key: impl Fn(&E) -> &str,
) {
    let producer = Producer::new(kafka).unwrap();
    let records: Vec<(Vec<u8>, Vec<u8>)> = events
        .iter()
        .map(|e| (key(e).as_bytes().to_vec(), encode(e).unwrap()))
        .collect();
    producer.send_batch(topic, records).await.unwrap();
}

/// The verdicts on the matches topic, by check id, once there is one for
/// each of `checks` whose id satisfies `wanted` (or after `timeout`).
pub async fn verdicts(
    kafka: &KafkaConfig,
    topic: &str,
    checks: &[Uuid],
    wanted: impl Fn(&MatchResult) -> bool,
    timeout: Duration,
) -> BTreeMap<Uuid, MatchResult> {
    let pick = |values: &[Vec<u8>]| -> BTreeMap<Uuid, MatchResult> {
        values
            .iter()
            .filter_map(|v| decode::<MatchResult>(v).ok())
            .filter(|m| checks.contains(&m.check_id) && wanted(m))
            .map(|m| (m.check_id, m))
            .collect()
    };
    let values = consume_until(kafka, topic, timeout, |v| pick(v).len() >= checks.len()).await;
    pick(&values)
}
