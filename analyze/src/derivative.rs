//! Monotonic counters: detecting them, and analysing their rate of change
//! (the non-negative derivative) instead of their ever-growing value.

use crate::series::Point;

/// Series shorter than this are never judged monotonic.
const MIN_POINTS: usize = 90;
/// More than this share (percent) of decreasing steps: not a counter.
const MAX_DECREASE_PERCENT: f64 = 25.0;
/// More resets than this: not a counter.
const MAX_SUBSEQUENCES: usize = 280;

/// Whether `values` look like a monotonically increasing counter that may
/// reset (the reference's `strictly_increasing_monotonicity`):
///
/// * fewer than 90 points, or any negative value: no;
/// * `dec`/`inc` = numbers of decreasing/increasing steps; no when
///   `dec >= inc` or `dec/inc > 25 %`;
/// * never decreasing with at least 10 increases: yes;
/// * all values equal or all after the first zero: no;
/// * cut at every drop into increasing runs; more than 280 runs: no;
/// * yes when every drop lands at or below `range/100 · pct` (a counter
///   reset; `pct` is 1, 2 or 3 for ranges up to 1000, up to 10000, above);
///   no when none does; otherwise yes (each run is non-decreasing by
///   construction, which is the reference's last test).
pub fn is_monotonic_counter(values: &[f64]) -> bool {
    if values.len() < MIN_POINTS || values.iter().any(|v| *v < 0.0) {
        return false;
    }
    let (mut dec, mut inc) = (0usize, 0usize);
    for w in values.windows(2) {
        let d = w[1] - w[0];
        if d < 0.0 {
            dec += 1;
        } else if d > 0.0 {
            inc += 1;
        }
    }
    if dec >= inc || dec as f64 / inc as f64 * 100.0 > MAX_DECREASE_PERCENT {
        return false;
    }
    if dec == 0 && inc >= 10 {
        return true;
    }
    let all_equal = values.iter().all(|v| *v == values[0]);
    if all_equal || values[1..].iter().sum::<f64>() == 0.0 {
        return false;
    }
    let runs = dec + 1; // every drop starts a new increasing run
    if runs > MAX_SUBSEQUENCES {
        return false;
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let range = hi - lo;
    let pct = if range <= 1000.0 {
        1.0
    } else if range <= 10_000.0 {
        2.0
    } else {
        3.0
    };
    let min_reset = range / 100.0 * pct;
    let drops: Vec<f64> = values
        .windows(2)
        .filter(|w| w[1] < w[0])
        .map(|w| w[1])
        .collect();
    let resets = drops.iter().filter(|v| **v <= min_reset).count();
    if resets == drops.len() {
        return true;
    }
    if resets == 0 {
        return false;
    }
    true
}

/// The rate of change of a counter, Graphite's `nonNegativeDerivative`: for
/// each point after the first, `(t, v - v_prev)` when the step is not
/// negative; negative steps (resets) are dropped, not zeroed. A step beyond
/// f64's range (between values near ±f64::MAX) is no rate either and is
/// dropped too, so the derivative of a finite series is finite. Applied only
/// to series of more than three points (shorter ones are returned as they
/// are).
pub fn non_negative_derivative(points: &[Point]) -> Vec<Point> {
    if points.len() <= 3 {
        return points.to_vec();
    }
    points
        .windows(2)
        .filter_map(|w| {
            let d = w[1].1 - w[0].1;
            (d >= 0.0 && d.is_finite()).then_some((w[1].0, d))
        })
        .collect()
}

/// How many consecutive monotonic verdicts make a metric a derivative metric.
const CONFIRMATIONS: u32 = 3;
/// Seconds a pending confirmation count lives (`zz.derivative_metric.` TTL).
const PENDING_TTL: i64 = 960;

/// One metric's derivative classification, the state the reference keeps in
/// the Redis keys `z.derivative_metric.<m>` (confirmed, TTL FULL_DURATION)
/// and `zz.derivative_metric.<m>` (count of consecutive monotonic runs with
/// new data, TTL 960 s).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DerivativeState {
    confirmed_until: Option<i64>,
    pending: u32,
    pending_until: i64,
    last_timestamp: Option<i64>,
}

impl DerivativeState {
    /// Folds one analysis at `now` of a series whose newest point is
    /// `t_last` and whose monotonic test gave `monotonic`; returns whether
    /// the metric is to be analysed as its derivative.
    pub fn observe(&mut self, now: i64, t_last: i64, monotonic: bool, full_duration: i64) -> bool {
        if self.confirmed_until.is_some_and(|until| now < until) {
            return true;
        }
        self.confirmed_until = None;
        if !monotonic {
            self.pending = 0;
            return false;
        }
        if self.last_timestamp == Some(t_last) && now < self.pending_until {
            return false; // no new data: not another confirmation
        }
        self.pending = if now < self.pending_until {
            self.pending + 1
        } else {
            1
        };
        self.pending_until = now.saturating_add(PENDING_TTL);
        self.last_timestamp = Some(t_last);
        if self.pending >= CONFIRMATIONS {
            self.confirmed_until = Some(now.saturating_add(full_duration));
            self.pending = 0;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_with_resets_is_monotonic() {
        // climbs 0..=49 twice (a reset to 0 in between), then to 149
        let v: Vec<f64> = (0..50).chain(0..100).map(f64::from).collect();
        assert!(is_monotonic_counter(&v));
        let strictly: Vec<f64> = (0..100).map(f64::from).collect();
        assert!(is_monotonic_counter(&strictly));
    }

    #[test]
    fn gauges_are_not() {
        let zigzag: Vec<f64> = (0..100).map(|i| (i % 2) as f64).collect();
        assert!(!is_monotonic_counter(&zigzag));
        let short: Vec<f64> = (0..89).map(f64::from).collect();
        assert!(!is_monotonic_counter(&short));
        let negative: Vec<f64> = (-1..99).map(f64::from).collect();
        assert!(!is_monotonic_counter(&negative));
        // a drop to a high value (not a reset): 0..=99 then 90..=99
        let v: Vec<f64> = (0..100).chain(90..100).map(f64::from).collect();
        assert!(!is_monotonic_counter(&v));
    }

    #[test]
    fn a_step_beyond_f64_is_dropped() {
        let pts = vec![
            (0, -f64::MAX),
            (60, f64::MAX),
            (120, f64::MAX),
            (180, f64::MAX),
            (240, f64::MAX),
        ];
        let d = non_negative_derivative(&pts);
        assert_eq!(d, vec![(120, 0.0), (180, 0.0), (240, 0.0)]);
        assert!(d.iter().all(|p| p.1.is_finite()));
    }

    #[test]
    fn derivative_drops_resets() {
        let pts = [(1, 5.0), (2, 7.0), (3, 10.0), (4, 1.0), (5, 4.0)];
        assert_eq!(
            non_negative_derivative(&pts),
            vec![(2, 2.0), (3, 3.0), (5, 3.0)]
        );
        assert_eq!(non_negative_derivative(&pts[..3]), pts[..3].to_vec());
    }

    #[test]
    fn three_confirmations_with_new_data() {
        let mut s = DerivativeState::default();
        assert!(!s.observe(60, 60, true, 86_400));
        assert!(
            !s.observe(120, 60, true, 86_400),
            "same data does not count"
        );
        assert!(!s.observe(180, 180, true, 86_400));
        assert!(s.observe(240, 240, true, 86_400));
        // confirmed for a full duration, whatever the test says meanwhile
        assert!(s.observe(300, 300, false, 86_400));
        assert!(!s.observe(240 + 86_400, 86_640, false, 86_400));
    }

    #[test]
    fn a_gap_longer_than_the_pending_ttl_restarts_the_count() {
        let mut s = DerivativeState::default();
        s.observe(0, 0, true, 86_400);
        s.observe(60, 60, true, 86_400);
        assert!(!s.observe(60 + 961 + 960, 2000, true, 86_400));
    }
}
