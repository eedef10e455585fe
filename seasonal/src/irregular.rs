//! Irregular/unstable handling (`seasonal.md` §8.1): a 7-day series of
//! low normalised variance is judged over 30 days instead when those 30 days
//! are longer and of lower variance still.
//!
//! ```text
//! res = most common step of the 7 d series; skip if res > 900
//! skip if t_last - t_first < 446400 (5.25 days)
//! nv7 = var((v-min)/(max-min)) rounded to 4 dp;  skip unless nv7 <= 0.009
//! fetch 30 days; skip unless len(30 d) > len(7 d)
//! nv30 = the same on 30 d; judge the 30-day series iff nv30 < 0.0065
//! ```

use crate::Point;

/// Coarsest step (seconds) the handling applies to.
pub const MAX_RESOLUTION: i64 = 900;
/// Shortest span (seconds) of the 7-day series it applies to (5.25 days).
pub const MIN_DURATION: i64 = 446_400;
/// The 7-day normalised variance must be at most this.
pub const LOW_VARIANCE_7D: f64 = 0.009;
/// The 30-day normalised variance must be below this.
pub const LOW_VARIANCE_30D: f64 = 0.0065;
/// How far back the longer series reaches from the 7-day series' last point.
pub const LONG_SPAN: i64 = 30 * 86_400;

/// Why the 7-day series is judged as it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Skip {
    /// Fewer than two points, or the most common step is above 900 s.
    Resolution(Option<i64>),
    /// The series spans less than 5.25 days.
    Duration(i64),
    /// Its normalised variance is above 0.009 (or NaN: a flat series).
    NotLowVariance(f64),
    /// The 30-day series holds no more points than the 7-day one.
    NotLonger {
        /// Points in the 7-day series.
        short: usize,
        /// Points in the 30-day series.
        long: usize,
    },
    /// The 30-day normalised variance is 0.0065 or more (or NaN).
    LongNotLowVariance(f64),
}

/// The outcome of [`irregular_unstable`].
#[derive(Debug, Clone, PartialEq)]
pub enum IrregularUnstable {
    /// Judge the 7-day series.
    Keep(Skip),
    /// Judge this 30-day series instead.
    Use30Days {
        /// The 7-day normalised variance.
        nv7: f64,
        /// The 30-day normalised variance.
        nv30: f64,
        /// The series to judge.
        series: Vec<Point>,
    },
}

/// The most common step between consecutive timestamps, the smallest of
/// those tied (`np.unique(diffs, return_counts=True)` then `argmax`);
/// `None` for fewer than two points.
pub fn most_common_step(timestamps: &[i64]) -> Option<i64> {
    let mut diffs: Vec<i64> = timestamps.windows(2).map(|w| w[1] - w[0]).collect();
    diffs.sort_unstable();
    let mut best: Option<(i64, usize)> = None;
    for run in diffs.chunk_by(|a, b| a == b) {
        if best.is_none_or(|(_, n)| run.len() > n) {
            best = Some((run[0], run.len()));
        }
    }
    best.map(|(d, _)| d)
}

/// The population variance of the values scaled to `[0, 1]` by min and
/// max, rounded to 4 decimals as numpy's `round` (`rint(x·1e4)/1e4`). NaN
/// for an empty or flat series (0/0).
pub fn normalised_variance(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let (lo, hi) = numeric::min_max(values);
    let scaled: Vec<f64> = values.iter().map(|v| (v - lo) / (hi - lo)).collect();
    let var = numeric::var_with_mean(&scaled, numeric::mean(&scaled));
    (var * 1e4).round_ties_even() / 1e4
}

/// Decides whether `series_7d` (sorted, the series Mirage would judge) is
/// judged over 30 days instead, as §8.1. `fetch_30d` is called only when
/// the 7-day series qualifies, to get the series of the 30 days up to its
/// last point ([`LONG_SPAN`]).
///
/// A flat series has a NaN variance and is kept (the spec's `nv7 <= 0.009`
/// is false for NaN; the reference's code tests `nv7 > 0.009` instead and
/// would go on to the 30 days).
pub fn irregular_unstable(
    series_7d: &[Point],
    fetch_30d: impl FnOnce() -> Vec<Point>,
) -> IrregularUnstable {
    let timestamps: Vec<i64> = series_7d.iter().map(|p| p.0).collect();
    let res = most_common_step(&timestamps);
    if res.is_none_or(|r| r > MAX_RESOLUTION) {
        return IrregularUnstable::Keep(Skip::Resolution(res));
    }
    let duration = timestamps[timestamps.len() - 1] - timestamps[0];
    if duration < MIN_DURATION {
        return IrregularUnstable::Keep(Skip::Duration(duration));
    }
    let values: Vec<f64> = series_7d.iter().map(|p| p.1).collect();
    let nv7 = normalised_variance(&values);
    if nv7.is_nan() || nv7 > LOW_VARIANCE_7D {
        return IrregularUnstable::Keep(Skip::NotLowVariance(nv7));
    }
    let series = fetch_30d();
    if series.len() <= series_7d.len() {
        return IrregularUnstable::Keep(Skip::NotLonger {
            short: series_7d.len(),
            long: series.len(),
        });
    }
    let values: Vec<f64> = series.iter().map(|p| p.1).collect();
    let nv30 = normalised_variance(&values);
    if nv30.is_nan() || nv30 >= LOW_VARIANCE_30D {
        return IrregularUnstable::Keep(Skip::LongNotLowVariance(nv30));
    }
    IrregularUnstable::Use30Days { nv7, nv30, series }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000;

    /// `days` at `step` seconds: flat 0 with a spike to 1 every `every`
    /// points (a low normalised variance ≈ 1/every).
    fn spiky(days: i64, step: i64, every: i64) -> Vec<Point> {
        let n = days * 86_400 / step;
        (0..n)
            .map(|i| (T0 + i * step, if i % every == 0 { 1.0 } else { 0.0 }))
            .collect()
    }

    #[test]
    fn steps_and_variance() {
        assert_eq!(most_common_step(&[0, 60, 120, 300, 360]), Some(60));
        // tie between 60 and 120 (two each): the smaller
        assert_eq!(most_common_step(&[0, 120, 240, 300, 360]), Some(60));
        assert_eq!(most_common_step(&[5]), None);
        // 1 in 10 ones: var = 0.1·0.9 = 0.09
        let v: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i % 10 == 0))).collect();
        assert_eq!(normalised_variance(&v), 0.09);
        assert!(normalised_variance(&[3.0; 5]).is_nan());
        // scale-free: 5·v + 7 has the same normalised variance
        let w: Vec<f64> = v.iter().map(|x| 5.0 * x + 7.0).collect();
        assert_eq!(normalised_variance(&w), 0.09);
    }

    #[test]
    fn low_variance_week_is_judged_over_thirty_days() {
        // 1 in 200 → nv ≈ 0.005 at 7 and 30 days
        let week = spiky(7, 600, 200);
        let month = spiky(30, 600, 200);
        match irregular_unstable(&week, || month.clone()) {
            IrregularUnstable::Use30Days { nv7, nv30, series } => {
                assert!(nv7 <= LOW_VARIANCE_7D && nv30 < LOW_VARIANCE_30D);
                assert_eq!(series, month);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_skip() {
        let never = || -> Vec<Point> { panic!("fetched the 30 days needlessly") };
        // 1800 s steps: too coarse
        let coarse = spiky(7, 1800, 200);
        assert_eq!(
            irregular_unstable(&coarse, never),
            IrregularUnstable::Keep(Skip::Resolution(Some(1800)))
        );
        // 5 days: too short
        let short = spiky(5, 600, 200);
        assert!(matches!(
            irregular_unstable(&short, never),
            IrregularUnstable::Keep(Skip::Duration(_))
        ));
        // 1 in 10: variance 0.09
        let busy = spiky(7, 600, 10);
        assert!(matches!(
            irregular_unstable(&busy, never),
            IrregularUnstable::Keep(Skip::NotLowVariance(v)) if v > 0.09
        ));
        // flat: NaN, kept
        let flat: Vec<Point> = (0..1008).map(|i| (T0 + i * 600, 4.0)).collect();
        assert!(matches!(
            irregular_unstable(&flat, never),
            IrregularUnstable::Keep(Skip::NotLowVariance(v)) if v.is_nan()
        ));
        let week = spiky(7, 600, 200);
        // the 30 days no longer than the 7
        assert_eq!(
            irregular_unstable(&week, || week.clone()),
            IrregularUnstable::Keep(Skip::NotLonger {
                short: week.len(),
                long: week.len()
            })
        );
        // the 30 days busier: 1 in 50 → 0.0197
        assert_eq!(
            irregular_unstable(&week, || spiky(30, 600, 50)),
            IrregularUnstable::Keep(Skip::LongNotLowVariance(0.0197))
        );
    }
}
