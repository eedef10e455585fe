//! `learn_repetitive_patterns` (`spec/learn.md` §4), pure: a metric whose
//! anomalies come at the same time every day (or every hour) and look
//! alike is learnt without an operator, as a chain of `LEARNT - repetitive
//! pattern` profiles.
//!
//! The decision, on the metric's training checks (in our event log, its
//! fingerprint checks: the anomaly timestamp and the series the check
//! judged):
//!
//! 1. **onsets**: sorted by anomaly timestamp, a check less than
//!    [`REPEAT_WITHIN`] after the previous onset is a repeat of the same
//!    event (an anomaly that lasts comes back as new anomalies within the
//!    hour) and is set aside; at least [`MIN_CHECKS`] onsets;
//! 2. **aligned**: onsets `t0 < t1 < …`, every gap `t(i+1) − t(i)` lies in
//!    `[86400 − 900, 86400 + 900)` or `[3600 − 180, 3600 + 180)`;
//! 3. the features sum of every check's series (`profile_features`), at
//!    least [`MIN_CHECKS`] of them finite;
//! 4. **similar pairs**: over every ordered pair `(a, b)`, `a ≠ b`, the pair
//!    is similar when `percent_different(sum_a, sum_b) ≤ 2.0`; learn when at
//!    least 3 distinct timestamps are in similar pairs, or at least 1 is and
//!    the average percent difference over all pairs is ≤ 4.0;
//! 5. the similar timestamps, oldest first, become profiles: the first with
//!    no parent at generation 2, each next one the child of the previous
//!    (generation + 1).
//!
//! **Source defect.** The reference's aligned test compares only the first
//! gap (a guard meant to skip timestamps within 3 h of the previous one is
//! always true after the first iteration), so with at least 3 checks no
//! metric ever passes it and nothing is ever learnt. This implements what
//! the document describes — every gap is tested — not that defect. The
//! guard itself is kept in its intent, skipping the repeats of one event,
//! but at [`REPEAT_WITHIN`] rather than 3 h: at 3 h it would also skip
//! every hourly-aligned anomaly, and the hourly alignment could never hold.
//!
//! Deliberate choices:
//!
//! * the profiles are not validated: decide's rule validates generation ≤
//!   1 only, and these start at 2;
//! * the chain stops before a generation reaches the metric's
//!   `max_generations`, the limit every learnt profile is held to;
//! * ids are [`topics::ids::repetitive_profile_id`] of (metric, anomaly
//!   timestamp, duration): the same checks give the same profiles, and a
//!   profile already in the store is not emitted again (the next one is
//!   still chained to it).

use std::collections::BTreeSet;

use fingerprint::matching::profile_features;
use fingerprint::{percent_different, Features, ProfileStore};
use topics::ids::repetitive_profile_id;
use topics::{LearnSettings, ProfileAction, ProfileEvent, SeriesPoint};
use uuid::Uuid;

use crate::label::{feature_values, profile_event_id};

/// The description of every profile learnt as a repetitive pattern.
pub const REPETITIVE_DESCRIPTION: &str = "LEARNT - repetitive pattern";

/// The generation of the first profile of a repetitive-pattern chain.
pub const FIRST_GENERATION: u32 = 2;

/// Fewest training checks (distinct timestamps) and features sums needed.
pub const MIN_CHECKS: usize = 3;

/// Two anomalies a day apart are aligned when their gap is within this
/// many seconds (below, inclusive; above, exclusive) of 86400.
pub const DAILY_TOLERANCE: i64 = 900;

/// Two anomalies an hour apart are aligned when their gap is within this
/// many seconds (below, inclusive; above, exclusive) of 3600.
pub const HOURLY_TOLERANCE: i64 = 180;

/// A pair of checks is similar when their features sums differ by at most
/// this many percent.
pub const SIMILAR_PERCENT: f64 = 2.0;

/// With fewer than 3 similar timestamps, learn anyway when the average
/// percent difference over all pairs is at most this.
pub const AVERAGE_PERCENT: f64 = 4.0;

/// One training check of the metric: an anomaly and the series it was
/// judged on.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingCheck {
    /// The anomaly's timestamp (unix seconds).
    pub anomaly_timestamp: i64,
    /// The series the check judged, oldest first.
    pub series: Vec<(i64, f64)>,
    /// The check's id, when known.
    pub check_id: Option<Uuid>,
}

/// Why no repetitive pattern was learnt.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotLearnt {
    /// Fewer than [`MIN_CHECKS`] onsets (distinct anomalies, repeats set
    /// aside).
    #[error("{0} onsets among the training checks, at least 3 needed")]
    TooFewChecks(usize),
    /// A gap between consecutive anomalies is neither a day nor an hour.
    #[error("anomalies at {from} and {to} are not a day or an hour apart")]
    NotAligned {
        /// The earlier anomaly's timestamp.
        from: i64,
        /// The later anomaly's timestamp.
        to: i64,
    },
    /// Fewer than [`MIN_CHECKS`] checks have a finite features sum.
    #[error("{0} features sums, at least 3 needed")]
    TooFewFeatures(usize),
    /// The checks' features are not alike.
    #[error("{similar} timestamps in similar pairs, average percent difference {average_pd:?}")]
    NotSimilar {
        /// Distinct timestamps in similar pairs.
        similar: usize,
        /// Average percent difference over every pair (`None`: none defined).
        average_pd: Option<f64>,
    },
    /// The next profile of the chain would reach `max_generations`.
    #[error("the pattern's next generation would reach max_generations {0}")]
    MaxGenerations(u32),
    /// Every profile the pattern makes is already in the store.
    #[error("the {0} profiles of this pattern are already learnt")]
    AlreadyLearnt(usize),
}

/// What a repetitive-pattern profile is made from: one anomaly's series
/// and its features.
#[derive(Debug, Clone)]
pub(crate) struct PatternData {
    pub anomaly_timestamp: i64,
    pub check_id: Option<Uuid>,
    pub series: Vec<(i64, f64)>,
    pub features: Features,
    pub features_sum: f64,
}

/// Why [`chain`] made nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ChainEnd {
    /// The next generation of the lineage is not below `max_generations`.
    MaxGenerations(u32),
    /// This many profiles would be made, all already in the store.
    AlreadyLearnt(usize),
}

/// The chained `LEARNT - repetitive pattern` events for `data` (sorted
/// here, oldest first) at `full_duration`: the first has no parent and
/// generation 2, each next one is the previous one's child (generation +
/// 1). Profiles already in the store are skipped, but still parent the
/// next at their own generation, so a pattern seen again later (the daily
/// rule's checks slide with data time) extends one lineage. The chain
/// stops before `settings.max_generations`.
pub(crate) fn chain(
    metric: &str,
    mut data: Vec<PatternData>,
    full_duration: i64,
    store: &ProfileStore,
    settings: &LearnSettings,
    now_ms: i64,
) -> Result<Vec<ProfileEvent>, ChainEnd> {
    data.sort_by_key(|d| d.anomaly_timestamp);
    if FIRST_GENERATION >= settings.max_generations {
        return Err(ChainEnd::MaxGenerations(settings.max_generations));
    }
    let mut parent: Option<(Uuid, u32)> = None;
    let mut events = Vec::new();
    let mut made = 0;
    for d in &data {
        let profile_id = repetitive_profile_id(metric, d.anomaly_timestamp, full_duration);
        let known = store.get(profile_id).map(|p| p.generation);
        let generation =
            known.unwrap_or_else(|| parent.map_or(FIRST_GENERATION, |(_, g)| g.saturating_add(1)));
        if generation >= settings.max_generations {
            if events.is_empty() {
                return Err(ChainEnd::MaxGenerations(settings.max_generations));
            }
            break;
        }
        made += 1;
        if known.is_none() {
            events.push(ProfileEvent {
                id: profile_event_id(profile_id, "learnt"),
                profile_id,
                action: ProfileAction::Learnt,
                metric: metric.to_owned(),
                parent_id: parent.map(|(id, _)| id),
                generation,
                full_duration,
                features: feature_values(&d.features),
                features_sum: d.features_sum,
                series: SeriesPoint::from_pairs(&d.series),
                layers_json: None,
                label_id: None,
                at_ms: now_ms,
                // decide's rule: only generation ≤ 1 is validated.
                validated: generation <= 1,
                learn: true,
                learn_settings: Some(*settings),
                description: Some(REPETITIVE_DESCRIPTION.to_owned()),
                operator: None,
                anomaly_timestamp: Some(d.anomaly_timestamp),
                check_id: d.check_id,
                disabled_with: None,
            });
        }
        parent = Some((profile_id, generation));
    }
    if events.is_empty() {
        return Err(ChainEnd::AlreadyLearnt(made));
    }
    Ok(events)
}

impl From<ChainEnd> for NotLearnt {
    fn from(end: ChainEnd) -> Self {
        match end {
            ChainEnd::MaxGenerations(max) => NotLearnt::MaxGenerations(max),
            ChainEnd::AlreadyLearnt(n) => NotLearnt::AlreadyLearnt(n),
        }
    }
}

/// Checks less than this (seconds) after the previous onset are repeats of
/// its event: the hourly alignment's lower bound (`3600 − 180`).
pub const REPEAT_WITHIN: i64 = 3_600 - HOURLY_TOLERANCE;

/// The onsets of `sorted` (by anomaly timestamp, distinct): the first, then
/// each check at least [`REPEAT_WITHIN`] after the previous onset.
fn onsets<'a>(sorted: &[&'a TrainingCheck]) -> Vec<&'a TrainingCheck> {
    let mut kept: Vec<&TrainingCheck> = Vec::with_capacity(sorted.len());
    for c in sorted {
        let repeat = kept
            .last()
            .is_some_and(|l| c.anomaly_timestamp - l.anomaly_timestamp < REPEAT_WITHIN);
        if !repeat {
            kept.push(c);
        }
    }
    kept
}

/// Whether a gap between consecutive anomalies is a day or an hour:
/// `gap ∈ [86400 − 900, 86400 + 900) ∪ [3600 − 180, 3600 + 180)`.
pub fn aligned_gap(gap: i64) -> bool {
    let within =
        |period: i64, tolerance: i64| (period - tolerance..period + tolerance).contains(&gap);
    within(86_400, DAILY_TOLERANCE) || within(3_600, HOURLY_TOLERANCE)
}

/// The similarity of features sums keyed by timestamp (§4): the distinct
/// timestamps in similar ordered pairs (`percent_different(a, b) ≤ 2.0`)
/// and the average percent difference over every pair whose difference is
/// defined (`None` when none is).
pub(crate) fn similar_pairs(sums: &[(i64, f64)]) -> (BTreeSet<i64>, Option<f64>) {
    let mut similar = BTreeSet::new();
    let (mut total, mut pairs) = (0.0, 0u32);
    for (i, &(ta, a)) in sums.iter().enumerate() {
        for (j, &(tb, b)) in sums.iter().enumerate() {
            if i == j {
                continue;
            }
            // An undefined difference (a zero base) is neither similar nor
            // averaged: it says nothing about how alike the two are.
            let Some(pd) = percent_different(a, b) else {
                continue;
            };
            total += pd;
            pairs += 1;
            if pd <= SIMILAR_PERCENT {
                similar.insert(ta);
                similar.insert(tb);
            }
        }
    }
    let average = (pairs > 0).then(|| total / f64::from(pairs));
    (similar, average)
}

/// Whether similar timestamps and the average percent difference are
/// enough to learn: ≥ 3 similar timestamps, or ≥ 1 and an average ≤ 4.0.
pub(crate) fn enough_alike(similar: usize, average_pd: Option<f64>) -> bool {
    similar >= 3 || (similar >= 1 && average_pd.is_some_and(|pd| pd <= AVERAGE_PERCENT))
}

/// Learns the repetitive pattern of `metric`'s training `checks` (§4):
/// chained `LEARNT - repetitive pattern` profiles at `full_duration` (the
/// duration the checks' series cover), or why not. CPU-bound: one features
/// extraction per check.
///
/// Checks sharing an anomaly timestamp count once (the first given).
pub fn learn_repetitive(
    metric: &str,
    checks: &[TrainingCheck],
    full_duration: i64,
    store: &ProfileStore,
    settings: &LearnSettings,
    now_ms: i64,
) -> Result<Vec<ProfileEvent>, NotLearnt> {
    let mut sorted: Vec<&TrainingCheck> = checks.iter().collect();
    // Stable: the first given of a timestamp stays first and is kept.
    sorted.sort_by_key(|c| c.anomaly_timestamp);
    sorted.dedup_by_key(|c| c.anomaly_timestamp);
    let sorted = onsets(&sorted);
    if sorted.len() < MIN_CHECKS {
        return Err(NotLearnt::TooFewChecks(sorted.len()));
    }
    if let Some(w) = sorted.windows(2).find(|w| {
        !aligned_gap(
            w[1].anomaly_timestamp
                .saturating_sub(w[0].anomaly_timestamp),
        )
    }) {
        return Err(NotLearnt::NotAligned {
            from: w[0].anomaly_timestamp,
            to: w[1].anomaly_timestamp,
        });
    }

    let data: Vec<PatternData> = sorted
        .iter()
        .filter_map(|c| {
            let series: Vec<(i64, f64)> = c
                .series
                .iter()
                .filter(|p| p.1.is_finite())
                .copied()
                .collect();
            if series.len() < 3 {
                return None;
            }
            let values: Vec<f64> = series.iter().map(|p| p.1).collect();
            let (features, features_sum) = profile_features(&values);
            features_sum.is_finite().then_some(PatternData {
                anomaly_timestamp: c.anomaly_timestamp,
                check_id: c.check_id,
                series,
                features,
                features_sum,
            })
        })
        .collect();
    if data.len() < MIN_CHECKS {
        return Err(NotLearnt::TooFewFeatures(data.len()));
    }

    let sums: Vec<(i64, f64)> = data
        .iter()
        .map(|d| (d.anomaly_timestamp, d.features_sum))
        .collect();
    let (similar, average_pd) = similar_pairs(&sums);
    if !enough_alike(similar.len(), average_pd) {
        return Err(NotLearnt::NotSimilar {
            similar: similar.len(),
            average_pd,
        });
    }
    let learnt: Vec<PatternData> = data
        .into_iter()
        .filter(|d| similar.contains(&d.anomaly_timestamp))
        .collect();
    chain(metric, learnt, full_duration, store, settings, now_ms).map_err(NotLearnt::from)
}

/// Real series with a real anomaly shape transplanted, for the tests of
/// this module and of `sporadic`.
///
/// Built from NAB's `realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv`
/// (14 days of 5-minute CPU points, mostly 85–99 %): its values are put on
/// a regular 300 s grid (the file's clock drifts by a few minutes a day);
/// the outage of 2014-04-16 (rows 1767–1896, CPU at about 24 % for 11 h)
/// is cut out, and what remains, 13 days of ordinary load, is tiled as
/// long as needed — the **background**. The **spike** is the first hour
/// of that outage (rows 1768–1779, 12 points), the real drop as recorded;
/// it is transplanted by overwriting the background's points that end at
/// the anomaly.
#[cfg(test)]
pub(crate) mod test_series {
    /// The grid step (seconds).
    pub const STEP: i64 = 300;
    /// The first grid point: a midnight (2023-11-14 00:00:00 UTC).
    pub const T0: i64 = 1_699_920_000;

    fn nab_values() -> Vec<f64> {
        crate::test_data::nab_series().iter().map(|p| p.1).collect()
    }

    /// `points` values of ordinary load (the file without its outage, tiled).
    pub fn background(points: usize) -> Vec<f64> {
        let values = nab_values();
        let ordinary: Vec<f64> = values[..1767]
            .iter()
            .chain(&values[1897..])
            .copied()
            .collect();
        ordinary.iter().copied().cycle().take(points).collect()
    }

    /// The outage's first `points` values (at most its 130).
    pub fn outage(points: usize) -> Vec<f64> {
        nab_values()[1768..1768 + points.min(129)].to_vec()
    }

    /// The first hour of the outage: the spike every test transplants.
    pub fn spike() -> Vec<f64> {
        outage(12)
    }

    /// The grid index of timestamp `t` (on the grid).
    pub fn index(t: i64) -> usize {
        usize::try_from((t - T0) / STEP).expect("after T0")
    }

    /// Overwrites `values` so that `shape` ends at timestamp `t`.
    pub fn transplant(values: &mut [f64], t: i64, shape: &[f64]) {
        let end = index(t);
        let start = end + 1 - shape.len();
        values[start..=end].copy_from_slice(shape);
    }

    /// `values` on the grid from [`T0`].
    pub fn stamped(values: &[f64]) -> Vec<(i64, f64)> {
        (0..)
            .zip(values)
            .map(|(i, &v)| (T0 + i * STEP, v))
            .collect()
    }

    /// The `duration` seconds of `series` ending at `t` (inclusive).
    pub fn ending_at(series: &[(i64, f64)], t: i64, duration: i64) -> Vec<(i64, f64)> {
        series
            .iter()
            .filter(|p| p.0 > t - duration && p.0 <= t)
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_series::*;
    use super::*;

    const DAY: i64 = 86_400;
    /// The spike's time of day: 10:35 UTC.
    const AT: i64 = 10 * 3_600 + 35 * 60;

    fn settings() -> LearnSettings {
        crate::LearnPolicy::default().for_metric("m")
    }

    /// Checks of 1 day (288 points) ending at each of `times`, with
    /// `shapes[i]` transplanted to end at `times[i]`.
    fn checks(times: &[i64], shapes: &[Vec<f64>]) -> Vec<TrainingCheck> {
        let last = *times.iter().max().expect("times");
        let mut values = background(index(last) + 1);
        for (t, shape) in times.iter().zip(shapes) {
            transplant(&mut values, *t, shape);
        }
        let series = stamped(&values);
        times
            .iter()
            .map(|&t| TrainingCheck {
                anomaly_timestamp: t,
                series: ending_at(&series, t, DAY),
                check_id: Some(Uuid::from_u128(t as u128)),
            })
            .collect()
    }

    #[test]
    fn aligned_gaps_are_a_day_or_an_hour() {
        assert!(aligned_gap(86_400));
        assert!(aligned_gap(86_400 - 900), "lower bound inclusive");
        assert!(!aligned_gap(86_400 - 901));
        assert!(aligned_gap(86_400 + 899));
        assert!(!aligned_gap(86_400 + 900), "upper bound exclusive");
        assert!(aligned_gap(3_600 - 180));
        assert!(!aligned_gap(3_600 + 180));
        assert!(!aligned_gap(7_200));
        assert!(!aligned_gap(0));
    }

    #[test]
    fn similar_pairs_by_hand() {
        // 100 vs 101: 1 % (base 100) and 0.990…% (base 101): similar.
        // 100 vs 110: 10 % and 9.09 %; 101 vs 110: 8.91 % and 8.18 %.
        let (similar, average) = similar_pairs(&[(1, 100.0), (2, 101.0), (3, 110.0)]);
        assert_eq!(similar.into_iter().collect::<Vec<_>>(), vec![1, 2]);
        let expected =
            (1.0 + 100.0 / 101.0 + 10.0 + 1000.0 / 110.0 + 900.0 / 101.0 + 900.0 / 110.0) / 6.0;
        assert!((average.expect("defined") - expected).abs() < 1e-9);
        // two similar timestamps: enough only with an average ≤ 4 %.
        assert!(!enough_alike(2, average));
        assert!(enough_alike(2, Some(4.0)));
        assert!(enough_alike(3, Some(50.0)));
        assert!(!enough_alike(0, Some(0.0)));
    }

    #[test]
    fn daily_spikes_learn_a_chain() {
        let times: Vec<i64> = (1..=12).map(|d| T0 + d * DAY + AT).collect();
        let shapes = vec![spike(); times.len()];
        let checks = checks(&times, &shapes);
        let store = ProfileStore::new();
        let s = settings();
        let events = learn_repetitive("m", &checks, DAY, &store, &s, 7).expect("learns");
        assert!(events.len() >= 3, "{} profiles", events.len());
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.generation, 2 + i as u32);
            assert_eq!(e.action, ProfileAction::Learnt);
            assert_eq!(e.description.as_deref(), Some(REPETITIVE_DESCRIPTION));
            assert!(!e.validated && e.learn);
            assert_eq!(e.full_duration, DAY);
            assert_eq!(e.series.len(), 288);
            let parent = if i == 0 {
                None
            } else {
                Some(events[i - 1].profile_id)
            };
            assert_eq!(e.parent_id, parent);
            assert!(times.contains(&e.anomaly_timestamp.expect("timestamp")));
        }
        assert!(events
            .windows(2)
            .all(|w| w[0].anomaly_timestamp < w[1].anomaly_timestamp));

        // Deterministic ids, and nothing re-emitted once folded.
        let again = learn_repetitive("m", &checks, DAY, &store, &s, 9).expect("learns");
        let ids = |es: &[ProfileEvent]| es.iter().map(|e| e.profile_id).collect::<Vec<_>>();
        assert_eq!(ids(&events), ids(&again));
        let mut folded = ProfileStore::new();
        for e in &events {
            folded.apply(e);
        }
        assert_eq!(
            learn_repetitive("m", &checks, DAY, &folded, &s, 9),
            Err(NotLearnt::AlreadyLearnt(events.len()))
        );
    }

    #[test]
    fn random_gaps_learn_nothing() {
        // Hand-picked irregular gaps (hours): 26, 19, 31, 24.
        let mut times = vec![T0 + DAY + AT];
        for h in [26, 19, 31, 24] {
            times.push(times[times.len() - 1] + h * 3_600);
        }
        let shapes = vec![spike(); times.len()];
        let checks = checks(&times, &shapes);
        let err = learn_repetitive("m", &checks, DAY, &ProfileStore::new(), &settings(), 0)
            .expect_err("not aligned");
        assert_eq!(
            err,
            NotLearnt::NotAligned {
                from: times[0],
                to: times[1]
            }
        );
    }

    #[test]
    fn spikes_of_different_shapes_learn_nothing() {
        // The outage cut at different lengths: it has lasted 15 min, 1 h,
        // 3 h and 6 h when the anomaly is seen.
        let times: Vec<i64> = (1..=4).map(|d| T0 + d * DAY + AT).collect();
        let shapes: Vec<Vec<f64>> = [3, 12, 36, 72].iter().map(|&n| outage(n)).collect();
        let checks = checks(&times, &shapes);
        let err = learn_repetitive("m", &checks, DAY, &ProfileStore::new(), &settings(), 0)
            .expect_err("not alike");
        assert!(matches!(err, NotLearnt::NotSimilar { .. }), "{err:?}");
    }

    #[test]
    fn repeats_of_one_event_are_set_aside() {
        // Each day's spike is seen at its end and again 15 and 50 minutes
        // later (a lasting anomaly comes back as new ones): the onsets are
        // still a day apart and learn; the repeats make no profile.
        let days: Vec<i64> = (1..=4).map(|d| T0 + d * DAY + AT).collect();
        let mut times = Vec::new();
        for &t in &days {
            times.extend([t, t + 900, t + 3_000]);
        }
        let shapes = vec![spike(); times.len()];
        let checks = checks(&times, &shapes);
        let events = learn_repetitive("m", &checks, DAY, &ProfileStore::new(), &settings(), 0)
            .expect("learns");
        assert!(events
            .iter()
            .all(|e| days.contains(&e.anomaly_timestamp.expect("timestamp"))));
        // Hourly anomalies are onsets, not repeats.
        assert_eq!(REPEAT_WITHIN, 3_420);
        let hourly: Vec<i64> = (0..4).map(|h| T0 + DAY + AT + h * 3_600).collect();
        let checks = checks_at(&hourly);
        assert!(!matches!(
            learn_repetitive("m", &checks, DAY, &ProfileStore::new(), &settings(), 0),
            Err(NotLearnt::TooFewChecks(_) | NotLearnt::NotAligned { .. })
        ));
    }

    fn checks_at(times: &[i64]) -> Vec<TrainingCheck> {
        checks(times, &vec![spike(); times.len()])
    }

    #[test]
    fn too_few_checks() {
        let times: Vec<i64> = (1..=2).map(|d| T0 + d * DAY + AT).collect();
        let checks = checks(&times, &[spike(), spike()]);
        assert_eq!(
            learn_repetitive("m", &checks, DAY, &ProfileStore::new(), &settings(), 0),
            Err(NotLearnt::TooFewChecks(2))
        );
    }
}
