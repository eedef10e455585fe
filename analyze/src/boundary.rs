//! Boundary: hard conditions on key metrics, judged beside the ensemble and
//! not by CONSENSUS — each `(metric, algorithm)` rule is judged alone and
//! alerts alone (`spec/boundary.md`).
//!
//! Everything here is pure: which rules cover a metric ([`rules_for`]), the
//! pre-checks ([`precheck`]), the three algorithms ([`detect_drop_off_cliff`],
//! [`less_than`], [`greater_than`]), the successive-trigger count
//! ([`SuccessiveTriggers`]) and the per-alerter rate limits
//! ([`AlerterLimit`]). Times are data time (the points' timestamps), so a
//! replay judges the same way. How the Analyzer's consumer runs them point
//! by point, with their expiry and rate-limit state, is
//! [`crate::boundary_stream`].

use serde::{Deserialize, Serialize};

use crate::exceptions::{self, Exception};
use crate::pattern::{any_matches, MetricPattern};
use crate::series::Series;

/// Boundary's algorithms (`BOUNDARY_ALGORITHMS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryAlgorithm {
    /// A sudden drop of a metric to (near) zero ([`detect_drop_off_cliff`]).
    DetectDropOffCliff,
    /// The last value below `trigger_value` ([`less_than`]).
    LessThan,
    /// The last value above `trigger_value` ([`greater_than`]).
    GreaterThan,
}

impl BoundaryAlgorithm {
    /// Every algorithm, in the reference's order.
    pub const ALL: [BoundaryAlgorithm; 3] = [
        BoundaryAlgorithm::DetectDropOffCliff,
        BoundaryAlgorithm::LessThan,
        BoundaryAlgorithm::GreaterThan,
    ];

    /// The algorithm called `name` (its reference name), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The reference's name (`detect_drop_off_cliff`, `less_than`,
    /// `greater_than`).
    pub fn name(self) -> &'static str {
        match self {
            BoundaryAlgorithm::DetectDropOffCliff => "detect_drop_off_cliff",
            BoundaryAlgorithm::LessThan => "less_than",
            BoundaryAlgorithm::GreaterThan => "greater_than",
        }
    }
}

/// One `[[boundary]]` rule, the reference's `BOUNDARY_METRICS` tuple
/// `(pattern, algorithm, EXPIRATION_TIME, MIN_AVERAGE, MIN_AVERAGE_SECONDS,
/// TRIGGER_VALUE, ALERT_THRESHOLD, ALERT_VIAS[, EXCLUDES])`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryRule {
    /// The metrics it covers (see [`MetricPattern`]).
    pub pattern: MetricPattern,
    /// What it tests.
    pub algorithm: BoundaryAlgorithm,
    /// Seconds during which a metric that alerted on an alerter does not
    /// alert there again for this algorithm.
    pub expiration_time: i64,
    /// `detect_drop_off_cliff` only: not judged unless the mean of the last
    /// `min_average_seconds` is at least this (0 disables).
    #[serde(default)]
    pub min_average: f64,
    /// `detect_drop_off_cliff` only: the span of that mean, in seconds (0
    /// disables).
    #[serde(default)]
    pub min_average_seconds: i64,
    /// The threshold of `less_than` and `greater_than` (unused by the cliff).
    #[serde(default)]
    pub trigger_value: f64,
    /// How many successive anomalous judgements alert (0 and 1: the first).
    #[serde(default = "one")]
    pub alert_threshold: u32,
    /// The alerters, `|`-separated (`ops-mail|ops-hook`).
    pub alerters: String,
    /// Metrics this rule does not cover although the pattern matches.
    #[serde(default)]
    pub excludes: Vec<MetricPattern>,
}

fn one() -> u32 {
    1
}

impl BoundaryRule {
    /// The alerters it names, in order, blanks dropped.
    pub fn alerter_names(&self) -> impl Iterator<Item = &str> {
        self.alerters
            .split('|')
            .map(str::trim)
            .filter(|a| !a.is_empty())
    }
}

/// A rule that cannot work, named by its position in `boundary`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BoundaryRuleError {
    /// A rule's `expiration_time` or `min_average_seconds` is below zero.
    #[error("boundary[{index}].{key} = {value} must not be negative")]
    Negative {
        /// The rule's position.
        index: usize,
        /// The key.
        key: &'static str,
        /// Its value.
        value: i64,
    },
    /// A rule names no alerter.
    #[error("boundary[{index}].alerters is empty")]
    NoAlerter {
        /// The rule's position.
        index: usize,
    },
    /// A threshold or average is not a finite number.
    #[error("boundary[{index}].{key} must be a finite number")]
    NotFinite {
        /// The rule's position.
        index: usize,
        /// The key.
        key: &'static str,
    },
}

/// Checks what serde cannot.
pub fn validate(rules: &[BoundaryRule]) -> Result<(), BoundaryRuleError> {
    for (index, rule) in rules.iter().enumerate() {
        for (key, value) in [
            ("expiration_time", rule.expiration_time),
            ("min_average_seconds", rule.min_average_seconds),
        ] {
            if value < 0 {
                return Err(BoundaryRuleError::Negative { index, key, value });
            }
        }
        for (key, value) in [
            ("min_average", rule.min_average),
            ("trigger_value", rule.trigger_value),
        ] {
            if !value.is_finite() {
                return Err(BoundaryRuleError::NotFinite { index, key });
            }
        }
        if rule.alerter_names().next().is_none() {
            return Err(BoundaryRuleError::NoAlerter { index });
        }
    }
    Ok(())
}

/// The rules that cover `metric`: of the rules whose pattern matches and
/// whose excludes do not, the **last** per algorithm wins (the reference
/// overwrites per algorithm while walking the list, so a specific rule
/// overrides a namespace rule only when listed after it). At most one rule
/// per algorithm, in the order of first appearance.
pub fn rules_for<'a>(rules: &'a [BoundaryRule], metric: &str) -> Vec<&'a BoundaryRule> {
    let mut chosen: Vec<&BoundaryRule> = Vec::new();
    for rule in rules {
        if !rule.pattern.matches(metric) || any_matches(&rule.excludes, metric) {
            continue;
        }
        match chosen.iter_mut().find(|c| c.algorithm == rule.algorithm) {
            Some(slot) => *slot = rule,
            None => chosen.push(rule),
        }
    }
    chosen
}

/// `MIN_TOLERABLE_LENGTH`: the cliff needs this many points.
pub const CLIFF_MIN_LENGTH: usize = 100;
/// `MAX_TOLERABLE_BOREDOM`: how many last points the Boring check reads.
pub const BOREDOM_POINTS: usize = 100;

/// Boundary's pre-checks in the reference's order: TooShort (the cliff
/// under [`CLIFF_MIN_LENGTH`] points; any rule on an empty series), Stale
/// (`now - t_last > stale_period`), Boring (one distinct value among the
/// last [`BOREDOM_POINTS`]; `greater_than` is exempt, so a flat series over
/// the trigger keeps firing). An exception counts as not anomalous.
pub fn precheck(
    algorithm: BoundaryAlgorithm,
    series: &Series,
    now: i64,
    stale_period: i64,
) -> Option<Exception> {
    let (min_length, boredom) = match algorithm {
        BoundaryAlgorithm::DetectDropOffCliff => (CLIFF_MIN_LENGTH, BOREDOM_POINTS),
        BoundaryAlgorithm::LessThan => (1, BOREDOM_POINTS),
        // Reading no points, the Boring check never applies.
        BoundaryAlgorithm::GreaterThan => (1, 0),
    };
    exceptions::check(series, now, min_length, stale_period, boredom, 1).map(|e| match e {
        Exception::EmptyTimeseries => Exception::TooShort,
        other => other,
    })
}

/// What a rule concluded about a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BoundaryVerdict {
    /// The condition holds: the last value is anomalous.
    Anomalous,
    /// It does not.
    NotAnomalous,
    /// Not judged (counts as not anomalous).
    Exception(Exception),
}

/// Judges `series` (ordered by timestamp) by `rule`: the pre-checks, then
/// the rule's algorithm.
pub fn judge(rule: &BoundaryRule, series: &Series, now: i64, stale_period: i64) -> BoundaryVerdict {
    if let Some(e) = precheck(rule.algorithm, series, now, stale_period) {
        return BoundaryVerdict::Exception(e);
    }
    let fired = match rule.algorithm {
        BoundaryAlgorithm::DetectDropOffCliff => detect_drop_off_cliff(
            &series.timestamps,
            &series.values,
            rule.min_average,
            rule.min_average_seconds,
        ),
        BoundaryAlgorithm::LessThan => less_than(&series.values, rule.trigger_value),
        BoundaryAlgorithm::GreaterThan => greater_than(&series.values, rule.trigger_value),
    };
    if fired {
        BoundaryVerdict::Anomalous
    } else {
        BoundaryVerdict::NotAnomalous
    }
}

/// `less_than`: the last value is strictly below `trigger`.
pub fn less_than(values: &[f64], trigger: f64) -> bool {
    values.last().is_some_and(|&v| v < trigger)
}

/// `greater_than`: the last value is strictly above `trigger`.
pub fn greater_than(values: &[f64], trigger: f64) -> bool {
    values.last().is_some_and(|&v| v > trigger)
}

/// `detect_drop_off_cliff`, exactly as the reference computes it, on points
/// ordered by timestamp.
///
/// With `r = t[n-1] - t[n-2]` (the last interval) and `W10` the values with
/// `t_end - 10r < t <= t_end`: not a cliff when `n < 30`, `|W10| <= 3`,
/// `min(W10) < 0`, `max(W10) == 0` or `min == max`, or (both set) when the
/// mean of the last `min_average_seconds` is below `min_average`. Else, with
/// `avg = ΣW10 / |W10|` and `last = trunc(W10[-1])` (0 read as 0.1), the
/// trigger is 15 for a max under 101, `avg / 2` under 20, 100 over 100; then
/// 1 when `last == 1` (0.1 when also max < 10), and 7 when `last == 0.1`,
/// `avg < 1` and `ΣW10 < 7`. A cliff when `trunc(avg / last) > trigger`.
///
/// The reference also means to skip series with more than two points at
/// the window's minimum among the last 10 and 20 intervals ("frequent
/// drops are normal"), but tests `len(np.where(...)) > 2`, the number of
/// array dimensions, which is always 1: those guards never fire, and are
/// left out here so the verdicts stay equal.
pub fn detect_drop_off_cliff(
    timestamps: &[i64],
    values: &[f64],
    min_average: f64,
    min_average_seconds: i64,
) -> bool {
    let n = values.len().min(timestamps.len());
    if n < 30 {
        return false;
    }
    let t_end = timestamps[n - 1];
    let resolution = t_end - timestamps[n - 2];
    let last_ten = tail_since(
        &timestamps[..n],
        t_end.saturating_sub(resolution.saturating_mul(10)),
    );
    let ten = &values[n - last_ten..n];
    if ten.len() <= 3 {
        return false;
    }
    let (lowest, highest) = numeric::min_max(ten);
    if lowest < 0.0 || highest == 0.0 || lowest == highest {
        return false;
    }
    // numpy's sum (pairwise), as the reference sums the window.
    let total = numeric::sum(ten);
    let average = total / ten.len() as f64;
    if min_average > 0.0 && min_average_seconds > 0 {
        let recent = tail_since(&timestamps[..n], t_end.saturating_sub(min_average_seconds));
        // Python's built-in sum: left to right.
        let recent_sum: f64 = values[n - recent..n].iter().sum();
        if recent_sum / (recent as f64) < min_average {
            return false;
        }
    }
    let mut last = ten[ten.len() - 1].trunc();
    let mut trigger = if highest < 101.0 { 15.0 } else { 0.0 };
    if highest < 20.0 {
        trigger = average / 2.0;
    }
    if highest > 100.0 {
        trigger = 100.0;
    }
    if last == 0.0 {
        last = 0.1;
    }
    if last == 1.0 {
        trigger = 1.0;
        if highest < 10.0 {
            trigger = 0.1;
        }
    }
    if last == 0.1 && average < 1.0 && total < 7.0 {
        trigger = 7.0;
    }
    (average / last).trunc() > trigger
}

/// How many of the last timestamps are after `after` (`after < t`): the
/// length of the window `(after, t_end]` at the end of ordered timestamps.
fn tail_since(timestamps: &[i64], after: i64) -> usize {
    timestamps.len() - timestamps.partition_point(|&t| t <= after)
}

/// The successive-trigger count of one `(metric, algorithm)` rule
/// (`ALERT_THRESHOLD`).
///
/// The reference judges every 60 s and keeps the count for
/// `(threshold + 1) × 60` s after the last anomalous run, resetting it on a
/// run that is not anomalous. Here every new point is judged, so a run is a
/// point: the count lasts `threshold + 1` intervals of the metric's
/// resolution (at least 60 s each) after the last anomalous point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessiveTriggers {
    /// Anomalous judgements in a row.
    pub count: u32,
    /// Data time of the last of them.
    pub last_at: i64,
}

impl SuccessiveTriggers {
    /// Records a judgement at `at` (data time) of a metric whose points are
    /// `resolution` seconds apart. Returns how many anomalous judgements in
    /// a row this one makes (`times_seen`), `None` when it is not anomalous.
    pub fn observe(
        &mut self,
        anomalous: bool,
        at: i64,
        resolution: i64,
        threshold: u32,
    ) -> Option<u32> {
        if !anomalous {
            self.count = 0;
            return None;
        }
        if threshold <= 1 {
            *self = SuccessiveTriggers {
                count: 1,
                last_at: at,
            };
            return Some(1);
        }
        let keep = i64::from(threshold + 1).saturating_mul(resolution.max(60));
        if at.saturating_sub(self.last_at) > keep {
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.last_at = at;
        Some(self.count)
    }
}

/// `BOUNDARY_ALERTER_OPTS` for one alerter: at most `limit` sends within
/// `window` seconds of the previous send (`None`: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlerterLimit {
    /// Sends allowed while the window holds.
    pub limit: Option<u32>,
    /// Seconds the count lives after each send (a sliding window: every
    /// send renews it).
    pub window: i64,
}

impl AlerterLimit {
    /// The reference's `BOUNDARY_ALERTER_OPTS` for an alerter of `kind`:
    /// `smtp` 100 sends per 60 s, `pagerduty` 15 per 1800 s, `slack` 30 per
    /// 1800 s (`alerter_limit` / `alerter_expiration_time`); any other kind
    /// is unlimited (window 160 s, the reference's default).
    pub fn reference(kind: &str) -> Self {
        let (limit, window) = match kind {
            "smtp" => (100, 60),
            "pagerduty" => (15, 1800),
            "slack" => (30, 1800),
            _ => return AlerterLimit::default(),
        };
        AlerterLimit {
            limit: Some(limit),
            window,
        }
    }
}

impl Default for AlerterLimit {
    /// Unlimited, with the reference's default window of 160 s.
    fn default() -> Self {
        AlerterLimit {
            limit: None,
            window: 160,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str, algorithm: BoundaryAlgorithm, trigger: f64) -> BoundaryRule {
        BoundaryRule {
            pattern: MetricPattern::new(pattern).unwrap(),
            algorithm,
            expiration_time: 600,
            min_average: 0.0,
            min_average_seconds: 0,
            trigger_value: trigger,
            alert_threshold: 1,
            alerters: "ops-hook".to_owned(),
            excludes: Vec::new(),
        }
    }

    fn series(values: &[f64]) -> Series {
        Series {
            timestamps: (0..values.len() as i64).map(|i| 1_000 + 60 * i).collect(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn the_last_matching_rule_per_algorithm_wins_and_excludes_hold() {
        let mut specific = rule("web.api.latency", BoundaryAlgorithm::GreaterThan, 5.0);
        specific.excludes = vec![MetricPattern::new("canary").unwrap()];
        let rules = [
            rule("web", BoundaryAlgorithm::GreaterThan, 10.0),
            rule("web", BoundaryAlgorithm::LessThan, 1.0),
            specific,
        ];
        let chosen = rules_for(&rules, "web.api.latency");
        assert_eq!(chosen.len(), 2);
        assert_eq!(chosen[0].trigger_value, 5.0, "the later rule overrides");
        assert_eq!(chosen[1].algorithm, BoundaryAlgorithm::LessThan);
        let canary = rules_for(&rules, "web.api.latency.canary");
        assert_eq!(
            canary[0].trigger_value, 10.0,
            "excluded from the specific rule"
        );
        assert!(rules_for(&rules, "db.load").is_empty());
    }

    #[test]
    fn thresholds_are_strict_and_greater_than_ignores_boredom() {
        let flat = series(&[7.0; 120]);
        let now = flat.timestamps[119];
        let over = rule("m", BoundaryAlgorithm::GreaterThan, 6.0);
        assert_eq!(judge(&over, &flat, now, 500), BoundaryVerdict::Anomalous);
        let at = rule("m", BoundaryAlgorithm::GreaterThan, 7.0);
        assert_eq!(judge(&at, &flat, now, 500), BoundaryVerdict::NotAnomalous);
        let under = rule("m", BoundaryAlgorithm::LessThan, 8.0);
        assert_eq!(
            judge(&under, &flat, now, 500),
            BoundaryVerdict::Exception(Exception::Boring)
        );
        assert_eq!(
            judge(&over, &flat, now + 501, 500),
            BoundaryVerdict::Exception(Exception::Stale)
        );
        assert_eq!(
            judge(&over, &series(&[]), now, 500),
            BoundaryVerdict::Exception(Exception::TooShort)
        );
    }

    #[test]
    fn a_drop_to_zero_is_a_cliff_and_a_dip_is_not() {
        let mut values: Vec<f64> = (0..120).map(|i| 50.0 + (i % 7) as f64).collect();
        let s = series(&values);
        assert!(!detect_drop_off_cliff(&s.timestamps, &s.values, 0.0, 0));
        *values.last_mut().unwrap() = 0.4;
        let s = series(&values);
        // avg ≈ 48.4, last trunc 0 → 0.1, trigger 15: 484 > 15.
        assert!(detect_drop_off_cliff(&s.timestamps, &s.values, 0.0, 0));
        // Refused when the recent average is under the rule's minimum.
        assert!(!detect_drop_off_cliff(&s.timestamps, &s.values, 60.0, 600));
        *values.last_mut().unwrap() = 40.0;
        let s = series(&values);
        assert!(!detect_drop_off_cliff(&s.timestamps, &s.values, 0.0, 0));
    }

    #[test]
    fn successive_triggers_need_that_many_points_in_a_row() {
        let mut c = SuccessiveTriggers::default();
        let seen: Vec<Option<u32>> = [true, true, false, true, true, true]
            .iter()
            .enumerate()
            .map(|(i, &a)| c.observe(a, 60 * i as i64, 60, 3))
            .collect();
        assert_eq!(seen, [Some(1), Some(2), None, Some(1), Some(2), Some(3)]);
        // A gap longer than (threshold + 1) intervals starts again.
        assert_eq!(c.observe(true, 60 * 5 + 60 * 5, 60, 3), Some(1));
        let mut once = SuccessiveTriggers::default();
        assert_eq!(once.observe(true, 0, 300, 0), Some(1));
        assert_eq!(once.observe(true, 300, 300, 0), Some(1));
    }

    #[test]
    fn reference_alerter_limits_and_algorithm_names() {
        let limit = |l, window| AlerterLimit {
            limit: Some(l),
            window,
        };
        assert_eq!(AlerterLimit::reference("smtp"), limit(100, 60));
        assert_eq!(AlerterLimit::reference("pagerduty"), limit(15, 1800));
        assert_eq!(AlerterLimit::reference("slack"), limit(30, 1800));
        assert_eq!(AlerterLimit::reference("webhook"), AlerterLimit::default());
        assert_eq!(AlerterLimit::default().limit, None);
        for a in BoundaryAlgorithm::ALL {
            assert_eq!(BoundaryAlgorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(BoundaryAlgorithm::from_name("mock_less_than"), None);
    }

    #[test]
    fn validation_names_the_key() {
        let mut r = rule("m", BoundaryAlgorithm::LessThan, 1.0);
        r.alerters = " | ".to_owned();
        assert_eq!(
            validate(&[r.clone()]).unwrap_err().to_string(),
            "boundary[0].alerters is empty"
        );
        r.alerters = "a".to_owned();
        r.expiration_time = -1;
        assert!(validate(&[r])
            .unwrap_err()
            .to_string()
            .contains("expiration_time"));
    }
}
