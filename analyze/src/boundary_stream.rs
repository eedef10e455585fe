//! Boundary judged in the stream: the reference's Boundary app
//! (`spec/boundary.md` §1, §6, §7) as a pure step of the Analyzer consumer.
//!
//! The reference runs every 60 s over each key metric's whole window. Here
//! each point the Analyzer judges is also judged by the metric's Boundary
//! rules ([`crate::boundary::rules_for`]), on the same window, with "now" =
//! the point's timestamp. Everything that carries over — the successive
//! trigger counts, the per-alerter expiry keys, the per-alerter rate-limit
//! counters — is kept by data time in [`BoundaryState`] (per metric) and
//! [`AlerterSends`] (per alerter, across metrics), never by wall clock, so
//! replaying the log judges the same way and re-emits the same ids.
//!
//! Boundary is not CONSENSUS based: each `(metric, algorithm)` rule is
//! judged alone and alerts alone, whatever the three-sigma ensemble says.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::boundary::{
    judge, AlerterLimit, BoundaryAlgorithm, BoundaryRule, BoundaryVerdict, SuccessiveTriggers,
};
use crate::derivative::non_negative_derivative;
use crate::series::{Point, Series};

/// What Boundary carries over between a metric's points (part of
/// [`crate::stream::MetricState`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BoundaryState {
    /// Successive anomalous judgements per algorithm (`anomaly_seen.<algorithm>.<metric>`):
    /// a metric carries at most one rule per algorithm.
    #[serde(default)]
    pub triggers: BTreeMap<BoundaryAlgorithm, SuccessiveTriggers>,
    /// Alerter → algorithm → data time of the metric's last alert there
    /// (`last_alert.boundary.<alerter>.<metric>.<algorithm>`, whose TTL is
    /// the rule's expiration time).
    #[serde(default)]
    pub last_alert: BTreeMap<String, BTreeMap<BoundaryAlgorithm, i64>>,
}

/// One alerter's rate-limit counter (`alerts_sent.<alerter>`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendCount {
    /// Sends counted since the window last ran out.
    pub count: u32,
    /// Data time of the last send: the count lives `window` seconds after it.
    pub last_send: i64,
}

/// The per-alerter rate-limit counters, shared by every metric
/// (`BOUNDARY_ALERTER_OPTS`). The reference renews the counter's TTL on
/// each send, so the limit holds over a window that slides from the last
/// send, not a fixed one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlerterSends {
    /// Alerter → its counter.
    #[serde(default)]
    pub sent: BTreeMap<String, SendCount>,
}

impl AlerterSends {
    /// Sends counted for `alerter` at `now` (0 once `window` seconds passed
    /// since its last send: the reference's key has expired).
    pub fn sent(&self, alerter: &str, now: i64, window: i64) -> u32 {
        match self.sent.get(alerter) {
            Some(c) if now < c.last_send.saturating_add(window) => c.count,
            _ => 0,
        }
    }

    /// Whether `limit` lets `alerter` send at `now`.
    pub fn allows(&self, alerter: &str, now: i64, limit: AlerterLimit) -> bool {
        limit
            .limit
            .is_none_or(|l| self.sent(alerter, now, limit.window) < l)
    }

    /// Counts a send by `alerter` at `now` (`setex alerts_sent.<alerter>
    /// window (sent + 1)`).
    pub fn record(&mut self, alerter: &str, now: i64, window: i64) {
        let count = self.sent(alerter, now, window).saturating_add(1);
        self.sent.insert(
            alerter.to_owned(),
            SendCount {
                count,
                last_send: now,
            },
        );
    }
}

/// A rule that fired at a point and alerted at least one alerter.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryFiring {
    /// The rule (its algorithm, trigger value and threshold go into the alerts).
    pub rule: BoundaryRule,
    /// Successive anomalous judgements this one makes (≥ the rule's threshold).
    pub times_seen: u32,
    /// The rule's alerters that alert now, in the rule's order (the others
    /// are within their expiration time or over their rate limit).
    pub alerters: Vec<String>,
}

/// Boundary's verdict on one point.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryJudgement {
    /// The point's timestamp (unix seconds).
    pub timestamp: i64,
    /// The last value judged (of the derivative for counters).
    pub value: f64,
    /// The first timestamp of the series judged (the reference's Boundary
    /// records the first, where Analyzer records the second).
    pub from_timestamp: i64,
    /// The algorithms of the metric's rules, in rule order.
    pub algorithms_run: Vec<BoundaryAlgorithm>,
    /// The rules that fired and alerted; empty when none did.
    pub firings: Vec<BoundaryFiring>,
}

/// Judges the point ending `window` by the metric's `rules` (at most one
/// per algorithm, as [`crate::boundary::rules_for`] chooses them), at data
/// time `now` = the point's timestamp. `None` when there is no rule or no
/// point.
///
/// * The series is `window` (ordered by timestamp), or its
///   non-negative derivative when `derivative` (a monotonic counter, as
///   the Analyzer classified it), as the reference's Boundary does.
/// * Each rule is judged alone ([`judge`]: pre-checks, then the
///   algorithm); an exception counts as not anomalous and resets the
///   rule's successive count.
/// * `alert_threshold`: the rule alerts once it has been anomalous on that
///   many judged points in a row ([`SuccessiveTriggers`], the count lasting
///   `threshold + 1` resolutions after the last anomalous point).
/// * Per alerter named by the rule, in order: the alerter's rate limit
///   (`limit_of(alerter)`, shared by all metrics through `sends`) is
///   checked first, then the expiry of `(alerter, algorithm)` for this
///   metric (`now - last < expiration_time` is quiet); an alerter that
///   passes both alerts, its expiry restarts at `now` and its counter
///   counts one more send. A rate-limited alerter does not touch the
///   expiry, as in the reference.
/// * A rule fires (becomes a [`BoundaryFiring`]) only when at least one
///   alerter alerts: the reference records a Boundary anomaly only when it
///   alerts, and Panorama's own expiry drops the rest.
#[allow(clippy::too_many_arguments)]
pub fn judge_points(
    window: &[Point],
    rules: &[&BoundaryRule],
    derivative: bool,
    stale_period: i64,
    state: &mut BoundaryState,
    sends: &mut AlerterSends,
    limit_of: impl Fn(&str) -> AlerterLimit,
) -> Option<BoundaryJudgement> {
    if rules.is_empty() {
        return None;
    }
    let derived;
    let points = if derivative {
        derived = non_negative_derivative(window);
        &derived[..]
    } else {
        window
    };
    let &(now, value) = window.last()?;
    let value = points.last().map_or(value, |p| p.1);
    let from_timestamp = points.first().map_or(now, |p| p.0);
    // The metric's resolution as the cliff reads it (its last interval);
    // the successive count lasts threshold + 1 of them (at least 60 s each).
    let resolution = match points {
        [.., a, b] => b.0.saturating_sub(a.0),
        _ => 60,
    };
    let series = Series::from_points(points);
    let mut firings = Vec::new();
    for rule in rules {
        let algorithm = rule.algorithm;
        let anomalous = matches!(
            judge(rule, &series, now, stale_period),
            BoundaryVerdict::Anomalous
        );
        let times_seen = state.triggers.entry(algorithm).or_default().observe(
            anomalous,
            now,
            resolution,
            rule.alert_threshold,
        );
        let Some(times_seen) = times_seen else {
            continue;
        };
        if times_seen < rule.alert_threshold {
            continue;
        }
        let mut alerters = Vec::new();
        for alerter in rule.alerter_names() {
            let limit = limit_of(alerter);
            if !sends.allows(alerter, now, limit) {
                continue;
            }
            let last = state
                .last_alert
                .get(alerter)
                .and_then(|by_algorithm| by_algorithm.get(&algorithm));
            if last.is_some_and(|&last| now.saturating_sub(last) < rule.expiration_time) {
                continue;
            }
            state
                .last_alert
                .entry(alerter.to_owned())
                .or_default()
                .insert(algorithm, now);
            sends.record(alerter, now, limit.window);
            alerters.push(alerter.to_owned());
        }
        if !alerters.is_empty() {
            firings.push(BoundaryFiring {
                rule: (*rule).clone(),
                times_seen,
                alerters,
            });
        }
    }
    Some(BoundaryJudgement {
        timestamp: now,
        value,
        from_timestamp,
        algorithms_run: rules.iter().map(|r| r.algorithm).collect(),
        firings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boundary::detect_drop_off_cliff;
    use crate::pattern::MetricPattern;
    use numeric::reference::read_nab;

    /// Points judged at each step, as `tests/reference_boundary.rs` judges them.
    const WINDOW: usize = 120;

    fn rule(algorithm: BoundaryAlgorithm, trigger: f64, threshold: u32, exp: i64) -> BoundaryRule {
        BoundaryRule {
            pattern: MetricPattern::new("nab").unwrap(),
            algorithm,
            expiration_time: exp,
            min_average: 0.0,
            min_average_seconds: 0,
            trigger_value: trigger,
            alert_threshold: threshold,
            alerters: "ops-mail|ops-hook".to_owned(),
            excludes: Vec::new(),
        }
    }

    /// Runs `rules` over `points` point by point (the last [`WINDOW`]
    /// points each time); returns each point's firings as
    /// `(timestamp, algorithm, alerters)`.
    fn run(
        points: &[Point],
        rules: &[&BoundaryRule],
        limit_of: impl Fn(&str) -> AlerterLimit + Copy,
    ) -> Vec<(i64, BoundaryAlgorithm, Vec<String>)> {
        let mut state = BoundaryState::default();
        let mut sends = AlerterSends::default();
        let mut out = Vec::new();
        for end in 1..=points.len() {
            let w = &points[end.saturating_sub(WINDOW)..end];
            let j = judge_points(w, rules, false, 500, &mut state, &mut sends, limit_of)
                .expect("rules and points");
            assert_eq!(j.timestamp, w[w.len() - 1].0);
            for f in j.firings {
                out.push((j.timestamp, f.rule.algorithm, f.alerters));
            }
        }
        out
    }

    fn unlimited(_: &str) -> AlerterLimit {
        AlerterLimit::default()
    }

    /// Where the reference's Boundary finds a cliff on `points`: its
    /// pre-checks (TooShort under 100 points, Boring), then the cliff (our
    /// port of it is checked against the reference point by point in
    /// `tests/reference_boundary.rs`).
    fn cliffs(points: &[Point]) -> Vec<i64> {
        let cliff = rule(BoundaryAlgorithm::DetectDropOffCliff, 0.0, 1, 0);
        (1..=points.len())
            .filter_map(|end| {
                let w = &points[end.saturating_sub(WINDOW)..end];
                let s = Series::from_points(w);
                let now = w[w.len() - 1].0;
                // The algorithm alone would fire earlier than the pre-checks let it.
                let fires = judge(&cliff, &s, now, 500) == BoundaryVerdict::Anomalous;
                debug_assert!(!fires || detect_drop_off_cliff(&s.timestamps, &s.values, 0.0, 0));
                fires.then_some(now)
            })
            .collect()
    }

    #[test]
    fn a_real_drop_off_cliff_alerts_once_per_expiration_on_each_alerter() {
        // Disk writes falling from thousands of bytes to zero.
        let points = read_nab("realAWSCloudwatch/ec2_disk_write_bytes_c0d644.csv");
        let expected = cliffs(&points);
        assert!(!expected.is_empty(), "the reference finds a cliff here");
        let cliff = rule(BoundaryAlgorithm::DetectDropOffCliff, 0.0, 1, 3600);
        let fired = run(&points, &[&cliff], unlimited);
        assert!(!fired.is_empty());
        // Every alert is at a point the reference calls a cliff, the first
        // cliff alerts, and each alerter stays quiet for an hour after.
        assert_eq!(fired[0].0, expected[0]);
        for (t, algorithm, alerters) in &fired {
            assert!(expected.contains(t), "{t} is not a reference cliff");
            assert_eq!(*algorithm, BoundaryAlgorithm::DetectDropOffCliff);
            assert_eq!(alerters, &["ops-mail", "ops-hook"]);
        }
        for pair in fired.windows(2) {
            assert!(pair[1].0 - pair[0].0 >= 3600, "{pair:?}");
        }
        // With no expiry, every reference cliff alerts.
        let every = rule(BoundaryAlgorithm::DetectDropOffCliff, 0.0, 1, 0);
        let all: Vec<i64> = run(&points, &[&every], unlimited)
            .into_iter()
            .map(|f| f.0)
            .collect();
        assert_eq!(all, expected);
    }

    #[test]
    fn thresholds_on_real_data_need_that_many_points_in_a_row() {
        let points = read_nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
        // Where the values are over 95 % or under 25 % CPU.
        let over = |i: usize| points[i].1 > 95.0;
        let under = |i: usize| points[i].1 < 25.0;
        let gt = rule(BoundaryAlgorithm::GreaterThan, 95.0, 3, 0);
        let lt = rule(BoundaryAlgorithm::LessThan, 25.0, 1, 0);
        let fired = run(&points, &[&gt, &lt], unlimited);
        let gt_fired: Vec<i64> = fired
            .iter()
            .filter(|f| f.1 == BoundaryAlgorithm::GreaterThan)
            .map(|f| f.0)
            .collect();
        // greater_than with threshold 3: the third of three points in a
        // row over the trigger (the series is 5-minutely, no gaps).
        let expected_gt: Vec<i64> = (2..points.len())
            .filter(|&i| over(i) && over(i - 1) && over(i - 2))
            .map(|i| points[i].0)
            .collect();
        assert!(!expected_gt.is_empty());
        assert_eq!(gt_fired, expected_gt);
        // less_than is subject to the Boring check (one distinct value in
        // the last 100 points): this series is never that flat.
        let lt_fired: Vec<i64> = fired
            .iter()
            .filter(|f| f.1 == BoundaryAlgorithm::LessThan)
            .map(|f| f.0)
            .collect();
        let expected_lt: Vec<i64> = (0..points.len())
            .filter(|&i| under(i))
            .map(|i| points[i].0)
            .collect();
        assert_eq!(lt_fired, expected_lt);
    }

    #[test]
    fn the_rate_limit_is_per_alerter_and_slides_from_the_last_send() {
        let limit = |alerter: &str| match alerter {
            "ops-mail" => AlerterLimit {
                limit: Some(2),
                window: 600,
            },
            _ => AlerterLimit::default(),
        };
        let gt = rule(BoundaryAlgorithm::GreaterThan, 1.0, 1, 0);
        let points: Vec<Point> = (0..10).map(|i| (60 * i, 2.0 + i as f64)).collect();
        let fired = run(&points, &[&gt], limit);
        let mail: Vec<i64> = fired
            .iter()
            .filter(|f| f.2.iter().any(|a| a == "ops-mail"))
            .map(|f| f.0)
            .collect();
        // Two sends, then quiet while each new point is within 600 s of the
        // last send (the counter is not renewed by a refused send).
        assert_eq!(mail, [0, 60]);
        assert_eq!(fired.len(), 10, "ops-hook is unlimited");
        let mut sends = AlerterSends::default();
        sends.record("smtp", 0, 60);
        assert_eq!(sends.sent("smtp", 59, 60), 1);
        assert_eq!(sends.sent("smtp", 60, 60), 0, "expired");
    }

    #[test]
    fn expiry_is_per_alerter_and_algorithm() {
        let gt = rule(BoundaryAlgorithm::GreaterThan, 1.0, 1, 300);
        let lt = rule(BoundaryAlgorithm::LessThan, 100.0, 1, 300);
        let points: Vec<Point> = (0..8).map(|i| (60 * i, 2.0 + i as f64)).collect();
        let fired = run(&points, &[&gt, &lt], unlimited);
        let at: Vec<(i64, BoundaryAlgorithm)> = fired.iter().map(|f| (f.0, f.1)).collect();
        // less_than first fires on the second point: one point alone is
        // Boring (one distinct value), from which greater_than is exempt.
        assert_eq!(
            at,
            [
                (0, BoundaryAlgorithm::GreaterThan),
                (60, BoundaryAlgorithm::LessThan),
                (300, BoundaryAlgorithm::GreaterThan),
                (360, BoundaryAlgorithm::LessThan),
            ]
        );
    }

    #[test]
    fn a_counter_is_judged_as_its_derivative() {
        // A counter growing by 10 a minute that stops growing.
        let mut points: Vec<Point> = (0..40).map(|i| (60 * i, 10.0 * i as f64)).collect();
        let lt = rule(BoundaryAlgorithm::LessThan, 5.0, 1, 0);
        let mut state = BoundaryState::default();
        let mut sends = AlerterSends::default();
        let j = judge_points(
            &points,
            &[&lt],
            true,
            500,
            &mut state,
            &mut sends,
            unlimited,
        )
        .unwrap();
        assert!(j.firings.is_empty());
        assert_eq!(j.value, 10.0);
        assert_eq!(
            j.from_timestamp, 60,
            "the derivative starts at the second point"
        );
        points.push((60 * 40, 390.0));
        let j = judge_points(
            &points,
            &[&lt],
            true,
            500,
            &mut state,
            &mut sends,
            unlimited,
        )
        .unwrap();
        assert_eq!(j.value, 0.0);
        assert_eq!(j.firings.len(), 1);
        assert_eq!(j.algorithms_run, [BoundaryAlgorithm::LessThan]);
        assert!(judge_points(&points, &[], true, 500, &mut state, &mut sends, unlimited).is_none());
    }

    #[test]
    fn old_state_without_boundary_loads() {
        // A state saved before Boundary ran in the stream has no `boundary`.
        let mut old = serde_json::to_value(crate::stream::MetricState::default()).unwrap();
        old.as_object_mut().unwrap().remove("boundary");
        let state: crate::stream::MetricState = serde_json::from_value(old).unwrap();
        assert_eq!(state.boundary, BoundaryState::default());
        let mut s = BoundaryState::default();
        s.triggers.insert(
            BoundaryAlgorithm::LessThan,
            SuccessiveTriggers {
                count: 2,
                last_at: 60,
            },
        );
        s.last_alert
            .entry("smtp".into())
            .or_default()
            .insert(BoundaryAlgorithm::DetectDropOffCliff, 7);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<BoundaryState>(&json).unwrap(), s);
    }
}
