//! Reductions with numpy's rounding behaviour, shared by the calculators.

/// numpy's pairwise-summation block (`add.reduce` on contiguous float64).
const BLOCK: usize = 128;

/// `Σ f(x)` summed the way numpy's `np.sum` does: eight interleaved partial
/// sums inside blocks of at most 128 values, recursive halving above that
/// (split at a multiple of eight). Matching the order keeps the last digits
/// close to the reference, and the error grows with `log n`, not `n`.
pub(crate) fn sum_map(xs: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    let n = xs.len();
    if n < 8 {
        // numpy starts from -0.0 and adds in order
        return xs.iter().fold(-0.0, |acc, &x| acc + f(x));
    }
    if n <= BLOCK {
        let mut r = [0.0f64; 8];
        for (ri, &x) in r.iter_mut().zip(&xs[..8]) {
            *ri = f(x);
        }
        let body = n - n % 8;
        for chunk in xs[8..body].chunks_exact(8) {
            for (ri, &x) in r.iter_mut().zip(chunk) {
                *ri += f(x);
            }
        }
        let mut total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &xs[body..] {
            total += f(x);
        }
        return total;
    }
    let mut half = n / 2;
    half -= half % 8;
    sum_map(&xs[..half], f) + sum_map(&xs[half..], f)
}

/// `np.sum(x)`.
pub(crate) fn sum(xs: &[f64]) -> f64 {
    sum_map(xs, |x| x)
}

/// `np.mean(x)`; NaN for an empty slice.
pub(crate) fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    sum(xs) / xs.len() as f64
}

/// `np.var(x)` (population, ddof 0): mean of squared deviations from the
/// mean; NaN for an empty slice.
pub(crate) fn var_with_mean(xs: &[f64], m: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    sum_map(xs, |x| (x - m) * (x - m)) / xs.len() as f64
}

/// `(min, max)` propagating NaN like `np.min`/`np.max`; `(NaN, NaN)` when
/// empty (numpy raises there; every caller treats that as NaN).
pub(crate) fn min_max(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut nan = false;
    for &x in xs {
        nan |= x.is_nan();
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if nan {
        (f64::NAN, f64::NAN)
    } else {
        (lo, hi)
    }
}

/// A sorted copy with NaN last (numpy's sort order).
pub(crate) fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut s: Vec<f64> = xs
        .iter()
        .map(|&v| if v.is_nan() { f64::NAN } else { v })
        .collect();
    s.sort_unstable_by(f64::total_cmp);
    s
}

/// numpy's `_lerp(a, b, t)`: `a + (b-a)·t`, computed from `b` when
/// `t >= 0.5` so that `t = 1` gives `b` exactly.
pub(crate) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// `np.quantile(x, q)` (method `linear`) on an already sorted, NaN-free
/// slice: virtual index `h = n·q + (1 - q) - 1` (numpy's formula for
/// `(n-1)·q`), then [`lerp`] between the neighbouring order statistics.
pub(crate) fn quantile_sorted(s: &[f64], q: f64) -> f64 {
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = n as f64 * q + (1.0 - q) - 1.0;
    let lo = h.floor();
    let gamma = h - lo;
    let last = (n - 1) as f64;
    let i = lo.clamp(0.0, last) as usize;
    let j = (lo + 1.0).clamp(0.0, last) as usize;
    lerp(s[i], s[j], gamma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_is_exact_on_integers() {
        for n in [0usize, 1, 7, 8, 9, 128, 129, 1000] {
            let xs: Vec<f64> = (1..=n).map(|i| i as f64).collect();
            assert_eq!(sum(&xs), (n * (n + 1) / 2) as f64);
        }
    }

    #[test]
    fn quantile_linear() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert!((quantile_sorted(&s, 0.1) - 1.3).abs() < 1e-15);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
    }
}
