//! Analyzer settings, with the reference's names and defaults. Every field is
//! optional in a config file (`#[serde(default)]`); unknown keys are refused
//! so that a misspelt setting is an error, not a silent default.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::algorithms::Algorithm;
use crate::pattern::MetricPattern;
use crate::sweep::SweepSettings;

/// A per-namespace override of `stale_period` (`CUSTOM_STALE_PERIOD`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomStalePeriod {
    /// The metrics it applies to.
    pub pattern: MetricPattern,
    /// Seconds without data after which a matching metric is Stale.
    pub seconds: i64,
}

/// The Analyzer's settings (the `[analyzer]` table of the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `ALGORITHMS`: which three-sigma algorithms vote, in this order.
    pub algorithms: Vec<Algorithm>,
    /// `CONSENSUS`: how many of them must not vote False (6 of 9).
    pub consensus: usize,
    /// `FULL_DURATION`: seconds of data in the analysed window.
    pub full_duration: i64,
    /// `MIN_TOLERABLE_LENGTH`: fewer points than this is TooShort.
    pub min_tolerable_length: usize,
    /// `STALE_PERIOD`: seconds since the last point after which it is Stale.
    pub stale_period: i64,
    /// `CUSTOM_STALE_PERIOD`: per-namespace stale periods, first match wins.
    pub custom_stale_period: Vec<CustomStalePeriod>,
    /// `ALERT_ON_STALE_METRICS`: flag metrics that are about to go stale.
    pub alert_on_stale_metrics: bool,
    /// `ALERT_ON_STALE_PERIOD`: age from which a metric is about to go stale.
    pub alert_on_stale_period: i64,
    /// `MAX_TOLERABLE_BOREDOM`: how many trailing points the Boring check reads.
    pub max_tolerable_boredom: usize,
    /// `BOREDOM_SET_SIZE`: Boring when those points hold exactly this many
    /// distinct values.
    pub boredom_set_size: usize,
    /// `RUN_OPTIMIZED_WORKFLOW`: stop running algorithms once consensus is
    /// out of reach.
    pub run_optimized_workflow: bool,
    /// `ENABLE_ALL_ALGORITHMS_RUN_METRICS`: run all algorithms regardless
    /// (disables the early exit).
    pub enable_all_algorithms_run_metrics: bool,
    /// `ANALYZER_ANALYZE_LOW_PRIORITY_METRICS`: analyse metrics that match no
    /// alert rule at all.
    pub analyze_low_priority_metrics: bool,
    /// `ANALYZER_MAD_LOW_PRIORITY_METRICS`: when > 0, a low-priority metric
    /// whose last change is smaller than the mean absolute deviation of its
    /// last this-many points is not analysed (0 disables the pre-filter).
    pub mad_low_priority_metrics: usize,
    /// `ANALYZER_SKIP`: metrics never analysed.
    pub skip: Vec<MetricPattern>,
    /// `MONOTONIC_METRIC_NAMESPACES`: always analysed as their derivative.
    pub monotonic_metric_namespaces: Vec<MetricPattern>,
    /// `NON_DERIVATIVE_MONOTONIC_METRICS`: never converted to a derivative.
    pub non_derivative_monotonic_metrics: Vec<MetricPattern>,
    /// `PANORAMA_EXPIRY_TIME`: seconds (data time) after a metric's anomaly
    /// opens during which its further anomalous points extend it instead
    /// of being anomalies of their own (per source: Analyzer, Boundary).
    /// 0: every anomalous point is its own anomaly.
    pub panorama_expiry_time: i64,
    /// The metrics sweep (`[analyzer.sweep]`): stale metrics and data
    /// sparsity, every `interval` of its clock.
    pub sweep: SweepSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            algorithms: Algorithm::ALL.to_vec(),
            consensus: 6,
            full_duration: 86_400,
            min_tolerable_length: 100,
            stale_period: 500,
            custom_stale_period: Vec::new(),
            alert_on_stale_metrics: true,
            alert_on_stale_period: 300,
            max_tolerable_boredom: 100,
            boredom_set_size: 1,
            run_optimized_workflow: true,
            enable_all_algorithms_run_metrics: false,
            analyze_low_priority_metrics: true,
            mad_low_priority_metrics: 0,
            skip: Vec::new(),
            monotonic_metric_namespaces: Vec::new(),
            non_derivative_monotonic_metrics: Vec::new(),
            panorama_expiry_time: 900,
            sweep: SweepSettings::default(),
        }
    }
}

/// A setting that cannot work, named so the operator can fix the file.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SettingsError {
    /// `algorithms` lists none.
    #[error("analyzer.algorithms is empty: at least one algorithm must vote")]
    NoAlgorithms,
    /// `algorithms` lists this one more than once.
    #[error("analyzer.algorithms lists {0} twice")]
    DuplicateAlgorithm(Algorithm),
    /// CONSENSUS is 0 or more than the algorithms that vote.
    #[error("analyzer.consensus = {consensus} must be between 1 and the number of algorithms ({algorithms})")]
    Consensus {
        /// The configured `consensus`.
        consensus: usize,
        /// How many algorithms are configured.
        algorithms: usize,
    },
    /// A duration (seconds) that must be above zero is not.
    #[error("analyzer.{key} = {value} must be positive")]
    NotPositive {
        /// The setting's name (`full_duration`, `stale_period`).
        key: &'static str,
        /// Its value.
        value: i64,
    },
    /// A duration (seconds) that must not be negative is.
    #[error("analyzer.{key} = {value} must not be negative")]
    Negative {
        /// The setting's name (`panorama_expiry_time`, `sweep.interval`).
        key: &'static str,
        /// Its value.
        value: i64,
    },
}

impl Settings {
    /// Checks values serde cannot: ranges and cross-field rules.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.algorithms.is_empty() {
            return Err(SettingsError::NoAlgorithms);
        }
        for (i, a) in self.algorithms.iter().enumerate() {
            if self.algorithms[..i].contains(a) {
                return Err(SettingsError::DuplicateAlgorithm(*a));
            }
        }
        if self.consensus == 0 || self.consensus > self.algorithms.len() {
            return Err(SettingsError::Consensus {
                consensus: self.consensus,
                algorithms: self.algorithms.len(),
            });
        }
        for (key, value) in [
            ("full_duration", self.full_duration),
            ("stale_period", self.stale_period),
        ] {
            if value <= 0 {
                return Err(SettingsError::NotPositive { key, value });
            }
        }
        if self.sweep.interval < 0 {
            return Err(SettingsError::Negative {
                key: "sweep.interval",
                value: self.sweep.interval,
            });
        }
        if self.panorama_expiry_time < 0 {
            return Err(SettingsError::Negative {
                key: "panorama_expiry_time",
                value: self.panorama_expiry_time,
            });
        }
        Ok(())
    }

    /// The stale period for `metric`: the first matching custom one, else
    /// `stale_period`.
    pub fn stale_period_for(&self, metric: &str) -> i64 {
        self.custom_stale_period
            .iter()
            .find(|c| c.pattern.matches(metric))
            .map_or(self.stale_period, |c| c.seconds)
    }

    /// Whether the early exit applies.
    pub fn early_exit(&self) -> bool {
        self.run_optimized_workflow && !self.enable_all_algorithms_run_metrics
    }
}
