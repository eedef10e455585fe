//! Entropies.

use numeric::{min_max, sorted};

/// `binned_entropy(max_bins)`: `-Σ p_k ln p_k` over the non-empty bins of
/// numpy's `histogram(x, bins=max_bins)` (equal-width bins on `[min, max]`,
/// widened to `±0.5` for a constant series, the last bin closed),
/// `p_k = count_k / n`. NaN if `x` holds a NaN or ±inf, or is empty.
pub fn binned_entropy(x: &[f64], max_bins: usize) -> f64 {
    let (lo, hi) = min_max(x);
    if x.is_empty() || max_bins == 0 || !lo.is_finite() || !hi.is_finite() {
        return f64::NAN;
    }
    let (first, last) = if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let bins = max_bins;
    // numpy's linspace edges and its index correction near the edges
    let step = (last - first) / bins as f64;
    let edge = |k: usize| {
        if k == bins {
            last
        } else {
            k as f64 * step + first
        }
    };
    let denom = last - first;
    let mut counts = vec![0usize; bins];
    for &v in x {
        let f = ((v - first) / denom) * bins as f64;
        let mut idx = (f as usize).min(bins);
        if idx == bins {
            idx -= 1;
        }
        if v < edge(idx) {
            idx = idx.saturating_sub(1);
        } else if v >= edge(idx + 1) && idx != bins - 1 {
            idx += 1;
        }
        counts[idx] += 1;
    }
    let n = x.len() as f64;
    let terms: Vec<f64> = counts
        .iter()
        .map(|&c| {
            let p = if c == 0 { 1.0 } else { c as f64 / n };
            p * p.ln()
        })
        .collect();
    -numeric::sum(&terms)
}

/// `sample_entropy` (the fork's old form, template length 1): with
/// `tol = 0.2·σ`, `A = #{i < j : |x_j - x_i| < tol}` (strict) and
/// `N = n(n-1)/2`, `-ln(A / N)`; `+inf` when no pair is that close
/// (a constant series), NaN for `n < 2`.
///
/// Today's tsfresh uses templates of length 2 and `<=`, which gives
/// different values. Counted on the sorted values with two pointers,
/// O(n log n) instead of the reference's O(n²) loop (the multiset of
/// pairwise distances is the same).
pub fn sample_entropy(x: &[f64]) -> f64 {
    let n = x.len();
    let mu = numeric::mean(x);
    let tol = 0.2 * numeric::var_with_mean(x, mu).sqrt();
    let pairs = (n as f64) * (n as f64 - 1.0) / 2.0;
    let mut a: u64 = 0;
    if tol.is_finite() {
        let s = sorted(x);
        let mut j = 0;
        for i in 0..n {
            j = j.max(i + 1);
            while j < n && s[j] - s[i] < tol {
                j += 1;
            }
            a += (j - i - 1) as u64;
        }
    }
    -(a as f64 / pairs).ln()
}

/// `approximate_entropy(m, r)` for several `r` at once with `m = 2`
/// semantics generalised: with `r' = r·σ` and the `N-m+1` templates
/// `x[i..i+m]`, `C_i = #{j : max_k |x[i+k] - x[j+k]| ≤ r'} / (N-m+1)` (self
/// included), `φ(m) = Σ ln C_i / (N-m+1)`; the result is
/// `|φ(m) - φ(m+1)|`, 0 when `N ≤ m+1`, NaN for NaN/inf input.
///
/// Only pairs of templates whose first values lie within the largest `r'`
/// of each other are examined (templates sorted by first value), so the
/// cost is the number of such pairs rather than the reference's `N²`.
pub fn approximate_entropies(x: &[f64], m: usize, rs: &[f64]) -> Vec<f64> {
    approximate_entropies_with(x, m, rs, false)
}

/// [`approximate_entropies`], the pair counting spread over rayon's pool
/// when `parallel` (same result: the counts are integers).
pub(crate) fn approximate_entropies_with(
    x: &[f64],
    m: usize,
    rs: &[f64],
    parallel: bool,
) -> Vec<f64> {
    let n = x.len();
    if m == 0 {
        return vec![f64::NAN; rs.len()];
    }
    let sd = numeric::var_with_mean(x, numeric::mean(x)).sqrt();
    if n <= m + 1 {
        return vec![0.0; rs.len()];
    }
    if !sd.is_finite() {
        return vec![f64::NAN; rs.len()];
    }
    let radii: Vec<f64> = rs.iter().map(|r| r * sd).collect();
    let rmax = radii.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let nt = n - m + 1; // templates of length m; those of length m+1 are the first nt-1
    let mut order: Vec<usize> = (0..nt).collect();
    order.sort_unstable_by(|&a, &b| x[a].total_cmp(&x[b]));
    let nr = radii.len();
    // count template matches for the sorted positions in `range`
    let count = |range: std::ops::Range<usize>| {
        let mut cm = vec![0u32; nt * nr];
        let mut cm1 = vec![0u32; (nt - 1) * nr];
        for pos in range {
            let i = order[pos];
            // self-matches
            for k in 0..nr {
                if radii[k] >= 0.0 {
                    cm[i * nr + k] += 1;
                    if i < nt - 1 {
                        cm1[i * nr + k] += 1;
                    }
                }
            }
            for &j in &order[pos + 1..] {
                if x[j] - x[i] > rmax {
                    break;
                }
                let mut d = 0.0f64;
                for t in 0..m {
                    d = d.max((x[i + t] - x[j + t]).abs());
                }
                if d > rmax {
                    continue;
                }
                let both_long = i < nt - 1 && j < nt - 1;
                let d1 = if both_long {
                    d.max((x[i + m] - x[j + m]).abs())
                } else {
                    f64::INFINITY
                };
                for k in 0..nr {
                    if d <= radii[k] {
                        cm[i * nr + k] += 1;
                        cm[j * nr + k] += 1;
                        if d1 <= radii[k] {
                            cm1[i * nr + k] += 1;
                            cm1[j * nr + k] += 1;
                        }
                    }
                }
            }
        }
        (cm, cm1)
    };
    let (cm, cm1) = if parallel && nt >= 2048 {
        use rayon::prelude::*;
        // integer counts: the split does not change the result
        let chunk = 512;
        (0..nt.div_ceil(chunk))
            .into_par_iter()
            .map(|c| count(c * chunk..((c + 1) * chunk).min(nt)))
            .reduce(
                || (vec![0u32; nt * nr], vec![0u32; (nt - 1) * nr]),
                |(mut a, mut a1), (b, b1)| {
                    a.iter_mut().zip(b).for_each(|(u, v)| *u += v);
                    a1.iter_mut().zip(b1).for_each(|(u, v)| *u += v);
                    (a, a1)
                },
            )
    } else {
        count(0..nt)
    };
    let phi = |counts: &[u32], templates: usize, k: usize| {
        let t = templates as f64;
        let logs: Vec<f64> = (0..templates)
            .map(|i| (counts[i * nr + k] as f64 / t).ln())
            .collect();
        numeric::sum(&logs) / t
    };
    (0..nr)
        .map(|k| (phi(&cm, nt, k) - phi(&cm1, nt - 1, k)).abs())
        .collect()
}

/// `approximate_entropy(m, r)` for one `r` (see [`approximate_entropies`]).
pub fn approximate_entropy(x: &[f64], m: usize, r: f64) -> f64 {
    approximate_entropies(x, m, &[r])[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apen_direct(x: &[f64], m: usize, r: f64) -> f64 {
        let n = x.len();
        let sd = numeric::var_with_mean(x, numeric::mean(x)).sqrt();
        let r = r * sd;
        let phi = |m: usize| {
            let t = n - m + 1;
            let mut s = 0.0;
            for i in 0..t {
                let c = (0..t)
                    .filter(|&j| (0..m).all(|k| (x[i + k] - x[j + k]).abs() <= r))
                    .count();
                s += (c as f64 / t as f64).ln();
            }
            s / t as f64
        };
        (phi(m) - phi(m + 1)).abs()
    }

    #[test]
    fn approximate_entropy_matches_the_direct_count() {
        let x: Vec<f64> = (0..200)
            .map(|i| ((i * 7919 % 211) as f64).sqrt() + (i % 5) as f64)
            .collect();
        let rs = [0.1, 0.3, 0.5, 0.7, 0.9];
        let fast = approximate_entropies(&x, 2, &rs);
        let long: Vec<f64> = (0..3000)
            .map(|i| ((i * 7919 % 211) as f64).sqrt() + (i % 5) as f64)
            .collect();
        assert_eq!(
            approximate_entropies_with(&long, 2, &rs, true),
            approximate_entropies_with(&long, 2, &rs, false)
        );
        for (k, &r) in rs.iter().enumerate() {
            let d = apen_direct(&x, 2, r);
            assert!(
                (fast[k] - d).abs() <= 1e-12 * d.abs().max(1e-300),
                "r {r}: {} vs {d}",
                fast[k]
            );
        }
    }

    #[test]
    fn sample_entropy_by_hand() {
        // σ = 1.118…, tol 0.2236: only the pair (1, 1.1) is closer
        let x = [1.0, 1.1, 3.0, 4.0];
        let s = sample_entropy(&x);
        assert!((s - (6.0f64).ln()).abs() < 1e-12);
        assert_eq!(sample_entropy(&[2.0; 5]), f64::INFINITY);
    }

    #[test]
    fn binned_entropy_uniform() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        assert!((binned_entropy(&x, 10) - (10f64).ln()).abs() < 1e-12);
        assert_eq!(binned_entropy(&[3.0; 4], 10), 0.0);
    }
}
