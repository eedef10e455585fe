//! # skyline-seasonal
//!
//! The seasonal re-check (the reference's Mirage): a metric the Analyzer
//! flagged over its full-resolution window is judged again over days
//! (`second_order_resolution_hours`, typically 7 days), so that daily and
//! weekly seasonality is taken into account.
//!
//! This crate owns the series it judges (`seasonal.md` §7), as pure
//! functions over `(unix seconds, value)` points:
//!
//! * [`data_frequency`]: a series' resolution, from its most common step;
//! * [`downsample`]: pandas' backward resample (`origin='end'`, mean), each
//!   bucket re-aligned down to the target resolution;
//! * [`merge_long_and_full`]: the long (roll-up) series with its last day
//!   replaced by the full-resolution series resampled to the long series'
//!   resolution, so the newest bucket is never a partially filled one.
//!
//! And how it is judged (§8): [`judge`], MIRAGE_ALGORITHMS by
//! MIRAGE_CONSENSUS, with the analyze crate's algorithms in their Mirage
//! versions (`analyze::Variant::Mirage`); and whether a steady 7-day series
//! is judged over 30 days instead (§8.1, [`irregular_unstable`]); and
//! whether an anomalous verdict is let off as a normal daily peak (§8.2,
//! [`anomalous_daily_peak`], with [`peaks::find_peaks`] as scipy's).
//!
//! [`judge_check`] puts them together for one check (pure), with the
//! `[seasonal]` settings ([`SeasonalSettings`]); [`service`] is the
//! consumer of seasonal checks on the service runtime (`skyline seasonal`):
//! pacing, stale checks, and what it publishes.
#![deny(missing_docs)]

pub mod check;
mod daily_peak;
mod frequency;
mod irregular;
mod judge;
mod merge;
pub mod peaks;
mod resample;
pub mod service;
mod settings;

pub use check::{judge_check, series_over, CheckInput, SeasonalJudgement};
pub use daily_peak::{anomalous_daily_peak, DailyPeak, DailyPeakSettings, Reason};
pub use frequency::data_frequency;
pub use irregular::{
    irregular_unstable, most_common_step, normalised_variance, IrregularUnstable, Skip, LONG_SPAN,
};
pub use judge::{deduplicate, judge, MirageSettings, MirageVerdict, MIRAGE_ALGORITHMS};
pub use merge::merge_long_and_full;
pub use resample::{downsample, resample_rule_seconds, ResampleError};
pub use service::{SeasonalDecision, SeasonalService, SeasonalStats};
pub use settings::{SeasonalSettings, SettingsError, SKIP_IRREGULAR_UNSTABLE};

/// One point of a series: `(unix seconds, value)`.
pub type Point = (i64, f64);
