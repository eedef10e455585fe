use numeric::{adf::adfuller, ks::ks_2samp};

use super::Vote;

/// Minimum points in each of the two samples.
const MIN_SAMPLE: usize = 20;

/// Anomalous when the last ten minutes are distributed differently from the
/// fifty minutes before them and that earlier stretch is stationary:
///
/// * reference = `{v : now-3600 <= t < now-600}`, probe = `{v : t >= now-600}`;
/// * fewer than 20 points in either, or a constant reference → False;
/// * two-sample KS (scipy `ks_2samp`) with `p < 0.05` and `D > 0.5`, then
///   ADF (statsmodels `adfuller(reference, maxlag=10)`, constant, AIC lag)
///   with `p < 0.05` → True.
///
/// `now` is the analysis time (wall-clock in the reference, so replaying old
/// data through the reference always gives False). A probe of 20 points in
/// 600 s needs a resolution of about 30 s or finer. The ADF raises in the
/// reference when the reference sample has fewer than 24 points
/// (`maxlag 10 > nobs/2 - 2`); that surfaces here as [`Vote::Error`], the
/// reference's `None`.
pub fn ks_test(timestamps: &[i64], values: &[f64], now: i64) -> Vote {
    ks_test_windows(
        timestamps,
        values,
        now.saturating_sub(3600),
        now.saturating_sub(600),
    )
}

/// [`ks_test`] with its windows given: reference = `{v : from <= t < probe_from}`,
/// probe = `{v : t >= probe_from}`. Analyzer's are `now-3600` and `now-600`;
/// Mirage on daily data uses `t_last - 90 d` and `t_last - 30 d`.
pub fn ks_test_windows(timestamps: &[i64], values: &[f64], from: i64, probe_from: i64) -> Vote {
    let ref_start = timestamps.partition_point(|&t| t < from);
    let probe_start = timestamps.partition_point(|&t| t < probe_from);
    let reference = &values[ref_start..probe_start];
    let probe = &values[probe_start..];
    if reference.len() < MIN_SAMPLE || probe.len() < MIN_SAMPLE {
        return Vote::NotAnomalous;
    }
    if reference.iter().all(|v| *v == reference[0]) {
        return Vote::NotAnomalous;
    }
    let ks = match ks_2samp(reference, probe) {
        Ok(ks) => ks,
        Err(_) => return Vote::Error,
    };
    if !(ks.p_value < 0.05 && ks.statistic > 0.5) {
        return Vote::NotAnomalous;
    }
    match adfuller(reference, Some(10)) {
        Ok(adf) => Vote::from_bool(adf.p_value < 0.05),
        Err(_) => Vote::Error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 s resolution up to `now`: 300 reference points, 61 probe points.
    fn ten_second_hour(now: i64, f: impl Fn(i64) -> f64) -> (Vec<i64>, Vec<f64>) {
        let ts: Vec<i64> = (0..=360).map(|i| now - 3600 + i * 10).collect();
        let vs = ts.iter().map(|&t| f(t)).collect();
        (ts, vs)
    }

    /// Deterministic stationary noise in [0, 1): a fractional-part sequence.
    fn noise(t: i64) -> f64 {
        ((t as f64) * 0.618_033_988_75).fract()
    }

    #[test]
    fn level_shift_after_stationary_reference_fires() {
        let now = 1_700_000_000;
        let (ts, vs) = ten_second_hour(now, |t| noise(t) + if t >= now - 600 { 5.0 } else { 0.0 });
        assert_eq!(ks_test(&ts, &vs, now), Vote::Anomalous);
    }

    #[test]
    fn same_distribution_does_not_fire() {
        let now = 1_700_000_000;
        let (ts, vs) = ten_second_hour(now, noise);
        assert_eq!(ks_test(&ts, &vs, now), Vote::NotAnomalous);
    }

    #[test]
    fn sixty_second_resolution_never_fires() {
        // Only 10 probe points in 600 s: below the 20-point minimum.
        let now = 1_700_000_000;
        let ts: Vec<i64> = (0..=60).map(|i| now - 3600 + i * 60).collect();
        let vs: Vec<f64> = ts
            .iter()
            .map(|&t| if t >= now - 600 { 100.0 } else { noise(t) })
            .collect();
        assert_eq!(ks_test(&ts, &vs, now), Vote::NotAnomalous);
    }

    #[test]
    fn constant_reference_is_false() {
        let now = 1_700_000_000;
        let (ts, vs) = ten_second_hour(now, |t| if t >= now - 600 { 9.0 } else { 1.0 });
        assert_eq!(ks_test(&ts, &vs, now), Vote::NotAnomalous);
    }

    #[test]
    fn short_reference_for_adf_is_no_vote() {
        // 22 reference points (one every 136 s would be too sparse; use a gap):
        // reference only in [now-3600, now-600) from t = now-600-22·10.
        let now = 1_700_000_000;
        let mut ts: Vec<i64> = (1..=22).map(|i| now - 600 - i * 10).collect();
        ts.reverse();
        ts.extend((0..30).map(|i| now - 600 + i * 10));
        let vs: Vec<f64> = ts
            .iter()
            .map(|&t| noise(t) + if t >= now - 600 { 5.0 } else { 0.0 })
            .collect();
        assert_eq!(ks_test(&ts, &vs, now), Vote::Error);
    }
}
