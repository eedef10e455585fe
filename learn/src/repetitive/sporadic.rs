//! `find_repetitive_patterns` (`spec/learn.md` §5), pure: an anomaly whose
//! week looks like the weeks of other anomalies of the last 30 days, in
//! other weeks, is a pattern that comes back now and then; those weeks are
//! learnt without an operator as a chain of `LEARNT - repetitive pattern`
//! profiles at 7 days.
//!
//! For a new anomaly A of metric M:
//!
//! 1. X = M's anomalies in `[A − 30 d, A]`; nothing when fewer than 3;
//! 2. drop those within `(fp − 86400, fp + 14400)` of the anomaly timestamp
//!    of an enabled profile of M (periods already learnt);
//! 3. drop those whose recorded full duration is below a threshold (see
//!    [`SporadicSettings::min_anomaly_full_duration`]);
//! 4. for each remaining x, the 7 days of the long window ending at x,
//!    averaged into 600 s buckets when finer ([`resample_mean`]); skipped
//!    when shorter than 360 points, or shorter than 800 and not spanning
//!    the 7 days ([`classify_length`]), or Boring ([`boring`]); its
//!    features sum, on the min-max scaled series when the mean is ≥ 100000;
//! 5. sparse series (< 800 points) shorter than 0.9 × their average length
//!    are dropped;
//! 6. each t is compared with every other anomaly at least 7 days away,
//!    similar at `percent_different ≤ 2.0`; a t with ≥ 2 similar partners
//!    adds itself and them; learn when ≥ 3 distinct timestamps (or ≥ 1 and
//!    an average percent difference ≤ 4.0);
//! 7. de-duplicated ([`deduplicate`]: a timestamp within 169 h before the
//!    next is dropped), at least 2 left, they become the chain (generation
//!    2, then each the child of the previous) with their 7-day series.
//!
//! The Boring rule is analyze's ([`analyze::exceptions::is_boring`]) with
//! the reference's defaults (`MAX_TOLERABLE_BOREDOM` 100,
//! `BOREDOM_SET_SIZE` 1).

use std::collections::BTreeSet;

use fingerprint::matching::minmax::scale;
use fingerprint::matching::profile_features;
use fingerprint::{percent_different, ProfileStore};
use topics::{LearnSettings, ProfileEvent};

use super::daily::{chain, enough_alike, ChainEnd, PatternData, SIMILAR_PERCENT};

/// How far back (seconds) the anomalies compared with the new one go: 30 days.
pub const LOOKBACK: i64 = 30 * 86_400;

/// The duration (seconds) of each anomaly's series and of the profiles
/// learnt: 7 days.
pub const PATTERN_DURATION: i64 = 7 * 86_400;

/// Series finer than this (seconds) are averaged into buckets this wide.
pub const RESAMPLE_SECONDS: i64 = 600;

/// A series with fewer points is skipped.
pub const MIN_POINTS: usize = 360;

/// A series with fewer points is sparse: kept only when it spans the 7 days.
pub const POPULATED_POINTS: usize = 800;

/// A sparse series spans the 7 days when it starts and ends within this
/// many seconds of the window's start and end.
pub const SPAN_TOLERANCE: i64 = 7_200;

/// Sparse series shorter than this fraction of their average length are
/// dropped.
pub const SPARSE_FRACTION: f64 = 0.9;

/// Two anomalies are compared only when at least this many seconds apart
/// (7 days): a pattern must come back in another week.
pub const MIN_APART: i64 = 7 * 86_400;

/// A timestamp with at least this many similar partners is a pattern.
pub const MIN_PARTNERS: usize = 2;

/// De-duplication: a timestamp less than this many seconds (169 h) before
/// the next one is dropped.
pub const DEDUP_SECONDS: i64 = 169 * 3_600;

/// Anomalies from this many seconds before an enabled profile's anomaly...
pub const COVERED_BEFORE: i64 = 86_400;

/// ...to this many seconds after it are already learnt.
pub const COVERED_AFTER: i64 = 14_400;

/// The features are compared on the min-max scaled series when its mean is
/// at least this (the reference's hard-coded threshold, §6); the default of
/// [`SporadicSettings::minmax_avg_value`].
pub const MINMAX_MEAN: f64 = 100_000.0;

/// Boring: the last this many points...
pub const BOREDOM_POINTS: usize = 100;

/// ...hold exactly this many distinct values.
pub const BOREDOM_SET_SIZE: usize = 1;

/// The reference's full-duration threshold: 7 days less an hour.
pub const REFERENCE_MIN_FULL_DURATION: i64 = PATTERN_DURATION - 3_600;

/// The fewest timestamps left after de-duplication to learn from.
pub const MIN_LEARNT: usize = 2;

/// A past anomaly of the metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastAnomaly {
    /// Its timestamp (unix seconds).
    pub timestamp: i64,
    /// The full duration (seconds) of the data it was found in.
    pub full_duration: i64,
}

/// The tunable part of the search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SporadicSettings {
    /// Anomalies recorded with a shorter full duration (seconds) are not
    /// compared. The reference keeps only anomalies found in about 7 days
    /// of data (`604800 − 3600`), those of Mirage and Ionosphere, which
    /// fetched that data themselves. Here the 7 days are cut from the long
    /// window whatever found the anomaly, so that rule is no longer needed
    /// for the data to exist; it is kept, as a parameter, for deployments
    /// that want only anomalies judged on a week of data. 0 compares all.
    pub min_anomaly_full_duration: i64,
    /// `IONOSPHERE_REPETITIVE_PATTERNS_MINMAX_AVG_VALUE`: a week whose mean
    /// is at least this is compared on its min-max scaled series (0: never).
    pub minmax_avg_value: f64,
}

impl Default for SporadicSettings {
    /// The reference's rule: [`REFERENCE_MIN_FULL_DURATION`].
    fn default() -> Self {
        SporadicSettings {
            min_anomaly_full_duration: REFERENCE_MIN_FULL_DURATION,
            minmax_avg_value: MINMAX_MEAN,
        }
    }
}

/// Why no repetitive pattern was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotFound {
    /// Fewer than 3 anomalies in the 30 days (before any is dropped).
    #[error("{0} anomalies in 30 days, at least 3 needed")]
    TooFewAnomalies(usize),
    /// Fewer than 2 anomalies have a usable 7-day series.
    #[error("{0} anomalies with a usable 7-day series")]
    TooFewSeries(usize),
    /// The weeks are not alike.
    #[error(
        "{similar} timestamps with 2 similar partners, average percent difference {average_pd:?}"
    )]
    NotSimilar {
        /// Distinct timestamps added (each with ≥ 2 similar partners).
        similar: usize,
        /// Average percent difference over every comparison (`None`: none).
        average_pd: Option<f64>,
    },
    /// Fewer than 2 timestamps left after de-duplication.
    #[error("{0} timestamps left after de-duplication, 2 needed")]
    TooFewAfterDedup(usize),
    /// Generation 2 would already reach `max_generations`.
    #[error("generation 2 would reach max_generations {0}")]
    MaxGenerations(u32),
    /// Every profile the pattern makes is already in the store.
    #[error("the {0} profiles of this pattern are already learnt")]
    AlreadyLearnt(usize),
}

impl From<ChainEnd> for NotFound {
    fn from(end: ChainEnd) -> Self {
        match end {
            ChainEnd::MaxGenerations(max) => NotFound::MaxGenerations(max),
            ChainEnd::AlreadyLearnt(n) => NotFound::AlreadyLearnt(n),
        }
    }
}

/// How a 7-day series' length is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// At least [`POPULATED_POINTS`] points.
    Populated,
    /// Fewer, but spanning the window ("populated sparse").
    Sparse,
    /// Too short, or sparse without spanning the window.
    Skip,
}

/// The length rule for `series` (oldest first) cut for the window
/// `(end − 7 d, end]`: fewer than 360 points skip; fewer than 800 are kept
/// (Sparse) only when the first point is within 2 h of the window's start
/// and the last within 2 h of its end.
pub fn classify_length(series: &[(i64, f64)], end: i64) -> Length {
    let n = series.len();
    if n < MIN_POINTS {
        return Length::Skip;
    }
    if n >= POPULATED_POINTS {
        return Length::Populated;
    }
    let (Some(first), Some(last)) = (series.first(), series.last()) else {
        return Length::Skip;
    };
    let start = end - PATTERN_DURATION;
    if first.0 - start <= SPAN_TOLERANCE && end - last.0 <= SPAN_TOLERANCE {
        Length::Sparse
    } else {
        Length::Skip
    }
}

/// The series' resolution (seconds): the median gap between consecutive
/// points (robust to a missing point or two); `None` with fewer than 2.
pub fn resolution(series: &[(i64, f64)]) -> Option<i64> {
    let mut gaps: Vec<i64> = series
        .windows(2)
        .map(|w| w[1].0.saturating_sub(w[0].0))
        .filter(|g| *g > 0)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    Some(gaps[gaps.len() / 2])
}

/// `series` (oldest first, at or before `end`) averaged into buckets of
/// `step` seconds ending at `end` ("origin end"): bucket k is
/// `(end − (k+1)·step, end − k·step]`, labelled with its end, its value
/// the mean of its points; empty buckets are left out. The last bucket
/// ending at `end` keeps the anomaly's own point in the last value.
/// Points after `end` are ignored; `step ≤ 0` returns the series as is.
pub fn resample_mean(series: &[(i64, f64)], end: i64, step: i64) -> Vec<(i64, f64)> {
    if step <= 0 {
        return series.to_vec();
    }
    let mut out: Vec<(i64, f64)> = Vec::new();
    let mut current: Option<(i64, f64, u32)> = None;
    for &(t, v) in series.iter().filter(|p| p.0 <= end) {
        let k = (end - t) / step;
        let label = end - k * step;
        if let Some((l, sum, n)) = current.as_mut() {
            if *l == label {
                *sum += v;
                *n += 1;
                continue;
            }
        }
        if let Some((l, sum, n)) = current {
            out.push((l, sum / f64::from(n)));
        }
        current = Some((label, v, 1));
    }
    if let Some((l, sum, n)) = current {
        out.push((l, sum / f64::from(n)));
    }
    out
}

/// analyze's Boring rule ([`analyze::exceptions::is_boring`]) with its
/// defaults: the last [`BOREDOM_POINTS`] values hold exactly
/// [`BOREDOM_SET_SIZE`] distinct values (all, when fewer).
pub fn boring(values: &[f64]) -> bool {
    analyze::exceptions::is_boring(values, BOREDOM_POINTS, BOREDOM_SET_SIZE)
}

/// De-duplicates sorted `timestamps`: one less than [`DEDUP_SECONDS`]
/// (169 h) before the next one is dropped, so of anomalies close together
/// the latest stays.
pub fn deduplicate(timestamps: &[i64]) -> Vec<i64> {
    timestamps
        .iter()
        .enumerate()
        .filter(|&(i, t)| {
            timestamps
                .get(i + 1)
                .is_none_or(|&next| next - *t >= DEDUP_SECONDS)
        })
        .map(|(_, &t)| t)
        .collect()
}

/// The 7-day series of the long window ending at `end`: finite points in
/// `(end − 7 d, end]`, oldest first, averaged into 600 s buckets when the
/// window is finer.
pub fn week_series(rollup: &[(i64, f64)], end: i64) -> Vec<(i64, f64)> {
    let start = end - PATTERN_DURATION;
    let mut series: Vec<(i64, f64)> = rollup
        .iter()
        .filter(|p| p.0 > start && p.0 <= end && p.1.is_finite())
        .copied()
        .collect();
    series.sort_by_key(|p| p.0);
    match resolution(&series) {
        Some(r) if r < RESAMPLE_SECONDS => resample_mean(&series, end, RESAMPLE_SECONDS),
        _ => series,
    }
}

/// One anomaly's week, judged usable, with its features.
struct Week {
    data: PatternData,
    /// The sum compared (of the min-max scaled series when the mean is large).
    compared_sum: f64,
    sparse: bool,
}

/// The week ending at `x`, or `None` when a rule skips it.
fn week(rollup: &[(i64, f64)], x: i64, minmax_avg_value: f64) -> Option<Week> {
    let series = week_series(rollup, x);
    let length = classify_length(&series, x);
    if length == Length::Skip {
        return None;
    }
    let values: Vec<f64> = series.iter().map(|p| p.1).collect();
    if boring(&values) {
        return None;
    }
    let (features, features_sum) = profile_features(&values);
    // The 'adhoc' features of §6: a large-valued series is compared on its
    // shape, scaled to [0, 1]; the profile keeps the plain features, which
    // are what later checks of the metric are matched against.
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let compared_sum = if minmax_avg_value > 0.0 && mean >= minmax_avg_value {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        profile_features(&scale(&values, min, max)).1
    } else {
        features_sum
    };
    if !compared_sum.is_finite() || !features_sum.is_finite() {
        return None;
    }
    Some(Week {
        data: PatternData {
            anomaly_timestamp: x,
            check_id: None,
            series,
            features,
            features_sum,
        },
        compared_sum,
        sparse: length == Length::Sparse,
    })
}

/// The length (points) below which a sparse week is dropped:
/// [`SPARSE_FRACTION`] × the sparse weeks' average length; `None` when
/// there is no sparse week.
pub fn short_sparse_cutoff(sparse_lengths: &[usize]) -> Option<f64> {
    if sparse_lengths.is_empty() {
        return None;
    }
    let average = sparse_lengths.iter().sum::<usize>() as f64 / sparse_lengths.len() as f64;
    Some(SPARSE_FRACTION * average)
}

/// Drops the sparse weeks shorter than [`short_sparse_cutoff`].
fn drop_short_sparse(weeks: Vec<Week>) -> Vec<Week> {
    let sparse: Vec<usize> = weeks
        .iter()
        .filter(|w| w.sparse)
        .map(|w| w.data.series.len())
        .collect();
    let Some(cutoff) = short_sparse_cutoff(&sparse) else {
        return weeks;
    };
    weeks
        .into_iter()
        .filter(|w| !w.sparse || w.data.series.len() as f64 >= cutoff)
        .collect()
}

/// The comparison of §5: the distinct timestamps of every t with at least
/// [`MIN_PARTNERS`] similar partners at least [`MIN_APART`] away (t and its
/// partners), and the average percent difference over every comparison.
fn weekly_similar(sums: &[(i64, f64)]) -> (BTreeSet<i64>, Option<f64>) {
    let mut training = BTreeSet::new();
    let (mut total, mut compared) = (0.0, 0u32);
    for &(t, sum_t) in sums {
        let mut partners = Vec::new();
        for &(it, sum_it) in sums {
            if it == t || (it - t).abs() < MIN_APART {
                continue;
            }
            let Some(pd) = percent_different(sum_t, sum_it) else {
                continue;
            };
            total += pd;
            compared += 1;
            if pd <= SIMILAR_PERCENT {
                partners.push(it);
            }
        }
        if partners.len() >= MIN_PARTNERS {
            training.insert(t);
            training.extend(partners);
        }
    }
    (
        training,
        (compared > 0).then(|| total / f64::from(compared)),
    )
}

/// Looks for the repetitive pattern the anomaly of `metric` at
/// `anomaly_timestamp` is part of (§5): `anomalies` are the metric's
/// anomalies (A itself included; those outside `[A − 30 d, A]` are
/// ignored), `rollup` its long window (any resolution, oldest first or
/// not). Returns the chained profile events at 7 days, or why none.
/// CPU-bound: one features extraction per usable anomaly.
#[allow(clippy::too_many_arguments)] // the §5 inputs, each one distinct
pub fn find_repetitive(
    metric: &str,
    anomaly_timestamp: i64,
    anomalies: &[PastAnomaly],
    rollup: &[(i64, f64)],
    store: &ProfileStore,
    settings: &LearnSettings,
    sporadic: &SporadicSettings,
    now_ms: i64,
) -> Result<Vec<ProfileEvent>, NotFound> {
    let from = anomaly_timestamp - LOOKBACK;
    let mut recent: Vec<PastAnomaly> = anomalies
        .iter()
        .filter(|a| a.timestamp >= from && a.timestamp <= anomaly_timestamp)
        .copied()
        .collect();
    recent.sort_by_key(|a| a.timestamp);
    recent.dedup_by_key(|a| a.timestamp);
    if recent.len() < 3 {
        return Err(NotFound::TooFewAnomalies(recent.len()));
    }

    let learnt: Vec<i64> = store
        .for_metric(metric)
        .filter(|p| p.enabled)
        .filter_map(|p| p.anomaly_timestamp)
        .collect();
    let covered = |t: i64| {
        learnt
            .iter()
            .any(|&fp| t > fp - COVERED_BEFORE && t < fp + COVERED_AFTER)
    };
    let weeks: Vec<Week> = recent
        .iter()
        .filter(|a| !covered(a.timestamp))
        .filter(|a| a.full_duration >= sporadic.min_anomaly_full_duration)
        .filter_map(|a| week(rollup, a.timestamp, sporadic.minmax_avg_value))
        .collect();
    let weeks = drop_short_sparse(weeks);
    if weeks.len() < MIN_LEARNT {
        return Err(NotFound::TooFewSeries(weeks.len()));
    }

    let sums: Vec<(i64, f64)> = weeks
        .iter()
        .map(|w| (w.data.anomaly_timestamp, w.compared_sum))
        .collect();
    let (training, average_pd) = weekly_similar(&sums);
    if !enough_alike(training.len(), average_pd) {
        return Err(NotFound::NotSimilar {
            similar: training.len(),
            average_pd,
        });
    }
    let sorted: Vec<i64> = training.into_iter().collect();
    let kept = deduplicate(&sorted);
    if kept.len() < MIN_LEARNT {
        return Err(NotFound::TooFewAfterDedup(kept.len()));
    }
    let data: Vec<PatternData> = weeks
        .into_iter()
        .filter(|w| kept.contains(&w.data.anomaly_timestamp))
        .map(|w| w.data)
        .collect();
    chain(metric, data, PATTERN_DURATION, store, settings, now_ms).map_err(NotFound::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repetitive::daily::test_series::*;
    use crate::repetitive::daily::REPETITIVE_DESCRIPTION;

    const DAY: i64 = 86_400;
    const HOUR: i64 = 3_600;

    fn settings() -> LearnSettings {
        crate::LearnPolicy::default().for_metric("m")
    }

    /// A 5-minute long window of `days` days of background (see
    /// `test_series`) with the spike transplanted to end at each of `times`.
    fn window(days: i64, times: &[i64]) -> Vec<(i64, f64)> {
        let mut values = background(index(T0 + days * DAY));
        for &t in times {
            transplant(&mut values, t, &spike());
        }
        stamped(&values)
    }

    fn week_anomalies(times: &[i64]) -> Vec<PastAnomaly> {
        times
            .iter()
            .map(|&timestamp| PastAnomaly {
                timestamp,
                full_duration: PATTERN_DURATION,
            })
            .collect()
    }

    /// Four spikes at irregular times of day, 7.5 to 9.7 days apart; the
    /// last is the new anomaly.
    fn irregular() -> Vec<i64> {
        vec![
            T0 + 9 * DAY + 10 * HOUR + 35 * 60,
            T0 + 17 * DAY + 3 * HOUR + 10 * 60,
            T0 + 26 * DAY + 19 * HOUR + 45 * 60,
            T0 + 34 * DAY + 7 * HOUR + 20 * 60,
        ]
    }

    #[test]
    fn resample_means_buckets_ending_at_the_end() {
        let end = 10_000;
        let series = [
            (end - 1_500, 1.0),
            (end - 1_200, 3.0),
            (end - 900, 5.0),
            (end - 600, 7.0),
            (end - 300, 11.0),
            (end, 13.0),
            (end + 300, 99.0), // after the anomaly: ignored
        ];
        // (end−1800, end−1200] = {1, 3}; (end−1200, end−600] = {5, 7};
        // (end−600, end] = {11, 13}.
        assert_eq!(
            resample_mean(&series, end, 600),
            vec![(end - 1_200, 2.0), (end - 600, 6.0), (end, 12.0)]
        );
        // An empty bucket is left out, a lone point is its own mean.
        let gappy = [(end - 2_000, 4.0), (end - 100, 1.0), (end - 50, 2.0)];
        assert_eq!(
            resample_mean(&gappy, end, 600),
            vec![(end - 1_800, 4.0), (end, 1.5)]
        );
        assert_eq!(resolution(&series), Some(300));
    }

    #[test]
    fn week_series_is_resampled_only_when_finer() {
        let end = T0 + 8 * DAY;
        let five_minutes = stamped(&background(index(end) + 1));
        let week = week_series(&five_minutes, end);
        assert_eq!(week.len(), 1_008, "7 days of 600 s buckets");
        assert_eq!(week.last().map(|p| p.0), Some(end));
        let i = index(end);
        let expected = (five_minutes[i].1 + five_minutes[i - 1].1) / 2.0;
        assert!((week[1_007].1 - expected).abs() < 1e-12);
        // Already 600 s: kept as is.
        assert_eq!(week_series(&week, end), week);
    }

    #[test]
    fn length_rules() {
        let end = 1_000_000;
        let start = end - PATTERN_DURATION;
        // n points evenly from `first` to `last`.
        let spread = |n: i64, first: i64, last: i64| -> Vec<(i64, f64)> {
            (0..n)
                .map(|i| (first + (last - first) * i / (n - 1), 1.0))
                .collect()
        };
        assert_eq!(
            classify_length(&spread(359, start + 1, end), end),
            Length::Skip
        );
        assert_eq!(
            classify_length(&spread(360, start + 1, end), end),
            Length::Sparse
        );
        // Sparse must span: within 2 h of both ends.
        assert_eq!(
            classify_length(&spread(500, start + 7_200, end - 7_200), end),
            Length::Sparse
        );
        assert_eq!(
            classify_length(&spread(500, start + 7_201, end), end),
            Length::Skip
        );
        assert_eq!(
            classify_length(&spread(500, start + 1, end - 7_201), end),
            Length::Skip
        );
        assert_eq!(
            classify_length(&spread(799, start + 3 * DAY, end), end),
            Length::Skip
        );
        // Populated from 800 points, wherever they are.
        assert_eq!(
            classify_length(&spread(800, start + 3 * DAY, end - DAY), end),
            Length::Populated
        );
        // Sparse lengths 400, 500, 600: average 500, cut-off 450.
        assert_eq!(short_sparse_cutoff(&[400, 500, 600]), Some(450.0));
        assert_eq!(short_sparse_cutoff(&[]), None);
    }

    #[test]
    fn boring_is_one_value_in_the_last_hundred() {
        let mut values = vec![5.0; 150];
        assert!(boring(&values));
        values[49] = 6.0; // before the last 100
        assert!(boring(&values));
        values[50] = 6.0; // inside
        assert!(!boring(&values));
        assert!(boring(&[0.0, -0.0]));
        assert!(!boring(&[]));
    }

    #[test]
    fn deduplication_keeps_the_latest_of_close_timestamps() {
        let h = HOUR;
        // 0 is 100 h before the next: dropped; 100 h is 200 h before 300 h:
        // kept; 300 h is 168 h before 468 h: dropped; 468 h is exactly
        // 169 h before 637 h: kept; the last is always kept.
        assert_eq!(
            deduplicate(&[0, 100 * h, 300 * h, 468 * h, 637 * h]),
            vec![100 * h, 468 * h, 637 * h]
        );
        assert_eq!(deduplicate(&[]), Vec::<i64>::new());
    }

    #[test]
    fn spikes_in_different_weeks_learn_a_chain() {
        let times = irregular();
        let rollup = window(36, &times);
        let a = *times.last().expect("anomaly");
        let s = settings();
        let store = ProfileStore::new();
        let run = |now| {
            find_repetitive(
                "m",
                a,
                &week_anomalies(&times),
                &rollup,
                &store,
                &s,
                &SporadicSettings::default(),
                now,
            )
        };
        let events = run(1).expect("learns");
        // The weeks' features sums (millions): 8.570, 8.745, 8.307, 8.792.
        // The second is within 2 % of the first (1.997 % on its own base)
        // and of the fourth (0.54 %): two partners, so the first, second
        // and fourth are learnt; the third is ≥ 5 % from the others. They
        // are ≥ 169 h apart, so de-duplication keeps all three.
        let learnt: Vec<Option<i64>> = events.iter().map(|e| e.anomaly_timestamp).collect();
        assert_eq!(learnt, vec![Some(times[0]), Some(times[1]), Some(times[3])]);
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.generation, 2 + i as u32);
            assert_eq!(e.full_duration, PATTERN_DURATION);
            assert_eq!(e.description.as_deref(), Some(REPETITIVE_DESCRIPTION));
            assert_eq!(e.series.len(), 1_008);
            let parent = if i == 0 {
                None
            } else {
                Some(events[i - 1].profile_id)
            };
            assert_eq!(e.parent_id, parent);
            assert!(times.contains(&e.anomaly_timestamp.expect("timestamp")));
        }
        let ids = |es: &[ProfileEvent]| es.iter().map(|e| e.profile_id).collect::<Vec<_>>();
        assert_eq!(ids(&events), ids(&run(2).expect("learns")));
    }

    #[test]
    fn spikes_in_one_week_learn_nothing() {
        let times = vec![
            T0 + 30 * DAY + 2 * HOUR,
            T0 + 32 * DAY + 14 * HOUR,
            T0 + 34 * DAY + 7 * HOUR + 20 * 60,
        ];
        let rollup = window(36, &times);
        let err = find_repetitive(
            "m",
            times[2],
            &week_anomalies(&times),
            &rollup,
            &ProfileStore::new(),
            &settings(),
            &SporadicSettings::default(),
            0,
        )
        .expect_err("one week");
        assert_eq!(
            err,
            NotFound::NotSimilar {
                similar: 0,
                average_pd: None
            }
        );
    }

    #[test]
    fn anomalies_covered_by_a_profile_are_skipped() {
        let times = irregular();
        let rollup = window(36, &times);
        let a = times[3];
        let s = settings();
        let sporadic = SporadicSettings::default();
        let anomalies = week_anomalies(&times);
        let first = find_repetitive(
            "m",
            a,
            &anomalies,
            &rollup,
            &ProfileStore::new(),
            &s,
            &sporadic,
            0,
        )
        .expect("learns");
        // An enabled profile learnt from the second spike covers it.
        let covering = first
            .iter()
            .find(|e| e.anomaly_timestamp == Some(times[1]))
            .expect("the second spike was learnt");
        let mut store = ProfileStore::new();
        store.apply(covering);
        // Without the second week the other three are each more than 2 %
        // from one another (features sums of their weeks, in millions:
        // 8.570, 8.307, 8.792, i.e. 2.6 %, 3.1 % and 5.5 % apart), so no
        // week has a similar partner.
        assert!(matches!(
            find_repetitive("m", a, &anomalies, &rollup, &store, &s, &sporadic, 0),
            Err(NotFound::NotSimilar { similar: 0, .. })
        ));
        // Too few anomalies in the 30 days.
        assert_eq!(
            find_repetitive("m", a, &anomalies[2..], &rollup, &store, &s, &sporadic, 0),
            Err(NotFound::TooFewAnomalies(2))
        );
        // Anomalies found in less than a week of data are left out by default.
        let daily: Vec<PastAnomaly> = anomalies
            .iter()
            .map(|x| PastAnomaly {
                full_duration: DAY,
                ..*x
            })
            .collect();
        assert_eq!(
            find_repetitive(
                "m",
                a,
                &daily,
                &rollup,
                &ProfileStore::new(),
                &s,
                &sporadic,
                0
            ),
            Err(NotFound::TooFewSeries(0))
        );
    }
}
