//! The features sum and the features-profile comparison of
//! `spec/ionosphere.md` §3.

use crate::Features;

/// The features sum: `Σ` of the values with NaN skipped (±inf kept), as
/// Skyline sums a features CSV for `features_sum` and the learning and
/// repetitive-pattern comparisons. 0 for no values.
pub fn features_sum(values: &[f64]) -> f64 {
    values.iter().filter(|v| !v.is_nan()).sum()
}

/// Skyline's `percent_different(base, compare)`:
/// `|(compare - base) / base · 100|`. `None` ("no match") when either input
/// is NaN or infinite, or when `base` is 0 and `compare` is not; 0 when
/// both are 0. `base` is the features profile's sum.
pub fn percent_different(base: f64, compare: f64) -> Option<f64> {
    if !base.is_finite() || !compare.is_finite() {
        return None;
    }
    if base == 0.0 && compare == 0.0 {
        return Some(0.0);
    }
    if base == 0.0 {
        return None;
    }
    let pd = ((compare - base) / base * 100.0).abs();
    if pd.is_nan() {
        Some(0.0)
    } else if pd.is_infinite() {
        None
    } else {
        Some(pd)
    }
}

/// The core features-profile comparison: sums over the features present on
/// both sides (by id) and their percent difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommonComparison {
    /// Number of ids present in both.
    pub common_count: usize,
    /// Σ of the profile's values over the common ids.
    pub sum_profile: f64,
    /// Σ of the calculated values over the common ids.
    pub sum_calculated: f64,
    /// `percent_different(sum_profile, sum_calculated)`.
    pub percent_different: Option<f64>,
}

impl CommonComparison {
    /// Compares a stored profile with freshly calculated features. Only ids
    /// on both sides count (a profile holds only stored features). The sums
    /// are plain sums: a NaN on either side makes that sum NaN, and so
    /// `percent_different` `None` (no match), as in the reference.
    pub fn new(profile: &Features, calculated: &Features) -> CommonComparison {
        let (mut count, mut sp, mut sc) = (0, 0.0, 0.0);
        for (id, _, v) in profile.iter() {
            if let Some(c) = calculated.get(id) {
                count += 1;
                sp += v;
                sc += c;
            }
        }
        CommonComparison {
            common_count: count,
            sum_profile: sp,
            sum_calculated: sc,
            percent_different: if count == 0 {
                None
            } else {
                percent_different(sp, sc)
            },
        }
    }

    /// Whether the sums agree to 6 decimals (numpy's
    /// `assert_almost_equal(…, decimal=6)`: `|Δ| < 1.5e-6`).
    pub fn almost_equal(&self) -> bool {
        self.common_count > 0 && (self.sum_profile - self.sum_calculated).abs() < 1.5e-6
    }

    /// A features-profile match: no common features never matches;
    /// otherwise [`CommonComparison::almost_equal`], or a percent difference
    /// strictly below `percent_similar` (`IONOSPHERE_FEATURES_PERCENT_SIMILAR`,
    /// default 1.0; 2.5 for echo profiles).
    pub fn matches(&self, percent_similar: f64) -> bool {
        self.common_count > 0
            && (self.almost_equal()
                || self
                    .percent_different
                    .is_some_and(|pd| pd < percent_similar))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_different_rules() {
        assert_eq!(percent_different(0.0, 0.0), Some(0.0));
        assert_eq!(percent_different(0.0, 1.0), None);
        assert_eq!(percent_different(200.0, 201.0), Some(0.5));
        assert_eq!(percent_different(-200.0, -198.0), Some(1.0));
        assert_eq!(percent_different(f64::NAN, 1.0), None);
        assert_eq!(percent_different(1.0, f64::INFINITY), None);
    }

    #[test]
    fn common_features_only() {
        let profile = Features::from_pairs([(1, 10.0), (2, 20.0), (300, 5.0)]);
        let calc = Features::from_pairs([(2, 20.1), (1, 10.0), (3, 99.0)]);
        let c = CommonComparison::new(&profile, &calc);
        assert_eq!(c.common_count, 2);
        assert_eq!(c.sum_profile, 30.0);
        assert!((c.percent_different.unwrap() - 0.1 / 30.0 * 100.0).abs() < 1e-12);
        assert!(c.matches(1.0));
        assert!(!c.matches(0.1));
        assert!(!CommonComparison::new(&profile, &Features::from_pairs([(9, 1.0)])).matches(1.0));
        assert_eq!(features_sum(&[1.0, f64::NAN, 2.0]), 3.0);
    }
}
