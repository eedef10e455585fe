//! What the repetitive rules remember of the log: each metric's recent
//! fingerprint checks (the daily rule's training checks) and anomalies (the
//! sporadic rule's), forgotten by data time, each with where it was read.
//!
//! The memory is a fold of `skyline.checks` and `skyline.anomalies`: the
//! learn service keeps its commit behind the oldest position it still
//! remembers, so a restart reads those records again and folds the same
//! memory (the reference keeps the same things on disk and in MySQL).
//! `skyline evaluate` folds it with no positions (`P = ()`).

use std::collections::HashMap;

use topics::{AnomalyEvent, CheckRequest, CheckTarget, SeriesPoint};

use super::daily::{TrainingCheck, REPEAT_WITHIN};
use super::settings::RepetitivePolicy;
use super::sporadic::{PastAnomaly, LOOKBACK};

/// One remembered item and where it was read.
#[derive(Debug, Clone)]
struct Remembered<T, P> {
    item: T,
    at: P,
}

/// A metric's checks at one full duration (the daily rule compares checks
/// of one duration only: a seasonal check's week is not a day).
type CheckKey = (String, i64);

/// The sporadic rule's work for one new anomaly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SporadicWork {
    /// The anomaly's metric.
    pub metric: String,
    /// The anomaly's timestamp.
    pub timestamp: i64,
    /// The data time the metric's window must reach first
    /// (`timestamp + find_delay`).
    pub due: i64,
}

/// The daily rule's work for one new check: compare the metric's checks of
/// this duration.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyWork {
    /// The check's metric.
    pub metric: String,
    /// The duration its series covers.
    pub full_duration: i64,
    /// The new check's anomaly timestamp: the data time of the decision.
    pub timestamp: i64,
    /// The metric's remembered checks of that duration, oldest first.
    pub checks: Vec<TrainingCheck>,
}

/// How often (seconds of data time) every metric's memory is swept of what
/// is older than the rules look back: a metric that stops having anomalies
/// must not hold the commit back for ever.
const SWEEP_EVERY: i64 = 3_600;

/// Every metric's recent checks and anomalies.
#[derive(Debug, Clone)]
pub struct RepetitiveMemory<P> {
    checks: HashMap<CheckKey, Vec<Remembered<TrainingCheck, P>>>,
    anomalies: HashMap<String, Vec<Remembered<PastAnomaly, P>>>,
    /// The newest timestamp folded: the log's data time.
    newest: i64,
    /// The data time of the last sweep.
    swept: i64,
}

impl<P> Default for RepetitiveMemory<P> {
    fn default() -> Self {
        RepetitiveMemory {
            checks: HashMap::new(),
            anomalies: HashMap::new(),
            newest: i64::MIN,
            swept: i64::MIN,
        }
    }
}

impl<P: Clone> RepetitiveMemory<P> {
    /// Advances data time to `t`; every [`SWEEP_EVERY`] forgets, for every
    /// metric, the checks older than `keep_training_for` and the anomalies
    /// older than [`LOOKBACK`] before it.
    fn advance(&mut self, policy: &RepetitivePolicy, t: i64) {
        self.newest = self.newest.max(t);
        if self.newest.saturating_sub(self.swept) < SWEEP_EVERY {
            return;
        }
        self.swept = self.newest;
        let (checks_from, anomalies_from) = (
            self.newest.saturating_sub(policy.keep_training_for),
            self.newest.saturating_sub(LOOKBACK),
        );
        self.checks.retain(|_, kept| {
            kept.retain(|r| r.item.anomaly_timestamp > checks_from);
            !kept.is_empty()
        });
        self.anomalies.retain(|_, kept| {
            kept.retain(|r| r.item.timestamp >= anomalies_from);
            !kept.is_empty()
        });
    }

    /// Folds a check read at `at`. A fingerprint check (not periodic) of a
    /// metric the policy selects, new to the memory and not a repeat of a
    /// remembered one (less than [`REPEAT_WITHIN`] after it), is remembered
    /// and returns the daily rule's work; checks older than
    /// `keep_training_for` before the metric's newest are forgotten.
    pub fn check(
        &mut self,
        policy: &RepetitivePolicy,
        check: &CheckRequest,
        at: P,
    ) -> Option<DailyWork> {
        if !policy.daily
            || check.target != CheckTarget::Fingerprint
            || check.periodic
            || !policy.filter.selects(&check.metric)
        {
            return None;
        }
        self.advance(policy, check.timestamp);
        let full_duration = check.full_duration();
        let kept = self
            .checks
            .entry((check.metric.clone(), full_duration))
            .or_default();
        // The same check read again, or a repeat of a remembered event
        // (less than REPEAT_WITHIN after it): nothing new. Setting repeats
        // aside here, not only in `learn_repetitive`, keeps a repeat from
        // passing for an onset once its event's onset is forgotten.
        if kept.iter().any(|r| {
            let after = check.timestamp - r.item.anomaly_timestamp;
            r.item.check_id == Some(check.id) || (0..REPEAT_WITHIN).contains(&after)
        }) {
            return None;
        }
        let position = kept.partition_point(|r| r.item.anomaly_timestamp < check.timestamp);
        kept.insert(
            position,
            Remembered {
                item: TrainingCheck {
                    anomaly_timestamp: check.timestamp,
                    series: SeriesPoint::pairs(&check.series),
                    check_id: Some(check.id),
                },
                at,
            },
        );
        let newest = kept
            .last()
            .map_or(check.timestamp, |r| r.item.anomaly_timestamp);
        kept.retain(|r| r.item.anomaly_timestamp > newest - policy.keep_training_for);
        if !kept.iter().any(|r| r.item.check_id == Some(check.id)) {
            // Older than what is kept: nothing new to compare.
            return None;
        }
        Some(DailyWork {
            metric: check.metric.clone(),
            full_duration,
            timestamp: check.timestamp,
            checks: kept.iter().map(|r| r.item.clone()).collect(),
        })
    }

    /// Folds an anomaly read at `at`. Anomalies of a metric the policy
    /// selects are remembered for [`LOOKBACK`] before its newest (one per
    /// timestamp, with the longest full duration recorded at it; those
    /// triggered by an excluded algorithm are not). Returns the sporadic
    /// rule's work when the anomaly is new and long enough to be compared.
    pub fn anomaly(
        &mut self,
        policy: &RepetitivePolicy,
        anomaly: &AnomalyEvent,
        at: P,
    ) -> Option<SporadicWork> {
        if !policy.sporadic
            || !policy.filter.selects(&anomaly.metric)
            || anomaly
                .triggered_algorithms
                .iter()
                .any(|a| policy.exclude_algorithms.contains(a))
        {
            return None;
        }
        self.advance(policy, anomaly.timestamp);
        let min = policy.sporadic_settings.min_anomaly_full_duration;
        let kept = self.anomalies.entry(anomaly.metric.clone()).or_default();
        let position = kept.partition_point(|r| r.item.timestamp < anomaly.timestamp);
        match kept.get_mut(position) {
            Some(r) if r.item.timestamp == anomaly.timestamp => {
                if r.item.full_duration >= anomaly.full_duration {
                    return None;
                }
                let was_compared = r.item.full_duration >= min;
                r.item.full_duration = anomaly.full_duration;
                if was_compared {
                    return None;
                }
            }
            _ => kept.insert(
                position,
                Remembered {
                    item: PastAnomaly {
                        timestamp: anomaly.timestamp,
                        full_duration: anomaly.full_duration,
                    },
                    at,
                },
            ),
        }
        let newest = kept.last().map_or(anomaly.timestamp, |r| r.item.timestamp);
        kept.retain(|r| r.item.timestamp >= newest - LOOKBACK);
        let remembered = kept.iter().any(|r| r.item.timestamp == anomaly.timestamp);
        (remembered && anomaly.full_duration >= min).then(|| SporadicWork {
            metric: anomaly.metric.clone(),
            timestamp: anomaly.timestamp,
            due: anomaly.timestamp.saturating_add(policy.find_delay),
        })
    }

    /// The remembered anomalies of `metric`, oldest first.
    pub fn anomalies(&self, metric: &str) -> Vec<PastAnomaly> {
        self.anomalies
            .get(metric)
            .map(|kept| kept.iter().map(|r| r.item).collect())
            .unwrap_or_default()
    }

    /// Where every remembered item was read.
    pub fn positions(&self) -> impl Iterator<Item = &P> {
        self.checks
            .values()
            .flatten()
            .map(|r| &r.at)
            .chain(self.anomalies.values().flatten().map(|r| &r.at))
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        *self = RepetitiveMemory::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repetitive::settings::RepetitiveConfig;
    use uuid::Uuid;

    const DAY: i64 = 86_400;

    fn policy(daily: bool, sporadic: bool) -> RepetitivePolicy {
        RepetitiveConfig {
            learn_repetitive_patterns: daily,
            find_repetitive_patterns: sporadic,
            min_anomaly_full_duration: 7 * DAY - 3_600,
            ..RepetitiveConfig::default()
        }
        .policy()
        .unwrap()
    }

    fn check(metric: &str, t: i64, target: CheckTarget) -> CheckRequest {
        CheckRequest {
            id: Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{metric}{t}").as_bytes()),
            anomaly_id: Uuid::nil(),
            target,
            metric: metric.into(),
            timestamp: t,
            value: 1.0,
            triggered_algorithms: vec![],
            second_order_resolution_hours: None,
            series: SeriesPoint::from_pairs(&[(t - DAY, 1.0), (t, 2.0)]),
            decided_at_ms: 0,
            full_duration: Some(DAY),
            echo_series: None,
            alerts: vec![],
            periodic: false,
            derivative: false,
        }
    }

    fn anomaly(metric: &str, t: i64, full_duration: i64, algorithms: &[&str]) -> AnomalyEvent {
        AnomalyEvent {
            id: Uuid::nil(),
            metric: metric.into(),
            timestamp: t,
            value: 1.0,
            source: topics::SourceApp::Seasonal,
            algorithms_run: vec![],
            triggered_algorithms: algorithms.iter().map(|a| (*a).to_owned()).collect(),
            full_duration,
            from_timestamp: t - full_duration,
            check_id: None,
            derivative: false,
            decided_at_ms: 0,
            count: 1,
            last_timestamp: t,
            max_deviation: 0.0,
        }
    }

    #[test]
    fn checks_are_kept_for_the_training_period_by_data_time() {
        let p = policy(true, false);
        let mut m = RepetitiveMemory::default();
        let t0 = 1_700_000_000;
        for day in 0..5 {
            let work = m
                .check(
                    &p,
                    &check("a.b", t0 + day * DAY, CheckTarget::Fingerprint),
                    day,
                )
                .unwrap();
            assert_eq!(work.timestamp, t0 + day * DAY);
            // 3 days kept: (newest − 259200, newest].
            assert_eq!(work.checks.len(), (day as usize + 1).min(3), "day {day}");
            assert_eq!(
                work.checks.last().unwrap().anomaly_timestamp,
                t0 + day * DAY
            );
        }
        let mut kept: Vec<i64> = m.positions().copied().collect();
        kept.sort();
        assert_eq!(kept, vec![2, 3, 4]);
        // The same check read again (a restart) is not new work.
        assert!(m
            .check(&p, &check("a.b", t0 + 4 * DAY, CheckTarget::Fingerprint), 9)
            .is_none());
        // A repeat of the newest event (20 minutes later) is set aside.
        assert!(m
            .check(
                &p,
                &check("a.b", t0 + 4 * DAY + 1_200, CheckTarget::Fingerprint),
                9
            )
            .is_none());
        // A check older than what is kept adds nothing.
        assert!(m
            .check(&p, &check("a.b", t0, CheckTarget::Fingerprint), 9)
            .is_none());
        // Seasonal checks, periodic ones, excluded metrics and a policy
        // without the daily rule: nothing.
        assert!(m
            .check(&p, &check("a.b", t0 + 6 * DAY, CheckTarget::Seasonal), 0)
            .is_none());
        let mut periodic = check("a.b", t0 + 7 * DAY, CheckTarget::Fingerprint);
        periodic.periodic = true;
        assert!(m.check(&p, &periodic, 0).is_none());
        assert!(m
            .check(
                &p,
                &check("skyline.analyzer.h.run_time", t0, CheckTarget::Fingerprint),
                0
            )
            .is_none());
        assert!(m
            .check(
                &policy(false, true),
                &check("c.d", t0, CheckTarget::Fingerprint),
                0
            )
            .is_none());
    }

    #[test]
    fn metrics_that_go_quiet_are_forgotten_by_data_time() {
        let p = policy(true, true);
        let mut m = RepetitiveMemory::default();
        let t0 = 1_700_000_000;
        m.check(&p, &check("quiet", t0, CheckTarget::Fingerprint), 1);
        m.anomaly(&p, &anomaly("quiet", t0, 7 * DAY, &[]), 2);
        // Another metric moves data time on: after 3 days the quiet
        // metric's check is forgotten, after 30 its anomaly.
        m.check(
            &p,
            &check("busy", t0 + 4 * DAY, CheckTarget::Fingerprint),
            3,
        );
        let mut kept: Vec<i32> = m.positions().copied().collect();
        kept.sort();
        assert_eq!(kept, vec![2, 3]);
        m.anomaly(&p, &anomaly("busy", t0 + 31 * DAY, 7 * DAY, &[]), 4);
        let mut kept: Vec<i32> = m.positions().copied().collect();
        kept.sort();
        assert_eq!(kept, vec![4], "the busy check is 27 days old too");
        assert!(m.anomalies("quiet").is_empty());
    }

    #[test]
    fn checks_of_other_durations_are_compared_apart() {
        let p = policy(true, false);
        let mut m = RepetitiveMemory::default();
        let t0 = 1_700_000_000;
        m.check(&p, &check("a.b", t0, CheckTarget::Fingerprint), ());
        let mut week = check("a.b", t0 + DAY, CheckTarget::Fingerprint);
        week.full_duration = Some(7 * DAY);
        let work = m.check(&p, &week, ()).unwrap();
        assert_eq!(work.full_duration, 7 * DAY);
        assert_eq!(work.checks.len(), 1);
    }

    #[test]
    fn anomalies_are_remembered_30_days_and_long_ones_are_work() {
        let p = policy(false, true);
        let mut m = RepetitiveMemory::default();
        let t0 = 1_700_000_000;
        let long = 7 * DAY;
        let work = m.anomaly(&p, &anomaly("a.b", t0, long, &[]), 0).unwrap();
        assert_eq!(work.due, t0 + 4_500);
        // An analyzer anomaly (1 day of data) is remembered, not work.
        assert!(m
            .anomaly(&p, &anomaly("a.b", t0 + DAY, DAY, &[]), 1)
            .is_none());
        // Its seasonal anomaly at the same timestamp makes it work once.
        assert!(m
            .anomaly(&p, &anomaly("a.b", t0 + DAY, long, &[]), 2)
            .is_some());
        assert!(m
            .anomaly(&p, &anomaly("a.b", t0 + DAY, long, &[]), 3)
            .is_none());
        // Excluded algorithms are ignored.
        assert!(m
            .anomaly(
                &p,
                &anomaly(
                    "a.b",
                    t0 + 2 * DAY,
                    long,
                    &["decreased_percent_with_increasing_pair"]
                ),
                4
            )
            .is_none());
        assert_eq!(
            m.anomalies("a.b"),
            vec![
                PastAnomaly {
                    timestamp: t0,
                    full_duration: long
                },
                PastAnomaly {
                    timestamp: t0 + DAY,
                    full_duration: long
                }
            ]
        );
        m.anomaly(&p, &anomaly("a.b", t0 + 31 * DAY, long, &[]), 5);
        assert_eq!(m.anomalies("a.b").len(), 2, "t0 forgotten after 30 days");
        assert!(m
            .anomaly(&policy(true, false), &anomaly("c", t0, long, &[]), 0)
            .is_none());
        m.clear();
        assert_eq!(m.positions().count(), 0);
    }
}
