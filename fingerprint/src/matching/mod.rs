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

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::features::is_stored;
use crate::{CommonComparison, FeatureSet, Features};

pub use layers::Layers;

/// A features profile as matching needs it.
#[derive(Debug)]
pub struct Profile {
    pub id: Uuid,
    /// Seconds of data the profile describes.
    pub full_duration: i64,
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

/// Values derived from a profile's series, computed once on first use.
#[derive(Debug, Default)]
pub struct ProfileCache {
    pub(crate) minmax: OnceLock<Option<MinMaxSide>>,
}

/// The min-max side of a profile: its range and the features sum of its
/// min-max scaled series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinMaxSide {
    pub min: f64,
    pub max: f64,
    pub values_count: usize,
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
    pub top_matches: usize,
    pub max_distance: f64,
    pub max_area_percent_diff: f64,
    pub range_padding_percent: f64,
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
    FeaturesProfile,
    MinMax,
    Layers,
    Motif,
}

/// How a motif matched (the reference's `motif_match_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MotifKind {
    Exact,
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
    pub kind: MotifKind,
    /// Trapezoid area of the check's query window.
    pub area: f64,
    /// Trapezoid area of the profile's subsequence.
    pub profile_area: f64,
    pub area_percent_diff: f64,
}

/// A match.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub how: How,
    pub profile_id: Uuid,
    /// Percent difference of the features sums (features and min-max).
    pub percent_different: Option<f64>,
    /// Number of common features (features matches).
    pub common_features: Option<u32>,
    /// Matched against an echo profile.
    pub echo: bool,
    /// The layers matched (layers matches).
    pub layer_id: Option<Uuid>,
    /// The layer would not have matched without approximately-close.
    pub approx_close: bool,
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
        c.matches(percent_similar).then(|| Match {
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

/// Judges a check against a metric's enabled profiles (all durations; those
/// at the check's duration are compared by features, FULL_DURATION ones by
/// echo, every one's layers by layers), in the order given.
pub fn judge(check: &Check<'_>, profiles: &[&Profile], settings: &MatchSettings) -> Verdict {
    let _ = (check, profiles, settings);
    todo!("matching: filled in by the matching work")
}
