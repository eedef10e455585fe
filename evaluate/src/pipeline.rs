//! One series through the whole pipeline, in-process, over data time.
//!
//! Every decision is made by the function the service makes it with:
//! the Analyzer's [`Rules::decide_metric`] (ensemble, alert rules and their
//! expiry, one anomaly per event, periodic checks, Boundary), the seasonal
//! service's [`seasonal::service::decide`] and [`expire_alerts`],
//! fingerprint's [`judge_check`] and [`decide`](fingerprint::service::decide)
//! against the metric's active profiles, and learn's
//! [`profiles_from_label`], [`learn_from_human`] and
//! [`learn_from_unmatched`] on the long window, and its repetitive rules
//! ([`learn_repetitive`] on each new fingerprint check after fingerprint
//! judged it, [`find_repetitive`] on each new anomaly once its
//! `find_delay` has passed) over the same [`RepetitiveMemory`]. Windows are the in-memory
//! store the embedded default runs on ([`MemoryWindows`]); the profiles
//! are folded from the profile events into a [`ProfileStore`] as every
//! service folds `skyline.profiles`. What each would have produced is kept
//! in order on an in-memory [`Log`] (no broker).
//!
//! **The timeline.** The services run concurrently; here their order is
//! fixed so that a run is deterministic and equals a live pipeline fed the
//! same stream at the same pace:
//!
//! 1. work due at data time `d` — a label (`alert + delay`), a learnt
//!    profile (`anomaly + valid_ts_older_than`), a sporadic repetitive
//!    pattern (`anomaly + find_delay`) — takes effect before the first
//!    point with timestamp `>= d` is judged;
//! 2. the Analyzer judges points in batches that never cross such a time
//!    and span less than `min(label delay, valid_ts_older_than)` seconds (one
//!    point at a time when that is 0), then folds them into the windows;
//! 3. the checks of a batch are judged at once — seasonal checks over the
//!    long window as folded, fingerprint checks (a seasonal check's included)
//!    against the profiles as they stand;
//! 4. the operator sees every alert and schedules its label.

use std::collections::{BTreeMap, BTreeSet};

use analyze::boundary_stream::AlerterSends;
use analyze::service::{Decisions, Rules};
use analyze::stream::MetricState;
use analyze::Point;
use fingerprint::matching::MatchSettings;
use fingerprint::service::{decide, judge_check, profiles_for};
use fingerprint::{ProfileStore, FEATURES_VERSION};
use learn::decide::{learn_data, learn_from_human, learn_from_unmatched};
use learn::repetitive::{find_repetitive, learn_repetitive, RepetitiveMemory};
use learn::service::metric_settings;
use learn::{profiles_from_label, LearnPolicy};
use seasonal::service::expire_alerts;
use seasonal::SeasonalSettings;
use serde::Serialize;
use topics::clock::now_ms;
use topics::ids::learnt_profile_id;
use topics::{
    AlertEvent, AnomalyEnded, AnomalyEvent, CheckRequest, CheckTarget, Datapoint, Label,
    MatchMethod, MatchResult, ProfileAction, ProfileEvent, SeasonalResult,
};
use uuid::Uuid;
use windows::{MemoryWindows, WindowSettings};

use crate::operator::{in_any, Operator};
use crate::windows_file::Window;

/// Everything that decides: each service's settings, as `skyline` builds
/// them from one configuration.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The Analyzer: `[analyzer]`, the alert rules (one per alerter),
    /// Boundary, the periodic checks.
    pub analyzer: Rules,
    /// The seasonal re-check.
    pub seasonal: SeasonalSettings,
    /// Fingerprint's matching.
    pub fingerprint: MatchSettings,
    /// How metrics learn.
    pub learn: LearnPolicy,
    /// The windows' lengths and roll-up.
    pub windows: WindowSettings,
}

impl Pipeline {
    /// This pipeline with nothing learnt without an operator (both
    /// repetitive-pattern rules off): what the untrained run decides with.
    pub fn untrained(&self) -> Pipeline {
        let mut untrained = self.clone();
        untrained.learn.repetitive.daily = false;
        untrained.learn.repetitive.sporadic = false;
        untrained
    }
}

/// What every service would have produced for one series, in order: the
/// in-memory stand-in for the topics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Log {
    /// `skyline.anomalies` (an anomaly re-published as it is extended: the
    /// last version of each id is the anomaly).
    pub anomalies: Vec<AnomalyEvent>,
    /// `skyline.anomaly_ends`.
    pub ended: Vec<AnomalyEnded>,
    /// `skyline.checks`.
    pub checks: Vec<CheckRequest>,
    /// `skyline.seasonal`.
    pub seasonal: Vec<SeasonalResult>,
    /// `skyline.matches`.
    pub matches: Vec<MatchResult>,
    /// `skyline.alerts`.
    pub alerts: Vec<AlertEvent>,
    /// `skyline.labels`: the simulated operator's.
    pub labels: Vec<Label>,
    /// `skyline.profiles`.
    pub profiles: Vec<ProfileEvent>,
}

/// Work waiting for its data time.
#[derive(Debug, Clone)]
enum Due {
    /// The operator's label.
    Label(Box<Label>),
    /// A human LEARN profile's generation-1 child.
    Human(Uuid),
    /// An unmatched anomaly learning from the metric's learnt profiles.
    Unmatched { timestamp: i64, check_id: Uuid },
    /// The sporadic repetitive rule on an anomaly.
    Sporadic { timestamp: i64, due: i64 },
}

/// The state one series' run carries from batch to batch.
struct Run<'a> {
    pipeline: &'a Pipeline,
    metric: &'a str,
    windows_labelled: &'a [Window],
    operator: &'a Operator,
    store: MemoryWindows,
    state: MetricState,
    sends: AlerterSends,
    profiles: ProfileStore,
    throttles: BTreeMap<String, analyze::alert_rules::AlertThrottle>,
    /// Work by (due time, order made).
    due: BTreeMap<(i64, u64), Due>,
    made: u64,
    /// Checks by anomaly id, for the operator to open from an alert.
    checks_by_anomaly: BTreeMap<Uuid, CheckRequest>,
    labelled: BTreeSet<Uuid>,
    spent: usize,
    /// What the repetitive rules remember.
    memory: RepetitiveMemory<()>,
    log: Log,
}

/// Most points judged in one batch (as `skyline backtest` chunks).
const MAX_BATCH: usize = analyze::backtest::CHUNK;

/// Runs `points` (sorted by timestamp, one per timestamp) of `metric`
/// through `pipeline` with `operator` labelling against `windows`.
pub fn run_series(
    pipeline: &Pipeline,
    metric: &str,
    points: &[Point],
    windows: &[Window],
    operator: &Operator,
) -> Log {
    let mut run = Run {
        pipeline,
        metric,
        windows_labelled: windows,
        operator,
        store: MemoryWindows::new(pipeline.windows.clone()),
        state: MetricState::default(),
        sends: AlerterSends::default(),
        profiles: ProfileStore::new(),
        throttles: BTreeMap::new(),
        due: BTreeMap::new(),
        made: 0,
        checks_by_anomaly: BTreeMap::new(),
        labelled: BTreeSet::new(),
        spent: 0,
        memory: RepetitiveMemory::default(),
        log: Log::default(),
    };
    // Batches span less than this (see the module's timeline).
    let span = operator
        .delay
        .min(pipeline.learn.for_metric(metric).valid_ts_older_than)
        .max(0);
    let mut i = 0;
    while i < points.len() {
        let t = points[i].0;
        run.do_due(t);
        let limit = run
            .due
            .keys()
            .next()
            .map_or(i64::MAX, |(d, _)| *d)
            .min(t.saturating_add(span));
        let mut j = i + 1;
        while j < points.len() && points[j].0 < limit && j - i < MAX_BATCH {
            j += 1;
        }
        run.analyze(&points[i..j]);
        i = j;
    }
    run.log
}

impl Run<'_> {
    fn schedule(&mut self, at: i64, work: Due) {
        self.made += 1;
        self.due.insert((at, self.made), work);
    }

    /// Does, in order, the work due at or before `now`.
    fn do_due(&mut self, now: i64) {
        while let Some(entry) = self.due.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (_, work) = entry.remove_entry();
            match work {
                Due::Label(label) => self.apply_label(*label),
                Due::Human(id) => self.learn_human(id),
                Due::Unmatched {
                    timestamp,
                    check_id,
                } => self.learn_unmatched(timestamp, check_id),
                Due::Sporadic { timestamp, due } => self.find_sporadic(timestamp, due),
            }
        }
    }

    /// The Analyzer's batch, then what it sets off downstream.
    fn analyze(&mut self, batch: &[Point]) {
        let Some(first) = batch.first() else { return };
        let fd = self.pipeline.analyzer.settings.full_duration;
        let mut window = self
            .store
            .window_after(self.metric, first.0.saturating_sub(fd));
        let enabled = self.profiles.metric_enabled(self.metric);
        let mut d = Decisions::default();
        self.pipeline.analyzer.decide_metric(
            self.metric,
            &mut window,
            batch,
            &mut self.state,
            enabled,
            &mut self.sends,
            &mut d,
        );
        let datapoints: Vec<Datapoint> = batch
            .iter()
            .map(|p| Datapoint {
                metric: self.metric.to_owned(),
                timestamp: p.0,
                value: p.1,
            })
            .collect();
        self.store.fold(&datapoints);
        let Decisions {
            anomalies,
            checks,
            alerts,
            ended,
            ..
        } = d;
        self.remember_anomalies(&anomalies);
        self.log.anomalies.extend(anomalies);
        self.log.ended.extend(ended);
        for check in &checks {
            self.checks_by_anomaly
                .entry(check.anomaly_id)
                .or_insert_with(|| check.clone());
        }
        self.log.checks.extend(checks.iter().cloned());
        self.alerted(alerts);
        for check in checks {
            match check.target {
                CheckTarget::Seasonal => self.seasonal_check(check),
                CheckTarget::Fingerprint => self.fingerprint_check(check),
            }
        }
    }

    /// The seasonal service on one check, over the long window as folded.
    fn seasonal_check(&mut self, check: CheckRequest) {
        let rollup = self.store.rollup(&check.metric);
        let enabled = self.profiles.metric_enabled(&check.metric);
        let mut decisions = vec![seasonal::service::decide(
            &check,
            &rollup,
            enabled,
            &self.pipeline.seasonal,
            now_ms(),
        )];
        expire_alerts(&mut decisions, &mut self.throttles);
        for decision in decisions {
            self.log.seasonal.push(decision.result);
            self.remember_anomalies(decision.anomaly.as_slice());
            self.log.anomalies.extend(decision.anomaly);
            self.alerted(decision.alerts);
            if let Some(fingerprint) = decision.check {
                self.checks_by_anomaly
                    .entry(fingerprint.anomaly_id)
                    .or_insert_with(|| fingerprint.clone());
                self.log.checks.push(fingerprint.clone());
                self.fingerprint_check(fingerprint);
            }
        }
    }

    /// Fingerprint on one check, against the metric's active profiles;
    /// an unmatched verdict on a learning metric waits for learn.
    fn fingerprint_check(&mut self, check: CheckRequest) {
        let profiles = profiles_for(&self.profiles, &check.metric);
        let verdict = judge_check(&check, &profiles, &self.pipeline.fingerprint);
        let decision = decide(&check, &profiles, &verdict, now_ms());
        let m = &decision.result;
        if self.pipeline.learn.enabled && !m.matched && m.method == MatchMethod::None {
            // The learn service drops the work when the metric does not
            // learn, and otherwise waits until the anomaly is old enough.
            if let Some(settings) = metric_settings(&self.profiles, &self.pipeline.learn, &m.metric)
            {
                let work = Due::Unmatched {
                    timestamp: m.timestamp,
                    check_id: m.check_id,
                };
                self.schedule(
                    m.timestamp.saturating_add(settings.valid_ts_older_than),
                    work,
                );
            }
        }
        self.log.matches.push(decision.result);
        self.alerted(decision.alerts);
        self.learn_daily(&check);
    }

    /// The daily repetitive rule on a new fingerprint check, after
    /// fingerprint judged it.
    fn learn_daily(&mut self, check: &CheckRequest) {
        let Some(work) = self
            .memory
            .check(&self.pipeline.learn.repetitive, check, ())
        else {
            return;
        };
        let settings = self.pipeline.learn.for_metric(&work.metric);
        match learn_repetitive(
            &work.metric,
            &work.checks,
            work.full_duration,
            &self.profiles,
            &settings,
            work.timestamp.saturating_mul(1000),
        ) {
            Ok(events) => self.publish_profiles(events),
            Err(skip) => {
                tracing::debug!(metric = %work.metric, %skip, "evaluate: no daily pattern")
            }
        }
    }

    /// Remembers new anomalies for the sporadic rule, scheduling it.
    fn remember_anomalies(&mut self, anomalies: &[AnomalyEvent]) {
        for anomaly in anomalies {
            if let Some(work) = self
                .memory
                .anomaly(&self.pipeline.learn.repetitive, anomaly, ())
            {
                self.schedule(
                    work.due,
                    Due::Sporadic {
                        timestamp: work.timestamp,
                        due: work.due,
                    },
                );
            }
        }
    }

    /// The sporadic repetitive rule on the long window as it stands.
    fn find_sporadic(&mut self, timestamp: i64, due: i64) {
        let rollup = self.store.rollup(self.metric);
        let settings = self.pipeline.learn.for_metric(self.metric);
        match find_repetitive(
            self.metric,
            timestamp,
            &self.memory.anomalies(self.metric),
            &rollup,
            &self.profiles,
            &settings,
            &self.pipeline.learn.repetitive.sporadic_settings,
            due.saturating_mul(1000),
        ) {
            Ok(events) => self.publish_profiles(events),
            Err(skip) => {
                tracing::debug!(metric = self.metric, timestamp, %skip, "evaluate: no sporadic pattern")
            }
        }
    }

    /// Alerts go on the log; the operator sees each one.
    fn alerted(&mut self, alerts: Vec<AlertEvent>) {
        for alert in alerts {
            self.operator_sees(&alert);
            self.log.alerts.push(alert);
        }
    }

    fn operator_sees(&mut self, alert: &AlertEvent) {
        if !self
            .operator
            .wants_to_label(alert.timestamp, self.windows_labelled, self.spent)
        {
            return;
        }
        let Some(check) = self.checks_by_anomaly.get(&alert.anomaly_id) else {
            // Boundary's anomalies have no check: nothing to label.
            return;
        };
        // A repeat's alert speaks for the anomaly it extends: never label
        // one whose first point is inside a window.
        if in_any(self.windows_labelled, check.timestamp) || !self.labelled.insert(check.id) {
            return;
        }
        let at = alert.timestamp.saturating_add(self.operator.delay);
        let label = self.operator.label(check, at);
        self.spent += 1;
        self.schedule(at, Due::Label(Box::new(label)));
    }

    /// The learn service on a label: its profiles, folded at once (and a
    /// LEARN profile's generation-1 child scheduled).
    fn apply_label(&mut self, label: Label) {
        match profiles_from_label(&label, &self.pipeline.learn, FEATURES_VERSION) {
            Ok(events) => {
                self.log.labels.push(label);
                self.publish_profiles(events);
            }
            Err(e) => {
                tracing::warn!(label = %label.id, error = %e, "evaluate: the label makes no profile");
                self.log.labels.push(label);
            }
        }
    }

    fn publish_profiles(&mut self, events: Vec<ProfileEvent>) {
        for e in events {
            self.profiles.apply(&e);
            if e.action == ProfileAction::Created && e.learn && e.parent_id.is_none() {
                if let Some(t) = e.anomaly_timestamp {
                    let settings = e
                        .learn_settings
                        .unwrap_or_else(|| self.pipeline.learn.for_metric(&e.metric));
                    if self.pipeline.learn.enabled {
                        self.schedule(
                            t.saturating_add(settings.valid_ts_older_than),
                            Due::Human(e.profile_id),
                        );
                    }
                }
            }
            self.log.profiles.push(e);
        }
    }

    /// `learn_from_human` on the long window as it stands.
    fn learn_human(&mut self, id: Uuid) {
        let Some(p) = self.profiles.get(id) else {
            return;
        };
        let (Some(timestamp), metric) = (p.anomaly_timestamp, p.metric.clone()) else {
            return;
        };
        let settings = p
            .learn_settings
            .unwrap_or_else(|| self.pipeline.learn.for_metric(&metric));
        if self
            .profiles
            .get(learnt_profile_id(id, timestamp, settings.full_duration))
            .is_some()
        {
            return;
        }
        let rollup = self.store.rollup(&metric);
        let Some(data) = learn_data(&rollup, &metric, timestamp, None, settings.full_duration)
        else {
            return;
        };
        match learn_from_human(&self.profiles, id, &settings, &data, now_ms()) {
            Ok(event) => self.publish_profiles(vec![event]),
            Err(skip) => tracing::debug!(%metric, human = %id, %skip, "evaluate: not learnt"),
        }
    }

    /// `learn_from_unmatched` on the long window as it stands.
    fn learn_unmatched(&mut self, timestamp: i64, check_id: Uuid) {
        let Some(settings) = metric_settings(&self.profiles, &self.pipeline.learn, self.metric)
        else {
            return;
        };
        let rollup = self.store.rollup(self.metric);
        let Some(data) = learn_data(
            &rollup,
            self.metric,
            timestamp,
            Some(check_id),
            settings.full_duration,
        ) else {
            return;
        };
        match learn_from_unmatched(&self.profiles, &settings, &data, now_ms()) {
            Ok(event) => self.publish_profiles(vec![event]),
            Err(skip) => {
                tracing::debug!(metric = self.metric, timestamp, %skip, "evaluate: not learnt")
            }
        }
    }
}
