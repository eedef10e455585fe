//! Simple statistics, counts, locations and quantiles.
//!
//! Population statistics (`ddof = 0`) throughout; sums are pairwise like
//! numpy's so the last digits stay close to the reference.

use super::flag;
use numeric::{min_max, quantile_sorted, sorted};

/// `length`: `n`.
pub fn length(x: &[f64]) -> f64 {
    x.len() as f64
}

/// `sum_values`: `Σ x` (0 for an empty series).
pub fn sum_values(x: &[f64]) -> f64 {
    if x.is_empty() {
        0.0
    } else {
        numeric::sum(x)
    }
}

/// `mean`: `Σ x / n`; NaN when empty.
pub fn mean(x: &[f64]) -> f64 {
    numeric::mean(x)
}

/// `median`: the middle order statistic (mean of the two middle ones for
/// even `n`); NaN when empty or when `x` holds a NaN (numpy).
pub fn median(x: &[f64]) -> f64 {
    median_sorted(&sorted(x))
}

/// [`median`] of an already sorted, NaN-last slice (the features sort once
/// and share it). Not `numeric::median`, which selects on an unsorted copy,
/// orders NaN as a value and averages the middle pair as `(a+b)/2`.
pub(crate) fn median_sorted(s: &[f64]) -> f64 {
    let n = s.len();
    if n == 0 || s[n - 1].is_nan() {
        return f64::NAN;
    }
    if n % 2 == 1 {
        s[n / 2]
    } else {
        numeric::lerp(s[n / 2 - 1], s[n / 2], 0.5)
    }
}

/// `maximum`: `max x` (NaN if any value is NaN or `x` is empty).
pub fn maximum(x: &[f64]) -> f64 {
    min_max(x).1
}

/// `minimum`: `min x` (NaN if any value is NaN or `x` is empty).
pub fn minimum(x: &[f64]) -> f64 {
    min_max(x).0
}

/// `variance`: population variance `Σ(x-μ)²/n`.
pub fn variance(x: &[f64]) -> f64 {
    numeric::var_with_mean(x, numeric::mean(x))
}

/// `standard_deviation`: population `σ = sqrt(Σ(x-μ)²/n)`.
pub fn standard_deviation(x: &[f64]) -> f64 {
    variance(x).sqrt()
}

/// `variance_larger_than_standard_deviation`: `σ² > σ` (i.e. `σ² > 1`).
pub fn variance_larger_than_standard_deviation(x: &[f64]) -> f64 {
    let v = variance(x);
    flag(v > v.sqrt())
}

/// pandas' rule: a moment sum below `1e-14` in magnitude is rounding noise.
fn zero_out_fperr(v: f64) -> f64 {
    if v.abs() < 1e-14 {
        0.0
    } else {
        v
    }
}

/// `skewness`: pandas' adjusted Fisher–Pearson coefficient over the
/// non-NaN values, `G1 = n·sqrt(n-1)/(n-2) · M3/M2^1.5` with the moment
/// *sums* `Mk = Σ(x-μ)^k`; NaN for fewer than 3 values, 0 when `M2` is 0.
pub fn skewness(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    let n = v.len() as f64;
    if v.len() < 3 {
        return f64::NAN;
    }
    let m = numeric::sum(&v) / n;
    let m2 = zero_out_fperr(numeric::sum_map(&v, |a| (a - m) * (a - m)));
    let m3 = zero_out_fperr(numeric::sum_map(&v, |a| {
        let d = a - m;
        d * d * d
    }));
    if m2 == 0.0 {
        return 0.0;
    }
    (n * (n - 1.0).powf(0.5) / (n - 2.0)) * (m3 / m2.powf(1.5))
}

/// `kurtosis`: pandas' bias-corrected excess kurtosis over the non-NaN
/// values, `G2 = n(n+1)(n-1)·M4 / ((n-2)(n-3)·M2²) − 3(n-1)²/((n-2)(n-3))`
/// with moment sums `Mk`; NaN for fewer than 4 values, 0 when the
/// denominator is 0.
pub fn kurtosis(x: &[f64]) -> f64 {
    let v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    let n = v.len() as f64;
    if v.len() < 4 {
        return f64::NAN;
    }
    let m = numeric::sum(&v) / n;
    let m2 = numeric::sum_map(&v, |a| (a - m) * (a - m));
    let m4 = numeric::sum_map(&v, |a| {
        let d = (a - m) * (a - m);
        d * d
    });
    let adj = 3.0 * (n - 1.0).powi(2) / ((n - 2.0) * (n - 3.0));
    let numerator = zero_out_fperr(n * (n + 1.0) * (n - 1.0) * m4);
    let denominator = zero_out_fperr((n - 2.0) * (n - 3.0) * m2 * m2);
    if denominator == 0.0 {
        return 0.0;
    }
    numerator / denominator - adj
}

/// `abs_energy`: `Σ x²`.
pub fn abs_energy(x: &[f64]) -> f64 {
    numeric::sum_map(x, |v| v * v)
}

/// `quantile(q)`: numpy's linear-interpolation quantile,
/// `s[⌊h⌋] + (h-⌊h⌋)(s[⌊h⌋+1] - s[⌊h⌋])` with `h = (n-1)q` on the sorted
/// values; NaN when empty or when `x` holds a NaN.
pub fn quantile(x: &[f64], q: f64) -> f64 {
    let s = sorted(x);
    quantile_or_nan(&s, q)
}

pub(crate) fn quantile_or_nan(s: &[f64], q: f64) -> f64 {
    if s.last().is_none_or(|v| v.is_nan()) {
        return f64::NAN;
    }
    quantile_sorted(s, q)
}

/// `large_standard_deviation(r)`: `σ > r·(max - min)`.
pub fn large_standard_deviation(x: &[f64], r: f64) -> f64 {
    let (lo, hi) = min_max(x);
    flag(standard_deviation(x) > r * (hi - lo))
}

/// `symmetry_looking(r)`: `|μ - median| < r·(max - min)`.
pub fn symmetry_looking(x: &[f64], r: f64) -> f64 {
    let (lo, hi) = min_max(x);
    flag((mean(x) - median(x)).abs() < r * (hi - lo))
}

/// `count_above_mean`: `#{x > μ}`.
pub fn count_above_mean(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().filter(|&&v| v > m).count() as f64
}

/// `count_below_mean`: `#{x < μ}`.
pub fn count_below_mean(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().filter(|&&v| v < m).count() as f64
}

/// `range_count(min, max)`: `#{min ≤ x < max}`.
pub fn range_count(x: &[f64], min: f64, max: f64) -> f64 {
    x.iter().filter(|&&v| v >= min && v < max).count() as f64
}

/// `value_count(value)`: how many elements equal `value`; for a NaN
/// `value`, how many are NaN. (The fork counts 0, 1, NaN, +inf and -inf;
/// today's tsfresh only 0, 1 and -1 by default.)
pub fn value_count(x: &[f64], value: f64) -> f64 {
    if value.is_nan() {
        x.iter().filter(|v| v.is_nan()).count() as f64
    } else {
        x.iter().filter(|&&v| v == value).count() as f64
    }
}

/// Distinct values of a sorted slice with their multiplicities (NaNs, last
/// in the order, collapse into one value like numpy's `unique`).
pub(crate) fn value_counts(s: &[f64]) -> Vec<(f64, usize)> {
    let mut out: Vec<(f64, usize)> = Vec::new();
    for &v in s {
        match out.last_mut() {
            Some((u, c)) if *u == v || (u.is_nan() && v.is_nan()) => *c += 1,
            _ => out.push((v, 1)),
        }
    }
    out
}

/// `has_duplicate`: some value occurs at least twice.
pub fn has_duplicate(x: &[f64]) -> f64 {
    flag(value_counts(&sorted(x)).len() != x.len())
}

/// `has_duplicate_max`: the maximum occurs at least twice.
pub fn has_duplicate_max(x: &[f64]) -> f64 {
    let hi = maximum(x);
    flag(x.iter().filter(|&&v| v == hi).count() >= 2)
}

/// `has_duplicate_min`: the minimum occurs at least twice.
pub fn has_duplicate_min(x: &[f64]) -> f64 {
    let lo = minimum(x);
    flag(x.iter().filter(|&&v| v == lo).count() >= 2)
}

/// `ratio_value_number_to_time_series_length`: `#distinct / n`; NaN when
/// empty.
pub fn ratio_value_number_to_time_series_length(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    value_counts(&sorted(x)).len() as f64 / x.len() as f64
}

/// `percentage_of_reoccurring_datapoints_to_all_datapoints` (the fork's
/// meaning): `#{distinct values occurring more than once} / #distinct`;
/// NaN when empty. Today's tsfresh computes this under the *other* name,
/// `percentage_of_reoccurring_values_to_all_values` (the names were swapped
/// upstream in 0.13; Skyline kept the old ones).
pub fn percentage_of_reoccurring_datapoints_to_all_datapoints(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let vc = value_counts(&sorted(x));
    vc.iter().filter(|(_, c)| *c > 1).count() as f64 / vc.len() as f64
}

/// `percentage_of_reoccurring_values_to_all_values` (the fork's meaning):
/// `Σ count(u) over distinct u with count(u) > 1, divided by n` (NaN
/// values ignored in the count, as pandas' `value_counts` does); NaN when
/// empty. Today's tsfresh calls this
/// `percentage_of_reoccurring_datapoints_to_all_datapoints`.
pub fn percentage_of_reoccurring_values_to_all_values(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    let vc = value_counts(&sorted(x));
    let reoccurring: usize = vc
        .iter()
        .filter(|(u, c)| *c > 1 && !u.is_nan())
        .map(|(_, c)| c)
        .sum();
    reoccurring as f64 / x.len() as f64
}

/// `sum_of_reoccurring_values` (the fork's meaning, today's tsfresh
/// `sum_of_reoccurring_data_points`): `Σ u·count(u)` over the distinct
/// values `u` that occur more than once, every occurrence counted.
pub fn sum_of_reoccurring_values(x: &[f64]) -> f64 {
    let vc = value_counts(&sorted(x));
    let terms: Vec<f64> = vc
        .iter()
        .map(|&(u, c)| if c > 1 { u * c as f64 } else { 0.0 * u })
        .collect();
    numeric::sum(&terms)
}

/// Index of the first maximum (NaN counts as the maximum, as in numpy's
/// `argmax`).
fn argmax<'a>(it: impl Iterator<Item = &'a f64>) -> usize {
    let mut best = 0;
    let mut bv = f64::NEG_INFINITY;
    for (i, &v) in it.enumerate() {
        if v.is_nan() {
            return i;
        }
        if v > bv || i == 0 {
            bv = v;
            best = i;
        }
    }
    best
}

fn argmin<'a>(it: impl Iterator<Item = &'a f64>) -> usize {
    let mut best = 0;
    let mut bv = f64::INFINITY;
    for (i, &v) in it.enumerate() {
        if v.is_nan() {
            return i;
        }
        if v < bv || i == 0 {
            bv = v;
            best = i;
        }
    }
    best
}

/// `first_location_of_maximum`: `argmax(x) / n` (first occurrence); NaN
/// when empty.
pub fn first_location_of_maximum(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    argmax(x.iter()) as f64 / x.len() as f64
}

/// `last_location_of_maximum`: `1 - argmax(reversed x) / n`; NaN when empty.
pub fn last_location_of_maximum(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    1.0 - argmax(x.iter().rev()) as f64 / x.len() as f64
}

/// `first_location_of_minimum`: `argmin(x) / n`; NaN when empty.
pub fn first_location_of_minimum(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    argmin(x.iter()) as f64 / x.len() as f64
}

/// `last_location_of_minimum`: `1 - argmin(reversed x) / n`; NaN when empty.
pub fn last_location_of_minimum(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    1.0 - argmin(x.iter().rev()) as f64 / x.len() as f64
}

/// `index_mass_quantile(q)`: with `S = Σ|x|`, the relative index
/// `(i + 1) / n` of the first `i` where the running sum `Σ_{j≤i}|x_j| / S`
/// reaches `q`; NaN when `S = 0` (all zeros or empty). The running sum is
/// left to right and `S` pairwise, as numpy's `cumsum` and `sum` are.
pub fn index_mass_quantile(x: &[f64], q: f64) -> f64 {
    index_mass_quantiles(x, &[q])[0]
}

/// [`index_mass_quantile`] for several `q` in one pass.
pub fn index_mass_quantiles(x: &[f64], qs: &[f64]) -> Vec<f64> {
    let s = numeric::sum_map(x, f64::abs);
    if s == 0.0 || x.is_empty() {
        return vec![f64::NAN; qs.len()];
    }
    let n = x.len() as f64;
    let mut out = vec![f64::NAN; qs.len()];
    let mut found = vec![false; qs.len()];
    let mut cum = 0.0;
    let mut left = qs.len();
    for (i, &v) in x.iter().enumerate() {
        cum += v.abs();
        let c = cum / s;
        for (k, &q) in qs.iter().enumerate() {
            if !found[k] && c >= q {
                found[k] = true;
                out[k] = (i + 1) as f64 / n;
                left -= 1;
            }
        }
        if left == 0 {
            break;
        }
    }
    // numpy's argmax of an all-false mask is 0
    for k in 0..qs.len() {
        if !found[k] {
            out[k] = 1.0 / n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let x = [1.0, 2.0, 2.0, 3.0, 10.0];
        assert_eq!(median(&x), 2.0);
        assert_eq!(sum_of_reoccurring_values(&x), 4.0);
        assert_eq!(
            percentage_of_reoccurring_datapoints_to_all_datapoints(&x),
            0.25
        );
        assert_eq!(percentage_of_reoccurring_values_to_all_values(&x), 0.4);
        assert_eq!(has_duplicate(&x), 1.0);
        assert_eq!(has_duplicate_max(&x), 0.0);
        assert_eq!(last_location_of_maximum(&x), 1.0);
        assert_eq!(first_location_of_maximum(&x), 0.8);
        assert_eq!(index_mass_quantile(&x, 0.5), 1.0);
        assert_eq!(range_count(&[-1.0, 0.5, 1.0], -1.0, 1.0), 2.0);
    }
}
