//! The pre-checks that keep a series from being analysed at all: TooShort,
//! Stale, Boring and EmptyTimeseries. They are outcomes, not errors.

use crate::series::Series;

/// Why a series was not analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exception {
    /// No datapoints at all (the metric can be forgotten).
    EmptyTimeseries,
    /// Fewer than `min_tolerable_length` points.
    TooShort,
    /// No datapoint for more than the stale period.
    Stale,
    /// The last `max_tolerable_boredom` points hold exactly
    /// `boredom_set_size` distinct values.
    Boring,
}

impl Exception {
    /// The reference's name for it (`TooShort`, `Stale`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Exception::EmptyTimeseries => "EmptyTimeseries",
            Exception::TooShort => "TooShort",
            Exception::Stale => "Stale",
            Exception::Boring => "Boring",
        }
    }
}

/// The three checks in the reference's order (TooShort, then Stale, then
/// Boring): the first that applies is returned.
///
/// * TooShort: `n < min_length` (EmptyTimeseries when `n == 0`);
/// * Stale: `now - t_last > stale_period` (strict);
/// * Boring: `|distinct(last boredom points)| == boredom_set_size` — equality,
///   not `<=`, as the reference (with fewer points than the window, all
///   points are read).
///
/// There is deliberately no "Incomplete" check: the reference dropped it in
/// 2013 although its docs still list it.
pub fn check(
    series: &Series,
    now: i64,
    min_length: usize,
    stale_period: i64,
    boredom: usize,
    boredom_set_size: usize,
) -> Option<Exception> {
    let n = series.len();
    if n == 0 {
        return Some(Exception::EmptyTimeseries);
    }
    if n < min_length {
        return Some(Exception::TooShort);
    }
    let (t_last, _) = series.last()?;
    if now.saturating_sub(t_last) > stale_period {
        return Some(Exception::Stale);
    }
    if is_boring(&series.values, boredom, boredom_set_size) {
        return Some(Exception::Boring);
    }
    None
}

/// Boring: the last `boredom` of `values` (all of them when fewer) hold
/// exactly `boredom_set_size` distinct values.
pub fn is_boring(values: &[f64], boredom: usize, boredom_set_size: usize) -> bool {
    let tail = &values[values.len().saturating_sub(boredom)..];
    distinct_count_up_to(tail, boredom_set_size + 1) == boredom_set_size
}

/// Number of distinct values in `xs`, counting no further than `limit`
/// (the check only needs to know whether it equals the set size).
/// Values compare by bit pattern after folding -0.0 into 0.0, like a Python set
/// of floats (NaN values are each distinct there; here they are one — the
/// pipeline refuses NaN at ingest).
fn distinct_count_up_to(xs: &[f64], limit: usize) -> usize {
    let mut seen: Vec<u64> = Vec::with_capacity(limit);
    for &x in xs {
        let bits = if x == 0.0 { 0 } else { x.to_bits() };
        if !seen.contains(&bits) {
            seen.push(bits);
            if seen.len() >= limit {
                break;
            }
        }
    }
    seen.len()
}

/// Whether a metric that is not yet stale should be flagged as about to go
/// stale (`ALERT_ON_STALE_METRICS`): `lower <= age < stale_period`, where
/// `lower` is `alert_on_stale_period` for the default stale period and
/// `P - floor(P/4)` for a custom period `P`.
pub fn about_to_go_stale(
    age: i64,
    stale_period: i64,
    default_stale_period: i64,
    alert_on_stale_period: i64,
) -> bool {
    let lower = if stale_period == default_stale_period {
        alert_on_stale_period
    } else {
        stale_period - stale_period / 4
    };
    lower <= age && age < stale_period
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, f: impl Fn(usize) -> f64) -> Series {
        Series {
            timestamps: (0..n as i64).map(|i| 1000 + i * 60).collect(),
            values: (0..n).map(f).collect(),
        }
    }

    #[test]
    fn too_short_and_empty() {
        let s = series(99, |i| i as f64);
        let now = 1000 + 98 * 60;
        assert_eq!(check(&s, now, 100, 500, 100, 1), Some(Exception::TooShort));
        assert_eq!(
            check(&series(0, |_| 0.0), now, 100, 500, 100, 1),
            Some(Exception::EmptyTimeseries)
        );
        assert_eq!(
            check(&series(100, |i| i as f64), now + 60, 100, 500, 100, 1),
            None
        );
    }

    #[test]
    fn stale_is_strict() {
        let s = series(100, |i| i as f64);
        let last = 1000 + 99 * 60;
        assert_eq!(check(&s, last + 500, 100, 500, 100, 1), None);
        assert_eq!(
            check(&s, last + 501, 100, 500, 100, 1),
            Some(Exception::Stale)
        );
    }

    #[test]
    fn boring_is_equality_on_the_tail() {
        // 100 varied points then 100 equal ones: the tail has one value.
        let s = series(200, |i| if i < 100 { i as f64 } else { 7.0 });
        let now = 1000 + 199 * 60;
        assert_eq!(check(&s, now, 100, 500, 100, 1), Some(Exception::Boring));
        // one different value inside the last 100 → two values → not boring
        let s = series(200, |i| {
            if i == 150 {
                8.0
            } else if i < 100 {
                i as f64
            } else {
                7.0
            }
        });
        assert_eq!(check(&s, now, 100, 500, 100, 1), None);
        // set size 2: exactly two distinct values is boring, one is not
        assert_eq!(check(&s, now, 100, 500, 100, 2), Some(Exception::Boring));
        let flat = series(200, |_| 7.0);
        assert_eq!(check(&flat, now, 100, 500, 100, 2), None);
    }

    #[test]
    fn stale_soon_window() {
        assert!(!about_to_go_stale(299, 500, 500, 300));
        assert!(about_to_go_stale(300, 500, 500, 300));
        assert!(about_to_go_stale(499, 500, 500, 300));
        assert!(!about_to_go_stale(500, 500, 500, 300));
        // custom period 3600: from 3600 - 900 = 2700
        assert!(about_to_go_stale(2700, 3600, 500, 300));
        assert!(!about_to_go_stale(2699, 3600, 500, 300));
    }
}
