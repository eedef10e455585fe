use numeric::mean_std;

use super::Vote;
use crate::series::tail_avg;

/// Anomalous when `|tail_avg - mean(series)| > 3·std(series, ddof=1)`.
/// A single point gives NaN std and a False vote.
pub fn stddev_from_average(values: &[f64]) -> Vote {
    let (m, s) = mean_std(values, 1);
    Vote::from_bool((tail_avg(values) - m).abs() > 3.0 * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_sigma_by_hand() {
        // 100 × {9, 11} alternating then tail: mean ≈ 10, std ≈ 1.
        let mut v: Vec<f64> = (0..100)
            .map(|i| if i % 2 == 0 { 9.0 } else { 11.0 })
            .collect();
        v.extend([20.0; 3]); // |20 - 10.28| ≫ 3·1.7
        assert_eq!(stddev_from_average(&v), Vote::Anomalous);
        let n = v.len();
        v[n - 3..].fill(11.0);
        assert_eq!(stddev_from_average(&v), Vote::NotAnomalous);
        assert_eq!(stddev_from_average(&[3.0]), Vote::NotAnomalous);
    }
}
