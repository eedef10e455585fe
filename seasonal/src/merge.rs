//! The series the seasonal check judges, the reference's
//! `downsample_full_duration_and_merge_graphite`.

use crate::{data_frequency, downsample, Point, ResampleError};

/// The long series (`long`, e.g. 7 days from the roll-up) with its recent
/// part replaced by the full-resolution series (`full`, at `full_res`
/// seconds) resampled to the long series' resolution; empty when there is
/// nothing to merge, and then the long series is judged as it is.
///
/// Why: the newest bucket of a roll-up is partly filled (a few extreme
/// values averaged alone make an outlier that the rest of the bucket would
/// have flattened); [`downsample`]'s backward buckets end at the newest
/// point, so every one of them is full.
///
/// * `g` = [`data_frequency`] of `long`; none, or 60 s: empty (already
///   full resolution);
/// * with `analysis_resolution` (MIRAGE_ANALYSIS_RESOLUTION; `None` or 0 is
///   off) coarser than `g`, both series are judged at it: `long` is first
///   downsampled from `g` to it;
/// * `aligned` = `full` downsampled from `full_res` to that resolution
///   (empty buckets dropped); for a `derivative` metric (a counter) its
///   `nonNegativeDerivative` — the long part came derived from the store
///   at its own resolution, this part is averaged first, then derived
///   (the Analyzer's `non_negative_derivative`, which leaves a series of
///   three points or fewer as it is, where Graphite's would derive it);
/// * result: the points of `long` before `aligned`'s first timestamp, then
///   `aligned` (empty when `aligned` is).
pub fn merge_long_and_full(
    long: &[Point],
    full: &[Point],
    full_res: i64,
    analysis_resolution: Option<i64>,
    derivative: bool,
) -> Result<Vec<Point>, ResampleError> {
    let timestamps: Vec<i64> = long.iter().map(|p| p.0).collect();
    let g_res = match data_frequency(&timestamps) {
        None | Some(60) => return Ok(Vec::new()),
        Some(r) => r,
    };
    let (long, use_res) = match analysis_resolution {
        Some(a) if a > 0 && g_res < a => (downsample(long, g_res, a)?, a),
        _ => (long.to_vec(), g_res),
    };
    let mut aligned = downsample(full, full_res, use_res)?;
    if derivative {
        aligned = analyze::derivative::non_negative_derivative(&aligned);
    }
    let Some(&(first_aligned, _)) = aligned.first() else {
        return Ok(Vec::new());
    };
    let mut merged: Vec<Point> = long.into_iter().filter(|p| p.0 < first_aligned).collect();
    merged.extend(aligned);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    /// 7 days at 600 s ending at `end`, values `f(t)`.
    fn long_600(end: i64, f: impl Fn(i64) -> f64) -> Vec<Point> {
        (0..7 * DAY / 600)
            .rev()
            .map(|k| end - k * 600)
            .map(|t| (t, f(t)))
            .collect()
    }

    /// The last day at 60 s ending at `end`, values `f(t)`.
    fn full_60(end: i64, f: impl Fn(i64) -> f64) -> Vec<Point> {
        (0..DAY / 60)
            .rev()
            .map(|k| end - k * 60)
            .map(|t| (t, f(t)))
            .collect()
    }

    #[test]
    fn nothing_to_merge() {
        let full = full_60(10 * DAY, |_| 1.0);
        // empty or one-point long series: no resolution
        assert_eq!(merge_long_and_full(&[], &full, 60, None, false), Ok(vec![]));
        assert_eq!(
            merge_long_and_full(&[(0, 1.0)], &full, 60, None, false),
            Ok(vec![])
        );
        // already minutely
        let long: Vec<Point> = (0..1000).map(|i| (i * 60, 1.0)).collect();
        assert_eq!(
            merge_long_and_full(&long, &full, 60, None, false),
            Ok(vec![])
        );
        // jittery minutely counts as minutely
        let long: Vec<Point> = (0..1000).map(|i| (i * 60 + i % 3, 1.0)).collect();
        assert_eq!(
            merge_long_and_full(&long, &full, 60, None, false),
            Ok(vec![])
        );
        // no full-resolution data
        let long = long_600(10 * DAY, |_| 1.0);
        assert_eq!(merge_long_and_full(&long, &[], 60, None, false), Ok(vec![]));
    }

    #[test]
    fn the_last_day_is_replaced_by_the_resampled_full_series() {
        let end = 10 * DAY;
        let long = long_600(end, |_| -1.0);
        let full = full_60(end + 120, |t| t as f64);
        let merged = merge_long_and_full(&long, &full, 60, None, false).unwrap();
        let aligned = downsample(&full, 60, 600).unwrap();
        let first = aligned[0].0;
        let kept: Vec<Point> = long.iter().copied().filter(|p| p.0 < first).collect();
        assert_eq!(merged.len(), kept.len() + aligned.len());
        assert_eq!(&merged[..kept.len()], &kept[..]);
        assert_eq!(&merged[kept.len()..], &aligned[..]);
        // buckets end at end + 120: labels realigned to 600 s
        assert_eq!(merged.last().unwrap().0, end);
        assert!(merged.iter().all(|p| p.0 % 600 == 0));
        assert!(merged.windows(2).all(|w| w[0].0 < w[1].0));
        // the full bucket (end - 480, end + 120] averages its ten minutes
        let expected = (1..=10).map(|i| (end - 480 + i * 60) as f64).sum::<f64>() / 10.0;
        assert_eq!(merged.last().unwrap().1, expected);
    }

    #[test]
    fn analysis_resolution_downsamples_the_long_series_too() {
        let end = 10 * DAY;
        let long = long_600(end, |t| (t / 600 % 7) as f64);
        let full = full_60(end, |t| (t % 13) as f64);
        let merged = merge_long_and_full(&long, &full, 60, Some(1800), false).unwrap();
        let long_1800 = downsample(&long, 600, 1800).unwrap();
        let aligned = downsample(&full, 60, 1800).unwrap();
        let kept: Vec<Point> = long_1800
            .into_iter()
            .filter(|p| p.0 < aligned[0].0)
            .collect();
        assert_eq!(merged, [kept, aligned].concat());
        assert!(merged.iter().all(|p| p.0 % 1800 == 0));
        // a finer or zero analysis resolution changes nothing
        let plain = merge_long_and_full(&long, &full, 60, None, false).unwrap();
        assert_eq!(
            merge_long_and_full(&long, &full, 60, Some(300), false).unwrap(),
            plain
        );
        assert_eq!(
            merge_long_and_full(&long, &full, 60, Some(0), false).unwrap(),
            plain
        );
    }

    #[test]
    fn derivative_metrics_derive_the_aligned_part() {
        let end = 10 * DAY;
        // a counter rising 1 per second; the long part already derived
        let long = long_600(end, |_| 600.0);
        let full = full_60(end, |t| (t - (end - DAY)) as f64);
        let merged = merge_long_and_full(&long, &full, 60, None, true).unwrap();
        let aligned = downsample(&full, 60, 600).unwrap();
        // the derivative starts one bucket later
        let first = aligned[1].0;
        let n_kept = long.iter().filter(|p| p.0 < first).count();
        assert_eq!(merged.len(), n_kept + aligned.len() - 1);
        assert!(
            merged[n_kept..].iter().all(|p| p.1 == 600.0),
            "{:?}",
            &merged[n_kept..n_kept + 3]
        );
        // a reset is dropped, not zeroed
        let mut full = full;
        let n = full.len();
        for p in &mut full[n - 30..] {
            p.1 -= 1e6;
        }
        let with_reset = merge_long_and_full(&long, &full, 60, None, true).unwrap();
        assert_eq!(with_reset.len(), merged.len() - 1);
    }

    #[test]
    fn resolution_errors_propagate() {
        // long at 300 s, full at 600 s: no rule from 600 to 300
        let long: Vec<Point> = (0..500).map(|i| (i * 300, 1.0)).collect();
        let full: Vec<Point> = (0..100).map(|i| (i * 600, 1.0)).collect();
        assert_eq!(
            merge_long_and_full(&long, &full, 600, None, false),
            Err(ResampleError::ZeroWidthBucket { from: 600, to: 300 })
        );
    }
}
