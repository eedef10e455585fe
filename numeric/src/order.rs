//! Extremes, sorting, medians and quantiles with numpy's conventions.

/// `(min, max)` propagating NaN like `np.min`/`np.max`: `(NaN, NaN)` when
/// any value is NaN, and when `xs` is empty (numpy raises there; every
/// caller treats that as NaN).
#[inline]
pub fn min_max(xs: &[f64]) -> (f64, f64) {
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

/// `(min, max)` of the non-NaN values of `xs` (`f64::min`/`max` return the
/// other operand when one is NaN); `(inf, -inf)` when there are none, so
/// `lo <= hi` tells whether anything was seen. Four lanes, for
/// instruction-level parallelism on the Analyzer's long windows.
#[inline]
pub fn min_max_skip_nan(xs: &[f64]) -> (f64, f64) {
    let mut lo = [f64::INFINITY; 4];
    let mut hi = [f64::NEG_INFINITY; 4];
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k]);
        }
    }
    let mut l = lo[0].min(lo[1]).min(lo[2].min(lo[3]));
    let mut h = hi[0].max(hi[1]).max(hi[2].max(hi[3]));
    for &x in rest {
        l = l.min(x);
        h = h.max(x);
    }
    (l, h)
}

/// A sorted copy with every NaN last, numpy's sort order. NaNs are made
/// positive first because `total_cmp` puts a negative NaN before `-inf`.
pub fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut s: Vec<f64> = xs
        .iter()
        .map(|&v| if v.is_nan() { f64::NAN } else { v })
        .collect();
    s.sort_unstable_by(f64::total_cmp);
    s
}

/// Median with numpy's convention (mean of the two middle values when `n` is
/// even); NaN for an empty slice. Works on a scratch copy: O(n) selection.
#[inline]
pub fn median(xs: &[f64]) -> f64 {
    let mut scratch = xs.to_vec();
    median_in_place(&mut scratch)
}

/// [`median`] reordering `xs` instead of copying it. NaN values sort last
/// (`total_cmp`), which matches numpy only for NaN-free input; callers filter.
#[inline]
pub fn median_in_place(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (lower, upper, _) = xs.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        // the largest of the lower half is the other middle value
        let lower_max = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower_max + upper) / 2.0
    }
}

/// numpy's `_lerp(a, b, t)`: `a + (b-a)·t`, computed from `b` when
/// `t >= 0.5` so that `t = 1` gives `b` exactly (and the result is monotone
/// in `t`).
#[inline]
pub fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// `np.quantile(x, q)` (method `linear`) on an already sorted, NaN-free
/// slice: virtual index `h = n·q + (1 - q) - 1` (numpy's way of writing
/// `(n-1)·q`, which rounds differently), then [`lerp`] between the
/// neighbouring order statistics. NaN when empty.
#[inline]
pub fn quantile_sorted(s: &[f64], q: f64) -> f64 {
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
    fn extremes() {
        assert_eq!(min_max_skip_nan(&[3.0, -1.0, 7.0, 2.0, 5.0]), (-1.0, 7.0));
        assert_eq!(min_max_skip_nan(&[3.0, f64::NAN, 7.0]), (3.0, 7.0));
        assert_eq!(min_max_skip_nan(&[]), (f64::INFINITY, f64::NEG_INFINITY));
        assert_eq!(min_max(&[3.0, -1.0, 7.0, 2.0, 5.0]), (-1.0, 7.0));
        assert!(min_max(&[3.0, f64::NAN, 7.0]).0.is_nan());
        assert!(min_max(&[]).1.is_nan());
    }

    #[test]
    fn sorted_puts_nan_last() {
        let s = sorted(&[2.0, -f64::NAN, 1.0, f64::NEG_INFINITY]);
        assert_eq!(&s[..3], &[f64::NEG_INFINITY, 1.0, 2.0]);
        assert!(s[3].is_nan());
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn quantile_linear() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert!((quantile_sorted(&s, 0.1) - 1.3).abs() < 1e-15);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
        assert!(quantile_sorted(&[], 0.3).is_nan());
    }
}
