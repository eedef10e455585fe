//! Downsampling, the reference's `downsample_timeseries` (pandas' backward
//! resample, mean, then each bucket re-aligned down to the target
//! resolution).

use thiserror::Error;

use crate::Point;

/// Target resolutions the reference names a pandas rule for
/// (`'10min'` … `'60min'`): their buckets are exactly the resolution.
const NAMED_RULES: [i64; 5] = [600, 900, 1200, 1800, 3600];

/// Why a series cannot be downsampled between two resolutions (the
/// reference logs the pandas exception and returns an empty series).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ResampleError {
    /// A resolution is zero or negative.
    #[error("resolutions must be positive (from {from} s to {to} s)")]
    NonPositiveResolution {
        /// The series' resolution.
        from: i64,
        /// The target resolution.
        to: i64,
    },
    /// The pandas rule the reference derives would be `'0T'` (the target is
    /// finer than the series).
    #[error("no resample rule from {from} s to {to} s (the target is finer than the series)")]
    ZeroWidthBucket {
        /// The series' resolution.
        from: i64,
        /// The target resolution.
        to: i64,
    },
}

/// The width (seconds) of the buckets the reference resamples with from
/// `from_res` to `to_res`: `to_res` for 600, 900, 1200, 1800 and 3600 s (and
/// for 60 s from a finer series); otherwise its rule is
/// `'<to_res // from_res>T'`, i.e. `to_res / from_res` **minutes** (integer
/// division). That is `to_res` whenever `from_res` is 60; for other pairs
/// (300 → 7200: 24 min buckets) it is the reference's behaviour, kept.
pub fn resample_rule_seconds(from_res: i64, to_res: i64) -> Result<i64, ResampleError> {
    if from_res <= 0 || to_res <= 0 {
        return Err(ResampleError::NonPositiveResolution {
            from: from_res,
            to: to_res,
        });
    }
    if NAMED_RULES.contains(&to_res) || (to_res == 60 && from_res < 60) {
        return Ok(to_res);
    }
    match to_res / from_res {
        0 => Err(ResampleError::ZeroWidthBucket {
            from: from_res,
            to: to_res,
        }),
        minutes => Ok(minutes * 60),
    }
}

/// Downsamples `series` (at `from_res` seconds) to `to_res` seconds as the
/// reference does with pandas, `df.resample(rule, origin='end').mean()`:
///
/// * buckets of width `w` ([`resample_rule_seconds`]) are laid backwards
///   from the newest timestamp `t_n`: edges `t_n - k·w`, from the first edge
///   at or before the oldest timestamp `t_0` minus one more `w`
///   (`e_0 = t_n - (⌊(t_n - t_0)/w⌋ + 1)·w`);
/// * each bucket is closed on the right, `(e_i - w, e_i]`, and labelled by
///   its right edge, so the newest bucket ends exactly at the newest point
///   and is never partly filled;
/// * its value is the mean of its finite values (Kahan-compensated in
///   timestamp order, as pandas' `group_mean`); a bucket without one is
///   dropped (pandas gives NaN, which the reference's callers remove);
/// * its timestamp is the label re-aligned down to the target resolution,
///   `t' = ⌊t / to_res⌋·to_res`.
///
/// Points need not be sorted (pandas sorts, stably). Every timestamp,
/// whatever its value, counts for the bucket edges, as in pandas, where a
/// NaN row is still in the index. Non-finite values are skipped (pandas
/// skips NaN; an infinite value would make its bucket ±inf or NaN there —
/// the series judged never hold one, since Graphite's nulls are dropped).
pub fn downsample(
    series: &[Point],
    from_res: i64,
    to_res: i64,
) -> Result<Vec<Point>, ResampleError> {
    let width = resample_rule_seconds(from_res, to_res)?;
    let sorted;
    let series = if series.windows(2).all(|w| w[0].0 <= w[1].0) {
        series
    } else {
        let mut copy = series.to_vec();
        copy.sort_by_key(|p| p.0);
        sorted = copy;
        &sorted
    };
    let (Some(&(first, _)), Some(&(last, _))) = (series.first(), series.last()) else {
        return Ok(Vec::new());
    };
    // The bucket of t is the k (counting back from the newest) with
    // last - (k+1)·w < t <= last - k·w, i.e. k = ⌊(last - t) / w⌋.
    let buckets = ((last - first) / width + 1) as usize;
    let mut out = Vec::new();
    let mut i = 0;
    for k in (0..buckets as i64).rev() {
        let label = last - k * width;
        let (mut sum, mut comp, mut n) = (0.0f64, 0.0f64, 0u64);
        while i < series.len() && series[i].0 <= label {
            let v = series[i].1;
            if v.is_finite() {
                let y = v - comp;
                let t = sum + y;
                comp = t - sum - y;
                sum = t;
                n += 1;
            }
            i += 1;
        }
        if n > 0 {
            out.push((label.div_euclid(to_res) * to_res, sum / n as f64));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(resample_rule_seconds(60, 600), Ok(600));
        assert_eq!(resample_rule_seconds(300, 900), Ok(900));
        assert_eq!(resample_rule_seconds(60, 300), Ok(300));
        assert_eq!(resample_rule_seconds(60, 7200), Ok(7200));
        // the reference's '<to/from>T' for an unnamed target from 300 s
        assert_eq!(resample_rule_seconds(300, 7200), Ok(24 * 60));
        assert_eq!(resample_rule_seconds(10, 60), Ok(60));
        assert_eq!(resample_rule_seconds(60, 90), Ok(60));
        assert_eq!(
            resample_rule_seconds(600, 300),
            Err(ResampleError::ZeroWidthBucket { from: 600, to: 300 })
        );
        assert_eq!(
            resample_rule_seconds(0, 600),
            Err(ResampleError::NonPositiveResolution { from: 0, to: 600 })
        );
        assert!(resample_rule_seconds(60, -600).is_err());
    }

    #[test]
    fn empty_series() {
        assert_eq!(downsample(&[], 60, 600), Ok(vec![]));
    }

    #[test]
    fn one_point_is_its_own_bucket() {
        assert_eq!(
            downsample(&[(1_000_123, 4.5)], 60, 600),
            Ok(vec![(999_600, 4.5)])
        );
    }

    #[test]
    fn buckets_end_at_the_newest_point_closed_right() {
        // minutely points at 60..=1260 (21 points), 600 s buckets backwards
        // from 1260: (60, 660], (660, 1260], and (-540, 60] for the first
        let series: Vec<Point> = (1..=21).map(|i| (i * 60, i as f64)).collect();
        let out = downsample(&series, 60, 600).unwrap();
        let mean = |a: i64, b: i64| (a..=b).sum::<i64>() as f64 / (b - a + 1) as f64;
        assert_eq!(
            out,
            vec![(0, 1.0), (600, mean(2, 11)), (1200, mean(12, 21))],
            "labels 60, 660, 1260 re-aligned down to 0, 600, 1200"
        );
    }

    #[test]
    fn aligned_end_uses_right_closed_buckets() {
        // newest point on a bucket edge: (0, 600] holds 60..600
        let series: Vec<Point> = (0..=10).map(|i| (i * 60, i as f64)).collect();
        let out = downsample(&series, 60, 600).unwrap();
        assert_eq!(out, vec![(0, 0.0), (600, 5.5)]);
    }

    #[test]
    fn irregular_gaps_drop_empty_buckets() {
        let series = vec![(0, 1.0), (60, 3.0), (3000, 10.0), (3540, 20.0)];
        let out = downsample(&series, 60, 600).unwrap();
        // buckets (e - 600, e] for e = 540, 1140, ..., 3540: 0 and 60 are in
        // the first, 3000 and 3540 in the last, the four between are empty
        assert_eq!(out, vec![(0, 2.0), (3000, 15.0)]);
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let series = vec![
            (60, f64::NAN),
            (120, 2.0),
            (180, f64::INFINITY),
            (240, 4.0),
            (900, f64::NAN),
            (960, f64::NEG_INFINITY),
        ];
        // buckets (-240, 360], (360, 960]: the second has no finite value,
        // yet the NaN at 960 still sets the edges
        let out = downsample(&series, 60, 600).unwrap();
        assert_eq!(out, vec![(0, 3.0)]);
    }

    #[test]
    fn unsorted_input_is_sorted_first() {
        let a = vec![(600, 1.0), (60, 2.0), (1200, 3.0), (660, 4.0)];
        let mut b = a.clone();
        b.sort_by_key(|p| p.0);
        assert_eq!(downsample(&a, 60, 600), downsample(&b, 60, 600));
    }

    #[test]
    fn duplicate_timestamps_both_count() {
        let out = downsample(&[(600, 1.0), (600, 3.0)], 60, 600).unwrap();
        assert_eq!(out, vec![(600, 2.0)]);
    }

    #[test]
    fn negative_timestamps_align_down() {
        let out = downsample(&[(-30, 1.0)], 60, 600).unwrap();
        assert_eq!(out, vec![(-600, 1.0)]);
    }

    #[test]
    fn bad_resolutions_are_errors() {
        assert!(downsample(&[(0, 1.0)], 600, 60).is_err());
        assert!(downsample(&[(0, 1.0)], 60, 0).is_err());
    }
}
