use numeric::mean_std;

use super::Vote;
use crate::series::tail_avg;

/// Anomalous when `tail_avg` is more than three sample standard deviations
/// from the mean of the window's first hour:
/// `lo = t_last - full_duration`, hour = `{v : lo < t < lo + 3600}` (strict on
/// both ends), `|tail_avg - mean(hour)| > 3·std(hour, ddof=1)`.
/// Fewer than two points in the hour make mean/std NaN and the comparison
/// false, as in the reference (a False vote, not an error).
pub fn first_hour_average(timestamps: &[i64], values: &[f64], full_duration: i64) -> Vote {
    let Some(&t_last) = timestamps.last() else {
        return Vote::Error;
    };
    let lo = t_last.saturating_sub(full_duration);
    let hi = lo.saturating_add(3600);
    // Timestamps are sorted: the hour is one contiguous run.
    let start = timestamps.partition_point(|&t| t <= lo);
    let end = timestamps.partition_point(|&t| t < hi);
    let hour = &values[start..end.max(start)];
    let (m, s) = mean_std(hour, 1);
    Vote::from_bool((tail_avg(values) - m).abs() > 3.0 * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    /// A day at 60 s: t = 60..=86400, values 10 except as set.
    fn day() -> (Vec<i64>, Vec<f64>) {
        let ts: Vec<i64> = (1..=1440).map(|i| i * 60).collect();
        let vs = ts.iter().map(|t| 10.0 + (t / 60 % 2) as f64).collect();
        (ts, vs)
    }

    #[test]
    fn tail_far_from_first_hour_fires() {
        // first hour: values alternate 10/11 → mean ≈ 10.5, std ≈ 0.5; tail 20.
        let (ts, mut vs) = day();
        let n = vs.len();
        vs[n - 3..].fill(20.0);
        assert_eq!(first_hour_average(&ts, &vs, DAY), Vote::Anomalous);
    }

    #[test]
    fn tail_within_three_sigma_does_not_fire() {
        let (ts, mut vs) = day();
        let n = vs.len();
        vs[n - 3..].fill(11.5); // |11.5 - 10.5| = 1 < 3·0.5
        assert_eq!(first_hour_average(&ts, &vs, DAY), Vote::NotAnomalous);
    }

    #[test]
    fn hour_bounds_are_strict() {
        // A flat hour (std 0) makes any tail off 5 fire; a point on either
        // bound with value 1000 would, if wrongly included, inflate the std
        // so that the same tail no longer fires.
        let (ts, mut vs) = day();
        let n = vs.len();
        let flat_hour_with_spike_at = |vs: &mut Vec<f64>, spike_t: i64, lo: i64| {
            for (t, v) in ts.iter().zip(vs.iter_mut()) {
                *v = match *t {
                    t if t == spike_t => 1000.0,
                    t if t > lo && t < lo + 3600 => 5.0,
                    _ => 100.0,
                };
            }
            vs[n - 3..].fill(5.01);
        };
        // upper bound: lo = 0, spike at hi = 3600
        flat_hour_with_spike_at(&mut vs, 3600, 0);
        assert_eq!(first_hour_average(&ts, &vs, DAY), Vote::Anomalous);
        // lower bound: full_duration one step shorter puts lo on t = 60
        flat_hour_with_spike_at(&mut vs, 60, 60);
        assert_eq!(first_hour_average(&ts, &vs, DAY - 60), Vote::Anomalous);
        // control: the spike inside the hour does stop it firing
        flat_hour_with_spike_at(&mut vs, 1200, 0);
        assert_eq!(first_hour_average(&ts, &vs, DAY), Vote::NotAnomalous);
    }

    #[test]
    fn one_point_in_the_hour_is_a_false_vote() {
        let ts = vec![1000, 90_000, 90_060];
        let vs = vec![1.0, 50.0, 50.0];
        // lo = 90060 - 86400 = 3660 → no point in (3660, 7260) → NaN → False.
        assert_eq!(first_hour_average(&ts, &vs, DAY), Vote::NotAnomalous);
    }
}
