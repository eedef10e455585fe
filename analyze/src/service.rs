//! The Analyzer as a consumer of `skyline.datapoints`.
//!
//! For each batch, per metric: read the window as it stood before the batch
//! and the metric's [`MetricState`], judge the new points
//! ([`judge_batch`]), publish the decisions (AnomalyEvent, CheckRequest,
//! AlertEvent), then fold the batch into the windows and save the states,
//! and only then commit the offsets. A crash anywhere replays the batch:
//! the window still holds what the batch's points need (the fold trims
//! relative to the batch's oldest point), the state is saved after the
//! events, and decision ids are derived from what they are about — so the
//! replay re-emits the same events with the same ids and loses none.
//!
//! The metrics sweep ([`crate::sweep`], `[analyzer.sweep]`) runs here too:
//! on the wall clock from the runtime's tick, or on the data clock between
//! the points of a batch (each partition's sweep before the point that
//! reaches its instant), publishing what it says as `SystemEvent`s on
//! `skyline.system` and its figures as gauges.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use topics::clock::now_ms;

use runtime::{Commit, Context, RunSettings, Runtime, Service, ServiceError};
use serde::{Deserialize, Serialize};
use topics::codec::decode;
use topics::ids::{
    alert_id, anomaly_ended_id, anomaly_id, boundary_alert_id, check_id, periodic_anomaly_id,
    repeat_alert_id, system_event_id,
};
use topics::kafka::{
    committed_offsets, keyed_messages, read_range, Batch, KafkaConfig, KeyedMessage,
    PartitionRange, Producer, RefusalReason,
};
use topics::names::TopicNames;
use topics::{
    AlertEvent, AnomalyEnded, AnomalyEvent, BoundaryTrigger, CheckRequest, CheckTarget, Datapoint,
    SeriesPoint, SourceApp, SystemEvent, SystemFigure, SystemKind,
};
use windows::{by_metric, Windows};

use crate::alert_rules::{matching_rules, route, AlertRule, Route};
use crate::anomaly_end::{CurrentAnomalies, EndedAnomaly, OpenAnomaly, Step};
use crate::boundary::{rules_for, AlerterLimit, BoundaryRule};
use crate::boundary_stream::{judge_points, AlerterSends, BoundaryJudgement};
use crate::periodic::{is_periodic_point, PeriodicChecks};
use crate::stream::{judge_batch, point_deviation, Judgement, MetricState};
use crate::sweep::{
    crossed, data_sweeps, plan, summarise, DataClock, MetricView, Notice, SparsitySummary,
    SweepClock, SweepPlan,
};
use crate::Settings;

/// The Redis state kind under which [`MetricState`]s are kept.
const STATE_KIND: &str = "analyzer";
/// The state kind and key of Boundary's per-alerter rate-limit counters
/// ([`AlerterSends`]), shared by every metric.
const SENDS_KIND: &str = "boundary-alerters";
/// See [`SENDS_KIND`].
const SENDS_KEY: &str = "sends";
/// The state kind under which the metrics sweep keeps, per metric, what it
/// reported ([`crate::sweep::Reported`]).
const SWEEP_KIND: &str = "analyzer-sweep";

/// How the consumer runs (the `[analyzer_service]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSettings {
    /// Analyse a metric at most once per this many seconds of its data
    /// (0: every datapoint, as `skyline backtest` does).
    pub interval: i64,
    /// Consumer name (group `<prefix>.<name>`).
    pub consumer: String,
    /// Most datapoints handled per batch.
    pub max_batch: usize,
    /// When the windows are in memory, seconds behind each metric's newest
    /// point that a restart re-judges (decisions discarded) to rebuild the
    /// metric's state — alert expiry, derivative classification, the last
    /// point analysed, the open anomalies (de-duplication and ends). Older
    /// points are only folded into the windows. Two days covers a
    /// derivative confirmation (`full_duration`), any alert expiry up to a
    /// day and every anomaly still open (dropped after `full_duration`).
    pub restore_horizon: i64,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            interval: 0,
            consumer: "analyze".to_owned(),
            max_batch: 20_000,
            restore_horizon: 2 * 86_400,
        }
    }
}

/// Everything a running Analyzer needs.
pub struct Analyzer {
    /// The `[analyzer]` settings: algorithms, CONSENSUS, full_duration, pre-checks.
    pub settings: Settings,
    /// The alert rules, in order.
    pub alerts: Vec<AlertRule>,
    /// The Boundary rules (`[[boundary]]`), in order.
    pub boundary: Vec<BoundaryRule>,
    /// Each alerter's Boundary rate limit, by the name rules use (from its
    /// kind: see [`Analyzer::with_boundary_limits`]); a name not here is
    /// limited as [`AlerterLimit::reference`] of the name itself.
    pub boundary_limits: BTreeMap<String, AlerterLimit>,
    /// Which seasonal metrics get periodic seasonal checks (none when
    /// `None`; see [`Analyzer::with_periodic_checks`]).
    pub periodic: Option<PeriodicChecks>,
    /// How the consumer runs.
    pub service: ServiceSettings,
    /// The topic names it reads and writes.
    pub topics: TopicNames,
    /// Each metric's window and the per-metric state blobs.
    pub windows: Arc<Windows>,
    /// Where anomalies, checks and alerts are produced.
    pub producer: Producer,
    /// What the restore phase did.
    restored: Mutex<Restored>,
    /// With windows in memory: per partition of the datapoints topic, the
    /// next offset whose point the windows hold. A batch that starts past
    /// it (a partition newly assigned after a rebalance, or given back after
    /// another instance handled it for a while) first restores the gap.
    folded_to: Mutex<BTreeMap<i32, i64>>,
    /// Which process of the Analyzer this is (the [`SystemEvent`]s'
    /// `instance`).
    instance: String,
    /// Where the metrics sweep's clock stands.
    sweep: Mutex<SweepClockState>,
}

/// Where the metrics sweep's clock stands (batches and ticks run one at a
/// time, so this is only ever read and written between awaits).
#[derive(Debug, Default)]
struct SweepClockState {
    /// The data clock, a fold of the partitions consumed in this process
    /// (the restore phase's included): a restart with windows in Redis
    /// starts it again at the first points it reads, sweeping from the
    /// next instant on.
    data: DataClock,
    /// Each metric's partition of the datapoints topic, as consumed (the
    /// data clock sweeps a partition's metrics).
    partitions: std::collections::HashMap<String, i32>,
    /// Each metric's stale verdict at its last sweep (for the gauge).
    stale: std::collections::BTreeSet<String>,
    /// Each checked metric's sparsity at its last sweep and at the one
    /// before (for the summary over every metric: with the data clock a
    /// sweep covers one partition's).
    trends: std::collections::HashMap<String, (Option<f64>, f64)>,
    /// The wall clock's last sweep instant (at first, one interval after
    /// the start less a second: see the `tick` of `impl Service for Analyzer`).
    wall: Option<i64>,
}

/// One metric's part of a batch: its window before the batch, its new
/// points and its state.
struct MetricWork {
    metric: String,
    window: Vec<(i64, f64)>,
    new: Vec<(i64, f64)>,
    state: MetricState,
    fingerprint_enabled: bool,
}

/// The states a batch leaves, as stored: each metric's [`MetricState`]
/// and Boundary's alerter counters (`None` when there are no Boundary
/// rules, so none are read or written).
struct NewStates {
    metrics: Vec<(String, String)>,
    sends: Option<String>,
}

/// What [`Analyzer::restore`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Restored {
    /// Datapoints folded into the windows.
    pub points: u64,
    /// Of those, the ones judged again to rebuild the metrics' states.
    pub judged: u64,
    /// Metrics seen.
    pub metrics: usize,
    /// Wall-clock time the restore phase took (seconds).
    pub seconds: f64,
}

impl Decisions {
    /// Adds `other`'s events and counts to these.
    fn absorb(&mut self, other: Decisions) {
        self.anomalies.extend(other.anomalies);
        self.checks.extend(other.checks);
        self.alerts.extend(other.alerts);
        self.ended.extend(other.ended);
        for (outcome, n) in other.analyses {
            *self.analyses.entry(outcome).or_default() += n;
        }
    }
}

/// The events decided for a batch.
#[derive(Debug, Default)]
pub struct Decisions {
    /// The anomalies found, for `skyline.anomalies`.
    pub anomalies: Vec<AnomalyEvent>,
    /// The fingerprint checks of the anomalies, for `skyline.checks`.
    pub checks: Vec<CheckRequest>,
    /// The alerts to send now, for `skyline.alerts`.
    pub alerts: Vec<AlertEvent>,
    /// The anomalies over, for `skyline.anomaly_ends`.
    pub ended: Vec<AnomalyEnded>,
    /// Analyses by outcome ([`crate::analysis::Outcome::label`]): every
    /// point judged counted, as the reference logs its exceptions per run.
    pub analyses: BTreeMap<&'static str, u64>,
}

/// Turns one metric's judgements into events.
///
/// Every anomaly whose metric matches an alert rule and is not seasonal gets
/// a [`CheckTarget::Fingerprint`] check carrying the judged series: with the
/// alerts to send unless deflected when the metric is ionosphere-enabled
/// (`Route::Fingerprint`), or as a *training* check with no alerts when it
/// is not (`Route::Alert`: the analyzer alerts itself). The training check is
/// what makes a first profile possible: it is the check an operator labels
/// (`skyline label CHECK_ID`), as the reference's training data is.
///
/// One anomaly per event (PANORAMA_EXPIRY_TIME, [`crate::anomaly_end`]): a
/// point that *opens* an anomaly is published as above; a point that
/// *extends* the open one re-publishes that anomaly under its own id with
/// the new count, last timestamp and largest deviation, and gets no check
/// (fingerprint, seasonal or training): the open anomaly's check stands
/// for the event. A repeat routed to alerting still alerts when a rule's
/// expiry allows ([`repeat_alert_id`], about the open anomaly). Within a
/// batch only the newest version of an anomaly is published. Anomalies
/// whose end became final are published as [`AnomalyEnded`].
pub fn decisions_for(
    metric: &str,
    window: &[(i64, f64)],
    judgements: &[Judgement],
    settings: &Settings,
    out: &mut Decisions,
) {
    let algorithms_run: Vec<String> = settings
        .algorithms
        .iter()
        .map(|a| a.name().to_owned())
        .collect();
    for j in judgements {
        let decided_at_ms = now_ms();
        ended_events(metric, SourceApp::Analyzer, &j.ended, decided_at_ms, out);
        let Some((step, open)) = &j.anomaly else {
            continue;
        };
        let (timestamp, value) = j.analysis.last.unwrap_or((j.timestamp, j.value));
        let judged = &window[j.window.0..=j.window.1];
        let id = open.id;
        let anomaly = anomaly_event(
            metric,
            SourceApp::Analyzer,
            open,
            &algorithms_run,
            decided_at_ms,
        );
        // The alert of `rule` (with id `alert`) on this point of the anomaly.
        let alert = |alert: uuid::Uuid, rule: &AlertRule, triggered: Vec<String>| AlertEvent {
            id: alert,
            anomaly_id: id,
            metric: metric.to_owned(),
            timestamp,
            value,
            source: SourceApp::Analyzer,
            alerter: rule.alerter.clone(),
            rule: rule.pattern.as_str().to_owned(),
            triggered_algorithms: triggered,
            decided_at_ms,
            series: Some(SeriesPoint::from_pairs(judged)),
            full_duration: Some(settings.full_duration),
            expiration_time: Some(rule.expiration_time),
            boundary: None,
            fingerprinted: false,
            test: false,
        };
        if *step == Step::Extended {
            upsert_anomaly(out, anomaly);
            for rule in &j.alerts {
                let first = alert_id(id, &rule.alerter);
                out.alerts.push(alert(
                    repeat_alert_id(first, timestamp),
                    rule,
                    triggered_at(j),
                ));
            }
            continue;
        }
        let triggered = open.triggered.clone();
        // A metric that alerts but is not (yet) ionosphere-enabled still
        // gets a fingerprint check: a *training* check, the reference's
        // training data, which is what an operator labels to make the
        // metric's first profile. It carries no alerts (they are sent here,
        // below), so the fingerprint service — which has no profile for the
        // metric — records an unmatched verdict and alerts nothing twice.
        let check = j.route.check_target().map(|target| CheckRequest {
            id: check_id(id, target),
            anomaly_id: id,
            target,
            metric: metric.to_owned(),
            timestamp,
            value,
            triggered_algorithms: triggered.clone(),
            second_order_resolution_hours: match j.route {
                Route::Seasonal { hours } => Some(hours),
                _ => None,
            },
            series: SeriesPoint::from_pairs(judged),
            decided_at_ms,
            full_duration: Some(settings.full_duration),
            echo_series: None,
            // A fingerprint check carries the alerts to send unless it is
            // deflected, a seasonal one those to send unless it is cleared;
            // the service judging it sends them. A training check
            // (`Route::Alert`) carries none: they are sent now.
            alerts: match j.route {
                Route::Fingerprint | Route::Seasonal { .. } => {
                    j.alerts.iter().map(AlertRule::route).collect()
                }
                _ => Vec::new(),
            },
            periodic: false,
            derivative: j.derivative,
        });
        out.anomalies.push(anomaly);
        out.checks.extend(check);
        let alerts_now = if matches!(j.route, Route::Fingerprint | Route::Seasonal { .. }) {
            &[][..]
        } else {
            &j.alerts[..]
        };
        for rule in alerts_now {
            out.alerts
                .push(alert(alert_id(id, &rule.alerter), rule, triggered.clone()));
        }
    }
}

/// The algorithms that voted anomalous at judgement `j`.
fn triggered_at(j: &Judgement) -> Vec<String> {
    j.analysis
        .ensemble()
        .map(|e| e.triggered().map(|a| a.name().to_owned()).collect())
        .unwrap_or_default()
}

/// The event of anomaly `open` as it now stands: its first point's
/// timestamp, value, window and check, with its count, last timestamp and
/// largest deviation so far.
fn anomaly_event(
    metric: &str,
    source: SourceApp,
    open: &OpenAnomaly,
    algorithms_run: &[String],
    decided_at_ms: i64,
) -> AnomalyEvent {
    AnomalyEvent {
        id: open.id,
        metric: metric.to_owned(),
        timestamp: open.timestamp,
        value: open.value,
        source,
        algorithms_run: algorithms_run.to_vec(),
        triggered_algorithms: open.triggered.clone(),
        full_duration: open.timestamp.saturating_sub(open.from_timestamp),
        from_timestamp: open.from_timestamp,
        check_id: open.check_id,
        derivative: open.derivative,
        decided_at_ms,
        count: open.count,
        last_timestamp: open.last_timestamp,
        max_deviation: open.max_deviation,
    }
}

/// Adds `anomaly`, replacing an earlier version of it in the same batch
/// (only the newest count need travel).
fn upsert_anomaly(out: &mut Decisions, anomaly: AnomalyEvent) {
    match out.anomalies.iter_mut().find(|a| a.id == anomaly.id) {
        Some(earlier) => *earlier = anomaly,
        None => out.anomalies.push(anomaly),
    }
}

/// The [`AnomalyEnded`] events of `ended`.
fn ended_events(
    metric: &str,
    source: SourceApp,
    ended: &[EndedAnomaly],
    decided_at_ms: i64,
    out: &mut Decisions,
) {
    out.ended.extend(ended.iter().map(|e| AnomalyEnded {
        id: anomaly_ended_id(e.id),
        anomaly_id: e.id,
        metric: metric.to_owned(),
        source,
        timestamp: e.timestamp,
        end_timestamp: e.end_timestamp,
        count: e.count,
        decided_at_ms,
    }));
}

/// The periodic seasonal checks of `metric` among `judged`
/// ([`crate::periodic`]): at each periodic point the Analyzer did not find
/// anomalous (an anomalous one has its own check already), when the
/// metric's first rule is seasonal, a [`CheckTarget::Seasonal`] check
/// marked `periodic`, carrying the judged window and the matching rules'
/// alerts (to send only if the seasonal check finds it anomalous). Its
/// anomaly id is [`periodic_anomaly_id`]: no anomaly row stands behind it.
/// `last_analyzed` is the metric's last judged point before the batch.
#[allow(clippy::too_many_arguments)]
pub fn periodic_decisions_for(
    metric: &str,
    window: &[(i64, f64)],
    judged: &[Judgement],
    last_analyzed: Option<i64>,
    interval: i64,
    rules: &[AlertRule],
    settings: &Settings,
    out: &mut Decisions,
) {
    let Route::Seasonal { hours } = route(rules, metric, false) else {
        tracing::debug!(
            metric,
            "periodic namespace, but its first rule is not seasonal"
        );
        return;
    };
    let mut prev = last_analyzed;
    for j in judged {
        let due = is_periodic_point(metric, interval, prev, j.timestamp);
        prev = Some(j.timestamp);
        if !due || j.analysis.is_anomalous() {
            continue;
        }
        let anomaly = periodic_anomaly_id(metric, j.timestamp);
        let judged_window = &window[j.window.0..=j.window.1];
        out.checks.push(CheckRequest {
            id: check_id(anomaly, CheckTarget::Seasonal),
            anomaly_id: anomaly,
            target: CheckTarget::Seasonal,
            metric: metric.to_owned(),
            timestamp: j.timestamp,
            value: j.value,
            triggered_algorithms: Vec::new(),
            second_order_resolution_hours: Some(hours),
            series: SeriesPoint::from_pairs(judged_window),
            decided_at_ms: now_ms(),
            full_duration: Some(settings.full_duration),
            echo_series: None,
            alerts: matching_rules(rules, metric)
                .into_iter()
                .map(AlertRule::route)
                .collect(),
            periodic: true,
            derivative: j.derivative,
        });
    }
}

/// Turns Boundary's verdict on one point of `metric` into events: when
/// rules fired, one [`SourceApp::Boundary`] anomaly for the point (two
/// rules firing at one point are one anomaly, as the reference's Panorama
/// record of the point is one) and one alert per `(alerter, algorithm)`
/// that alerts, its id [`boundary_alert_id`]. Boundary anomalies get no
/// check: they are hard conditions, never deflected by profiles.
///
/// Boundary is its own source for de-duplication (`anomalies`, the
/// metric's Boundary anomalies): a firing within PANORAMA_EXPIRY_TIME of
/// the open Boundary anomaly extends it (re-published under its id) and its
/// alerts — Boundary's own expiry let them through — are about the open
/// anomaly ([`repeat_alert_id`]). Boundary anomalies get no end: Boundary
/// records a point only when it alerts, so it has no not-anomalous
/// analyses to end them; they are dropped after `full_duration`.
pub fn boundary_decisions_for(
    metric: &str,
    window: &[(i64, f64)],
    verdict: &BoundaryJudgement,
    derivative: bool,
    settings: &Settings,
    anomalies: &mut CurrentAnomalies,
    out: &mut Decisions,
) {
    let BoundaryJudgement {
        timestamp, value, ..
    } = *verdict;
    let expiry = settings.panorama_expiry_time;
    if verdict.firings.is_empty() {
        anomalies.settle(timestamp, expiry, settings.full_duration);
        return;
    }
    let decided_at_ms = now_ms();
    let triggered: Vec<String> = verdict
        .firings
        .iter()
        .map(|f| f.rule.algorithm.name().to_owned())
        .collect();
    let fresh = || OpenAnomaly {
        id: anomaly_id(metric, timestamp, SourceApp::Boundary),
        timestamp,
        value,
        triggered: triggered.clone(),
        from_timestamp: verdict.from_timestamp,
        check_id: None,
        derivative,
        count: 1,
        last_timestamp: timestamp,
        max_deviation: 0.0,
        end: None,
    };
    let (step, open) = anomalies.anomalous(
        timestamp,
        point_deviation(window, value, derivative),
        expiry,
        fresh,
    );
    anomalies.settle(timestamp, expiry, settings.full_duration);
    let id = open.id;
    let algorithms_run: Vec<String> = verdict
        .algorithms_run
        .iter()
        .map(|a| a.name().to_owned())
        .collect();
    upsert_anomaly(
        out,
        anomaly_event(
            metric,
            SourceApp::Boundary,
            &open,
            &algorithms_run,
            decided_at_ms,
        ),
    );
    for firing in &verdict.firings {
        let algorithm = firing.rule.algorithm.name();
        for alerter in &firing.alerters {
            let first = boundary_alert_id(id, alerter, algorithm);
            out.alerts.push(AlertEvent {
                id: match step {
                    Step::Opened => first,
                    Step::Extended => repeat_alert_id(first, timestamp),
                },
                anomaly_id: id,
                metric: metric.to_owned(),
                timestamp,
                value,
                source: SourceApp::Boundary,
                alerter: alerter.clone(),
                rule: firing.rule.pattern.as_str().to_owned(),
                triggered_algorithms: vec![algorithm.to_owned()],
                decided_at_ms,
                series: Some(SeriesPoint::from_pairs(window)),
                full_duration: Some(settings.full_duration),
                expiration_time: Some(firing.rule.expiration_time),
                boundary: Some(BoundaryTrigger {
                    algorithm: algorithm.to_owned(),
                    trigger_value: firing.rule.trigger_value,
                    alert_threshold: i32::try_from(firing.rule.alert_threshold).unwrap_or(i32::MAX),
                }),
                fingerprinted: false,
                test: false,
            });
        }
    }
}

/// What decides a metric's points besides its window and state: the
/// Analyzer's settings and rules. [`Rules::decide_metric`] is the whole
/// decision the consumer makes per metric and batch, so `skyline evaluate`
/// (which replays series in-process) decides exactly as the service does.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The `[analyzer]` settings.
    pub settings: Settings,
    /// The alert rules, in order.
    pub alerts: Vec<AlertRule>,
    /// The Boundary rules, in order.
    pub boundary: Vec<BoundaryRule>,
    /// Each alerter's Boundary rate limit (see [`Analyzer::boundary_limits`]).
    pub boundary_limits: BTreeMap<String, AlerterLimit>,
    /// Analyse a metric at most once per this many seconds (0: every point).
    pub interval: i64,
    /// The periodic seasonal checks, if any.
    pub periodic: Option<PeriodicChecks>,
}

impl Rules {
    /// Judges `new` points of `metric` over `window` (its points before
    /// them; the new ones are merged in) with its `state`, and adds the
    /// decisions to `out`: the ensemble's anomalies, checks, alerts and
    /// ends ([`decisions_for`]), the periodic seasonal checks
    /// ([`periodic_decisions_for`]) and Boundary's ([`boundary_decisions_for`],
    /// spending the shared per-alerter counters `sends`).
    #[allow(clippy::too_many_arguments)]
    pub fn decide_metric(
        &self,
        metric: &str,
        window: &mut Vec<(i64, f64)>,
        new: &[(i64, f64)],
        state: &mut MetricState,
        fingerprint_enabled: bool,
        sends: &mut AlerterSends,
        out: &mut Decisions,
    ) {
        let settings = &self.settings;
        let last_analyzed = state.last_analyzed;
        let judged = judge_batch(
            metric,
            window,
            new,
            state,
            settings,
            &self.alerts,
            self.interval,
            fingerprint_enabled,
        );
        for j in &judged {
            *out.analyses.entry(j.analysis.outcome.label()).or_default() += 1;
        }
        decisions_for(metric, window, &judged, settings, out);
        if let Some(periodic) = self.periodic.as_ref().filter(|p| p.covers(metric)) {
            periodic_decisions_for(
                metric,
                window,
                &judged,
                last_analyzed,
                periodic.interval,
                &self.alerts,
                settings,
                out,
            );
        }
        // Boundary, beside the ensemble and whatever it concluded: the same
        // points, on the same windows.
        let rules = rules_for(&self.boundary, metric);
        if rules.is_empty() {
            return;
        }
        let limit_of = |alerter: &str| {
            self.boundary_limits
                .get(alerter)
                .copied()
                .unwrap_or_else(|| AlerterLimit::reference(alerter))
        };
        let stale_period = settings.stale_period_for(metric);
        for j in &judged {
            let judged_window = &window[j.window.0..=j.window.1];
            let verdict = judge_points(
                judged_window,
                &rules,
                j.derivative,
                stale_period,
                &mut state.boundary,
                sends,
                limit_of,
            );
            if let Some(verdict) = verdict {
                boundary_decisions_for(
                    metric,
                    judged_window,
                    &verdict,
                    j.derivative,
                    settings,
                    &mut state.boundary_anomalies,
                    out,
                );
            }
        }
    }
}

impl Analyzer {
    /// An Analyzer judging into `windows` and publishing with `producer`.
    pub fn new(
        settings: Settings,
        alerts: Vec<AlertRule>,
        boundary: Vec<BoundaryRule>,
        service: ServiceSettings,
        topics: TopicNames,
        windows: Arc<Windows>,
        producer: Producer,
    ) -> Self {
        Analyzer {
            settings,
            alerts,
            boundary,
            boundary_limits: BTreeMap::new(),
            periodic: None,
            service,
            topics,
            windows,
            producer,
            restored: Mutex::default(),
            folded_to: Mutex::default(),
            instance: runtime::telemetry::host_name(),
            sweep: Mutex::default(),
        }
    }

    /// With `instance` naming this process in what it says about itself
    /// (by default the host's name).
    pub fn with_instance(mut self, instance: String) -> Self {
        self.instance = instance;
        self
    }

    /// With the Boundary rate limit of each alerter name: the reference
    /// limits by kind (`smtp` 100 per 60 s, ...), so an alerter named
    /// `ops-mail` of kind `smtp` is limited as SMTP.
    pub fn with_boundary_limits(mut self, limits: BTreeMap<String, AlerterLimit>) -> Self {
        self.boundary_limits = limits;
        self
    }

    /// With periodic seasonal checks of the seasonal metrics `periodic`
    /// covers ([`crate::periodic`]).
    pub fn with_periodic_checks(mut self, periodic: Option<PeriodicChecks>) -> Self {
        if let Some(p) = &periodic {
            tracing::info!(
                interval = p.interval,
                namespaces = p.patterns.len(),
                "periodic seasonal checks"
            );
        }
        self.periodic = periodic;
        self
    }

    /// Judges, publishes and folds one batch of datapoints.
    pub async fn handle(&self, points: Vec<Datapoint>) -> Result<Decisions, ServiceError> {
        let (decisions, new_states) = self.judge(&points).await?;
        self.publish(&decisions).await?;
        self.fold(&points).await?;
        self.save(&new_states).await?;
        Ok(decisions)
    }

    /// Folds `points` into the windows, counted in
    /// `skyline_window_points_folded_total` and
    /// `skyline_window_compactions_total`.
    async fn fold(&self, points: &[Datapoint]) -> Result<(), ServiceError> {
        let stats = self
            .windows
            .fold(points)
            .await
            .map_err(ServiceError::state)?;
        let t = runtime::telemetry();
        for (name, help, n) in [
            (
                "skyline_window_points_folded_total",
                "Datapoints the Analyzer folded into the windows (restores included).",
                stats.points,
            ),
            (
                "skyline_window_compactions_total",
                "Windows compacted (rolled up past their duration) while folding.",
                stats.compactions,
            ),
        ] {
            if n > 0 {
                t.count(name, help, &[], n as u64);
            }
        }
        Ok(())
    }

    /// Saves what [`Analyzer::judge`] returned as the new states.
    async fn save(&self, states: &NewStates) -> Result<(), ServiceError> {
        self.windows
            .save_states(STATE_KIND, &states.metrics)
            .await
            .map_err(ServiceError::state)?;
        let Some(sends) = &states.sends else {
            return Ok(());
        };
        self.windows
            .save_states(SENDS_KIND, &[(SENDS_KEY.to_owned(), sends.clone())])
            .await
            .map_err(ServiceError::state)
    }

    /// Judges `points` against the windows and the metrics' states as they
    /// stand; returns the decisions and the new states (as stored),
    /// changing nothing.
    async fn judge(&self, points: &[Datapoint]) -> Result<(Decisions, NewStates), ServiceError> {
        let groups = by_metric(points);
        let metrics: Vec<&str> = groups.keys().copied().collect();
        // Each new point t is judged on (t - full_duration, t]: read from
        // the batch's oldest point of the metric back that far.
        let fd = self.settings.full_duration;
        let since: Vec<(&str, i64)> = groups
            .iter()
            .map(|(m, pts)| {
                (
                    *m,
                    pts.iter()
                        .map(|p| p.0)
                        .min()
                        .unwrap_or(i64::MAX)
                        .saturating_sub(fd),
                )
            })
            .collect();
        let windows = self
            .windows
            .windows_after(&since)
            .await
            .map_err(ServiceError::state)?;
        let states = self
            .windows
            .load_states(STATE_KIND, &metrics)
            .await
            .map_err(ServiceError::state)?;
        let enabled = self
            .windows
            .fingerprint_enabled(&metrics)
            .await
            .map_err(ServiceError::state)?;
        // Boundary's per-alerter counters are shared by every metric: the
        // batch's metrics spend them in name order, each metric's points in
        // time order (a replay of the same batches decides the same way).
        let boundary_rules = !self.boundary.is_empty();
        let stored_sends = if boundary_rules {
            self.windows
                .load_states(SENDS_KIND, &[SENDS_KEY])
                .await
                .map_err(ServiceError::state)?
        } else {
            Vec::new()
        };
        let mut sends: AlerterSends = stored_sends
            .into_iter()
            .flatten()
            .next()
            .and_then(|s| {
                serde_json::from_str(&s)
                    .map_err(|e| tracing::warn!(error = %e, "unreadable Boundary alerter counters; starting afresh"))
                    .ok()
            })
            .unwrap_or_default();
        let work: Vec<MetricWork> = groups
            .iter()
            .zip(windows)
            .zip(states)
            .zip(enabled)
            .map(|((((metric, new), window), state), fingerprint_enabled)| {
                let state = state
                    .and_then(|s| {
                        serde_json::from_str(&s)
                            .map_err(|e| tracing::warn!(metric, error = %e, "unreadable analyzer state; starting afresh"))
                            .ok()
                    })
                    .unwrap_or_default();
                MetricWork {
                    metric: (*metric).to_owned(),
                    window,
                    new: new.clone(),
                    state,
                    fingerprint_enabled,
                }
            })
            .collect();
        let rules = Rules {
            settings: self.settings.clone(),
            alerts: self.alerts.clone(),
            boundary: self.boundary.clone(),
            boundary_limits: self.boundary_limits.clone(),
            interval: self.service.interval,
            periodic: self.periodic.clone(),
        };
        // CPU-bound: off the async executor.
        tokio::task::spawn_blocking(move || {
            let mut decisions = Decisions::default();
            let mut new_states = Vec::with_capacity(work.len());
            for MetricWork {
                metric,
                mut window,
                new,
                mut state,
                fingerprint_enabled,
            } in work
            {
                rules.decide_metric(
                    &metric,
                    &mut window,
                    &new,
                    &mut state,
                    fingerprint_enabled,
                    &mut sends,
                    &mut decisions,
                );
                let state_json = serde_json::to_string(&state).unwrap_or_default();
                new_states.push((metric, state_json));
            }
            let sends = boundary_rules.then(|| serde_json::to_string(&sends).unwrap_or_default());
            (
                decisions,
                NewStates {
                    metrics: new_states,
                    sends,
                },
            )
        })
        .await
        .map_err(ServiceError::task)
    }

    async fn publish(&self, d: &Decisions) -> Result<(), ServiceError> {
        fn records<E: topics::codec::Event>(
            events: &[E],
            key: impl Fn(&E) -> &str,
        ) -> Result<Vec<KeyedMessage>, ServiceError> {
            Ok(keyed_messages(events, key)?)
        }
        // Checks and alerts first: an anomaly event seen downstream then
        // always has its check and alerts already on the log.
        let checks = records(&d.checks, |c| &c.metric)?;
        self.producer
            .send_batch(&self.topics.checks, checks)
            .await?;
        let alerts = records(&d.alerts, |a| &a.metric)?;
        self.producer
            .send_batch(&self.topics.alerts, alerts)
            .await?;
        let anomalies = records(&d.anomalies, |a| &a.metric)?;
        self.producer
            .send_batch(&self.topics.anomalies, anomalies)
            .await?;
        // Ends last: an end seen downstream has its anomaly on the log.
        let ended = records(&d.ended, |e| &e.metric)?;
        self.producer
            .send_batch(&self.topics.anomaly_ends, ended)
            .await?;
        Ok(())
    }

    /// Restores what the windows and the metrics' states held when this
    /// service's consumer group last committed: the datapoints topic up to
    /// the group's committed offsets is folded into the windows, and each
    /// metric's points within [`ServiceSettings::restore_horizon`] of its
    /// newest are judged again to rebuild its state, with every decision
    /// discarded (they are on the log already). [`Analyzer::run`] then
    /// resumes at the committed offsets, so a restart neither re-decides
    /// nor forgets. Needed when the windows are in memory; a group that
    /// never committed has nothing to restore.
    ///
    /// Two reads of the same range: the first finds each metric's newest
    /// point (so the horizon is known before judging), the second folds
    /// and judges.
    pub async fn restore(&self, kafka: &KafkaConfig) -> Result<Restored, ServiceError> {
        let topic = self.topics.datapoints.as_str();
        let group = kafka.group_id(&self.service.consumer);
        let ranges: Vec<PartitionRange> = committed_offsets(kafka, &group, topic)
            .await?
            .into_iter()
            .map(|(partition, to)| PartitionRange {
                partition,
                from: 0,
                to,
            })
            .collect();
        self.restore_ranges(kafka, &ranges).await
    }

    /// The ranges of the datapoints topic a batch needs folded (and the
    /// recent points re-judged) before it is judged: for each partition of
    /// the batch, from where the windows stand to the batch's first offset.
    /// Empty when the windows are in Redis (shared by every instance) or
    /// already hold everything before the batch.
    ///
    /// This is how scale-out keeps in-memory windows whole: when another
    /// instance dies, its partitions come here at its last commit, and the
    /// windows of their metrics are rebuilt from the log first, as Kafka
    /// Streams restores a state store from its changelog.
    fn gaps(&self, batch: &Batch) -> Vec<PartitionRange> {
        if !matches!(*self.windows, Windows::Memory(_)) {
            return Vec::new();
        }
        let mut first: BTreeMap<i32, i64> = BTreeMap::new();
        for r in batch.iter().filter(|r| r.topic == self.topics.datapoints) {
            let slot = first.entry(r.partition).or_insert(r.offset);
            *slot = (*slot).min(r.offset);
        }
        let folded = self.folded_to.lock().unwrap_or_else(|p| p.into_inner());
        first
            .into_iter()
            .filter_map(|(partition, to)| {
                let from = folded.get(&partition).copied().unwrap_or(0);
                (from < to).then_some(PartitionRange {
                    partition,
                    from,
                    to,
                })
            })
            .collect()
    }

    /// Records that the windows hold everything before `next` on each
    /// partition (positions only move forward).
    fn folded(&self, next: impl IntoIterator<Item = (i32, i64)>) {
        let mut folded = self.folded_to.lock().unwrap_or_else(|p| p.into_inner());
        for (partition, offset) in next {
            let slot = folded.entry(partition).or_insert(offset);
            *slot = (*slot).max(offset);
        }
    }

    /// Folds the datapoints in `ranges` into the windows and re-judges each
    /// metric's points within [`ServiceSettings::restore_horizon`] of its
    /// newest to rebuild its state, publishing nothing (see
    /// [`Analyzer::restore`]). Adds to [`Analyzer::restored`].
    pub async fn restore_ranges(
        &self,
        kafka: &KafkaConfig,
        ranges: &[PartitionRange],
    ) -> Result<Restored, ServiceError> {
        let started = std::time::Instant::now();
        let topic = self.topics.datapoints.as_str();
        let mut restored = Restored::default();
        if ranges.is_empty() {
            return Ok(restored);
        }
        let idle = std::time::Duration::from_secs(10);
        let decoded = |records: &[topics::kafka::Record]| -> Vec<Datapoint> {
            // The live consumer dead-lettered what does not decode.
            records
                .iter()
                .filter_map(|r| decode::<Datapoint>(r.payload()).ok())
                .filter(|d| d.value.is_finite())
                .collect()
        };
        let mut newest: std::collections::HashMap<String, i64> = Default::default();
        let mut clock = std::mem::take(&mut self.sweep_state().data);
        let mut partitions = std::collections::HashMap::new();
        read_range(kafka, "analyze-restore", topic, ranges, idle, |records| {
            for r in &records {
                // As the live consumer: what does not decode or is not
                // finite was dead-lettered, never folded nor swept.
                let Some(d) = decode::<Datapoint>(r.payload())
                    .ok()
                    .filter(|d| d.value.is_finite())
                else {
                    continue;
                };
                // The data clock is a fold of the datapoints like the
                // windows: what is restored moves it, sweeping nothing
                // (those sweeps happened before).
                clock.advance(r.partition, d.timestamp, 0);
                let slot = newest.entry(d.metric.clone()).or_insert(d.timestamp);
                *slot = (*slot).max(d.timestamp);
                partitions.insert(d.metric, r.partition);
            }
            async { Ok::<(), ServiceError>(()) }
        })
        .await?;
        {
            let mut state = self.sweep_state();
            state.data = clock;
            state.partitions.extend(partitions);
        }
        let horizon = self.service.restore_horizon.max(0);
        let mut points = 0u64;
        let mut judged = 0u64;
        read_range(kafka, "analyze-restore", topic, ranges, idle, |records| {
            let (recent, old): (Vec<Datapoint>, Vec<Datapoint>) =
                decoded(&records).into_iter().partition(|d| {
                    let newest = newest.get(&d.metric).copied().unwrap_or(i64::MIN);
                    d.timestamp >= newest.saturating_sub(horizon)
                });
            points += (recent.len() + old.len()) as u64;
            judged += recent.len() as u64;
            async move {
                self.fold(&old).await?;
                let (_, states) = self.judge(&recent).await?;
                self.fold(&recent).await?;
                self.save(&states).await?;
                Ok::<(), ServiceError>(())
            }
        })
        .await?;
        restored.points = points;
        restored.judged = judged;
        restored.metrics = newest.len();
        restored.seconds = started.elapsed().as_secs_f64();
        self.folded(ranges.iter().map(|r| (r.partition, r.to)));
        {
            let mut total = self.restored.lock().unwrap_or_else(|p| p.into_inner());
            total.points += restored.points;
            total.judged += restored.judged;
            total.metrics += restored.metrics;
            total.seconds += restored.seconds;
        }
        tracing::info!(
            partitions = ?ranges.iter().map(|r| (r.partition, r.from, r.to)).collect::<Vec<_>>(),
            points = restored.points,
            judged = restored.judged,
            metrics = restored.metrics,
            seconds = restored.seconds,
            "windows and states restored from the datapoints topic"
        );
        Ok(restored)
    }

    /// What the restores did, added up: the restore phase's and every
    /// gap's since (all zero before the first, and when the windows are
    /// kept in Redis).
    pub fn restored(&self) -> Restored {
        *self.restored.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sweep clock's state.
    fn sweep_state(&self) -> std::sync::MutexGuard<'_, SweepClockState> {
        self.sweep.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handles `points` (in log order) as [`Analyzer::handle`] does and,
    /// with the sweep on the data clock, sweeps at each instant the points
    /// reach ([`data_sweeps`]): the points before the one that reaches it
    /// are handled (judged, published, folded) first, then the sweep, then
    /// the rest. A sweep thus sees exactly what was consumed before the
    /// clock reached its instant, in any batching; judging does not depend
    /// on the batching either, so a replay of the log decides the same.
    async fn handle_sweeping(
        &self,
        points: Vec<(i32, Datapoint)>,
    ) -> Result<Decisions, ServiceError> {
        let sweep = &self.settings.sweep;
        if sweep.interval <= 0 || sweep.clock != SweepClock::Data {
            let points = points.into_iter().map(|(_, d)| d).collect();
            let decisions = Analyzer::handle(self, points).await?;
            count_decisions(&decisions);
            return Ok(decisions);
        }
        // The clock moves only once the batch is done: a batch that fails
        // is handled again from the clock as it stood before it.
        let mut clock = {
            let mut state = self.sweep_state();
            for (partition, d) in &points {
                if state.partitions.get(&d.metric) != Some(partition) {
                    state.partitions.insert(d.metric.clone(), *partition);
                }
            }
            state.data.clone()
        };
        let keys: Vec<(i32, i64)> = points.iter().map(|(p, d)| (*p, d.timestamp)).collect();
        let sweeps = data_sweeps(&mut clock, &keys, sweep.interval);
        let points: Vec<Datapoint> = points.into_iter().map(|(_, d)| d).collect();
        let mut all = Decisions::default();
        let mut start = 0;
        let ends = sweeps
            .iter()
            .map(|&(i, partition, at)| (i, Some((partition, at))))
            .chain(std::iter::once((points.len(), None)));
        for (end, at) in ends {
            if end > start {
                let d = Analyzer::handle(self, points[start..end].to_vec()).await?;
                count_decisions(&d);
                all.absorb(d);
                start = end;
            }
            if let Some((partition, at)) = at {
                self.sweep(at, Some(partition)).await?;
            }
        }
        self.sweep_state().data = clock;
        Ok(all)
    }

    /// One metrics sweep at `at` (the sweep clock's instant): every metric
    /// with a window, its points before `at`, judged by [`plan`]; the
    /// notices published on `skyline.system` as [`SystemEvent`]s, what was
    /// reported stored beside the windows, the figures set.
    ///
    /// Which metrics were reported is kept per metric in the windows'
    /// store, not in the log: it only keeps a sweep from saying the same
    /// thing twice. What is said is a function of the log — a metric is
    /// stale at an instant by its last point before it, and a notice's id
    /// is of its kind, metric and that point — so a store that forgot (a
    /// new deployment, memory windows restarted) says the same notices
    /// again under the same ids, which consumers treat as one.
    ///
    /// With `partition`, only the metrics consumed from that partition of
    /// the datapoints topic (the data clock's sweep of it); else all.
    pub async fn sweep(&self, at: i64, partition: Option<i32>) -> Result<SweepPlan, ServiceError> {
        let mut names = self.windows.metrics().await.map_err(ServiceError::state)?;
        if let Some(p) = partition {
            let state = self.sweep_state();
            names.retain(|m| state.partitions.get(m) == Some(&p));
        }
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let windows = self
            .windows
            .windows(&refs)
            .await
            .map_err(ServiceError::state)?;
        let reported = self
            .windows
            .load_states(SWEEP_KIND, &refs)
            .await
            .map_err(ServiceError::state)?;
        let views: Vec<MetricView> = {
            let state = self.sweep_state();
            names
                .iter()
                .zip(windows)
                .zip(reported)
                .map(|((metric, window), reported)| MetricView {
                    metric: metric.clone(),
                    timestamps: window
                        .iter()
                        .map(|p| p.0)
                        .take_while(|&t| t < at)
                        .collect(),
                    reported: reported
                        .and_then(|s| {
                            serde_json::from_str(&s)
                                .map_err(|e| tracing::warn!(metric, error = %e, "unreadable sweep state; starting afresh"))
                                .ok()
                        })
                        .unwrap_or_default(),
                    previous_sparsity: state.trends.get(metric).map(|t| t.1),
                })
                .collect()
        };
        let settings = self.settings.clone();
        let swept = views.len();
        let plan =
            tokio::task::spawn_blocking(move || plan(at, &settings, &settings.sweep, &views))
                .await
                .map_err(ServiceError::task)?;
        let events: Vec<SystemEvent> = plan
            .notices
            .iter()
            .map(|n| self.system_event(n, at))
            .collect();
        let records = keyed_messages(&events, |e| &e.subject)?;
        self.producer
            .send_batch(&self.topics.system, records)
            .await?;
        // Saved after publishing: a crash between says it again, same ids.
        let remembered: Vec<(String, String)> = plan
            .reported
            .iter()
            .map(|(m, r)| (m.clone(), serde_json::to_string(r).unwrap_or_default()))
            .collect();
        self.windows
            .save_states(SWEEP_KIND, &remembered)
            .await
            .map_err(ServiceError::state)?;
        let (summary, stale, checked) = {
            let mut state = self.sweep_state();
            // A swept metric's trend is its new sparsity after the one
            // before; one not checked this time has none.
            let mut before: std::collections::HashMap<String, f64> =
                std::collections::HashMap::new();
            for metric in &names {
                if let Some((_, last)) = state.trends.remove(metric) {
                    before.insert(metric.clone(), last);
                }
                state.stale.remove(metric);
            }
            for (metric, current) in &plan.sparsities {
                let previous = before.get(metric).copied();
                state.trends.insert(metric.clone(), (previous, *current));
            }
            state.stale.extend(plan.stale.iter().cloned());
            let trends: Vec<(Option<f64>, f64)> = state.trends.values().copied().collect();
            (summarise(&trends), state.stale.len(), trends.len())
        };
        self.count_sweep(&plan, &summary, stale, checked);
        tracing::info!(
            at,
            metrics = swept,
            stale = plan.stale.len(),
            notices = plan.notices.len(),
            sparsity_checked = plan.sparsities.len(),
            mean_sparsity = plan.summary.avg_sparsity,
            partition,
            "metrics swept"
        );
        Ok(plan)
    }

    /// The [`SystemEvent`] of a sweep's notice at `at`.
    fn system_event(&self, n: &Notice, at: i64) -> SystemEvent {
        let age = at.saturating_sub(n.since);
        let reason = match n.kind {
            SystemKind::Stale => format!(
                "no datapoint for {age} s, more than its stale period of {} s",
                n.stale_period
            ),
            SystemKind::AboutToGoStale => format!(
                "no datapoint for {age} s, about to go stale (stale period {} s)",
                n.stale_period
            ),
            _ => format!("sending again after its datapoint at {}", n.since),
        };
        SystemEvent {
            id: system_event_id(n.kind, &n.metric, n.since),
            kind: n.kind,
            subject: n.metric.clone(),
            service: self.service.consumer.clone(),
            instance: self.instance.clone(),
            at,
            since: Some(n.since),
            ready: None,
            alert: n.alert,
            reason,
            figures: vec![
                SystemFigure {
                    name: "stale_period".to_owned(),
                    value: n.stale_period as f64,
                },
                SystemFigure {
                    name: "age_seconds".to_owned(),
                    value: age as f64,
                },
            ],
            decided_at_ms: now_ms(),
        }
    }

    /// A sweep's figures in the process's registry (label `service`, so
    /// the self-metrics name them `skyline.<service>.<instance>.…`):
    /// `skyline_metrics_sweeps_total`, `skyline_metrics_sweep_notices_total{kind}`,
    /// the gauges `skyline_metrics_stale`, `skyline_metrics_sparsity_checked`
    /// and the reference's four (`metrics_sparsity.*`):
    /// `skyline_metrics_sparsity_fully_populated`,
    /// `skyline_metrics_sparsity_decreasing` (getting denser),
    /// `skyline_metrics_sparsity_increasing` (getting sparser) and
    /// `skyline_metrics_sparsity_mean_percent` (left as it was when no
    /// metric was checked).
    /// `summary`, `stale` and `checked` are over every metric at its last
    /// sweep (with the data clock a sweep covers one partition).
    fn count_sweep(
        &self,
        plan: &SweepPlan,
        summary: &SparsitySummary,
        stale: usize,
        checked: usize,
    ) {
        let t = runtime::telemetry();
        let service = [("service", self.service.consumer.as_str())];
        t.count(
            "skyline_metrics_sweeps_total",
            "Metrics sweeps (stale metrics and data sparsity) the Analyzer ran.",
            &service,
            1,
        );
        for n in &plan.notices {
            t.count(
                "skyline_metrics_sweep_notices_total",
                "What metrics sweeps said, by kind (stale, about_to_go_stale, fresh).",
                &[
                    ("service", &self.service.consumer),
                    ("kind", n.kind.as_str()),
                ],
                1,
            );
        }
        let s = summary;
        for (name, help, value) in [
            (
                "skyline_metrics_stale",
                "Metrics stale at their last sweep (no datapoint for their stale period).",
                stale as f64,
            ),
            (
                "skyline_metrics_sparsity_checked",
                "Metrics whose data sparsity their last sweep checked.",
                checked as f64,
            ),
            (
                "skyline_metrics_sparsity_fully_populated",
                "Metrics at least 94 % populated over FULL_DURATION at the last sweep.",
                s.fully_populated as f64,
            ),
            (
                "skyline_metrics_sparsity_decreasing",
                "Metrics getting denser (sparsity up since the sweep before) at the last sweep.",
                s.decreasing as f64,
            ),
            (
                "skyline_metrics_sparsity_increasing",
                "Metrics getting sparser (sparsity down since the sweep before) at the last sweep.",
                s.increasing as f64,
            ),
        ] {
            t.gauge(name, help, &service, value);
        }
        if let Some(mean) = s.avg_sparsity {
            t.gauge(
                "skyline_metrics_sparsity_mean_percent",
                "Mean data sparsity (percent of the points expected over FULL_DURATION) of the metrics the last sweep checked.",
                &service,
                mean,
            );
        }
    }

    /// The Analyzer on the service runtime, dead-lettering what does not
    /// decode.
    pub fn runtime(self: Arc<Self>, kafka: &KafkaConfig) -> Runtime<Analyzer> {
        let (producer, topic) = (self.producer.clone(), self.topics.deadletter.clone());
        Runtime::dead_lettering(self, kafka, producer, topic)
    }
}

/// The Analyzer's figures in the process's registry, counted once per batch:
/// `skyline_analyses_total{outcome}` (every point judged, by outcome) and
/// `skyline_analyzer_events_total{kind}` (events published). Public for the
/// telemetry overhead benchmark, which times it.
pub fn count_decisions(d: &Decisions) {
    let t = runtime::telemetry();
    for (outcome, n) in &d.analyses {
        t.count(
            "skyline_analyses_total",
            "Points judged by the Analyzer, by outcome (anomalous, not_anomalous, each exception).",
            &[("outcome", outcome)],
            *n,
        );
    }
    for (kind, n) in [
        ("anomalies", d.anomalies.len()),
        ("checks", d.checks.len()),
        ("alerts", d.alerts.len()),
        ("anomaly_ends", d.ended.len()),
    ] {
        if n > 0 {
            t.count(
                "skyline_analyzer_events_total",
                "Events the Analyzer published, by kind (anomalies, checks, alerts, anomaly_ends).",
                &[("kind", kind)],
                n as u64,
            );
        }
    }
}

impl Service for Analyzer {
    fn name(&self) -> &str {
        &self.service.consumer
    }

    fn topics(&self) -> Vec<String> {
        vec![self.topics.datapoints.clone()]
    }

    /// With the sweep on the wall clock, a tick every interval, at most
    /// every 10 s (the sweep runs at the first tick past each instant).
    fn settings(&self) -> RunSettings {
        let sweep = &self.settings.sweep;
        let wall = sweep.interval > 0 && sweep.clock == SweepClock::Wall;
        RunSettings {
            max_batch: self.service.max_batch,
            tick: wall.then(|| {
                std::time::Duration::from_secs(sweep.interval.clamp(1, 10).unsigned_abs())
            }),
            ..RunSettings::default()
        }
    }

    /// The wall clock's sweep, when it has reached the next instant.
    async fn tick(&self, _cx: &Context) -> Result<Commit, ServiceError> {
        let sweep = &self.settings.sweep;
        if sweep.interval <= 0 || sweep.clock != SweepClock::Wall {
            return Ok(Commit::Nothing);
        }
        let now = now_ms().div_euclid(1000);
        // The first sweep at the first instant at least one interval after
        // the start: the sources and the windows have had that long to
        // catch up after a stop, which would otherwise make every metric
        // look stale at once.
        let before = *self
            .sweep_state()
            .wall
            .get_or_insert(now.saturating_add(sweep.interval - 1));
        if let Some(at) = crossed(before, now, sweep.interval) {
            self.sweep(at, None).await?;
            self.sweep_state().wall = Some(at);
        }
        Ok(Commit::Nothing)
    }

    /// Ready when the windows' store answers.
    async fn ready(&self) -> Result<(), String> {
        self.windows.ping().await
    }

    /// In-memory windows start empty: fold (and re-judge, deciding nothing)
    /// the datapoints up to the group's commit. Redis keeps them.
    async fn restore(&self, cx: &Context) -> Result<(), ServiceError> {
        if matches!(*self.windows, Windows::Memory(_)) {
            Analyzer::restore(self, cx.kafka()).await?;
        }
        Ok(())
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        let gaps = self.gaps(batch);
        if !gaps.is_empty() {
            self.restore_ranges(cx.kafka(), &gaps).await?;
        }
        let (points, not_finite): (Vec<_>, Vec<_>) = cx
            .decode::<Datapoint>(batch)
            .await?
            .into_iter()
            .partition(|(_, d)| d.value.is_finite());
        // Ingest refuses NaN and infinities, but anyone can produce to the
        // datapoints topic: such a value would poison the window's sums and
        // every event made from it (MySQL's DOUBLE cannot even store it), so
        // it is dead-lettered here and never folded.
        if !not_finite.is_empty() {
            let refused: Vec<_> = not_finite
                .iter()
                .map(|(r, d)| {
                    let error = format!("{}: value {} is not finite", d.metric, d.value);
                    (*r, RefusalReason::Value, error)
                })
                .collect();
            match cx.dead_letters() {
                Some(dead) => dead.send_all(&refused).await?,
                None => tracing::warn!(
                    count = refused.len(),
                    first = %refused[0].2,
                    "non-finite datapoints skipped"
                ),
            }
        }
        let points: Vec<(i32, Datapoint)> =
            points.into_iter().map(|(r, d)| (r.partition, d)).collect();
        let decisions = self.handle_sweeping(points).await?;
        self.folded(
            batch
                .iter()
                .filter(|r| r.topic == self.topics.datapoints)
                .map(|r| (r.partition, r.offset + 1)),
        );
        if !decisions.anomalies.is_empty()
            || !decisions.checks.is_empty()
            || !decisions.ended.is_empty()
        {
            tracing::info!(
                anomalies = decisions.anomalies.len(),
                checks = decisions.checks.len(),
                alerts = decisions.alerts.len(),
                ended = decisions.ended.len(),
                "published"
            );
        }
        Ok(Commit::Batch)
    }
}
