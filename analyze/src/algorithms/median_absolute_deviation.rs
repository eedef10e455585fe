use numeric::median_in_place;

use super::Vote;

/// How many median deviations away the last value must be.
const THRESHOLD: f64 = 6.0;

/// Anomalous when the last value's deviation from the median is more than six
/// times the median absolute deviation:
/// `dev = |v - median(v)|`, anomalous iff `dev[n-1] / median(dev) > 6`.
/// A zero MAD is a False vote (the statistic would be infinite). Uses the
/// last value, not `tail_avg`.
pub fn median_absolute_deviation(values: &[f64]) -> Vote {
    let Some(&last) = values.last() else {
        return Vote::Error;
    };
    let mut scratch = values.to_vec();
    let med = median_in_place(&mut scratch);
    // reuse the scratch buffer for the deviations (order no longer matters)
    for (d, v) in scratch.iter_mut().zip(values) {
        *d = (v - med).abs();
    }
    let mad = median_in_place(&mut scratch);
    if mad == 0.0 {
        return Vote::NotAnomalous;
    }
    Vote::from_bool((last - med).abs() / mad > THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_mads_by_hand() {
        // 1..=9 then x: for x ≥ 9 the median of the 10 values is 5.5 and the
        // deviations sorted are 0.5,0.5,1.5,1.5,2.5,2.5,3.5,3.5,4.5,|x-5.5|
        // → MAD 2.5, so the limit is 5.5 + 6·2.5 = 20.5.
        let mut v: Vec<f64> = (1..=9).map(f64::from).collect();
        v.push(20.6);
        assert_eq!(median_absolute_deviation(&v), Vote::Anomalous);
        *v.last_mut().unwrap() = 20.5;
        assert_eq!(median_absolute_deviation(&v), Vote::NotAnomalous);
    }

    #[test]
    fn zero_mad_is_false() {
        let mut v = vec![3.0; 10];
        v.push(1000.0);
        assert_eq!(median_absolute_deviation(&v), Vote::NotAnomalous);
    }
}
