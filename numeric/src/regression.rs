//! The least-squares line.

use crate::moments::mean;
use crate::StatsError;

/// Ordinary least squares line `y = m·x + c` (numpy `lstsq` on `[x, 1]`).
/// Solved on centred data, `m = Σ(x-x̄)(y-ȳ) / Σ(x-x̄)²` and `c = ȳ - m·x̄`,
/// so epoch-second abscissae lose no precision (numpy's raw `[x, 1]` design
/// has a condition number near 1e13 there).
/// Returns `(m, c)`; `Err` when fewer than 2 points or all `x` equal.
#[inline]
pub fn linear_fit(x: &[f64], y: &[f64]) -> Result<(f64, f64), StatsError> {
    let n = x.len().min(y.len());
    if n < 2 {
        return Err(StatsError::TooFew {
            what: "linear_fit",
            needed: 2,
            got: n,
        });
    }
    let (x, y) = (&x[..n], &y[..n]);
    let mx = mean(x);
    let my = mean(y);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (xi, yi) in x.iter().zip(y) {
        let dx = xi - mx;
        sxy += dx * (yi - my);
        sxx += dx * dx;
    }
    if sxx == 0.0 {
        return Err(StatsError::Singular("linear_fit"));
    }
    let m = sxy / sxx;
    Ok((m, my - m * mx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_fit_exact_line() {
        let x = [1.4e9, 1.4e9 + 60.0, 1.4e9 + 120.0];
        let y = [1.0, 3.0, 5.0];
        let (m, c) = linear_fit(&x, &y).unwrap();
        assert!((m - 2.0 / 60.0).abs() < 1e-12);
        assert!((m * x[2] + c - 5.0).abs() < 1e-6);
        assert!(linear_fit(&[1.0, 1.0], &[1.0, 2.0]).is_err());
        assert!(linear_fit(&[1.0], &[1.0]).is_err());
    }
}
