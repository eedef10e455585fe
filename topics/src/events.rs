//! The events on skyline's log, one type per topic. Each is a plain serde
//! struct; its Avro schema is `schemas/<name>.avsc` and must stay in step
//! (the codec tests check every type against its schema).
//!
//! Identity: a *decision* (anomaly, check, match, learnt profile, alert) has
//! a deterministic id, UUID v5 of what it is about (see [`crate::ids`]), so
//! a consumer that crashes and decides again emits the same id and folds
//! count it once. An *operator action* (label, validate, disable) gets a
//! fresh UUID v7. A datapoint is identified by `(metric, timestamp)` itself.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One value of one metric (`skyline.datapoints`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Datapoint {
    pub metric: String,
    /// Unix seconds.
    pub timestamp: i64,
    pub value: f64,
}

/// Which service decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceApp {
    Analyzer,
    Seasonal,
    Fingerprint,
}

/// A metric judged anomalous (`skyline.anomalies`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyEvent {
    /// UUID v5 of (metric, timestamp, source).
    pub id: Uuid,
    pub metric: String,
    /// The anomalous datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// The anomalous datapoint's value (of the derivative for counters).
    pub value: f64,
    pub source: SourceApp,
    /// Algorithms that ran, in order (skipped ones included, as the
    /// reference's `algorithms_run`).
    pub algorithms_run: Vec<String>,
    /// Algorithms that voted anomalous.
    pub triggered_algorithms: Vec<String>,
    /// Seconds of data judged: the window's last minus its second timestamp,
    /// as the reference records it.
    pub full_duration: i64,
    /// The window's first timestamp.
    pub from_timestamp: i64,
    /// The check this anomaly was handed on with, if any.
    pub check_id: Option<Uuid>,
    /// Whether the metric was analysed as its derivative.
    pub derivative: bool,
    /// When the decision was made (unix milliseconds); not part of the id.
    pub decided_at_ms: i64,
}

/// Where a check goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckTarget {
    Seasonal,
    Fingerprint,
}

/// A request to re-judge an anomaly (`skyline.checks`, key: metric). It
/// carries the series it was judged on, so it can be re-judged later with no
/// other state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRequest {
    /// UUID v5 of (anomaly id, target).
    pub id: Uuid,
    pub anomaly_id: Uuid,
    pub target: CheckTarget,
    pub metric: String,
    pub timestamp: i64,
    pub value: f64,
    pub triggered_algorithms: Vec<String>,
    /// For seasonal checks: how many hours of the long window to judge.
    pub second_order_resolution_hours: Option<u32>,
    /// The series judged, as `(unix seconds, value)`.
    pub series: Vec<SeriesPoint>,
    pub decided_at_ms: i64,
}

/// A point of a series carried in an event.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub timestamp: i64,
    pub value: f64,
}

/// How a check was matched to something an operator called normal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMethod {
    FeaturesProfile,
    MinMax,
    Layers,
    Motif,
    None,
}

/// The fingerprint verdict on a check (`skyline.matches`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    /// UUID v5 of (check id, profile ids considered).
    pub id: Uuid,
    pub check_id: Uuid,
    pub anomaly_id: Uuid,
    pub metric: String,
    pub timestamp: i64,
    pub matched: bool,
    pub method: MatchMethod,
    pub profile_id: Option<Uuid>,
    pub layer_id: Option<Uuid>,
    /// Percent difference of the features sums (features-profile matches).
    pub percent_different: Option<f64>,
    /// Motif distance (motif matches).
    pub distance: Option<f64>,
    pub decided_at_ms: i64,
}

/// An operator's judgement (`skyline.labels`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Fresh UUID v7.
    pub id: Uuid,
    pub metric: String,
    pub anomaly_id: Option<Uuid>,
    /// Training data the label is about when it is not an anomaly.
    pub training_id: Option<Uuid>,
    /// Timestamp of the labelled point.
    pub timestamp: i64,
    pub not_anomalous: bool,
    /// Also learn from it at longer durations.
    pub learn: bool,
    /// Layers definition (JSON), when the label creates layers.
    pub layers_json: Option<String>,
    pub operator: String,
    pub labelled_at_ms: i64,
}

/// What happened to a features profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileAction {
    Created,
    Learnt,
    Validated,
    Disabled,
}

/// One feature value of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureValue {
    /// Skyline's feature id.
    pub id: u32,
    pub value: f64,
}

/// A features profile event (`skyline.profiles`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileEvent {
    /// The event's own id (v5 for learnt/created from labels, v7 for
    /// operator validate/disable).
    pub id: Uuid,
    pub profile_id: Uuid,
    pub action: ProfileAction,
    pub metric: String,
    pub parent_id: Option<Uuid>,
    pub generation: u32,
    pub full_duration: i64,
    pub features: Vec<FeatureValue>,
    pub features_sum: f64,
    pub series: Vec<SeriesPoint>,
    pub layers_json: Option<String>,
    pub label_id: Option<Uuid>,
    pub at_ms: i64,
}

/// An alert sent (`skyline.alerts`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// UUID v5 of (anomaly id, alerter).
    pub id: Uuid,
    pub anomaly_id: Uuid,
    pub metric: String,
    pub timestamp: i64,
    pub value: f64,
    pub source: SourceApp,
    pub alerter: String,
    /// The alert rule's pattern.
    pub rule: String,
    pub triggered_algorithms: Vec<String>,
    pub decided_at_ms: i64,
}

/// A message a consumer could not use (`skyline.deadletter`, key: the
/// source topic). The raw bytes are kept so nothing accepted is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Fresh UUID v7.
    pub id: Uuid,
    pub source_topic: String,
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    /// Raw key bytes. (The `with` attributes make serde see these as bytes,
    /// not as a sequence of numbers, which Avro `bytes` needs; other formats
    /// such as JSON are unaffected.)
    #[serde(with = "apache_avro::serde::bytes_opt")]
    pub key: Option<Vec<u8>>,
    #[serde(with = "apache_avro::serde::bytes")]
    pub payload: Vec<u8>,
    /// Why it was refused.
    pub error: String,
    /// Which consumer refused it.
    pub consumer: String,
    pub at_ms: i64,
}
