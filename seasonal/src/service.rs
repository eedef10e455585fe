//! The seasonal service: the consumer of `skyline.checks` that judges the
//! checks aimed at it ([`CheckTarget::Seasonal`]) over days.
//!
//! Per check (`seasonal.md` §5, §9): read the metric's long window (the
//! roll-up) from the windows, judge ([`judge_check`]) and publish:
//!
//! * still anomalous: a [`SourceApp::Seasonal`] anomaly and a fingerprint
//!   check carrying the long series and the 24-hour echo series; when the
//!   metric is fingerprint-enabled the check carries the alerts (sent by
//!   fingerprint unless a profile deflects it), otherwise the alerts are
//!   sent here and the check is a *training* check an operator can label;
//! * cleared or skipped: nothing but the verdict;
//!
//! and always one [`SeasonalResult`] (`skyline.seasonal`).
//!
//! Alerts fire at most once per rule's expiration time per metric and
//! alerter (by data time), the expiry kept beside the windows
//! ([`THROTTLE_KIND`]) and stored after the decisions are published.
//!
//! Pacing: at most `checks_per_minute` checks are judged per minute (the
//! reference judges 30 per run), real checks before periodic ones; a check
//! that waited longer than `stale_seconds` since it was requested is
//! recorded `skipped: stale` when its turn comes, never dropped silently.
//! Checks waiting hold their partition's commit back ([`Inflight`]), so a
//! crash hands them over again; every id is derived from the check, so a
//! re-judgement folds onto the same events.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use analyze::alert_rules::{AlertThrottle, DEFAULT_EXPIRATION_TIME};
use runtime::{Commit, Context, Inflight, RunSettings, Runtime, Service, ServiceError};
use topics::clock::now_ms;
use topics::ids::{alert_id, anomaly_id, check_id, seasonal_result_id};
use topics::kafka::{keyed_messages, Batch, KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::{
    AlertEvent, AnomalyEvent, CheckRequest, CheckTarget, SeasonalOutcome, SeasonalResult,
    SeriesPoint, SourceApp,
};
use windows::Windows;

use crate::check::reason;
use crate::{judge_check, CheckInput, Point, SeasonalJudgement, SeasonalSettings};

/// A seasonal check waiting for its turn, and the record it came from.
#[derive(Debug, Clone)]
struct Waiting {
    check: CheckRequest,
    topic: String,
    partition: i32,
    offset: i64,
}

/// The checks waiting: real ones first, then periodic, each in arrival
/// order.
#[derive(Debug, Default)]
struct Queue {
    real: VecDeque<Waiting>,
    periodic: VecDeque<Waiting>,
}

impl Queue {
    fn push(&mut self, w: Waiting) {
        if w.check.periodic {
            self.periodic.push_back(w);
        } else {
            self.real.push_back(w);
        }
    }

    /// Puts `w` back at the front of its line.
    fn push_front(&mut self, w: Waiting) {
        if w.check.periodic {
            self.periodic.push_front(w);
        } else {
            self.real.push_front(w);
        }
    }

    fn pop(&mut self) -> Option<Waiting> {
        self.real.pop_front().or_else(|| self.periodic.pop_front())
    }
}

/// The checks judged in the last minute: how many more may be judged now.
#[derive(Debug, Default)]
struct Pace {
    judged: VecDeque<Instant>,
}

impl Pace {
    fn budget(&mut self, per_minute: u32, now: Instant) -> usize {
        while self
            .judged
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            self.judged.pop_front();
        }
        (per_minute as usize).saturating_sub(self.judged.len())
    }

    fn record(&mut self, n: usize, now: Instant) {
        self.judged.extend(std::iter::repeat_n(now, n));
    }

    /// Gives back `n` turns taken but not used.
    fn refund(&mut self, n: usize) {
        for _ in 0..n {
            self.judged.pop_back();
        }
    }
}

/// Checks whose history is folded, those still waiting for it, and the
/// roll-ups read.
type Folded = (
    Vec<Waiting>,
    Vec<Waiting>,
    BTreeMap<String, Arc<Vec<Point>>>,
);

/// What the seasonal service decided about one check.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalDecision {
    /// The verdict, for `skyline.seasonal`.
    pub result: SeasonalResult,
    /// When anomalous: the seasonal anomaly.
    pub anomaly: Option<AnomalyEvent>,
    /// When anomalous: the fingerprint check.
    pub check: Option<CheckRequest>,
    /// When anomalous and not fingerprint-enabled: the alerts sent now.
    pub alerts: Vec<AlertEvent>,
}

/// The verdict on `check` before anything is judged: skipped for
/// `reason`, no votes, no series.
fn skipped(check: &CheckRequest, reason: &str, decided_at_ms: i64) -> SeasonalResult {
    SeasonalResult {
        id: seasonal_result_id(check.id),
        check_id: check.id,
        anomaly_id: check.anomaly_id,
        metric: check.metric.clone(),
        timestamp: check.timestamp,
        value: check.value,
        hours: check.second_order_resolution_hours.unwrap_or(0),
        periodic: check.periodic,
        outcome: SeasonalOutcome::Skipped,
        reason: reason.to_owned(),
        algorithms_run: Vec::new(),
        triggered_algorithms: Vec::new(),
        resolution: 0,
        full_duration: 0,
        series: Vec::new(),
        seasonal_anomaly_id: None,
        fingerprint_check_id: None,
        decided_at_ms,
    }
}

/// The verdict on `check` that was not judged because it waited too long.
pub fn stale_decision(check: &CheckRequest, decided_at_ms: i64) -> SeasonalDecision {
    SeasonalDecision {
        result: skipped(check, reason::STALE, decided_at_ms),
        anomaly: None,
        check: None,
        alerts: Vec::new(),
    }
}

/// Judges `check` over `rollup` (the metric's long window) and turns the
/// judgement into events. `fingerprint_enabled`: the metric has active
/// profiles, so its alerts wait for fingerprint.
pub fn decide(
    check: &CheckRequest,
    rollup: &[Point],
    fingerprint_enabled: bool,
    settings: &SeasonalSettings,
    decided_at_ms: i64,
) -> SeasonalDecision {
    let full = SeriesPoint::pairs(&check.series);
    let hours = check.second_order_resolution_hours.unwrap_or(168);
    let input = CheckInput {
        metric: &check.metric,
        timestamp: check.timestamp,
        hours,
        full: &full,
        full_duration: check.full_duration(),
        derivative: check.derivative,
    };
    let judgement = judge_check(&input, rollup, settings);
    events_of(check, hours, &judgement, fingerprint_enabled, decided_at_ms)
}

fn events_of(
    check: &CheckRequest,
    hours: u32,
    j: &SeasonalJudgement,
    fingerprint_enabled: bool,
    decided_at_ms: i64,
) -> SeasonalDecision {
    let algorithms_run: Vec<String> = j
        .verdict
        .votes
        .iter()
        .map(|(a, _)| a.name().to_owned())
        .collect();
    let triggered: Vec<String> = j
        .verdict
        .triggered
        .iter()
        .map(|a| a.name().to_owned())
        .collect();
    let series = SeriesPoint::from_pairs(&j.series);
    let mut decision = SeasonalDecision {
        result: SeasonalResult {
            hours,
            outcome: j.outcome,
            algorithms_run: algorithms_run.clone(),
            triggered_algorithms: triggered.clone(),
            resolution: j.resolution,
            full_duration: j.full_duration,
            series: series.clone(),
            ..skipped(check, j.reason, decided_at_ms)
        },
        anomaly: None,
        check: None,
        alerts: Vec::new(),
    };
    if j.outcome != SeasonalOutcome::Anomalous {
        return decision;
    }
    let anomaly = anomaly_id(&check.metric, check.timestamp, SourceApp::Seasonal);
    let fingerprint = check_id(anomaly, CheckTarget::Fingerprint);
    // The reference records the window from its second point.
    let from_timestamp = j
        .series
        .get(1)
        .or(j.series.first())
        .map_or(check.timestamp, |p| p.0);
    decision.result.seasonal_anomaly_id = Some(anomaly);
    decision.result.fingerprint_check_id = Some(fingerprint);
    decision.anomaly = Some(AnomalyEvent {
        id: anomaly,
        metric: check.metric.clone(),
        timestamp: check.timestamp,
        value: check.value,
        source: SourceApp::Seasonal,
        algorithms_run,
        triggered_algorithms: triggered.clone(),
        full_duration: check.timestamp.saturating_sub(from_timestamp),
        from_timestamp,
        check_id: Some(fingerprint),
        derivative: check.derivative,
        decided_at_ms,
        count: 1,
        last_timestamp: check.timestamp,
        max_deviation: 0.0,
    });
    decision.check = Some(CheckRequest {
        id: fingerprint,
        anomaly_id: anomaly,
        target: CheckTarget::Fingerprint,
        metric: check.metric.clone(),
        timestamp: check.timestamp,
        value: check.value,
        triggered_algorithms: triggered.clone(),
        second_order_resolution_hours: Some(hours),
        series: series.clone(),
        decided_at_ms,
        full_duration: Some(j.full_duration),
        echo_series: Some(check.series.clone()),
        alerts: if fingerprint_enabled {
            check.alerts.clone()
        } else {
            Vec::new()
        },
        periodic: check.periodic,
        derivative: check.derivative,
    });
    if !fingerprint_enabled {
        decision.alerts = check
            .alerts
            .iter()
            .map(|route| AlertEvent {
                id: alert_id(anomaly, &route.alerter),
                anomaly_id: anomaly,
                metric: check.metric.clone(),
                timestamp: check.timestamp,
                value: check.value,
                source: SourceApp::Seasonal,
                alerter: route.alerter.clone(),
                rule: route.rule.clone(),
                triggered_algorithms: triggered.clone(),
                decided_at_ms,
                series: Some(series.clone()),
                full_duration: Some(j.full_duration),
                expiration_time: route.expiration_time,
                boundary: None,
                fingerprinted: false,
                test: false,
            })
            .collect();
    }
    decision
}

/// The state kind under which each metric's seasonal alert expiry is kept
/// beside the windows.
pub const THROTTLE_KIND: &str = "seasonal_alerts";

/// Applies each rule's expiration time to the alerts of the anomalous
/// `decisions`, in order: an alert (sent now, or riding on the fingerprint
/// check) is kept only if its alerter has not alerted for the metric within
/// the rule's expiration time before the check's timestamp (data time, so a
/// replay keeps the same ones); the ones kept are recorded in `throttles`.
/// A route without an expiration (an older check) gets the default rule's.
pub fn expire_alerts(
    decisions: &mut [SeasonalDecision],
    throttles: &mut BTreeMap<String, AlertThrottle>,
) {
    for d in decisions.iter_mut().filter(|d| d.anomaly.is_some()) {
        let (metric, now) = (&d.result.metric, d.result.timestamp);
        let throttle = throttles.entry(metric.clone()).or_default();
        let expiry = |e: Option<i64>| e.unwrap_or(DEFAULT_EXPIRATION_TIME);
        d.alerts
            .retain(|a| throttle.fire_alerter(&a.alerter, expiry(a.expiration_time), now));
        if let Some(check) = d.check.as_mut() {
            check
                .alerts
                .retain(|r| throttle.fire_alerter(&r.alerter, expiry(r.expiration_time), now));
        }
    }
}

/// What the service counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeasonalStats {
    /// Checks judged.
    pub judged: u64,
    /// Of those, still anomalous.
    pub anomalous: u64,
    /// Of those, cleared.
    pub cleared: u64,
    /// Checks skipped (stale, or too short a history).
    pub skipped: u64,
}

/// The seasonal service.
pub struct SeasonalService {
    settings: SeasonalSettings,
    topics: TopicNames,
    windows: Arc<Windows>,
    producer: Producer,
    queue: Mutex<Queue>,
    inflight: Mutex<Inflight>,
    pace: Mutex<Pace>,
    stats: Mutex<SeasonalStats>,
    /// One drain at a time (handle and tick may race).
    draining: tokio::sync::Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Each update is one call: a poisoned lock's data is still whole.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SeasonalService {
    /// A service judging with `settings`, reading `windows`, producing
    /// with `producer` to `topics`.
    pub fn new(
        settings: SeasonalSettings,
        topics: TopicNames,
        windows: Arc<Windows>,
        producer: Producer,
    ) -> Self {
        SeasonalService {
            settings,
            topics,
            windows,
            producer,
            queue: Mutex::default(),
            inflight: Mutex::default(),
            pace: Mutex::default(),
            stats: Mutex::default(),
            draining: tokio::sync::Mutex::new(()),
        }
    }

    /// What was counted so far.
    pub fn stats(&self) -> SeasonalStats {
        *lock(&self.stats)
    }

    /// The service on the runtime, dead-lettering what does not decode.
    pub fn runtime(self: Arc<Self>, kafka: &KafkaConfig) -> Runtime<SeasonalService> {
        let (producer, topic) = (self.producer.clone(), self.topics.deadletter.clone());
        Runtime::dead_lettering(self, kafka, producer, topic)
    }

    /// Takes the checks whose turn it is: stale ones (any number: they
    /// cost nothing) and as many others as the pace allows.
    fn take_turns(&self) -> (Vec<Waiting>, Vec<Waiting>) {
        let now = Instant::now();
        let wall_ms = now_ms();
        let stale_ms = self.settings.stale_seconds.saturating_mul(1_000);
        let mut budget = lock(&self.pace).budget(self.settings.checks_per_minute, now);
        let (mut stale, mut due) = (Vec::new(), Vec::new());
        let mut queue = lock(&self.queue);
        while let Some(w) = queue.pop() {
            if wall_ms.saturating_sub(w.check.decided_at_ms) > stale_ms {
                stale.push(w);
            } else if budget > 0 {
                budget -= 1;
                due.push(w);
            } else {
                // Not its turn yet: back to the front of its line.
                queue.push_front(w);
                break;
            }
        }
        lock(&self.pace).record(due.len(), now);
        (stale, due)
    }

    /// Judges and records every check whose turn it is, and says what may
    /// be committed.
    async fn drain(&self) -> Result<Commit, ServiceError> {
        let _one = self.draining.lock().await;
        loop {
            let (stale, due) = self.take_turns();
            if stale.is_empty() && due.is_empty() {
                break;
            }
            let decided_at_ms = now_ms();
            let (due, unfolded, rollups) = self.folded(due).await?;
            if !unfolded.is_empty() {
                // Their history is not in the windows yet: back to the
                // front of their lines, their turns given back.
                lock(&self.pace).refund(unfolded.len());
                let mut queue = lock(&self.queue);
                for w in unfolded.into_iter().rev() {
                    queue.push_front(w);
                }
            }
            if stale.is_empty() && due.is_empty() {
                break;
            }
            let mut decisions: Vec<SeasonalDecision> = stale
                .iter()
                .map(|w| stale_decision(&w.check, decided_at_ms))
                .collect();
            decisions.extend(self.judge(&due, &rollups, decided_at_ms).await?);
            let throttles = self.expire(&mut decisions).await?;
            self.publish(&decisions).await?;
            self.save_throttles(throttles).await?;
            let t = runtime::telemetry();
            let mut stats = lock(&self.stats);
            for d in &decisions {
                t.count(
                    "skyline_seasonal_checks_total",
                    "Seasonal checks answered, by outcome and reason.",
                    &[
                        ("outcome", d.result.outcome.as_str()),
                        ("reason", &d.result.reason),
                    ],
                    1,
                );
                match d.result.outcome {
                    SeasonalOutcome::Anomalous => stats.anomalous += 1,
                    SeasonalOutcome::Cleared => stats.cleared += 1,
                    SeasonalOutcome::Skipped => stats.skipped += 1,
                }
            }
            stats.judged += due.len() as u64;
            drop(stats);
            let mut inflight = lock(&self.inflight);
            for w in stale.iter().chain(&due) {
                inflight.finish(&w.topic, w.partition, w.offset);
            }
        }
        Ok(Commit::UpTo(lock(&self.inflight).commit_target()))
    }

    /// Splits `due` into the checks whose metric's windows have folded the
    /// checked point (the Analyzer publishes a batch's checks before it
    /// folds the batch, and a check judged before that would see no
    /// history) and those to wait for. A check waiting too long becomes
    /// stale like any other. Returns the ready checks, the others, and the
    /// roll-ups read.
    async fn folded(&self, due: Vec<Waiting>) -> Result<Folded, ServiceError> {
        let resolution = self.windows.settings().rollup_resolution;
        let mut rollups: BTreeMap<String, Arc<Vec<Point>>> = BTreeMap::new();
        for w in &due {
            if !rollups.contains_key(&w.check.metric) {
                let rollup = self
                    .windows
                    .rollup(&w.check.metric)
                    .await
                    .map_err(ServiceError::state)?;
                rollups.insert(w.check.metric.clone(), Arc::new(rollup));
            }
        }
        let (ready, waiting) = due.into_iter().partition(|w| {
            rollups
                .get(&w.check.metric)
                .and_then(|r| r.last())
                .is_some_and(|last| {
                    windows::log::bucket_of(w.check.timestamp, resolution) <= last.0
                })
        });
        Ok((ready, waiting, rollups))
    }

    async fn judge(
        &self,
        due: &[Waiting],
        rollups: &BTreeMap<String, Arc<Vec<Point>>>,
        decided_at_ms: i64,
    ) -> Result<Vec<SeasonalDecision>, ServiceError> {
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let metrics: Vec<&str> = due.iter().map(|w| w.check.metric.as_str()).collect();
        let enabled = self
            .windows
            .fingerprint_enabled(&metrics)
            .await
            .map_err(ServiceError::state)?;
        let work: Vec<(CheckRequest, Arc<Vec<Point>>, bool)> = due
            .iter()
            .zip(enabled)
            .map(|(w, e)| {
                let rollup = rollups.get(&w.check.metric).cloned().unwrap_or_default();
                (w.check.clone(), rollup, e)
            })
            .collect();
        let settings = self.settings.clone();
        // CPU-bound (nine algorithms over a week, twice when steady): off
        // the executor, one check per rayon task.
        tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            work.par_iter()
                .map(|(check, rollup, enabled)| {
                    decide(check, rollup, *enabled, &settings, decided_at_ms)
                })
                .collect()
        })
        .await
        .map_err(ServiceError::task)
    }

    /// Reads the alert expiry of the anomalous decisions' metrics and
    /// applies it ([`expire_alerts`]); returns what to store once the
    /// decisions are published.
    async fn expire(
        &self,
        decisions: &mut [SeasonalDecision],
    ) -> Result<BTreeMap<String, AlertThrottle>, ServiceError> {
        let metrics: Vec<String> = decisions
            .iter()
            .filter(|d| d.anomaly.is_some())
            .map(|d| d.result.metric.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if metrics.is_empty() {
            return Ok(BTreeMap::new());
        }
        let names: Vec<&str> = metrics.iter().map(String::as_str).collect();
        let stored = self
            .windows
            .load_states(THROTTLE_KIND, &names)
            .await
            .map_err(ServiceError::state)?;
        let mut throttles: BTreeMap<String, AlertThrottle> = metrics
            .into_iter()
            .zip(stored)
            .map(|(m, state)| {
                let throttle = state
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default();
                (m, throttle)
            })
            .collect();
        expire_alerts(decisions, &mut throttles);
        Ok(throttles)
    }

    async fn save_throttles(
        &self,
        throttles: BTreeMap<String, AlertThrottle>,
    ) -> Result<(), ServiceError> {
        if throttles.is_empty() {
            return Ok(());
        }
        let states: Vec<(String, String)> = throttles
            .into_iter()
            .map(|(m, t)| (m, serde_json::to_string(&t).unwrap_or_default()))
            .collect();
        self.windows
            .save_states(THROTTLE_KIND, &states)
            .await
            .map_err(ServiceError::state)
    }

    async fn publish(&self, decisions: &[SeasonalDecision]) -> Result<(), ServiceError> {
        // Anomalies, checks and alerts before the verdicts: a verdict seen
        // downstream always has what it names on the log already.
        let anomalies = keyed_messages(decisions.iter().filter_map(|d| d.anomaly.as_ref()), |a| {
            &a.metric
        })?;
        self.producer
            .send_batch(&self.topics.anomalies, anomalies)
            .await?;
        let checks = keyed_messages(decisions.iter().filter_map(|d| d.check.as_ref()), |c| {
            &c.metric
        })?;
        self.producer
            .send_batch(&self.topics.checks, checks)
            .await?;
        let alerts = keyed_messages(decisions.iter().flat_map(|d| &d.alerts), |a| &a.metric)?;
        self.producer
            .send_batch(&self.topics.alerts, alerts)
            .await?;
        let results = keyed_messages(decisions.iter().map(|d| &d.result), |r| &r.metric)?;
        self.producer
            .send_batch(&self.topics.seasonal, results)
            .await?;
        Ok(())
    }
}

impl Service for SeasonalService {
    fn name(&self) -> &str {
        &self.settings.consumer
    }

    /// Ready when the windows' store answers.
    async fn ready(&self) -> Result<(), String> {
        self.windows.ping().await
    }

    fn topics(&self) -> Vec<String> {
        vec![self.topics.checks.clone()]
    }

    fn settings(&self) -> RunSettings {
        RunSettings {
            max_batch: self.settings.max_batch,
            tick: Some(Duration::from_millis(500)),
            ..RunSettings::default()
        }
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        {
            let mut inflight = lock(&self.inflight);
            for r in batch.iter() {
                inflight.read(&r.topic, r.partition, r.offset);
            }
        }
        for (r, check) in cx.decode::<CheckRequest>(batch).await? {
            if check.target != CheckTarget::Seasonal {
                continue;
            }
            lock(&self.inflight).start(&r.topic, r.partition, r.offset);
            lock(&self.queue).push(Waiting {
                check,
                topic: r.topic.clone(),
                partition: r.partition,
                offset: r.offset,
            });
        }
        self.drain().await
    }

    async fn tick(&self, _cx: &Context) -> Result<Commit, ServiceError> {
        self.drain().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use topics::AlertRoute;

    fn anomalous(timestamp: i64, enabled: bool) -> SeasonalDecision {
        let route = AlertRoute {
            alerter: "ops".into(),
            rule: "office".into(),
            expiration_time: Some(3_600),
        };
        let anomaly = anomaly_id("office.energy", timestamp, SourceApp::Analyzer);
        let check = CheckRequest {
            id: check_id(anomaly, CheckTarget::Seasonal),
            anomaly_id: anomaly,
            target: CheckTarget::Seasonal,
            metric: "office.energy".into(),
            timestamp,
            value: 1.0,
            triggered_algorithms: Vec::new(),
            second_order_resolution_hours: Some(168),
            series: Vec::new(),
            decided_at_ms: 0,
            full_duration: Some(86_400),
            echo_series: None,
            alerts: vec![route],
            periodic: false,
            derivative: false,
        };
        let judgement = SeasonalJudgement {
            outcome: SeasonalOutcome::Anomalous,
            reason: reason::CONSENSUS,
            verdict: crate::MirageVerdict::not_judged(),
            daily_peak: None,
            resolution: 600,
            full_duration: 604_800,
            series: vec![(timestamp, 1.0)],
        };
        events_of(&check, 168, &judgement, enabled, 0)
    }

    fn alerts(d: &SeasonalDecision) -> usize {
        d.alerts.len() + d.check.as_ref().map_or(0, |c| c.alerts.len())
    }

    #[test]
    fn alerts_fire_once_per_expiration_time_by_data_time() {
        let t = 1_700_000_000;
        for enabled in [false, true] {
            let mut decisions = vec![
                anomalous(t, enabled),
                anomalous(t + 600, enabled),
                anomalous(t + 3_600, enabled),
            ];
            let mut throttles = BTreeMap::new();
            expire_alerts(&mut decisions, &mut throttles);
            let kept: Vec<usize> = decisions.iter().map(alerts).collect();
            assert_eq!(kept, [1, 0, 1], "fingerprint-enabled: {enabled}");
            // Sent now when not enabled, riding on the check when enabled.
            assert_eq!(decisions[0].alerts.len(), usize::from(!enabled));
            // The expiry carries over to the next batch through the state.
            let mut later = vec![anomalous(t + 4_000, enabled)];
            expire_alerts(&mut later, &mut throttles);
            assert_eq!(alerts(&later[0]), 0);
        }
    }
}
