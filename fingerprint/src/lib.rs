//! # skyline-fingerprint
//!
//! The features fingerprint of a series, as Skyline's Ionosphere computes it
//! with its tsfresh fork: the 216 features of `spec/features.md`, their
//! **sum**, and the *common-features percent difference* that decides a
//! features-profile match (`spec/ionosphere.md` §3).
//!
//! * [`calculators`]: one pure function per tsfresh feature calculator,
//!   over `&[f64]`, with its formula in the doc comment. Where Skyline's fork
//!   keeps an older definition than today's tsfresh (`fft_coefficient`,
//!   `autocorrelation`, `mean_autocorrelation`,
//!   `time_reversal_asymmetry_statistic`, `sample_entropy`,
//!   `mean_abs_change_quantiles`, `large_number_of_peaks`, `value_count`, the
//!   swapped `percentage_of_reoccurring_*`), the fork's is implemented and
//!   the doc says how it differs.
//! * [`Features`]: ids, names and values in Skyline id order, for the
//!   [`FeatureSet::Comprehensive`] set (all 216) or the
//!   [`FeatureSet::Efficient`] set production profiles store (210: without
//!   the high-cost `approximate_entropy` and `sample_entropy`).
//! * [`compare`]: features sum and percent difference.
//! * [`matching`]: judging a check against features profiles
//!   (`spec/ionosphere.md` §3–§8): motifs (MASS), features, min-max, echo
//!   and layers, in the reference's order.
//! * [`service`]: the fingerprint service, a consumer of the checks topic
//!   publishing verdicts and the alerts of undeflected anomalies (the only
//!   part with I/O). The profiles it matches against are the `profiles`
//!   crate's read model over [`matching::Profile`] ([`ProfileStore`]).
//!
//! Everything else is pure and I/O-free, and nothing panics on outside input:
//! NaN/±inf values, constant series and series too short for a calculator
//! give the value the reference gives (mostly NaN or 0, see each function).
//! Skyline removes NaN points before extracting features, so the
//! reference test compares finite real series.
//!
//! The shared statistics (numpy-order sums, moments, quantiles, statsmodels'
//! `adfuller`) come from the `numeric` crate, which the Analyzer uses too.
#![deny(missing_docs)]

pub mod calculators;
pub mod compare;
pub mod features;
pub mod matching;
pub mod rematch;
pub mod service;

pub use compare::{features_sum, percent_different, CommonComparison};
pub use features::{FeatureSet, Features, FEATURES_VERSION, FEATURE_NAMES};

/// The profiles read model ([`profiles::ProfileStore`]) over fingerprint's
/// matching view of a profile: what the fingerprint service matches
/// against, and what learn, the console and the binary read.
pub type ProfileStore = profiles::ProfileStore<matching::Profile>;
/// A profile of a [`ProfileStore`], with its lineage and flags.
pub type StoredProfile = profiles::StoredProfile<matching::Profile>;
/// A [`ProfileStore`] shared between its follower and its readers.
pub type SharedProfiles = profiles::SharedProfiles<matching::Profile>;
