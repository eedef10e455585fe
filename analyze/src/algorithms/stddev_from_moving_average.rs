use numeric::ewm_mean_std;

use super::Vote;

/// Centre of mass of the exponential weighting (`alpha = 1/51`).
const COM: f64 = 50.0;

/// Anomalous when the last value is more than three exponentially weighted
/// standard deviations from the exponentially weighted mean, both at the last
/// index with centre of mass 50 (pandas `ewm(com=50, adjust=True)`,
/// `std(bias=False)`; see [`ewm_mean_std`]). Uses the last value, not
/// `tail_avg`.
pub fn stddev_from_moving_average(values: &[f64]) -> Vote {
    let Some(&last) = values.last() else {
        return Vote::Error;
    };
    let (mu, sigma) = ewm_mean_std(values, COM);
    Vote::from_bool((last - mu).abs() > 3.0 * sigma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_fires_gentle_step_does_not() {
        let mut v: Vec<f64> = (0..200)
            .map(|i| if i % 2 == 0 { 9.0 } else { 11.0 })
            .collect();
        v.push(30.0);
        assert_eq!(stddev_from_moving_average(&v), Vote::Anomalous);
        *v.last_mut().unwrap() = 12.0;
        assert_eq!(stddev_from_moving_average(&v), Vote::NotAnomalous);
    }

    #[test]
    fn one_point_has_nan_std_and_is_false() {
        assert_eq!(stddev_from_moving_average(&[1.0]), Vote::NotAnomalous);
    }
}
