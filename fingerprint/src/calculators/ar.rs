//! Autoregressive coefficients.

/// `ar_coefficient(k, coeff)` for `coeff = 0..=k` at once: the OLS fit of
/// `x_t = φ_0 + Σ_{i=1..k} φ_i·x_{t-i} + ε_t` over `t = k..n-1`, as
/// statsmodels' `AutoReg(x, lags=k, trend="c").fit()` computes it (the
/// minimum-norm pseudo-inverse solution, singular values below
/// `1e-15·s_max` dropped). Returns `[φ_0, …, φ_k]`; all NaN where statsmodels
/// raises: fewer than `k + 2` regression rows (`n < 2k + 2`), or non-finite
/// input.
///
/// The fork used the removed `AR(...).fit(maxlag=k, solver="mle")`;
/// Skyline's baselines from tsfresh 0.19.1 on are AutoReg's, as here.
pub fn ar_coefficients(x: &[f64], k: usize) -> Vec<f64> {
    let n = x.len();
    let cols = k + 1;
    if n < k || n - k <= cols || x.iter().any(|v| !v.is_finite()) {
        return vec![f64::NAN; cols];
    }
    let rows = n - k;
    // column-major design: constant, then lags 1..k
    let mut a = vec![0.0; rows * cols];
    a[..rows].fill(1.0);
    for j in 1..=k {
        let col = &mut a[j * rows..(j + 1) * rows];
        col.copy_from_slice(&x[k - j..n - j]);
    }
    let y = x[k..].to_vec();
    lstsq_pinv(&mut a, rows, cols, y).unwrap_or_else(|| vec![f64::NAN; cols])
}

/// One coefficient of [`ar_coefficients`]: `φ_coeff` (NaN for `coeff > k`).
pub fn ar_coefficient(x: &[f64], k: usize, coeff: usize) -> f64 {
    ar_coefficients(x, k)
        .get(coeff)
        .copied()
        .unwrap_or(f64::NAN)
}

/// Minimum-norm least squares `argmin ‖Aβ - y‖` through a Householder QR
/// of `A` (column-major `m×k`, `m ≥ k`) and a one-sided Jacobi SVD of the
/// `k×k` factor `R = U S Vᵀ`: `β = V S⁺ Uᵀ Qᵀy`, with singular values
/// `≤ 1e-15·s_max` treated as zero (numpy's `pinv(rcond=1e-15)`, which
/// statsmodels' OLS uses). `None` if the iteration does not converge.
/// Not `numeric::adf`'s solver: that one is built around ADF's lag search
/// (one QR for every nested design, statsmodels' rank count), this is one fit.
pub(crate) fn lstsq_pinv(a: &mut [f64], m: usize, k: usize, mut y: Vec<f64>) -> Option<Vec<f64>> {
    // Householder QR, applying each reflection to the later columns and y
    for j in 0..k {
        let col = &a[j * m..(j + 1) * m];
        let norm = col[j..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if col[j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = col[j..].to_vec();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|e| e * e).sum();
        if vnorm2 == 0.0 {
            continue;
        }
        let apply = |target: &mut [f64]| {
            let dot: f64 = v.iter().zip(target.iter()).map(|(a, b)| a * b).sum();
            let f = 2.0 * dot / vnorm2;
            for (t, vi) in target.iter_mut().zip(&v) {
                *t -= f * vi;
            }
        };
        for c in j + 1..k {
            apply(&mut a[c * m + j..(c + 1) * m]);
        }
        apply(&mut y[j..]);
        a[j * m + j] = alpha;
        for e in &mut a[j * m + j + 1..(j + 1) * m] {
            *e = 0.0;
        }
    }
    // R (k×k, column-major) and the first k entries of Qᵀy
    let mut b: Vec<f64> = (0..k)
        .flat_map(|c| (0..k).map(move |r| (r, c)))
        .map(|(r, c)| if r <= c { a[c * m + r] } else { 0.0 })
        .collect();
    let qty = &y[..k];
    // one-sided Jacobi: rotate column pairs of B = R until orthogonal,
    // accumulating V; then B = U·S
    let mut v = vec![0.0; k * k];
    for i in 0..k {
        v[i * k + i] = 1.0;
    }
    let mut converged = false;
    for _sweep in 0..80 {
        let mut off = 0.0f64;
        for p in 0..k {
            for q in p + 1..k {
                let (mut alpha, mut beta, mut gamma) = (0.0, 0.0, 0.0);
                for r in 0..k {
                    let (bp, bq) = (b[p * k + r], b[q * k + r]);
                    alpha += bp * bp;
                    beta += bq * bq;
                    gamma += bp * bq;
                }
                if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                off = off.max(gamma.abs() / (alpha * beta).sqrt());
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let t = if zeta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                for r in 0..k {
                    let (bp, bq) = (b[p * k + r], b[q * k + r]);
                    b[p * k + r] = c * bp - s * bq;
                    b[q * k + r] = s * bp + c * bq;
                    let (vp, vq) = (v[p * k + r], v[q * k + r]);
                    v[p * k + r] = c * vp - s * vq;
                    v[q * k + r] = s * vp + c * vq;
                }
            }
        }
        if off <= f64::EPSILON {
            converged = true;
            break;
        }
    }
    if !converged {
        return None;
    }
    let sv: Vec<f64> = (0..k)
        .map(|i| {
            b[i * k..(i + 1) * k]
                .iter()
                .map(|e| e * e)
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let smax = sv.iter().copied().fold(0.0, f64::max);
    let cutoff = 1e-15 * smax;
    let mut beta = vec![0.0; k];
    for i in 0..k {
        if sv[i] <= cutoff || sv[i] == 0.0 {
            continue;
        }
        // u_iᵀ qty / s_i with u_i = B[:, i] / s_i
        let w: f64 = b[i * k..(i + 1) * k]
            .iter()
            .zip(qty)
            .map(|(u, q)| u * q)
            .sum::<f64>()
            / (sv[i] * sv[i]);
        for (bj, vj) in beta.iter_mut().zip(&v[i * k..(i + 1) * k]) {
            *bj += w * vj;
        }
    }
    Some(beta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_ar1() {
        // x_t = 2 + 0.5·x_{t-1} exactly
        let mut x = vec![10.0];
        for t in 1..40 {
            let prev: f64 = x[t - 1];
            x.push(2.0 + 0.5 * prev);
        }
        let fit = ar_coefficients(&x[..8], 1);
        assert!(
            (fit[0] - 2.0).abs() < 1e-9 && (fit[1] - 0.5).abs() < 1e-9,
            "{fit:?}"
        );
        assert!(ar_coefficients(&x[..21], 10).iter().all(|v| v.is_nan()));
        assert!(ar_coefficients(&x[..22], 10).iter().all(|v| v.is_finite()));
    }
}
