//! Autocorrelation family, the time-reversal statistic and the ADF test.

use rustfft::{num_complex::Complex, FftPlanner};

/// `autocorrelation(lag)` (the fork's definition, pandas
/// `Series.autocorr(lag)`): the Pearson correlation of `x[0..n-lag]` with
/// `x[lag..n]`, each side centred on *its own* mean,
/// `r = Σ(a-ā)(b-b̄) / sqrt(Σ(a-ā)² Σ(b-b̄)²)`, pairs with a NaN dropped, the
/// result clipped to `[-1, 1]`. NaN with fewer than two pairs or a constant
/// side. (Today's tsfresh centres both sides on the overall mean and divides
/// by `(n-lag)·σ²`, which gives different values.)
pub fn autocorrelation(x: &[f64], lag: usize) -> f64 {
    if lag >= x.len() {
        return f64::NAN;
    }
    let (a, b): (Vec<f64>, Vec<f64>) = x[..x.len() - lag]
        .iter()
        .zip(&x[lag..])
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(&a, &b)| (a, b))
        .unzip();
    let n = a.len();
    if n < 2 {
        return f64::NAN;
    }
    let (ma, mb) = (numeric::mean(&a), numeric::mean(&b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&u, &v) in a.iter().zip(&b) {
        let (du, dv) = (u - ma, v - mb);
        sab += du * dv;
        saa += du * du;
        sbb += dv * dv;
    }
    // numpy's corrcoef: covariances scaled by 1/(n-1), then divided by each
    // standard deviation in turn
    let f = 1.0 / (n - 1) as f64;
    let r = (sab * f) / (saa * f).sqrt() / (sbb * f).sqrt();
    if r.is_nan() {
        r
    } else {
        r.clamp(-1.0, 1.0)
    }
}

/// Σ_t (x_t - μ)(x_{t+l} - μ) for every lag `l = 0..n-1` (the
/// autocovariance sums), through one zero-padded FFT: `|F(x-μ)|²` transformed
/// back. O(n log n) instead of numpy's O(n²) `correlate`.
pub(crate) fn autocovariance_sums(x: &[f64], mu: f64) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let size = (2 * n - 1).next_power_of_two();
    let mut planner = FftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(size);
    let inv = planner.plan_fft_inverse(size);
    let mut buf: Vec<Complex<f64>> = (0..size)
        .map(|i| Complex::new(if i < n { x[i] - mu } else { 0.0 }, 0.0))
        .collect();
    fwd.process(&mut buf);
    for c in &mut buf {
        *c = Complex::new(c.norm_sqr(), 0.0);
    }
    inv.process(&mut buf);
    let scale = 1.0 / size as f64;
    buf[..n].iter().map(|c| c.re * scale).collect()
}

/// `mean_autocorrelation` (fork only; not in today's tsfresh): with
/// `σ² = var(x)`, 0 when `|σ²| < 1e-10` or `n = 1`, otherwise the NaN-mean
/// over lags `l = 1..n-1` of `Σ_t (x_t-μ)(x_{t+l}-μ) / (l·σ²)`.
///
/// The divisor is the lag `l`, not the textbook `n - l`: the old tsfresh
/// divided the head of `np.correlate(x-μ, x-μ, "full")` (lags n-1 down
/// to 1) by `arange(n-1, 0, -1)`, which pairs each lag with itself;
/// Skyline's baseline values need that.
pub fn mean_autocorrelation(x: &[f64]) -> f64 {
    let n = x.len();
    let mu = numeric::mean(x);
    let var = numeric::var_with_mean(x, mu);
    if var.abs() < 1e-10 || n == 1 {
        return 0.0;
    }
    if n == 0 || !var.is_finite() {
        return f64::NAN;
    }
    let c = autocovariance_sums(x, mu);
    // numpy orders the head by decreasing lag: keep that order for the mean
    let terms: Vec<f64> = (1..n).rev().map(|l| c[l] / (var * l as f64)).collect();
    numeric::mean(&terms)
}

/// `time_reversal_asymmetry_statistic(lag)` (the fork's old form): 0 when
/// `2·lag > n`; `x[n-1]²·x[0] - x[lag-1]·x[0]²` when `2·lag = n`;
/// otherwise the mean over `i = 0..n-2·lag-1` of
/// `x[i+2·lag]²·x[i] - x[i+lag]·x[i]²`.
///
/// Today's tsfresh multiplies the first term by `x[i+lag]`
/// (`x[i+2lag]²·x[i+lag] - x[i+lag]·x[i]²`); Skyline kept `x[i]`.
pub fn time_reversal_asymmetry_statistic(x: &[f64], lag: usize) -> f64 {
    let n = x.len();
    if n == 0 || 2 * lag > n {
        return 0.0;
    }
    if 2 * lag == n && lag > 0 {
        return x[n - 1] * x[n - 1] * x[0] - x[lag - 1] * x[0] * x[0];
    }
    let terms: Vec<f64> = (0..n - 2 * lag)
        .map(|i| x[i + 2 * lag] * x[i + 2 * lag] * x[i] - x[i + lag] * x[i] * x[i])
        .collect();
    numeric::mean(&terms)
}

/// `augmented_dickey_fuller`: the test statistic of statsmodels'
/// `adfuller(x)` with its defaults (constant only, `maxlag =
/// ceil(12·(n/100)^¼)` capped at `n/2 - 2`, lag chosen by AIC): the t-value
/// of `γ` in `Δx_t = α + γ·x_{t-1} + Σ_j β_j Δx_{t-j} + ε_t`. NaN where
/// statsmodels raises (too short, constant, NaN/inf input).
///
/// Long series take a cross-products fast path (`adf_fast`) that falls back
/// to the exact QR computation whenever its accuracy could be in doubt.
pub fn augmented_dickey_fuller(x: &[f64]) -> f64 {
    if x.iter().all(|v| v.is_finite()) {
        if let Some(t) = super::adf_fast::adf_statistic(x) {
            return t;
        }
    }
    match numeric::adf::adfuller(x, None) {
        Ok(r) => r.statistic,
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autocovariance_matches_direct() {
        let x: Vec<f64> = (0..300)
            .map(|i| ((i * 37 % 101) as f64).sin() * 5.0 + i as f64 * 0.01)
            .collect();
        let mu = numeric::mean(&x);
        let c = autocovariance_sums(&x, mu);
        for l in [0, 1, 7, 150, 299] {
            let d: f64 = (0..x.len() - l)
                .map(|t| (x[t] - mu) * (x[t + l] - mu))
                .sum();
            assert!((c[l] - d).abs() < 1e-9 * c[0], "lag {l}");
        }
    }

    #[test]
    fn autocorrelation_of_a_line_is_one() {
        let x: Vec<f64> = (0..20).map(f64::from).collect();
        assert!((autocorrelation(&x, 3) - 1.0).abs() < 1e-15);
        assert!(autocorrelation(&[1.0, 1.0, 1.0, 1.0], 1).is_nan());
        assert!(autocorrelation(&x, 19).is_nan());
    }
}
