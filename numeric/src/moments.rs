//! Mean, variance and standard deviation (numpy/pandas), and pandas'
//! exponentially weighted mean and standard deviation.

use crate::summation::{sum, sum_map};

/// Arithmetic mean `Σx / n` (`np.mean`); NaN for an empty slice.
#[inline]
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    sum(xs) / xs.len() as f64
}

/// Population variance around a given mean, `Σ(x-m)² / n` (`np.var` when
/// `m` is the mean); NaN for an empty slice. Taking `m` lets a caller that
/// already has the mean skip a pass.
#[inline]
pub fn var_with_mean(xs: &[f64], m: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    sum_map(xs, |x| (x - m) * (x - m)) / xs.len() as f64
}

/// Standard deviation with `ddof` delta degrees of freedom,
/// `sqrt(Σ(x-mean)² / (n-ddof))`; NaN when `n <= ddof` (numpy/pandas).
#[inline]
pub fn std(xs: &[f64], ddof: usize) -> f64 {
    mean_std(xs, ddof).1
}

/// [`mean`] and [`std()`] together. Two passes (mean first, then squared
/// deviations) rather than `Σx²` and `Σx`: values with an epoch-sized offset
/// would otherwise cancel catastrophically.
#[inline]
pub fn mean_std(xs: &[f64], ddof: usize) -> (f64, f64) {
    let n = xs.len();
    let m = mean(xs);
    if n <= ddof {
        return (m, f64::NAN);
    }
    let ss = sum_map(xs, |x| (x - m) * (x - m));
    (m, (ss / (n - ddof) as f64).sqrt())
}

/// Sample standard deviation (ddof = 1), as pandas' `Series.std()`.
#[inline]
pub fn sample_std(xs: &[f64]) -> f64 {
    std(xs, 1)
}

/// Exponentially weighted mean and bias-corrected standard deviation at the
/// last index, as pandas' `ewm(com=com, adjust=True, ignore_na=False,
/// min_periods=0)` `.mean()` / `.std(bias=False)` on NaN-free input.
///
/// With `α = 1/(1+com)` and weights `w_i = (1-α)^(n-1-i)` (the newest point
/// weighs 1): `μ = Σw·x / Σw`, and
/// `σ² = [Σw·(x-μ)² / Σw] · (Σw)² / ((Σw)² - Σw²)`, the reliability-weights
/// bias correction. σ is NaN when that denominator is not positive (a single
/// point).
#[inline]
pub fn ewm_mean_std(xs: &[f64], com: f64) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let decay = 1.0 - 1.0 / (1.0 + com);
    // Walk backwards so the newest point has weight 1; accumulate moments.
    let (mut w, mut sw, mut sw2, mut swx) = (1.0f64, 0.0, 0.0, 0.0);
    for &x in xs.iter().rev() {
        sw += w;
        sw2 += w * w;
        swx += w * x;
        w *= decay;
    }
    let mu = swx / sw;
    let mut w = 1.0f64;
    let mut swd = 0.0;
    for &x in xs.iter().rev() {
        swd += w * (x - mu) * (x - mu);
        w *= decay;
    }
    let denom = sw * sw - sw2;
    let sigma = if denom > 0.0 {
        ((swd / sw) * sw * sw / denom).sqrt()
    } else {
        f64::NAN
    };
    (mu, sigma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_ddof() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(std(&xs, 0), 2.0);
        assert_eq!(var_with_mean(&xs, mean(&xs)), 4.0);
        assert!((sample_std(&xs) - (32.0f64 / 7.0).sqrt()).abs() < 1e-15);
        assert!(sample_std(&[1.0]).is_nan());
        assert!(mean(&[]).is_nan());
        assert!(var_with_mean(&[], 0.0).is_nan());
    }

    #[test]
    fn ewm_two_points_by_hand() {
        // com 1: alpha 1/2, weights [0.5, 1]; mean = (0.5·0 + 1·2)/1.5 = 4/3.
        let (mu, sigma) = ewm_mean_std(&[0.0, 2.0], 1.0);
        assert!((mu - 4.0 / 3.0).abs() < 1e-15);
        // biased var = (0.5·16/9 + 1·4/9)/1.5 = 8/9; factor 2.25/(2.25-1.25) = 2.25
        assert!((sigma - (2.0f64).sqrt()).abs() < 1e-12);
        assert!(ewm_mean_std(&[5.0], 50.0).1.is_nan());
    }
}
