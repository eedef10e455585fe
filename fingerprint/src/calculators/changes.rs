//! Changes between consecutive values, runs, and the quantile corridor.

use numeric::{quantile_sorted, sorted};

fn abs_diffs(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| (w[1] - w[0]).abs()).collect()
}

/// `absolute_sum_of_changes`: `Σ |x[i+1] - x[i]|` (0 for fewer than 2 values).
pub fn absolute_sum_of_changes(x: &[f64]) -> f64 {
    numeric::sum(&abs_diffs(x))
}

/// `mean_abs_change`: `Σ |x[i+1] - x[i]| / (n-1)`; NaN for fewer than 2 values.
pub fn mean_abs_change(x: &[f64]) -> f64 {
    numeric::mean(&abs_diffs(x))
}

/// `mean_change`: `(x[n-1] - x[0]) / (n-1)`, the mean of the differences
/// (telescoped); NaN for fewer than 2 values.
pub fn mean_change(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    (x[n - 1] - x[0]) / (n - 1) as f64
}

/// `mean_second_derivate_central` (Skyline's spelling): the mean of the
/// central second differences `(x[i+2] - 2x[i+1] + x[i]) / 2`, telescoped
/// to `(x[n-1] - x[n-2] - x[1] + x[0]) / (2(n-2))`; NaN for fewer than 3.
pub fn mean_second_derivate_central(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 3 {
        return f64::NAN;
    }
    (x[n - 1] - x[n - 2] - x[1] + x[0]) / (2.0 * (n - 2) as f64)
}

fn longest_run(x: &[f64], pred: impl Fn(f64) -> bool) -> f64 {
    let (mut best, mut run) = (0usize, 0usize);
    for &v in x {
        if pred(v) {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best as f64
}

/// `longest_strike_above_mean`: the longest run of consecutive `x > μ`
/// (0 if none or empty).
pub fn longest_strike_above_mean(x: &[f64]) -> f64 {
    let m = numeric::mean(x);
    longest_run(x, |v| v > m)
}

/// `longest_strike_below_mean`: the longest run of consecutive `x < μ`.
pub fn longest_strike_below_mean(x: &[f64]) -> f64 {
    let m = numeric::mean(x);
    longest_run(x, |v| v < m)
}

/// `mean_abs_change_quantiles(ql, qh)` (the fork's name; today's tsfresh
/// `change_quantiles(ql, qh, isabs=True, f_agg="mean")`): with the corridor
/// `[lo, hi]` = the `ql` and `qh` linear quantiles of the non-NaN values
/// (pandas `qcut` edges, closed on both sides), the mean of
/// `|x[i] - x[i-1]|` over the `i` where both `x[i-1]` and `x[i]` lie in the
/// corridor. 0 when `ql >= qh`, when `lo == hi`, or when no change starts
/// and ends inside.
pub fn mean_abs_change_quantiles(x: &[f64], ql: f64, qh: f64) -> f64 {
    let s: Vec<f64> = sorted(x).into_iter().filter(|v| !v.is_nan()).collect();
    mean_abs_change_quantiles_sorted(x, &s, ql, qh)
}

/// [`mean_abs_change_quantiles`] given the sorted non-NaN values of `x`.
pub(crate) fn mean_abs_change_quantiles_sorted(x: &[f64], s: &[f64], ql: f64, qh: f64) -> f64 {
    if ql >= qh || s.is_empty() {
        return 0.0;
    }
    // pandas passes the quantiles to numpy as percentages and numpy divides
    // by 100 again: reproduce the round trip so edge values match bitwise.
    let lo = quantile_sorted(s, (ql * 100.0) / 100.0);
    let hi = quantile_sorted(s, (qh * 100.0) / 100.0);
    if lo == hi {
        // qcut refuses duplicate edges; with a single point-corridor the
        // changes inside would all be 0 anyway
        return 0.0;
    }
    let inside = |v: f64| lo <= v && v <= hi;
    let changes: Vec<f64> = x
        .windows(2)
        .filter(|w| inside(w[0]) && inside(w[1]))
        .map(|w| (w[1] - w[0]).abs())
        .collect();
    if changes.is_empty() {
        return 0.0;
    }
    numeric::mean(&changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let x = [1.0, 3.0, 2.0, 5.0];
        assert_eq!(absolute_sum_of_changes(&x), 6.0);
        assert_eq!(mean_abs_change(&x), 2.0);
        assert_eq!(mean_change(&x), 4.0 / 3.0);
        assert_eq!(
            mean_second_derivate_central(&x),
            (5.0 - 2.0 - 3.0 + 1.0) / 4.0
        );
        assert_eq!(longest_strike_below_mean(&x), 1.0);
        // corridor [q0, q1] is everything: mean of all |changes|
        assert_eq!(mean_abs_change_quantiles(&x, 0.0, 1.0), 2.0);
        assert_eq!(mean_abs_change_quantiles(&x, 0.6, 0.2), 0.0);
    }
}
