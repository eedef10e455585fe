//! The anomalous daily peak override (`seasonal.md` §8.2,
//! MIRAGE_CHECK_REPETITIVE_DAILY_PEAKS): a series Mirage found anomalous is
//! let off when its last point sits on a peak that recurs at the same time
//! of day on enough of the previous days, at a similar height.
//!
//! On the (downsampled) series whose last point `A` is the anomaly, with
//! `res` its most common step:
//!
//! ```text
//! anomalous if res > 900 or t_last - t_first < 446400 (5.25 days)
//! kept = {A - d·86400 - k·res : d in 0..=6, k in 0..=3}: the anomaly's
//!        time of day and the 3 samples before it, on its day and on each of
//!        the 6 days before; every other point before A takes the mean of
//!        all the values
//! peaks = find_peaks(values + 7 × [mean], distance = int(3600/res · 23))
//! anomalous unless the anomaly's index a is a peak, or a - p is in
//!        [-w, -2] ∪ [1, w-1] for a peak p (w = 6, 4 if res > 600; the last
//!        such p is "the anomaly's peak", else a itself)
//! period(p) = the points at p-3 ..= p+3 (p-3 ..= p for the last peak),
//!        newest first, holding their original values
//! T = the peak timestamps (of peaks inside the series), newest first;
//! daily = T[i] for i < len(T)-1 with T[i] - T[i+1] in [83000, 89000) or
//!        T[i] = A   (the oldest peak never counts)
//! anomalous if len(daily) < number_of_daily_peaks
//! target = Σ period(oldest daily peak)       (sic: daily[-1])
//! for each daily peak, oldest first: of the windows of 4 consecutive values
//!        of its period, the first whose (running) sum is closest to target;
//!        its sum s (summed afresh); the peak is dropped if s == 0
//! anomalous if fewer than number_of_daily_peaks peaks are left
//! S_a = s of the anomaly's peak (0 if it is not among them), S = the others
//! anomalous if len(S) < number_of_daily_peaks, or if S_a == 0
//! diff = S_a - mean(S), three = 3 · std(S)    (population std)
//! normal if |diff| <= three, or if within_percent_of_normal_peaks != 0 and
//!        100 · (|diff| - three) / |diff| <= within_percent_of_normal_peaks
//! ```
//!
//! Sums of periods and windows are added left to right (Python's `sum`,
//! and the window slid by subtracting the value leaving then adding the
//! value entering), mean and std as numpy's. The series is expected sorted
//! with unique timestamps, as [`crate::downsample`] gives it.

use crate::irregular::most_common_step;
use crate::peaks::find_peaks;
use crate::Point;

/// Coarsest step (seconds) the check applies to.
pub const MAX_RESOLUTION: i64 = 900;
/// Shortest span (seconds) of the series it applies to (5.25 days).
pub const MIN_DURATION: i64 = 446_400;
/// Peaks this far apart (seconds, half-open) are a day apart.
pub const DAILY_SPACING: std::ops::Range<i64> = 83_000..89_000;
/// Days before the anomaly's whose same time of day is kept.
const DAYS_BACK: i64 = 6;
/// Samples before each kept time of day that are kept too.
const SAMPLES_BEFORE: i64 = 3;
/// Mean values appended so that a peak on the last point can drop off.
const PADDING: usize = 7;

/// The override's parameters (the custom algorithm's
/// `algorithm_parameters`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyPeakSettings {
    /// How many other daily peaks must exist (MIRAGE_CHECK_REPETITIVE_DAILY_PEAKS).
    pub number_of_daily_peaks: usize,
    /// How far (percent) beyond three standard deviations of the other
    /// peaks the anomaly's peak may still be normal; 0 disables.
    pub within_percent_of_normal_peaks: f64,
}

impl Default for DailyPeakSettings {
    /// Mirage's: 3 peaks, within 20 %.
    fn default() -> Self {
        DailyPeakSettings {
            number_of_daily_peaks: 3,
            within_percent_of_normal_peaks: 20.0,
        }
    }
}

/// Why the anomaly stays anomalous.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// Fewer than two points, or the most common step is above 900 s
    /// (or not positive).
    Resolution(Option<i64>),
    /// The series spans less than 5.25 days.
    Duration(i64),
    /// The anomaly is neither on nor just after a peak.
    NotAtPeak,
    /// Fewer daily (a day apart) peaks than required.
    FewDailyPeaks(usize),
    /// Fewer daily peaks of a non-zero window sum than required.
    FewNonZeroPeaks(usize),
    /// Fewer such peaks besides the anomaly's own than required.
    FewOtherPeaks(usize),
    /// The anomaly's peak has no (non-zero) window sum among the daily peaks.
    ZeroAnomalyPeak,
    /// The anomaly's peak is further from the others' mean than allowed.
    Beyond {
        /// Window sum of the anomaly's peak.
        anomaly_sum: f64,
        /// Mean of the other peaks' window sums.
        peaks_mean: f64,
        /// Three population standard deviations of those sums.
        three_sigma: f64,
    },
}

/// The outcome of [`anomalous_daily_peak`].
#[derive(Debug, Clone, PartialEq)]
pub enum DailyPeak {
    /// The anomaly is not a normal daily peak: the verdict stands.
    Anomalous(Reason),
    /// The anomaly is a normal daily peak: Mirage's verdict is overridden to
    /// not anomalous.
    NormalPeak {
        /// Window sum of the anomaly's peak.
        anomaly_sum: f64,
        /// Mean of the other daily peaks' window sums.
        peaks_mean: f64,
        /// Three population standard deviations of those sums.
        three_sigma: f64,
        /// How many other daily peaks it was compared with.
        peaks: usize,
        /// When beyond three sigma: by how much, in percent of `|diff|`.
        percent_beyond: Option<f64>,
    },
}

impl DailyPeak {
    /// Whether the verdict stays anomalous.
    pub fn is_anomalous(&self) -> bool {
        matches!(self, DailyPeak::Anomalous(_))
    }
}

/// Python's `sum(list)`: left to right from 0.
fn py_sum(xs: impl IntoIterator<Item = f64>) -> f64 {
    xs.into_iter().fold(0.0, |acc, x| acc + x)
}

/// Of the windows of 4 consecutive `values` (fewer if there are fewer),
/// the first whose running sum is closest to `target`; returns its values'
/// sum, added afresh.
fn closest_window_sum(values: &[f64], target: f64) -> f64 {
    let width = values.len().min(4);
    let mut running = py_sum(values[..width].iter().copied());
    let mut closest = running;
    let mut start = 0;
    for i in 1..values.len().saturating_sub(3) {
        running = running - values[i - 1] + values[i + 3];
        if (running - target).abs() < (closest - target).abs() {
            closest = running;
            start = i;
        }
    }
    py_sum(values[start..start + width].iter().copied())
}

/// Judges whether the last point of `series` (the anomaly) is a normal
/// daily peak, as §8.2 (see the module documentation for the steps).
/// The anomaly's time and the resolution are those of the series: its last
/// timestamp and its most common step.
pub fn anomalous_daily_peak(series: &[Point], settings: &DailyPeakSettings) -> DailyPeak {
    use DailyPeak::Anomalous;
    let timestamps: Vec<i64> = series.iter().map(|p| p.0).collect();
    let values: Vec<f64> = series.iter().map(|p| p.1).collect();
    let res = most_common_step(&timestamps);
    let res = match res {
        Some(r) if (1..=MAX_RESOLUTION).contains(&r) => r,
        _ => return Anomalous(Reason::Resolution(res)),
    };
    let n = series.len();
    let anomaly = timestamps[n - 1];
    let duration = anomaly - timestamps[0];
    if duration < MIN_DURATION {
        return Anomalous(Reason::Duration(duration));
    }
    let mean = numeric::mean(&values);

    // Keep the anomaly's time of day (and the 3 samples before) on it and
    // the 6 days before; everything else before the anomaly becomes the mean.
    let kept = |t: i64| {
        (0..=DAYS_BACK).any(|d| {
            let back = anomaly - d * 86_400 - t;
            back >= 0 && back % res == 0 && back / res <= SAMPLES_BEFORE
        })
    };
    let mut padded: Vec<f64> = series
        .iter()
        .map(|&(t, v)| if t < anomaly && !kept(t) { mean } else { v })
        .collect();
    padded.extend(std::iter::repeat_n(mean, PADDING));
    let distance = (3600.0 / res as f64 * 23.0) as usize;
    let peaks = find_peaks(&padded, distance);

    // On the peak or a little after it (not the sample right before it).
    let a = timestamps
        .iter()
        .position(|&t| t == anomaly)
        .expect("the last timestamp");
    let allow = if res > 600 { 4 } else { 6 };
    let mut anomaly_peak = None;
    if peaks.contains(&a) {
        anomaly_peak = Some(a);
    } else {
        for &p in &peaks {
            let off = a as i64 - p as i64;
            if (-allow..=-2).contains(&off) || (1..allow).contains(&off) {
                anomaly_peak = Some(p);
            }
        }
    }
    let Some(anomaly_peak) = anomaly_peak else {
        return Anomalous(Reason::NotAtPeak);
    };

    // Each peak's period: p-3 ..= p+3 (..= p for the last peak), within the
    // series, newest first, a point going to the first period holding it.
    let last_peak = peaks[peaks.len() - 1];
    let ranges: Vec<(i64, i64)> = peaks
        .iter()
        .map(|&p| {
            let p = p as i64;
            (p - 3, if p == last_peak as i64 { p } else { p + 3 })
        })
        .collect();
    let mut periods: Vec<Vec<usize>> = vec![Vec::new(); peaks.len()];
    let mut peak_times: Vec<i64> = Vec::new(); // newest first
    for j in (0..n).rev() {
        let ji = j as i64;
        if let Some(k) = ranges.iter().position(|&(lo, hi)| lo <= ji && ji <= hi) {
            periods[k].push(j);
            if peaks.contains(&j) {
                peak_times.push(timestamps[j]);
            }
        }
    }

    // Peaks a day after the next older one (or the anomaly itself).
    let daily: Vec<i64> = peak_times
        .windows(2)
        .filter(|w| DAILY_SPACING.contains(&(w[0] - w[1])) || w[0] == anomaly)
        .map(|w| w[0])
        .collect();
    let needed = settings.number_of_daily_peaks;
    if daily.len() < needed {
        return Anomalous(Reason::FewDailyPeaks(daily.len()));
    }

    let period_of = |t: i64| {
        periods
            .iter()
            .position(|members| members.iter().any(|&j| timestamps[j] == t))
    };
    let period_values = |k: usize| -> Vec<f64> { periods[k].iter().map(|&j| values[j]).collect() };
    // The reference compares with the oldest daily peak's whole period.
    let oldest = daily[daily.len() - 1];
    let target = py_sum(period_values(period_of(oldest).expect("a peak's period")));

    // (peak time, window sum) of the daily peaks, oldest first, zeros dropped.
    let mut sums: Vec<(i64, f64)> = Vec::new();
    for &t in daily.iter().rev() {
        let Some(k) = period_of(t) else { continue };
        let s = closest_window_sum(&period_values(k), target);
        if s != 0.0 {
            sums.push((t, s));
        }
    }
    if sums.len() < needed {
        return Anomalous(Reason::FewNonZeroPeaks(sums.len()));
    }
    let anomaly_peak_time = timestamps[anomaly_peak];
    let mut anomaly_sum = 0.0;
    let mut others: Vec<f64> = Vec::new();
    for &(t, s) in &sums {
        if t == anomaly_peak_time {
            anomaly_sum = s;
        } else {
            others.push(s);
        }
    }
    if others.len() < needed {
        return Anomalous(Reason::FewOtherPeaks(others.len()));
    }
    let (peaks_mean, std) = numeric::mean_std(&others, 0);
    let three_sigma = 3.0 * std;
    if anomaly_sum == 0.0 {
        return Anomalous(Reason::ZeroAnomalyPeak);
    }
    let diff = (anomaly_sum - peaks_mean).abs();
    let normal = |percent_beyond| DailyPeak::NormalPeak {
        anomaly_sum,
        peaks_mean,
        three_sigma,
        peaks: others.len(),
        percent_beyond,
    };
    // Beyond only when `diff > three`: a NaN is not beyond.
    let beyond = diff > three_sigma;
    if !beyond {
        return normal(None);
    }
    let within = settings.within_percent_of_normal_peaks;
    if within != 0.0 {
        // numpy's percent difference of |diff| and 3σ, made positive.
        let percent = ((three_sigma - diff) / diff * 100.0).abs();
        if percent <= within {
            return normal(Some(percent));
        }
    }
    Anomalous(Reason::Beyond {
        anomaly_sum,
        peaks_mean,
        three_sigma,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: i64 = 600;
    /// The anomaly's time: a day boundary.
    const A: i64 = 1_700_006_400;

    /// 7 days at 600 s up to `end`, base 1.0, with a rising bump
    /// `[2, 3, 4, 5] · scale(d)` ending `lag` samples before the anomaly's
    /// time of day on each day `d` back (0 = the anomaly's day) where
    /// `scale` gives `Some`.
    fn bumps(end: i64, lag: i64, scale: impl Fn(i64) -> Option<f64>) -> Vec<Point> {
        (0..1008)
            .rev()
            .map(|i| {
                let t = end - i * STEP;
                let back = A - lag * STEP - t; // seconds before the bump's top
                let d = back.div_euclid(86_400);
                let k = back.rem_euclid(86_400) / STEP;
                let v = match scale(d) {
                    Some(s) if back.rem_euclid(86_400) % STEP == 0 && k <= 3 => s * (5 - k) as f64,
                    _ => 1.0,
                };
                (t, v)
            })
            .collect()
    }

    fn daily(d: i64) -> Option<f64> {
        Some(1.0 + 0.01 * d as f64)
    }

    #[test]
    fn a_recurring_peak_is_normal() {
        let s = bumps(A, 0, daily);
        match anomalous_daily_peak(&s, &DailyPeakSettings::default()) {
            DailyPeak::NormalPeak {
                anomaly_sum, peaks, ..
            } => {
                assert_eq!(anomaly_sum, 14.0);
                // 7 peaks, the oldest not counted, the anomaly's apart
                assert_eq!(peaks, 5);
            }
            other => panic!("{other:?}"),
        }
        // two samples past the top of the bump is still on it
        let s = bumps(A, 2, daily);
        assert!(!anomalous_daily_peak(&s, &DailyPeakSettings::default()).is_anomalous());
    }

    #[test]
    fn a_taller_peak_is_anomalous_unless_within_the_allowance() {
        let settings = DailyPeakSettings::default();
        let DailyPeak::NormalPeak {
            peaks_mean,
            three_sigma,
            ..
        } = anomalous_daily_peak(&bumps(A, 0, daily), &settings)
        else {
            panic!("normal expected");
        };
        assert!(three_sigma > 0.0);
        // the anomaly's bump sums to 14 · scale: 10 % beyond 3σ, then 30 %
        let beyond = |f: f64| {
            let target = peaks_mean + three_sigma / (1.0 - f);
            bumps(A, 0, |d| {
                if d == 0 {
                    Some(target / 14.0)
                } else {
                    daily(d)
                }
            })
        };
        match anomalous_daily_peak(&beyond(0.1), &settings) {
            DailyPeak::NormalPeak {
                percent_beyond: Some(p),
                ..
            } => assert!((p - 10.0).abs() < 1e-6, "{p}"),
            other => panic!("{other:?}"),
        }
        let strict = DailyPeakSettings {
            within_percent_of_normal_peaks: 0.0,
            ..settings
        };
        assert!(matches!(
            anomalous_daily_peak(&beyond(0.1), &strict),
            DailyPeak::Anomalous(Reason::Beyond { .. })
        ));
        assert!(matches!(
            anomalous_daily_peak(&beyond(0.3), &settings),
            DailyPeak::Anomalous(Reason::Beyond { .. })
        ));
    }

    #[test]
    fn each_anomalous_reason() {
        let settings = DailyPeakSettings::default();
        // the anomaly 10 samples after the bumps: flat there, no peak
        let s = bumps(A + 10 * STEP, 10, daily);
        assert_eq!(
            anomalous_daily_peak(&s, &settings),
            DailyPeak::Anomalous(Reason::NotAtPeak)
        );
        // 6 daily peaks: not enough for 7; 5 besides the anomaly's: not 6
        let s = bumps(A, 0, daily);
        let needing = |n| DailyPeakSettings {
            number_of_daily_peaks: n,
            ..settings
        };
        assert_eq!(
            anomalous_daily_peak(&s, &needing(7)),
            DailyPeak::Anomalous(Reason::FewDailyPeaks(6))
        );
        assert_eq!(
            anomalous_daily_peak(&s, &needing(6)),
            DailyPeak::Anomalous(Reason::FewOtherPeaks(5))
        );
        // 5 days: too short
        let short = &s[s.len() - 720..];
        assert!(matches!(
            anomalous_daily_peak(short, &settings),
            DailyPeak::Anomalous(Reason::Duration(_))
        ));
        // 1800 s: too coarse
        let coarse: Vec<Point> = s.iter().copied().step_by(3).collect();
        assert_eq!(
            anomalous_daily_peak(&coarse, &settings),
            DailyPeak::Anomalous(Reason::Resolution(Some(1800)))
        );
        assert_eq!(
            anomalous_daily_peak(&s[..1], &settings),
            DailyPeak::Anomalous(Reason::Resolution(None))
        );
    }

    #[test]
    fn closest_window() {
        // newest first; windows 8, 11, 13, 14: closest to 12.4 is 13 (the
        // first of 11 and 13 at equal distance from 12 would be 11)
        let v = [1.0, 1.0, 1.0, 5.0, 4.0, 3.0, 2.0];
        assert_eq!(closest_window_sum(&v, 12.4), 13.0);
        assert_eq!(closest_window_sum(&v, 12.0), 11.0);
        assert_eq!(closest_window_sum(&v, 100.0), 14.0);
        // fewer than 4 values: all of them
        assert_eq!(closest_window_sum(&[1.0, 2.0], 0.0), 3.0);
    }
}
