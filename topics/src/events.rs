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
    /// The metric's full name (a dotted Graphite path).
    pub metric: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The measured value.
    pub value: f64,
}

/// Which service decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceApp {
    /// The Analyzer, judging new points over the full-duration window.
    Analyzer,
    /// The seasonal re-check over the rolled-up long window.
    Seasonal,
    /// The fingerprint service, matching against features profiles.
    Fingerprint,
    /// Boundary: an operator's hard condition on one metric (a drop off a
    /// cliff, a value below or above a threshold), judged beside the
    /// Analyzer.
    Boundary,
}

impl SourceApp {
    /// Its serde name, as ids, tables and alerts write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceApp::Analyzer => "analyzer",
            SourceApp::Seasonal => "seasonal",
            SourceApp::Fingerprint => "fingerprint",
            SourceApp::Boundary => "boundary",
        }
    }
}

/// A metric judged anomalous (`skyline.anomalies`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyEvent {
    /// UUID v5 of (metric, timestamp, source).
    pub id: Uuid,
    /// The metric judged.
    pub metric: String,
    /// The anomalous datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// The anomalous datapoint's value (of the derivative for counters).
    pub value: f64,
    /// The service that decided.
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
    /// Anomalous points folded into this anomaly: the first and the repeats
    /// within PANORAMA_EXPIRY_TIME of it (1 from earlier versions).
    pub count: i32,
    /// The newest anomalous point's timestamp (unix seconds; `timestamp`
    /// from earlier versions).
    pub last_timestamp: i64,
    /// How far the anomaly's most extreme point lies from its judged
    /// window's mean, in standard deviations: max over its points of
    /// `|x − mean| / stddev` (0 when stddev is 0, and from earlier versions).
    pub max_deviation: f64,
}

/// An anomaly is over (`skyline.anomaly_ends`, key: metric): the first
/// analysis after its last anomalous point found the metric not anomalous,
/// and the anomaly can no longer be extended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyEnded {
    /// UUID v5 of the anomaly id ([`crate::ids::anomaly_ended_id`]).
    pub id: Uuid,
    /// The anomaly that ended.
    pub anomaly_id: Uuid,
    /// The anomaly's metric.
    pub metric: String,
    /// The service that decided the anomaly.
    pub source: SourceApp,
    /// The anomaly's timestamp (its first anomalous point, unix seconds).
    pub timestamp: i64,
    /// The newest timestamp of the first not-anomalous analysis after the
    /// anomaly's last anomalous point (unix seconds).
    pub end_timestamp: i64,
    /// Anomalous points the anomaly folded.
    pub count: i32,
    /// When decided (unix milliseconds); not part of the id.
    pub decided_at_ms: i64,
}

/// Where a check goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckTarget {
    /// The seasonal re-check over the long window.
    Seasonal,
    /// The fingerprint service.
    Fingerprint,
}

/// A request to re-judge an anomaly (`skyline.checks`, key: metric). It
/// carries the series it was judged on, so it can be re-judged later with no
/// other state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRequest {
    /// UUID v5 of (anomaly id, target).
    pub id: Uuid,
    /// The anomaly to re-judge.
    pub anomaly_id: Uuid,
    /// The service that should re-judge it.
    pub target: CheckTarget,
    /// The metric to re-judge.
    pub metric: String,
    /// The anomalous datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// The anomalous datapoint's value.
    pub value: f64,
    /// Algorithms that voted anomalous in the first judgement.
    pub triggered_algorithms: Vec<String>,
    /// For seasonal checks: how many hours of the long window to judge.
    pub second_order_resolution_hours: Option<u32>,
    /// The series judged, as `(unix seconds, value)`.
    pub series: Vec<SeriesPoint>,
    /// When the check was requested (unix milliseconds).
    pub decided_at_ms: i64,
    /// Seconds of data the check is at (v1 messages: `None`, see
    /// [`CheckRequest::full_duration`]).
    #[serde(default)]
    pub full_duration: Option<i64>,
    /// Seasonal checks handed to fingerprint: the last 24 h at full
    /// resolution (echo profiles and layers are judged on it).
    #[serde(default)]
    pub echo_series: Option<Vec<SeriesPoint>>,
    /// Fingerprint checks: the alerts to send unless the anomaly is
    /// deflected.
    #[serde(default)]
    pub alerts: Vec<AlertRoute>,
    /// A periodic seasonal check: the metric was not found anomalous, it is
    /// re-judged over days on a schedule (MIRAGE_PERIODIC_CHECK). Its
    /// anomaly id names no anomaly ([`crate::ids::periodic_anomaly_id`]).
    #[serde(default)]
    pub periodic: bool,
    /// Whether the metric was judged as its derivative (a monotonic
    /// counter): `series` holds the raw values either way.
    #[serde(default)]
    pub derivative: bool,
}

impl CheckRequest {
    /// Seconds of data the check is judged at: as recorded, or (version 1
    /// messages) the series' span.
    pub fn full_duration(&self) -> i64 {
        self.full_duration
            .unwrap_or_else(|| match (self.series.first(), self.series.last()) {
                (Some(a), Some(b)) => b.timestamp.saturating_sub(a.timestamp),
                _ => 0,
            })
    }
}

/// An alert rule that fires unless a check deflects its anomaly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRoute {
    /// The alerter the alert goes to (smtp, webhook, ...).
    pub alerter: String,
    /// The rule's pattern.
    pub rule: String,
    /// The rule's EXPIRATION_TIME (seconds): seasonal checks carry it so
    /// the seasonal service alerts at most once per that time, as the
    /// reference's `mirage.last_alert` keys do (`None` in older messages).
    #[serde(default)]
    pub expiration_time: Option<i64>,
}

/// A point of a series carried in an event.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Unix seconds.
    pub timestamp: i64,
    /// The value at that time.
    pub value: f64,
}

impl SeriesPoint {
    /// A series of `(unix seconds, value)` pairs, as the pure code holds
    /// it, as the points an event carries.
    pub fn from_pairs(pairs: &[(i64, f64)]) -> Vec<SeriesPoint> {
        pairs
            .iter()
            .map(|&(timestamp, value)| SeriesPoint { timestamp, value })
            .collect()
    }

    /// The points an event carries as `(unix seconds, value)` pairs.
    pub fn pairs(points: &[SeriesPoint]) -> Vec<(i64, f64)> {
        points.iter().map(|p| (p.timestamp, p.value)).collect()
    }
}

/// How a check was matched to something an operator called normal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMethod {
    /// Matched a features profile by its features sum.
    FeaturesProfile,
    /// Matched a features profile after both series were min-max scaled.
    MinMax,
    /// Matched a layers definition.
    Layers,
    /// Matched a motif: a subsequence of a profile's series.
    Motif,
    /// Nothing matched.
    None,
}

impl MatchMethod {
    /// Its serde name, as metrics and tables write it.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMethod::FeaturesProfile => "features_profile",
            MatchMethod::MinMax => "min_max",
            MatchMethod::Layers => "layers",
            MatchMethod::Motif => "motif",
            MatchMethod::None => "none",
        }
    }
}

/// The fingerprint verdict on a check (`skyline.matches`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    /// UUID v5 of (check id, profile ids considered).
    pub id: Uuid,
    /// The check this verdict answers.
    pub check_id: Uuid,
    /// The anomaly the check was about.
    pub anomaly_id: Uuid,
    /// The metric judged.
    pub metric: String,
    /// The anomalous datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// Whether the anomaly matched something normal and is deflected.
    pub matched: bool,
    /// How it matched ([`MatchMethod::None`] when nothing did).
    pub method: MatchMethod,
    /// The features profile matched, if any.
    pub profile_id: Option<Uuid>,
    /// The layers definition matched, if any.
    pub layer_id: Option<Uuid>,
    /// Percent difference of the features sums (features-profile matches).
    pub percent_different: Option<f64>,
    /// Motif distance (motif matches).
    pub distance: Option<f64>,
    /// When the verdict was made (unix milliseconds).
    pub decided_at_ms: i64,
    /// Matched against a 24 h (echo) profile for a seasonal check.
    #[serde(default)]
    pub echo: bool,
    /// Profiles compared by features.
    #[serde(default)]
    pub profiles_checked: u32,
    /// Σ of every feature calculated for the check's series.
    #[serde(default)]
    pub features_sum: Option<f64>,
    /// Features-profile matches: features common to profile and check.
    #[serde(default)]
    pub common_features: Option<u32>,
    /// Layers matches: only the approximately-close tolerance matched.
    #[serde(default)]
    pub approx_close: bool,
    /// Motif matches: where and how closely.
    #[serde(default)]
    pub motif: Option<MotifMatch>,
}

/// How a motif matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotifKind {
    /// The subsequence equals the check's query window point for point.
    Exact,
    /// Within the batch's distance and area limits, not equal.
    AllInRange,
}

/// Where and how closely a motif matched.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MotifMatch {
    /// Start of the matching subsequence in the profile's series.
    pub index: u32,
    /// Its length in points.
    pub size: u32,
    /// Exact, or within distance and area limits.
    pub kind: MotifKind,
    /// Trapezoid area of the check's query window.
    pub area: f64,
    /// Trapezoid area of the profile's subsequence.
    pub profile_area: f64,
    /// Percent difference of the two areas.
    pub area_percent_diff: f64,
}

/// An operator's judgement (`skyline.labels`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// Fresh UUID v7.
    pub id: Uuid,
    /// The metric labelled.
    pub metric: String,
    /// The anomaly labelled, when the label is about one.
    pub anomaly_id: Option<Uuid>,
    /// Training data the label is about when it is not an anomaly.
    pub training_id: Option<Uuid>,
    /// Timestamp of the labelled point.
    pub timestamp: i64,
    /// Whether the operator says the point is normal.
    pub not_anomalous: bool,
    /// Also learn from it at longer durations.
    pub learn: bool,
    /// Layers definition (JSON), when the label creates layers.
    pub layers_json: Option<String>,
    /// Who labelled.
    pub operator: String,
    /// When the label was made (unix milliseconds).
    pub labelled_at_ms: i64,
    /// The check whose series is labelled.
    #[serde(default)]
    pub check_id: Option<Uuid>,
    /// Seconds of data the labelled series covers.
    #[serde(default)]
    pub full_duration: Option<i64>,
    /// The labelled series as it was when labelled, so profiles can be
    /// re-derived from the labels topic alone.
    #[serde(default)]
    pub series: Option<Vec<SeriesPoint>>,
    /// The operator's words for the pattern.
    #[serde(default)]
    pub description: Option<String>,
    /// A label on a seasonal check: the last 24 hours at full resolution
    /// as they were, from which the echo profile is made.
    #[serde(default)]
    pub echo_series: Option<Vec<SeriesPoint>>,
}

/// What happened to a features profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileAction {
    /// Made by an operator from a label.
    Created,
    /// Learnt by skyline from a profile at a shorter duration.
    Learnt,
    /// Validated by an operator.
    Validated,
    /// Disabled by an operator.
    Disabled,
}

impl ProfileAction {
    /// Its serde name, as metrics and tables write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileAction::Created => "created",
            ProfileAction::Learnt => "learnt",
            ProfileAction::Validated => "validated",
            ProfileAction::Disabled => "disabled",
        }
    }
}

/// One feature value of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureValue {
    /// Skyline's feature id.
    pub id: u32,
    /// The feature's value.
    pub value: f64,
}

/// A features profile event (`skyline.profiles`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileEvent {
    /// The event's own id (v5 for learnt/created from labels, v7 for
    /// operator validate/disable).
    pub id: Uuid,
    /// The profile the event is about.
    pub profile_id: Uuid,
    /// What happened to it.
    pub action: ProfileAction,
    /// The profile's metric.
    pub metric: String,
    /// The profile it was learnt from, if any.
    pub parent_id: Option<Uuid>,
    /// Learning steps from an operator-made profile (0 for one).
    pub generation: u32,
    /// Seconds of data the profile describes.
    pub full_duration: i64,
    /// The profile's feature values.
    pub features: Vec<FeatureValue>,
    /// Sum of the feature values, compared when matching.
    pub features_sum: f64,
    /// The series it was made from, oldest first (may be empty for validate and
    /// disable).
    pub series: Vec<SeriesPoint>,
    /// Layers definition (JSON), if the profile has layers.
    pub layers_json: Option<String>,
    /// The label behind this event, if one.
    pub label_id: Option<Uuid>,
    /// When it happened (unix milliseconds).
    pub at_ms: i64,
    /// Created/learnt: whether the profile starts validated.
    #[serde(default)]
    pub validated: bool,
    /// Whether skyline may learn from this profile at longer durations.
    #[serde(default)]
    pub learn: bool,
    /// Created/learnt: the metric's learn settings when it was made.
    #[serde(default)]
    pub learn_settings: Option<LearnSettings>,
    /// The label text: the operator's words, `LEARNT` or `echo`.
    #[serde(default)]
    pub description: Option<String>,
    /// Who made, validated or disabled it (`None` when learnt).
    #[serde(default)]
    pub operator: Option<String>,
    /// Timestamp of the anomaly it was made or learnt from.
    #[serde(default)]
    pub anomaly_timestamp: Option<i64>,
    /// The check it was made or learnt from.
    #[serde(default)]
    pub check_id: Option<Uuid>,
    /// Disabled events: the profile the operator disabled, when this one is
    /// disabled as its descendant.
    #[serde(default)]
    pub disabled_with: Option<Uuid>,
}

/// How a metric learns (`spec/learn.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LearnSettings {
    /// Seconds of data learnt from (learn_full_duration_days × 86400).
    pub full_duration: i64,
    /// Seconds an anomaly must be old before learning from it.
    pub valid_ts_older_than: i64,
    /// Highest generation a learnt profile may have.
    pub max_generations: u32,
    /// Largest percent difference of a learnt profile's features sum from
    /// its origin's.
    pub max_percent_diff_from_origin: f64,
}

/// An alert sent (`skyline.alerts`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// UUID v5 of (anomaly id, alerter).
    pub id: Uuid,
    /// The anomaly alerted on.
    pub anomaly_id: Uuid,
    /// The anomalous metric.
    pub metric: String,
    /// The anomalous datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// The anomalous datapoint's value.
    pub value: f64,
    /// The service that raised the alert.
    pub source: SourceApp,
    /// The alerter it went to (smtp, webhook, ...).
    pub alerter: String,
    /// The alert rule's pattern.
    pub rule: String,
    /// Algorithms that voted anomalous.
    pub triggered_algorithms: Vec<String>,
    /// When the alert was decided (unix milliseconds).
    pub decided_at_ms: i64,
    /// The window judged, oldest first: the alert's graph is drawn from it
    /// (`None` in version 1 messages).
    #[serde(default)]
    pub series: Option<Vec<SeriesPoint>>,
    /// Seconds of data judged.
    #[serde(default)]
    pub full_duration: Option<i64>,
    /// The rule's expiration time: seconds before this alerter alerts on
    /// the metric again.
    #[serde(default)]
    pub expiration_time: Option<i64>,
    /// Boundary alerts: what the rule fired on.
    #[serde(default)]
    pub boundary: Option<BoundaryTrigger>,
    /// Sent by fingerprint: compared with the metric's features profiles,
    /// it matched none (the reference's alerts returned by Ionosphere).
    #[serde(default)]
    pub fingerprinted: bool,
    /// A test alert (`skyline alert test`), marked TEST wherever shown.
    #[serde(default)]
    pub test: bool,
}

/// What a Boundary rule fired on (carried by its alerts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryTrigger {
    /// `detect_drop_off_cliff`, `less_than` or `greater_than`.
    pub algorithm: String,
    /// The rule's trigger value.
    pub trigger_value: f64,
    /// Consecutive triggers needed before alerting.
    pub alert_threshold: i32,
}

/// What became of one attempt to deliver an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The receiver accepted it.
    Delivered,
    /// This attempt did not get through; another may follow.
    Failed,
    /// No more attempts: the deadline passed, or the receiver refused it
    /// for good (a 4xx answer, a rejected recipient).
    GaveUp,
    /// Not sent: a mute held for the metric.
    Muted,
}

impl DeliveryOutcome {
    /// The outcome as written in tables and pages.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Failed => "failed",
            DeliveryOutcome::GaveUp => "gave_up",
            DeliveryOutcome::Muted => "muted",
        }
    }
}

/// One delivery attempt's outcome (`skyline.deliveries`, key: metric).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryEvent {
    /// UUID v5 of (alert id, attempt).
    pub id: Uuid,
    /// The alert delivered.
    pub alert_id: Uuid,
    /// The anomaly the alert is about.
    pub anomaly_id: Uuid,
    /// The anomalous metric.
    pub metric: String,
    /// The alerter's name.
    pub alerter: String,
    /// The alerter's kind (`smtp`, `webhook`, `slack`, `pagerduty`, `topic`).
    pub kind: String,
    /// What happened.
    pub outcome: DeliveryOutcome,
    /// Attempt number, from 1 (0 when muted).
    pub attempt: i32,
    /// The receiver's answer or the error; the mute's id when muted.
    pub detail: Option<String>,
    /// When the attempt ended (unix milliseconds).
    pub at_ms: i64,
}

/// Mute or unmute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MuteAction {
    /// Start muting.
    Mute,
    /// End the mute of the same id early.
    Unmute,
}

/// An operator muting the alerts of matching metrics for a while
/// (`skyline.mutes`, key: pattern).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MuteEvent {
    /// The mute's id (UUID v7); an unmute carries the id it ends.
    pub id: Uuid,
    /// Mute or unmute.
    pub action: MuteAction,
    /// The metrics muted, as an alert rule's pattern.
    pub pattern: String,
    /// When the mute ends (unix milliseconds).
    pub until_ms: i64,
    /// Why, as the operator wrote it.
    pub reason: Option<String>,
    /// Who muted.
    pub operator: Option<String>,
    /// When it was made (unix milliseconds).
    pub at_ms: i64,
}

/// A message a consumer could not use (`skyline.deadletter`, key: the
/// source topic). The raw bytes are kept so nothing accepted is lost; a
/// letter made with [`DeadLetter::fitted`] always fits the producer's
/// message limit (version 2 of the schema: see `SCHEMAS.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Fresh UUID v7.
    pub id: Uuid,
    /// The topic the message was read from.
    pub source_topic: String,
    /// The partition it was read from, if known.
    pub partition: Option<i32>,
    /// Its offset in that partition, if known.
    pub offset: Option<i64>,
    /// Raw key bytes. (The `with` attributes make serde see these as bytes,
    /// not as a sequence of numbers, which Avro `bytes` needs; other formats
    /// such as JSON are unaffected.)
    #[serde(with = "apache_avro::serde::bytes_opt")]
    pub key: Option<Vec<u8>>,
    /// The value's raw bytes (its first [`Self::MAX_PAYLOAD`] when cut).
    #[serde(with = "apache_avro::serde::bytes")]
    pub payload: Vec<u8>,
    /// Why it was refused.
    pub error: String,
    /// Which consumer refused it.
    pub consumer: String,
    /// When it was refused (unix milliseconds).
    pub at_ms: i64,
    /// Length of the whole value; more than `payload.len()` when cut.
    pub payload_length: Option<i64>,
    /// Lowercase hex SHA-256 of the whole value.
    pub payload_sha256: Option<String>,
    /// Length of the whole key; more than `key.len()` when cut.
    pub key_length: Option<i64>,
}

impl DeadLetter {
    /// Most bytes of a refused value a letter carries.
    pub const MAX_PAYLOAD: usize = 256 * 1024;
    /// Most bytes of a refused key a letter carries.
    pub const MAX_KEY: usize = 4 * 1024;
    /// Most bytes of the reason a letter carries.
    pub const MAX_ERROR: usize = 64 * 1024;

    /// This letter cut to fit any producer's message limit (librdkafka's
    /// and a broker's default is 1 MB; a fitted letter stays under 330 KiB,
    /// as the topic and consumer names are short): the payload to its first
    /// [`Self::MAX_PAYLOAD`] bytes, the key to [`Self::MAX_KEY`], the error
    /// to [`Self::MAX_ERROR`] (on a character boundary, saying how much was
    /// left out). The whole value's length and SHA-256, and the whole key's
    /// length, are recorded first, so a cut letter can still be matched
    /// with its original. A letter too big to produce would otherwise stop
    /// the consumer that refused the message, on every restart.
    pub fn fitted(mut self) -> Self {
        if self.payload_length.is_none() {
            self.payload_length = Some(self.payload.len() as i64);
            self.payload_sha256 = Some(sha256_hex(&self.payload));
        }
        self.payload.truncate(Self::MAX_PAYLOAD);
        if let Some(key) = &mut self.key {
            self.key_length.get_or_insert(key.len() as i64);
            key.truncate(Self::MAX_KEY);
        }
        self.error = excerpt(&self.error, Self::MAX_ERROR);
        self
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(bytes))
}

/// `text` if it is at most `max` bytes long, else its head (cut on a
/// character boundary) followed by how many bytes were left out, the whole
/// within `max` bytes plus that short note.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end)
}

/// What a [`SystemEvent`] says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    /// A service is alive: its readiness and figures (lag, counts).
    Heartbeat,
    /// One of skyline's own checks has not been fine for its threshold
    /// (the reference's Thunder alert).
    Stalled,
    /// A stalled check is fine again.
    Recovered,
    /// A metric sent nothing for its stale period.
    Stale,
    /// A metric is about to go stale (ALERT_ON_STALE_PERIOD reached).
    AboutToGoStale,
    /// A metric that was stale or about to go stale sends again.
    Fresh,
}

impl SystemKind {
    /// Its serde name, as ids, tables and alerts write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemKind::Heartbeat => "heartbeat",
            SystemKind::Stalled => "stalled",
            SystemKind::Recovered => "recovered",
            SystemKind::Stale => "stale",
            SystemKind::AboutToGoStale => "about_to_go_stale",
            SystemKind::Fresh => "fresh",
        }
    }
}

/// One named number a [`SystemEvent`] carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemFigure {
    /// E.g. `lag_records`, `lag_seconds`, `records`, `last_received`.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// What skyline says about itself (`skyline.system`, key: subject): a
/// service's heartbeat, a stall of one of its checks and the recovery, a
/// metric gone stale, about to go stale or sending again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemEvent {
    /// [`crate::ids::system_event_id`]: one stall or staleness is one event
    /// whatever replays.
    pub id: Uuid,
    /// What happened.
    pub kind: SystemKind,
    /// The service (heartbeat), the check (stalled, recovered: e.g.
    /// `ingest.received`) or the metric (stale, about to go stale, fresh).
    pub subject: String,
    /// The service that said it.
    pub service: String,
    /// Which process of that service.
    pub instance: String,
    /// When, by the decider's clock (data time in a replay, wall time
    /// live), unix seconds.
    pub at: i64,
    /// Stalled, recovered: when the check was last fine; stale, about to go
    /// stale, fresh: the metric's last datapoint before (unix seconds).
    pub since: Option<i64>,
    /// Heartbeat: whether the service is ready.
    pub ready: Option<bool>,
    /// Whether the decider asks the alerters to deliver it (a stall, a
    /// recovery, a stale metric with ALERT_ON_STALE_METRICS).
    pub alert: bool,
    /// Why, in words.
    pub reason: String,
    /// A heartbeat's lag and counts, a stale metric's period.
    pub figures: Vec<SystemFigure>,
    /// When it was said (unix milliseconds); not part of the id.
    pub decided_at_ms: i64,
}

impl SystemEvent {
    /// The figure called `name`, if carried.
    pub fn figure(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
    }
}

/// What the seasonal re-check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonalOutcome {
    /// Still anomalous over the long window: handed on to fingerprint (with
    /// the alerts, when the metric is fingerprint-enabled) or alerted.
    Anomalous,
    /// Not anomalous over the long window: the anomaly is cleared.
    Cleared,
    /// Not judged (`reason` says why: stale, too short a history).
    Skipped,
}

impl SeasonalOutcome {
    /// Its serde name, as metrics and tables write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SeasonalOutcome::Anomalous => "anomalous",
            SeasonalOutcome::Cleared => "cleared",
            SeasonalOutcome::Skipped => "skipped",
        }
    }
}

/// The seasonal verdict on one seasonal check (`skyline.seasonal`, key:
/// metric). Every seasonal check gets exactly one, judged or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeasonalResult {
    /// UUID v5 of the check ([`crate::ids::seasonal_result_id`]).
    pub id: Uuid,
    /// The seasonal check answered.
    pub check_id: Uuid,
    /// The anomaly the check was about (for a periodic check, its periodic id).
    pub anomaly_id: Uuid,
    /// The metric judged.
    pub metric: String,
    /// The checked datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// The checked datapoint's value.
    pub value: f64,
    /// Hours of history asked for (SECOND_ORDER_RESOLUTION_HOURS).
    pub hours: u32,
    /// Whether the check was periodic rather than an Analyzer anomaly.
    pub periodic: bool,
    /// What was concluded.
    pub outcome: SeasonalOutcome,
    /// Why, in a word: `consensus`, `daily_peak`, `stale`, `too_short`.
    pub reason: String,
    /// Algorithms that ran, in order.
    pub algorithms_run: Vec<String>,
    /// Algorithms that voted anomalous.
    pub triggered_algorithms: Vec<String>,
    /// Seconds between the judged series' points.
    pub resolution: i64,
    /// Seconds of data judged: the hours asked for, or 30 days when the
    /// series was irregular and unstable over 7.
    pub full_duration: i64,
    /// The series judged (the long window merged with the full-resolution
    /// one), oldest first; empty when skipped.
    pub series: Vec<SeriesPoint>,
    /// When anomalous: the seasonal anomaly ([`SourceApp::Seasonal`]).
    pub seasonal_anomaly_id: Option<Uuid>,
    /// When anomalous: the fingerprint check it was handed on with.
    pub fingerprint_check_id: Option<Uuid>,
    /// When decided (unix milliseconds); not part of the id.
    pub decided_at_ms: i64,
}
