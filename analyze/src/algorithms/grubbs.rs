use std::cell::RefCell;
use std::collections::HashMap;

use numeric::{mean_std, student_t_isf};

use super::Vote;
use crate::series::tail_avg;

/// Grubbs' test, one-sided as in the reference: anomalous when
/// `z = (tail_avg - mean) / std(ddof=1)` exceeds the critical value `G(n)`
/// (see [`grubbs_critical_value`]). Only upward deviations can fire because
/// `z` is signed. A zero std is a False vote.
pub fn grubbs(values: &[f64]) -> Vote {
    let n = values.len();
    let (m, s) = mean_std(values, 1);
    if s == 0.0 {
        return Vote::NotAnomalous;
    }
    let z = (tail_avg(values) - m) / s;
    match grubbs_critical_value(n) {
        Some(g) => Vote::from_bool(z > g),
        // scipy returns NaN for df <= 0 and `z > NaN` is False.
        None => Vote::NotAnomalous,
    }
}

/// `G(n) = (n-1)/√n · √(T² / (n - 2 + T²))` with `T` the upper `0.05/(2n)`
/// quantile of Student's t with `n - 2` degrees of freedom
/// (`scipy.stats.t.isf(0.05 / (2n), n - 2)`). `None` when `n < 3`.
///
/// It depends on `n` only and windows keep their length from one analysis to
/// the next, so values are memoised per thread.
pub fn grubbs_critical_value(n: usize) -> Option<f64> {
    thread_local! {
        static CACHE: RefCell<HashMap<usize, Option<f64>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        *cache
            .borrow_mut()
            .entry(n)
            .or_insert_with(|| compute_critical_value(n))
    })
}

fn compute_critical_value(n: usize) -> Option<f64> {
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let t = student_t_isf(0.05 / (2.0 * nf), nf - 2.0).ok()?;
    let t2 = t * t;
    Some((nf - 1.0) / nf.sqrt() * (t2 / (nf - 2.0 + t2)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_value_matches_published_table() {
        // Published two-sided α = 0.05 Grubbs critical values (n, G):
        // 10 → 2.2900, 20 → 2.7082, 100 → 3.3841 (NIST/SEMATECH table).
        for (n, g) in [(10, 2.2900), (20, 2.7082), (100, 3.3841)] {
            let got = grubbs_critical_value(n).unwrap();
            assert!((got - g).abs() < 5e-4, "n={n}: {got} vs {g}");
        }
        assert_eq!(grubbs_critical_value(2), None);
    }

    #[test]
    fn upward_outlier_fires_downward_does_not() {
        let mut v: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 9.0 } else { 11.0 })
            .collect();
        v.extend([30.0; 3]);
        assert_eq!(grubbs(&v), Vote::Anomalous);
        let n = v.len();
        v[n - 3..].fill(-10.0); // as far below: z negative, never > G
        assert_eq!(grubbs(&v), Vote::NotAnomalous);
    }

    #[test]
    fn zero_std_is_false() {
        assert_eq!(grubbs(&[5.0; 50]), Vote::NotAnomalous);
    }
}
