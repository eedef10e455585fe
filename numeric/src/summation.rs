//! Sums in the order numpy's `add.reduce` adds float64 values.
//!
//! numpy sums a contiguous array pairwise: blocks of at most 128 values with
//! eight interleaved accumulators, halved recursively (at a multiple of
//! eight) above that. Adding in the same order keeps the last digits close
//! to the reference, the rounding error grows with `log n` rather than `n`,
//! and the independent accumulators let the CPU overlap additions (a plain
//! left-to-right sum waits on each addition's latency).

/// Blocks at most this long are summed with eight running accumulators;
/// longer slices are halved first (numpy's `PW_BLOCKSIZE`).
const PAIRWISE_BLOCK: usize = 128;

/// `Σ xs` by pairwise summation (`np.sum` on float64); `0.0` when empty.
#[inline]
pub fn sum(xs: &[f64]) -> f64 {
    sum_map(xs, |x| x)
}

/// `Σ f(x)` over `xs` with the pairwise scheme of [`sum`], without
/// materialising the mapped values (e.g. `Σ (x-μ)²`).
pub fn sum_map(xs: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    let n = xs.len();
    if n < 8 {
        // Short runs are added left to right from +0.0, numpy's starting
        // value too (its reduction begins at the identity of `add`: numpy
        // 2.2 gives +0.0 for `np.sum([])` and `np.sum([-0.0])`). The sign of
        // the start shows only when there are no terms or all are -0.0; it
        // matters because callers negate the result (entropies), divide by
        // it (`1/+0` is +inf, `1/-0` is -inf) or print it ("-0"). The
        // fingerprint's former copy started from -0.0, the Analyzer's from
        // +0.0; every reference test of both crates passes with +0.0.
        return xs.iter().fold(0.0, |acc, &x| acc + f(x));
    }
    if n <= PAIRWISE_BLOCK {
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
        // numpy combines the accumulators as a balanced tree
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_is_exact_on_integers_and_accurate_on_fractions() {
        for n in [0, 1, 7, 8, 9, 127, 128, 129, 1000, 1440, 8640] {
            let xs: Vec<f64> = (1..=n).map(|i| i as f64).collect();
            assert_eq!(sum(&xs), (n * (n + 1) / 2) as f64, "n = {n}");
        }
        // 0.1 ten thousand times: naive summation drifts by ~1e-12 relative
        let tenths = vec![0.1; 10_000];
        assert!((sum(&tenths) - 1000.0).abs() < 1e-12);
    }

    #[test]
    fn sum_map_squares() {
        let xs: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(sum_map(&xs, |x| x * x), (200 * 201 * 401 / 6) as f64);
    }

    #[test]
    fn empty_sum_is_positive_zero() {
        assert!(sum(&[]).is_sign_positive());
        assert!(sum(&[-0.0, -0.0]).is_sign_positive());
    }
}
