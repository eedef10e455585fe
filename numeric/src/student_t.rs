//! Student's t distribution: the upper-tail quantile the Grubbs test needs.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::StatsError;

/// `scipy.stats.t.isf(p, df)`: the `t` with `P(T > t) = p` for Student's t
/// with `df` degrees of freedom (location 0, scale 1).
///
/// Computed as `-ppf(p)`: the distribution is symmetric, and the lower-tail
/// quantile of a small `p` keeps its digits where `ppf(1 - p)` would first
/// round `1 - p`. Agrees with scipy (Boost) to about 1e-10 relative
/// (`tests/reference_stats.rs`).
///
/// `Err(Invalid)` when `df` is not positive (scipy gives NaN) or `p` is not
/// within `[0, 1]` (statrs would panic); `p = 0` and `p = 1` give `+∞`
/// and `-∞`.
pub fn student_t_isf(p: f64, df: f64) -> Result<f64, StatsError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(StatsError::Invalid(format!(
            "student_t_isf: p = {p} is not a probability"
        )));
    }
    let dist = StudentsT::new(0.0, 1.0, df)
        .map_err(|e| StatsError::Invalid(format!("student_t_isf: df = {df}: {e}")))?;
    Ok(if p == 0.0 {
        f64::INFINITY
    } else if p == 1.0 {
        f64::NEG_INFINITY
    } else {
        -dist.inverse_cdf(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_quantiles() {
        // t tables: t(0.025, 10) = 2.228139, t(0.05, 1) = 6.313752
        assert!((student_t_isf(0.025, 10.0).unwrap() - 2.228_138_851_986_274).abs() < 1e-9);
        assert!((student_t_isf(0.05, 1.0).unwrap() - 6.313_751_514_675_043).abs() < 1e-9);
        assert!(student_t_isf(0.5, 7.0).unwrap().abs() < 1e-12);
        assert_eq!(student_t_isf(0.0, 7.0), Ok(f64::INFINITY));
        assert_eq!(student_t_isf(1.0, 7.0), Ok(f64::NEG_INFINITY));
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(student_t_isf(0.05, 0.0).is_err());
        assert!(student_t_isf(0.05, -1.0).is_err());
        assert!(student_t_isf(0.05, f64::NAN).is_err());
        assert!(student_t_isf(1.5, 5.0).is_err());
        assert!(student_t_isf(f64::NAN, 5.0).is_err());
    }
}
