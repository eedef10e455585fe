//! Matching a check against features profiles (`spec/ionosphere.md` §3–§8):
//! is this anomalous series like something an operator called normal?
//!
//! The order is the reference's: motifs, then features profiles at the
//! check's full duration (each with its min-max fallback), then echo
//! profiles (FULL_DURATION profiles against the check's 24 h series, for
//! seasonal checks), then layers. The first match wins.
//!
//! Everything here is pure: profiles and the check come in as values, a
//! [`Verdict`] comes out.

pub mod layers;
pub mod mass;
pub mod minmax;
pub mod motifs;

use std::sync::OnceLock;

use profiles::ProfileView;
use serde::{Deserialize, Serialize};
use topics::ProfileEvent;
use uuid::Uuid;

use crate::features::is_stored;
use crate::{CommonComparison, FeatureSet, Features};

pub use layers::{LayerOutcome, Layers, LayersError};
pub use minmax::MinMaxCheck;
pub use motifs::find_motif;

/// A features profile as matching needs it.
#[derive(Debug)]
pub struct Profile {
    /// The profile's id.
    pub id: Uuid,
    /// Seconds of data the profile describes.
    pub full_duration: i64,
    /// 0 for a profile an operator made, one more than its parent's for a learnt one.
    pub generation: u32,
    /// The stored features (only ids for which [`crate::features::is_stored`]).
    pub features: Features,
    /// Σ of every feature computed when the profile was made (NaN skipped).
    pub features_sum: f64,
    /// The series the profile was made from, oldest first.
    pub series: Vec<(i64, f64)>,
    /// The profile's layers, with their id.
    pub layers: Option<(Uuid, Layers)>,
    /// An echo profile (a FULL_DURATION copy of a seasonal profile).
    pub echo: bool,
    /// Per-profile values computed on first use (min-max side, motif data).
    pub cache: ProfileCache,
}

/// What the profiles read model keeps of a created or learnt event: its
/// matching view, stored features only, layers parsed (an unreadable
/// definition is dropped with a warning; the label API refuses those before
/// they reach the log).
impl ProfileView for Profile {
    fn from_event(e: &ProfileEvent) -> Self {
        let features = Features::from_pairs(
            e.features
                .iter()
                .filter_map(|f| u16::try_from(f.id).ok().map(|id| (id, f.value)))
                .filter(|(id, _)| is_stored(*id)),
        );
        let layers = e.layers_json.as_deref().and_then(|json| {
            serde_json::from_str::<Layers>(json)
                .map_err(|err| {
                    tracing::warn!(profile = %e.profile_id, %err, "unreadable layers definition ignored")
                })
                .ok()
                .map(|l| (topics::ids::layer_id(e.profile_id), l))
        });
        Profile {
            id: e.profile_id,
            full_duration: e.full_duration,
            generation: e.generation,
            features,
            features_sum: e.features_sum,
            series: topics::SeriesPoint::pairs(&e.series),
            layers,
            echo: e.description.as_deref() == Some("echo"),
            cache: ProfileCache::default(),
        }
    }

    fn id(&self) -> Uuid {
        self.id
    }

    fn full_duration(&self) -> i64 {
        self.full_duration
    }
}

/// Values derived from a profile's series, computed once on first use.
#[derive(Debug, Default)]
pub struct ProfileCache {
    pub(crate) minmax: OnceLock<Option<MinMaxSide>>,
    pub(crate) motif: OnceLock<motifs::MotifData>,
}

impl Profile {
    /// Computes ahead, into [`Profile::cache`], what judging against this
    /// profile derives from its series alone (the min-max side; the motif
    /// search's resolution, window statistics and FFT for `settings`'
    /// batches), so the first check does not pay for it. Optional: `judge`
    /// computes them on first use otherwise.
    pub fn prepare(&self, settings: &MatchSettings) {
        if settings.minmax_enabled {
            minmax::profile_side(self);
        }
        if settings.motifs_enabled {
            motifs::prepare(self, &settings.motif_batches);
        }
    }
}

/// The min-max side of a profile: its range and the features sum of its
/// min-max scaled series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinMaxSide {
    /// The smallest value of the profile's series.
    pub min: f64,
    /// The largest value of the profile's series.
    pub max: f64,
    /// Points in the profile's series.
    pub values_count: usize,
    /// Σ of the features of the series min-max scaled to `[0, 1]`.
    pub scaled_features_sum: f64,
}

/// The series a check asks about.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    /// The anomalous datapoint's timestamp.
    pub timestamp: i64,
    /// The series judged, oldest first.
    pub series: &'a [(i64, f64)],
    /// Seconds of data the check is at (86400 for analyzer checks).
    pub full_duration: i64,
    /// For a seasonal check: the last FULL_DURATION of full-resolution data
    /// (compared with echo profiles and evaluated by layers).
    pub echo_series: Option<&'a [(i64, f64)]>,
}

/// One motif-search batch size and its thresholds (§7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotifBatch {
    /// Query length in points at 60 s resolution.
    pub size: usize,
    /// How many of the best aligned windows the mass2_batch search keeps (default 50).
    pub top_matches: usize,
    /// Largest z-normalised distance of a motif (defaults 30, 25, 23, 22 by batch).
    pub max_distance: f64,
    /// Largest percent difference of the query's and window's trapezoid areas (default 20).
    pub max_area_percent_diff: f64,
    /// Padding of the query's value range, in percent of that range (default 10).
    pub range_padding_percent: f64,
    /// Also search every offset for an exact copy of the query (default false).
    pub find_exact_matches: bool,
}

/// Matching thresholds (the `[fingerprint]` config table), with the
/// reference's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchSettings {
    /// FULL_DURATION: the analyzer's window, and the echo profiles' duration.
    pub full_duration: i64,
    /// IONOSPHERE_FEATURES_PERCENT_SIMILAR.
    pub features_percent_similar: f64,
    /// IONOSPHERE_MINMAX_SCALING_ENABLED.
    pub minmax_enabled: bool,
    /// IONOSPHERE_MINMAX_SCALING_RANGE_TOLERANCE.
    pub minmax_range_tolerance: f64,
    /// IONOSPHERE_ECHO_ENABLED.
    pub echo_enabled: bool,
    /// IONOSPHERE_ECHO_FEATURES_PERCENT_SIMILAR.
    pub echo_features_percent_similar: f64,
    /// IONOSPHERE_ECHO_MINMAX_SCALING_FEATURES_PERCENT_SIMILAR.
    pub echo_minmax_percent_similar: f64,
    /// IONOSPHERE_LAYERS_USE_APPROXIMATELY_CLOSE.
    pub layers_approximately_close: bool,
    /// IONOSPHERE_INFERENCE_MOTIFS_ENABLED.
    pub motifs_enabled: bool,
    /// IONOSPHERE_INFERENCE_MOTIFS_SINGLE_MATCH.
    pub motifs_single_match: bool,
    /// default_inference_batch_sizes, in search order.
    pub motif_batches: Vec<MotifBatch>,
}

impl Default for MatchSettings {
    fn default() -> Self {
        let batch = |size, max_distance| MotifBatch {
            size,
            top_matches: 50,
            max_distance,
            max_area_percent_diff: 20.0,
            range_padding_percent: 10.0,
            find_exact_matches: false,
        };
        MatchSettings {
            full_duration: 86_400,
            features_percent_similar: 1.0,
            minmax_enabled: true,
            minmax_range_tolerance: 0.15,
            echo_enabled: true,
            echo_features_percent_similar: 2.5,
            echo_minmax_percent_similar: 3.5,
            layers_approximately_close: true,
            motifs_enabled: true,
            motifs_single_match: true,
            motif_batches: vec![
                batch(1440, 30.0),
                batch(720, 25.0),
                batch(360, 23.0),
                batch(180, 22.0),
            ],
        }
    }
}

/// How a check matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The features sums of check and profile are within the percent similar.
    FeaturesProfile,
    /// The min-max scaled series' features sums are within the percent similar.
    MinMax,
    /// A layers definition of the profile holds for the check.
    Layers,
    /// The end of the check's series is shaped like a stretch of the profile's (MASS).
    Motif,
}

/// How a motif matched (the reference's `motif_match_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotifKind {
    /// The profile's window is an exact copy of the query.
    Exact,
    /// The window is within the maximum distance, in range, and close in area.
    AllInRange,
}

/// A motif match: where in the profile's series, and how close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotifMatch {
    /// Start of the matching subsequence in the profile's series.
    pub index: usize,
    /// Its length in points.
    pub size: usize,
    /// z-normalised Euclidean distance.
    pub distance: f64,
    /// Exact copy or all in range.
    pub kind: MotifKind,
    /// Trapezoid area of the check's query window.
    pub area: f64,
    /// Trapezoid area of the profile's subsequence.
    pub profile_area: f64,
    /// `|area − profile_area|` in percent of `profile_area`.
    pub area_percent_diff: f64,
}

/// A match.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Which comparison matched.
    pub how: How,
    /// The profile that matched.
    pub profile_id: Uuid,
    /// Percent difference of the features sums (features and min-max).
    pub percent_different: Option<f64>,
    /// Number of common features (features matches).
    pub common_features: Option<u32>,
    /// Matched against an echo profile: the profile is one
    /// ([`Profile::echo`]), or the match came from the echo comparison (a
    /// FULL_DURATION profile against the check's echo series).
    pub echo: bool,
    /// The layers matched (layers matches).
    pub layer_id: Option<Uuid>,
    /// The layer would not have matched without approximately-close.
    pub approx_close: bool,
    /// Where the motif matched (motif matches).
    pub motif: Option<MotifMatch>,
}

/// The verdict on a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The first match, if anything matched.
    pub matched: Option<Match>,
    /// Profiles compared (features or min-max).
    pub profiles_checked: u32,
    /// Σ of every feature calculated for the check's series (NaN skipped).
    /// 0 when a motif matched: motifs are tried before features are
    /// calculated, and a motif match ends the check.
    pub features_sum: f64,
}

/// What a profile made from `values` stores: the efficient feature set
/// restricted to the ids Ionosphere stores, and the features sum over
/// every computed feature (NaN skipped), as the reference records it.
pub fn profile_features(values: &[f64]) -> (Features, f64) {
    let all = Features::compute_parallel(values, FeatureSet::Efficient);
    let sum = all.sum();
    let stored = Features::from_pairs(
        all.iter()
            .filter(|(id, _, _)| is_stored(*id))
            .map(|(id, _, v)| (id, v)),
    );
    (stored, sum)
}

/// A learn check (`spec/learn.md` §3.2): the plain features comparison only
/// (no min-max, echo, layers or motifs), against `profiles` in order; the
/// first profile whose common-features percent difference is below
/// `percent_similar` matches.
pub fn judge_features_only(
    calculated: &Features,
    profiles: &[&Profile],
    percent_similar: f64,
) -> Option<Match> {
    profiles.iter().find_map(|p| {
        let c = CommonComparison::new(&p.features, calculated);
        c.matches(percent_similar).then_some(Match {
            how: How::FeaturesProfile,
            profile_id: p.id,
            percent_different: c.percent_different,
            common_features: Some(c.common_count as u32),
            echo: p.echo,
            layer_id: None,
            approx_close: false,
            motif: None,
        })
    })
}

/// The finite values of a series (points whose value is NaN or infinite
/// are dropped, as the reference drops NaN before computing features).
fn finite_values(series: &[(i64, f64)]) -> Vec<f64> {
    series
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .collect()
}

/// The stored subset of freshly calculated features: what a profile can
/// have in common with them.
fn stored_only(all: &Features) -> Features {
    Features::from_pairs(
        all.iter()
            .filter(|(id, _, _)| is_stored(*id))
            .map(|(id, _, v)| (id, v)),
    )
}

/// One pass of features comparisons (the check's duration, or echo):
/// `profiles` in order, each by common features and then, unless that
/// matched, by min-max. Counts the profiles compared.
fn features_pass(
    calculated: &Features,
    minmax: &MinMaxCheck<'_>,
    profiles: &mut dyn Iterator<Item = &Profile>,
    settings: &MatchSettings,
    echo_pass: bool,
    checked: &mut u32,
) -> Option<Match> {
    let (features_similar, minmax_similar) = if echo_pass {
        (
            settings.echo_features_percent_similar,
            settings.echo_minmax_percent_similar,
        )
    } else {
        (
            settings.features_percent_similar,
            settings.features_percent_similar,
        )
    };
    for p in profiles {
        let c = CommonComparison::new(&p.features, calculated);
        // no common feature: the profile is skipped, not compared
        if c.common_count == 0 {
            continue;
        }
        *checked += 1;
        let base = Match {
            how: How::FeaturesProfile,
            profile_id: p.id,
            percent_different: c.percent_different,
            common_features: Some(c.common_count as u32),
            echo: p.echo || echo_pass,
            layer_id: None,
            approx_close: false,
            motif: None,
        };
        if c.matches(features_similar) {
            return Some(base);
        }
        if settings.minmax_enabled {
            if let Some(pd) = minmax.matches(p, settings.minmax_range_tolerance, minmax_similar) {
                return Some(Match {
                    how: How::MinMax,
                    percent_different: Some(pd),
                    ..base
                });
            }
        }
    }
    None
}

/// Judges a check against a metric's enabled profiles (all durations; those
/// at the check's duration are compared by features, FULL_DURATION ones by
/// echo, every one's layers by layers), in the order given.
///
/// The order of `spec/ionosphere.md` §5, stopping at the first match:
///
/// 1. **motifs** ([`motifs::find_motif`]): the profiles at the check's full
///    duration, when `motifs_enabled` and there are any;
/// 2. **features**: the check's efficient features, computed once (points
///    with a non-finite value dropped first); each profile at the check's
///    duration by [`CommonComparison`] (`features_percent_similar`), then by
///    min-max ([`MinMaxCheck`]) when enabled;
/// 3. **echo**: when `echo_enabled`, the check is longer than
///    FULL_DURATION and has an echo series: the FULL_DURATION profiles
///    against the echo series' features, with the echo thresholds
///    (2.5 % features, 3.5 % min-max);
/// 4. **layers**: every profile's layers (all durations), on the
///    FULL_DURATION series (the echo series if given, else the series).
///
/// Pure and panic-free: empty, short, constant or NaN-ridden series simply
/// do not match.
pub fn judge(check: &Check<'_>, profiles: &[&Profile], settings: &MatchSettings) -> Verdict {
    let mut verdict = Verdict {
        matched: None,
        profiles_checked: 0,
        features_sum: 0.0,
    };
    let at_duration: Vec<&Profile> = profiles
        .iter()
        .copied()
        .filter(|p| p.full_duration == check.full_duration)
        .collect();

    // 1. motifs
    if settings.motifs_enabled && !at_duration.is_empty() {
        if let Some((i, m)) = find_motif(check.series, &at_duration, &settings.motif_batches) {
            let p = at_duration[i];
            verdict.matched = Some(Match {
                how: How::Motif,
                profile_id: p.id,
                percent_different: None,
                common_features: None,
                echo: p.echo,
                layer_id: None,
                approx_close: false,
                motif: Some(m),
            });
            return verdict;
        }
    }

    // 2. features profiles at the check's duration
    let values = finite_values(check.series);
    let all = Features::compute_parallel(&values, FeatureSet::Efficient);
    verdict.features_sum = all.sum();
    let calculated = stored_only(&all);
    let minmax = MinMaxCheck::new(&values);
    verdict.matched = features_pass(
        &calculated,
        &minmax,
        &mut at_duration.iter().copied(),
        settings,
        false,
        &mut verdict.profiles_checked,
    );
    if verdict.matched.is_some() {
        return verdict;
    }

    // 3. echo: FULL_DURATION profiles against the echo series
    if settings.echo_enabled && check.full_duration > settings.full_duration {
        if let Some(echo_series) = check.echo_series {
            let mut echo_profiles = profiles
                .iter()
                .copied()
                .filter(|p| p.full_duration == settings.full_duration)
                .peekable();
            if echo_profiles.peek().is_some() {
                let echo_values = finite_values(echo_series);
                let echo_features = stored_only(&Features::compute_parallel(
                    &echo_values,
                    FeatureSet::Efficient,
                ));
                let echo_minmax = MinMaxCheck::new(&echo_values);
                verdict.matched = features_pass(
                    &echo_features,
                    &echo_minmax,
                    &mut echo_profiles,
                    settings,
                    true,
                    &mut verdict.profiles_checked,
                );
                if verdict.matched.is_some() {
                    return verdict;
                }
            }
        }
    }

    // 4. layers, on the FULL_DURATION series
    let layer_series = check.echo_series.unwrap_or(check.series);
    for p in profiles {
        let Some((layer_id, layers)) = &p.layers else {
            continue;
        };
        let out = layers.evaluate(
            layer_series,
            check.timestamp,
            settings.layers_approximately_close,
        );
        if out.matched {
            verdict.matched = Some(Match {
                how: How::Layers,
                profile_id: p.id,
                percent_different: None,
                common_features: None,
                echo: p.echo,
                layer_id: Some(*layer_id),
                approx_close: out.approx_close,
                motif: None,
            });
            return verdict;
        }
    }
    verdict
}
