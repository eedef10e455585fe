//! The min-max scaling comparison (`spec/ionosphere.md` §4): the fallback
//! when a profile's plain features comparison did not match. Two series
//! whose ranges are alike (within 15 %) are each scaled to `[0, 1]` and the
//! features sums of the scaled series compared, so a series that has the
//! profile's shape at a slightly different level or amplitude still matches.

use std::cell::OnceCell;

use super::{MinMaxSide, Profile};
use crate::{percent_different, FeatureSet, Features};

/// The length difference (profile − check, in points) within which the two
/// scaled series are comparable at all: `[-14, 13]`, as the reference.
pub const LENGTH_DIFFERENCE: std::ops::RangeInclusive<i64> = -14..=13;

/// Whether two extremes (both minima or both maxima) are alike, the
/// reference's integer rule:
///
/// * `int(profile) == int(check)` (truncation toward zero), or
/// * both non-zero and `int(check) ∈ [int(profile·(1−tol)), int(profile·(1+tol)))`
///   (a half-open integer range).
///
/// Negative extremes give an empty range (`profile·(1−tol) > profile·(1+tol)`),
/// so they are alike only when their integer parts are equal. Truncation is
/// done in floating point (`f64::trunc`), which is exact and, unlike an
/// integer cast, cannot saturate.
pub fn extremes_similar(profile: f64, check: f64, tolerance: f64) -> bool {
    let (p, c) = (profile.trunc(), check.trunc());
    if p == c {
        return true;
    }
    if profile == 0.0 || check == 0.0 {
        return false;
    }
    let low = (profile * (1.0 - tolerance)).trunc();
    let high = (profile * (1.0 + tolerance)).trunc();
    low <= c && c < high
}

/// The reference's range test: the minima alike and then the maxima alike
/// ([`extremes_similar`]).
pub fn ranges_similar(profile: (f64, f64), check: (f64, f64), tolerance: f64) -> bool {
    extremes_similar(profile.0, check.0, tolerance)
        && extremes_similar(profile.1, check.1, tolerance)
}

/// `x' = (x − min)/(max − min)`; all zeros when `max == min` or either is
/// not finite. When `max − min` overflows (extremes near ±f64::MAX) every
/// term is halved first, which gives the same ratios without overflow.
pub fn scale(values: &[f64], min: f64, max: f64) -> Vec<f64> {
    let span = max - min;
    if span == 0.0 || !min.is_finite() || !max.is_finite() {
        return vec![0.0; values.len()];
    }
    if span.is_finite() {
        values.iter().map(|v| (v - min) / span).collect()
    } else {
        let half_span = max / 2.0 - min / 2.0;
        values
            .iter()
            .map(|v| (v / 2.0 - min / 2.0) / half_span)
            .collect()
    }
}

/// The min-max side of finite `values`: their range and the sum of every
/// efficient feature of the scaled series (NaN skipped). `None` for no
/// values.
pub fn side(values: &[f64]) -> Option<MinMaxSide> {
    let (min, max) = extremes(values)?;
    let scaled = scale(values, min, max);
    Some(MinMaxSide {
        min,
        max,
        values_count: values.len(),
        scaled_features_sum: Features::compute(&scaled, FeatureSet::Efficient).sum(),
    })
}

fn extremes(values: &[f64]) -> Option<(f64, f64)> {
    let first = *values.first()?;
    Some(
        values
            .iter()
            .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v))),
    )
}

/// A profile's min-max side, computed once and kept in its cache. Points
/// whose value is not finite are dropped, as for features.
pub fn profile_side(profile: &Profile) -> Option<&MinMaxSide> {
    profile
        .cache
        .minmax
        .get_or_init(|| {
            let values: Vec<f64> = profile
                .series
                .iter()
                .map(|p| p.1)
                .filter(|v| v.is_finite())
                .collect();
            side(&values)
        })
        .as_ref()
}

/// The check's side of min-max comparisons: its range at once, the
/// features sum of its scaled series on first need (then reused for every
/// profile).
#[derive(Debug)]
pub struct MinMaxCheck<'a> {
    values: &'a [f64],
    range: Option<(f64, f64)>,
    scaled_sum: OnceCell<f64>,
}

impl<'a> MinMaxCheck<'a> {
    /// `values`: the check series' finite values, oldest first.
    pub fn new(values: &'a [f64]) -> MinMaxCheck<'a> {
        MinMaxCheck {
            values,
            range: extremes(values),
            scaled_sum: OnceCell::new(),
        }
    }

    /// Σ of the efficient features of the check's scaled series.
    pub fn scaled_features_sum(&self) -> f64 {
        *self.scaled_sum.get_or_init(|| match self.range {
            Some((min, max)) => {
                let scaled = scale(self.values, min, max);
                Features::compute_parallel(&scaled, FeatureSet::Efficient).sum()
            }
            None => f64::NAN,
        })
    }

    /// Compares with a profile: ranges alike within `tolerance`
    /// (`IONOSPHERE_MINMAX_SCALING_RANGE_TOLERANCE`, 0.15), lengths within
    /// [`LENGTH_DIFFERENCE`], both scaled features sums non-zero, then
    /// `pd = percent_different(profile sum, check sum)` must be non-zero
    /// (the reference tests `if pd:`, so an exact 0 is not a match) and
    /// strictly below `percent_similar` (1.0; 3.5 for echo). Returns the
    /// percent difference of a match.
    pub fn matches(&self, profile: &Profile, tolerance: f64, percent_similar: f64) -> Option<f64> {
        let check_range = self.range?;
        let p = profile_side(profile)?;
        if !ranges_similar((p.min, p.max), check_range, tolerance) {
            return None;
        }
        let diff = p.values_count as i64 - self.values.len() as i64;
        if !LENGTH_DIFFERENCE.contains(&diff) {
            return None;
        }
        let (fp_sum, check_sum) = (p.scaled_features_sum, self.scaled_features_sum());
        // `if F_fp and F_anom`: zero sums never compare (NaN is truthy in
        // Python but percent_different turns it into None).
        if fp_sum == 0.0 || check_sum == 0.0 {
            return None;
        }
        let pd = percent_different(fp_sum, check_sum)?;
        (pd != 0.0 && pd < percent_similar).then_some(pd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_rules() {
        // equal integer parts
        assert!(extremes_similar(10.2, 10.9, 0.15));
        // 100 → [int(85.0), int(114.99999999999999)) = [85, 114), as in
        // Python: 113 in, 114 out
        assert!(extremes_similar(100.0, 113.9, 0.15));
        assert!(!extremes_similar(100.0, 114.5, 0.15));
        assert!(extremes_similar(100.0, 85.0, 0.15));
        assert!(!extremes_similar(100.0, 84.99, 0.15));
        // a zero on one side only compares integer parts
        assert!(!extremes_similar(0.0, 1.0, 0.15));
        assert!(extremes_similar(0.0, 0.5, 0.15));
        // negative: empty range, only equal integer parts
        assert!(extremes_similar(-10.0, -10.5, 0.15));
        assert!(!extremes_similar(-10.0, -11.0, 0.15));
        // small values: [int(2·0.85), int(2·1.15)) = [1, 2)
        assert!(extremes_similar(2.0, 1.2, 0.15));
        assert!(!extremes_similar(2.0, 3.0, 0.15));
    }

    #[test]
    fn scaling() {
        assert_eq!(scale(&[1.0, 3.0, 2.0], 1.0, 3.0), vec![0.0, 1.0, 0.5]);
        assert_eq!(scale(&[4.0, 4.0], 4.0, 4.0), vec![0.0, 0.0]);
        assert!(side(&[]).is_none());
        let s = side(&[5.0; 20]).unwrap();
        assert_eq!((s.min, s.max, s.values_count), (5.0, 5.0, 20));
    }

    #[test]
    fn empty_check_never_matches() {
        let c = MinMaxCheck::new(&[]);
        assert!(c.scaled_features_sum().is_nan());
    }
}
