use numeric::mean_std;

use super::Vote;

/// Anomalous when the last value, after subtracting the mean of all earlier
/// values, is more than three standard deviations of the earlier (equally
/// shifted) values away from zero:
///
/// `y = v or 0` (a zero stays zero: the reference maps falsy values to 0),
/// `m = mean(y[..n-1])`, `d = y - m`, anomalous iff `|d[n-1]| > 3·std(d[..n-1])`.
///
/// The std is the **population** std (`ddof` 0) for Analyzer, which runs the
/// numba kernel; Mirage runs the pandas version, the **sample** std (`ddof`
/// 1). With `ddof` 1 a single earlier value gives a NaN std: a False vote.
pub fn mean_subtraction_cumulation(values: &[f64], ddof: usize) -> Vote {
    let Some((&last, earlier)) = values.split_last() else {
        return Vote::Error;
    };
    // std(d[..n-1]) = std(y[..n-1]): a shift does not change the spread.
    let (m, s) = mean_std(earlier, ddof);
    Vote::from_bool((last - m).abs() > 3.0 * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_std_threshold_by_hand() {
        // earlier: 50 × {0, 2} → mean 1, population std exactly 1.
        let mut v: Vec<f64> = (0..100).map(|i| (i % 2 * 2) as f64).collect();
        v.push(4.0001); // |4.0001 - 1| > 3·1
        assert_eq!(mean_subtraction_cumulation(&v, 0), Vote::Anomalous);
        *v.last_mut().unwrap() = 4.0; // exactly 3σ: not strictly greater
        assert_eq!(mean_subtraction_cumulation(&v, 0), Vote::NotAnomalous);
        // With the sample std (ddof 1, ≈ 1.005) 4.01 would not fire; ddof 0 does.
        *v.last_mut().unwrap() = 4.01;
        assert_eq!(mean_subtraction_cumulation(&v, 0), Vote::Anomalous);
    }

    #[test]
    fn sample_std_for_mirage() {
        // earlier: 50 × {0, 2} → sample std √(100/99) ≈ 1.00504; 4.01 is
        // within 3·1.00504 of the mean 1, 4.02 is not.
        let mut v: Vec<f64> = (0..100).map(|i| (i % 2 * 2) as f64).collect();
        v.push(4.01);
        assert_eq!(mean_subtraction_cumulation(&v, 1), Vote::NotAnomalous);
        *v.last_mut().unwrap() = 4.02;
        assert_eq!(mean_subtraction_cumulation(&v, 1), Vote::Anomalous);
        assert_eq!(
            mean_subtraction_cumulation(&[3.0, 9.0], 1),
            Vote::NotAnomalous
        );
    }

    #[test]
    fn single_point_is_false_empty_is_no_vote() {
        assert_eq!(mean_subtraction_cumulation(&[7.0], 0), Vote::NotAnomalous);
        assert_eq!(mean_subtraction_cumulation(&[], 0), Vote::Error);
    }
}
