//! The learn decisions (`spec/learn.md` §3), pure: given the profiles, the
//! metric's learn settings and the features of the learn-duration data,
//! learn a profile or say why not.
//!
//! Two paths make learnt profiles:
//!
//! * **from a human profile** ([`learn_from_human`], the reference's
//!   `learn_fp_human`): a profile an operator made with LEARN gets a child at
//!   the learn duration, generation 1, validated;
//! * **from an unmatched anomaly** ([`learn_from_unmatched`], the
//!   reference's `learn_fp_generation` check followed by
//!   `learn_fp_learnt`): the learn-duration data of an anomaly nothing
//!   matched is compared (plain features only) with the metric's learnt
//!   profiles at that duration; if one matches, a child of it is learnt,
//!   generation + 1, not validated.
//!
//! Every learnt profile's id is [`topics::ids::learnt_profile_id`] of
//! (parent, anomaly timestamp, duration): deciding twice emits the same
//! profile, which the profile store and projections count once.

use fingerprint::matching::{judge_features_only, profile_features, Profile};
use fingerprint::{percent_different, Features};
use fingerprint::{ProfileStore, StoredProfile};
use topics::ids::learnt_profile_id;
use topics::{LearnSettings, ProfileAction, ProfileEvent, SeriesPoint};
use uuid::Uuid;

use crate::label::{feature_values, profile_event_id};

/// `IONOSPHERE_FEATURES_PERCENT_SIMILAR`: a learn check matches a profile
/// whose common-features sums differ by less than this percentage.
pub const LEARN_PERCENT_SIMILAR: f64 = 1.0;

/// The reference's rate limit (§3.2): no profile of generation > 1 is learnt
/// within this many seconds of another.
pub const RATE_LIMIT_SECONDS: i64 = 3600;

/// The label of a learnt profile.
pub const LEARNT: &str = "LEARNT";

/// The learn-duration data of an anomaly and its features.
#[derive(Debug, Clone)]
pub struct LearnData {
    /// The metric the anomaly is on.
    pub metric: String,
    /// The anomaly's timestamp (the data ends there).
    pub anomaly_timestamp: i64,
    /// The check the anomaly was judged in, if known.
    pub check_id: Option<Uuid>,
    /// The data, oldest first.
    pub series: Vec<(i64, f64)>,
    /// Stored features of the data.
    pub features: Features,
    /// Σ of every feature of the data (NaN skipped).
    pub features_sum: f64,
}

/// Why nothing was learnt (logged at debug level).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Skip {
    /// The would-be parent (or its origin) is unknown or not active.
    #[error("profile {0} is not known or not active")]
    NotActive(Uuid),
    /// The human profile was made without LEARN.
    #[error("profile {0} does not learn")]
    NotLearning(Uuid),
    /// The child's generation would not be below `max_generations`.
    #[error("generation {generation} would reach max_generations {max}")]
    MaxGenerations {
        /// The child's generation.
        generation: u32,
        /// The metric's `max_generations`.
        max: u32,
    },
    /// No learnt profile at this learn duration (seconds) matched the data.
    #[error("no learnt profile at {0} s matched")]
    NoMatch(i64),
    /// A profile of generation > 1 was learnt within an hour (3600 s) of the anomaly.
    #[error("a profile of generation > 1 was learnt within an hour of this anomaly")]
    RateLimited,
    /// The data's features sum is too far from the origin's.
    #[error("{pd:?} % from the origin's features sum, more than {max} %")]
    FarFromOrigin {
        /// Percent difference from the origin's features sum (`None`: not computable).
        pd: Option<f64>,
        /// The metric's `max_percent_diff_from_origin` (percent).
        max: f64,
    },
    /// The child this would learn (this id) is already in the store.
    #[error("profile {0} is already learnt")]
    AlreadyLearnt(Uuid),
}

/// The learn-duration series ending at `anomaly_timestamp`: the points of
/// `window` in `(anomaly_timestamp − full_duration, anomaly_timestamp]`
/// with a finite value, or `None` when they do not cover the duration. As
/// `calculate_features_profile` (`spec/ionosphere.md` §2): insufficient
/// when the first point is later than `last − (full_duration − offset)`,
/// offset 7200 s, or 14400 s above a day; and fewer than 3 points never
/// make features.
pub fn learn_series(
    window: &[(i64, f64)],
    anomaly_timestamp: i64,
    full_duration: i64,
) -> Option<Vec<(i64, f64)>> {
    let from = anomaly_timestamp.saturating_sub(full_duration);
    let series: Vec<(i64, f64)> = window
        .iter()
        .filter(|p| p.0 > from && p.0 <= anomaly_timestamp && p.1.is_finite())
        .copied()
        .collect();
    covers(&series, full_duration).then_some(series)
}

/// The learn-duration data of `metric` ending at `anomaly_timestamp`, cut
/// from `rollup` (the metric's long window) by [`learn_series`], with its
/// features; `None` when the long window does not cover `full_duration`.
/// CPU-bound (a features extraction).
pub fn learn_data(
    rollup: &[(i64, f64)],
    metric: &str,
    anomaly_timestamp: i64,
    check_id: Option<Uuid>,
    full_duration: i64,
) -> Option<LearnData> {
    let series = learn_series(rollup, anomaly_timestamp, full_duration)?;
    let values: Vec<f64> = series.iter().map(|p| p.1).collect();
    let (features, features_sum) = profile_features(&values);
    Some(LearnData {
        metric: metric.to_owned(),
        anomaly_timestamp,
        check_id,
        series,
        features,
        features_sum,
    })
}

/// Whether `series` (finite points, oldest first) is enough to make a
/// profile at `full_duration` from: at least 3 points, the first no later
/// than `last − (full_duration − offset)` (offset 7200 s, or 14400 s above
/// a day), as `calculate_features_profile` refuses "insufficient data".
pub fn covers(series: &[(i64, f64)], full_duration: i64) -> bool {
    let (Some(first), Some(last)) = (series.first(), series.last()) else {
        return false;
    };
    let offset = if full_duration > 86_400 {
        14_400
    } else {
        7_200
    };
    series.len() >= 3 && first.0 <= last.0.saturating_sub(full_duration.saturating_sub(offset))
}

/// The Learnt event for a child of `parent` learnt from `data`.
fn learnt_event(
    parent: &StoredProfile,
    generation: u32,
    settings: &LearnSettings,
    data: &LearnData,
    validated: bool,
    now_ms: i64,
) -> ProfileEvent {
    let profile_id = learnt_profile_id(parent.id(), data.anomaly_timestamp, settings.full_duration);
    ProfileEvent {
        id: profile_event_id(profile_id, "learnt"),
        profile_id,
        action: ProfileAction::Learnt,
        metric: data.metric.clone(),
        parent_id: Some(parent.id()),
        generation,
        full_duration: settings.full_duration,
        features: feature_values(&data.features),
        features_sum: data.features_sum,
        series: SeriesPoint::from_pairs(&data.series),
        layers_json: None,
        label_id: None,
        at_ms: now_ms,
        validated,
        learn: true,
        learn_settings: Some(*settings),
        description: Some(LEARNT.to_owned()),
        operator: None,
        anomaly_timestamp: Some(data.anomaly_timestamp),
        check_id: data.check_id,
        disabled_with: None,
    }
}

/// The human profile `human_id` learns a generation-1 child at the learn
/// duration from `data` (§3.1, `learn_fp_human`): when it is active, made
/// with LEARN, and `1 < max_generations`. The child is validated (the
/// reference validates generation ≤ 1) and may learn further.
///
/// (The reference creates it with `fp_learn = False`, but then decides
/// whether a learnt profile may learn afresh from its origin's children; a
/// profile's `learn` flag here only records that its lineage learns.)
pub fn learn_from_human(
    store: &ProfileStore,
    human_id: Uuid,
    settings: &LearnSettings,
    data: &LearnData,
    now_ms: i64,
) -> Result<ProfileEvent, Skip> {
    let human = store
        .get(human_id)
        .filter(|_| store.is_active(human_id))
        .ok_or(Skip::NotActive(human_id))?;
    if !human.learn {
        return Err(Skip::NotLearning(human_id));
    }
    let generation = human.generation + 1;
    if generation >= settings.max_generations {
        return Err(Skip::MaxGenerations {
            generation,
            max: settings.max_generations,
        });
    }
    let event = learnt_event(human, generation, settings, data, true, now_ms);
    if store.get(event.profile_id).is_some() {
        return Err(Skip::AlreadyLearnt(event.profile_id));
    }
    Ok(event)
}

/// The profile a learnt lineage is held to (`max_percent_diff_from_origin`):
/// the oldest ancestor of `id` (itself included) at `full_duration`, or the
/// generation-0 origin when none is at that duration.
///
/// **Why not always the generation-0 origin**, as the reference does: the
/// human profile is usually at 86400 s while learning is at 30 days, and a
/// features sum grows with the length of the series. On the NAB series
/// `ec2_cpu_utilization_825cc2` the 7-day learn data differs from its 1-day
/// origin by about 251 % — above the default 100 % for every anomaly, so
/// nothing would ever be learnt past generation 1. Held to the first
/// profile learnt at the same duration (the human profile's generation-1
/// copy), the rule does what an operator expects of it: learnt profiles may
/// not drift more than that far from what the operator first taught.
pub fn origin_at(store: &ProfileStore, id: Uuid, full_duration: i64) -> Option<&StoredProfile> {
    let mut current = store.get(id)?;
    let mut oldest_at_duration = (current.full_duration() == full_duration).then_some(current);
    for _ in 0..=store.len() {
        let Some(parent) = current.parent_id.and_then(|p| store.get(p)) else {
            break;
        };
        current = parent;
        if current.full_duration() == full_duration {
            oldest_at_duration = Some(current);
        }
    }
    oldest_at_duration.or_else(|| store.origin(id))
}

/// An anomaly nothing matched learns from the learnt profile its
/// learn-duration data matches (§3.2 then §3.3).
///
/// Compared, plain features only at [`LEARN_PERCENT_SIMILAR`] %: the
/// metric's active profiles at `settings.full_duration` with
/// `1 <= generation < max_generations`, newest first (the latest
/// generation describes the metric's current normal best, and learning
/// from it is what lets generations grow). On a match with profile F:
///
/// * rate limit: nothing when a profile of generation > 1 and at least this
///   duration was learnt from an anomaly within [`RATE_LIMIT_SECONDS`] of
///   this one (the reference counts creation times on the wall clock; the
///   anomaly timestamps make a replay decide the same);
/// * origin O = F's oldest ancestor at this duration ([`origin_at`]);
///   nothing when `percent_different(O.features_sum, data.features_sum)`
///   `= |(data − O) / O| × 100` is undefined or above
///   `max_percent_diff_from_origin`;
/// * generation = F.generation + 1; nothing when it reaches
///   `max_generations`;
/// * else a Learnt child of F, not validated when its generation is above 1.
///
/// **Generation 0.** The reference drops a match with a generation-0
/// profile (§3.3, "the origin must be reached via ≥ 1 hop"). Matching
/// against it and dropping would stop learning for good whenever a human
/// profile exists at the learn duration (it is the oldest, so with the
/// reference's order it is also what matches first, and its generation-1
/// copy never gets a chance). Generation-0 profiles are therefore left out
/// of the comparison instead, which keeps the rule (nothing is learnt
/// directly from a human profile by a match) and lets the learnt ones
/// match.
pub fn learn_from_unmatched(
    store: &ProfileStore,
    settings: &LearnSettings,
    data: &LearnData,
    now_ms: i64,
) -> Result<ProfileEvent, Skip> {
    let fd = settings.full_duration;
    let mut candidates: Vec<&StoredProfile> = store
        .active_for_metric(&data.metric)
        .filter(|p| {
            p.full_duration() == fd && p.generation >= 1 && p.generation < settings.max_generations
        })
        .collect();
    candidates.sort_by_key(|p| std::cmp::Reverse(p.seq));
    let profiles: Vec<&Profile> = candidates.iter().map(|p| &*p.profile).collect();
    let matched = judge_features_only(&data.features, &profiles, LEARN_PERCENT_SIMILAR)
        .ok_or(Skip::NoMatch(fd))?;
    let parent = store
        .get(matched.profile_id)
        .ok_or(Skip::NotActive(matched.profile_id))?;

    let rate_limited = store.for_metric(&data.metric).any(|p| {
        p.generation > 1
            && p.full_duration() >= fd
            && p.anomaly_timestamp.is_some_and(|t| {
                t.abs_diff(data.anomaly_timestamp) < RATE_LIMIT_SECONDS.unsigned_abs()
            })
    });
    if rate_limited {
        return Err(Skip::RateLimited);
    }

    let origin = origin_at(store, parent.id(), fd).ok_or(Skip::NotActive(parent.id()))?;
    let pd = percent_different(origin.profile.features_sum, data.features_sum);
    let max = settings.max_percent_diff_from_origin;
    if pd.is_none_or(|pd| pd > max) {
        return Err(Skip::FarFromOrigin { pd, max });
    }

    let generation = parent.generation + 1;
    if generation >= settings.max_generations {
        return Err(Skip::MaxGenerations {
            generation,
            max: settings.max_generations,
        });
    }
    let event = learnt_event(parent, generation, settings, data, generation <= 1, now_ms);
    if store.get(event.profile_id).is_some() {
        return Err(Skip::AlreadyLearnt(event.profile_id));
    }
    Ok(event)
}
