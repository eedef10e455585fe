//! Spectral features: the legacy FFT coefficients and Welch's density.

use std::f64::consts::PI;

/// `Σ_t a_t·e^{-2πi·t·k/len}` for one bin `k`, twiddles from the reduced
/// angle `(t·k mod len)/len` so they are exact to the last bit or two.
fn dft_bin(a: &[f64], k: usize, len: usize) -> (f64, f64) {
    let (mut re, mut im) = (0.0, 0.0);
    for (t, &v) in a.iter().enumerate() {
        let angle = 2.0 * PI * ((t * k) % len) as f64 / len as f64;
        re += v * angle.cos();
        im -= v * angle.sin();
    }
    (re, im)
}

/// `fft_coefficient(coeff)` for `coeff = 0..coeffs.len()` (the fork's old
/// form): the real part of the DFT of the **first** `N = min(n,
/// 2·max(max coeff, 1))` values only (numpy `rfft(x, N)` truncates),
/// `Re X_k = Σ_{m<N} x_m cos(2π·m·k/N)`; 0 for `k ≥ N/2 + 1` (beyond the
/// one-sided spectrum). With Skyline's coefficients 0..9, `N = min(n, 18)`.
/// Today's tsfresh transforms the whole series and also offers the
/// imaginary part, absolute value and angle.
pub fn fft_coefficients(x: &[f64], coeffs: &[usize]) -> Vec<f64> {
    let max_coeff = coeffs.iter().copied().max().unwrap_or(0).max(1);
    let len = x.len().min(2 * max_coeff);
    let bins = len / 2 + 1;
    coeffs
        .iter()
        .map(|&k| {
            if len == 0 || k >= bins {
                0.0
            } else {
                dft_bin(&x[..len], k, len).0
            }
        })
        .collect()
}

/// scipy's periodic Hann window of length `l` (`get_window("hann", l)`):
/// `0.5 + 0.5·cos(φ_t)`, `φ_t` the first `l` points of `linspace(-π, π, l+1)`.
pub(crate) fn hann_periodic(l: usize) -> Vec<f64> {
    if l <= 1 {
        return vec![1.0; l];
    }
    let step = (PI - -PI) / l as f64;
    (0..l)
        .map(|t| 0.5 + 0.5 * (t as f64 * step + -PI).cos())
        .collect()
}

/// `spkt_welch_density(coeff)` for several coefficients: scipy's
/// `welch(x, nperseg=min(n, 256))` with its defaults (fs 1, periodic Hann
/// window of `L = nperseg` points, `L/2` overlap, each segment's mean
/// removed, one-sided density): for every segment
/// `P_k = c_k·|Σ_t w_t (x_t - x̄) e^{-2πi·tk/L}|² / Σ w_t²` (`c_k = 2`
/// except at DC and, for even `L`, Nyquist), averaged over segments. NaN for
/// `coeff ≥ L/2 + 1` (or an empty series).
///
/// Only the requested bins are needed, so each is a direct DFT sum over the
/// segment (O(L) per bin) instead of a full FFT.
pub fn spkt_welch_density(x: &[f64], coeffs: &[usize]) -> Vec<f64> {
    let n = x.len();
    let l = n.min(256);
    if l == 0 || x.iter().any(|v| !v.is_finite()) {
        return vec![f64::NAN; coeffs.len()];
    }
    let bins = l / 2 + 1;
    let w = hann_periodic(l);
    let scale = 1.0 / numeric::sum_map(&w, |v| v * v);
    let step = l - l / 2;
    let segments = (n - l) / step + 1;
    // twiddles e^{-2πi·tk/L} for each requested bin, computed once
    let twiddles: Vec<Vec<(f64, f64)>> = coeffs
        .iter()
        .map(|&k| {
            (0..l)
                .map(|t| {
                    let angle = 2.0 * PI * ((t * k) % l) as f64 / l as f64;
                    (angle.cos(), angle.sin())
                })
                .collect()
        })
        .collect();
    let mut acc = vec![0.0; coeffs.len()];
    let mut seg = vec![0.0; l];
    for s in 0..segments {
        let raw = &x[s * step..s * step + l];
        let m = numeric::mean(raw);
        for ((d, &v), &wt) in seg.iter_mut().zip(raw).zip(&w) {
            *d = wt * (v - m);
        }
        for ((a, &k), tw) in acc.iter_mut().zip(coeffs).zip(&twiddles) {
            if k >= bins {
                continue;
            }
            let (mut re, mut im) = (0.0, 0.0);
            for (&v, &(c, s)) in seg.iter().zip(tw) {
                re += v * c;
                im -= v * s;
            }
            let mut p = (re * re + im * im) * scale;
            let nyquist = l.is_multiple_of(2) && k == l / 2;
            if k != 0 && !nyquist {
                p *= 2.0;
            }
            *a += p;
        }
    }
    coeffs
        .iter()
        .zip(acc)
        .map(|(&k, a)| {
            if k >= bins {
                f64::NAN
            } else {
                a / segments as f64
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_fft_uses_the_first_18_points() {
        let mut x = vec![1.0; 18];
        x.extend([1e6; 10]);
        let c = fft_coefficients(&x, &(0..10).collect::<Vec<_>>());
        assert!((c[0] - 18.0).abs() < 1e-12);
        assert!(c[1..].iter().all(|v| v.abs() < 1e-12));
        // 3 points: bins 0 and 1 only
        let c = fft_coefficients(&[1.0, 2.0, 3.0], &[0, 1, 2, 9]);
        assert_eq!(c[0], 6.0);
        assert!((c[1] + 1.5).abs() < 1e-12);
        assert_eq!((c[2], c[3]), (0.0, 0.0));
    }

    #[test]
    fn hann_matches_the_textbook_form() {
        let w = hann_periodic(8);
        for (t, v) in w.iter().enumerate() {
            let e = 0.5 - 0.5 * (2.0 * PI * t as f64 / 8.0).cos();
            assert!((v - e).abs() < 1e-15);
        }
    }
}
