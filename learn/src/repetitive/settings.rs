//! The `[learn.repetitive]` table: whether skyline learns repetitive
//! patterns by itself, for which metrics, and the rules' tunable numbers
//! (`spec/learn.md` §4–§6), with the reference's defaults.

use serde::{Deserialize, Serialize};

use super::filter::{FilterError, NestedPatterns, RepetitiveFilter};
use super::sporadic::{SporadicSettings, MINMAX_MEAN, REFERENCE_MIN_FULL_DURATION};

/// `IONOSPHERE_KEEP_TRAINING_TIMESERIES_FOR`: seconds a training check is
/// kept for `learn_repetitive_patterns` (3 days).
pub const KEEP_TRAINING_FOR: i64 = 259_200;

/// Seconds `find_repetitive_patterns` waits after an anomaly (the reference
/// processes anomalies up to `now − 4500`).
pub const FIND_DELAY: i64 = 4_500;

/// The `[learn.repetitive]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepetitiveConfig {
    /// `IONOSPHERE_LEARN_REPETITIVE_PATTERNS`: learn daily- (and hourly-)
    /// aligned anomalies with similar features from the metric's recent
    /// fingerprint checks (§4). Off by default, as in the reference.
    pub learn_repetitive_patterns: bool,
    /// `IONOSPHERE_FIND_REPETITIVE_PATTERNS`: learn anomalies of one shape
    /// recurring in different weeks over 30 days (§5). Off by default, as
    /// in the reference.
    pub find_repetitive_patterns: bool,
    /// `IONOSPHERE_REPETITIVE_PATTERNS_INCLUDE`: the metrics that may learn
    /// either way; empty means every metric.
    pub include: NestedPatterns,
    /// `IONOSPHERE_REPETITIVE_PATTERNS_EXCLUDE`, applied to the included
    /// metrics. Defaults to the reference's list (skyline's and carbon's
    /// own bookkeeping metrics); giving the table replaces that list.
    pub exclude: NestedPatterns,
    /// `IONOSPHERE_REPETITIVE_PATTERNS_MINMAX_AVG_VALUE`: a week whose mean
    /// is at least this is compared on its min-max scaled shape; 0 disables
    /// the scaling. The reference reads the setting (default 0) but always
    /// scales at 100000; the default here is that effective value.
    pub minmax_avg_value: f64,
    /// `IONOSPHERE_KEEP_TRAINING_TIMESERIES_FOR`: seconds of a metric's
    /// fingerprint checks (before its newest) the daily rule compares.
    pub keep_training_timeseries_for: i64,
    /// Anomalies found on fewer seconds of data are not compared by the
    /// sporadic rule (the reference: `604800 − 3600`, the anomalies of the
    /// seasonal and fingerprint apps). 0 compares every anomaly.
    pub min_anomaly_full_duration: i64,
    /// Seconds of data time after an anomaly before the sporadic rule looks
    /// at it: the metric's window must reach `anomaly + find_delay`, so the
    /// week ending at the anomaly is complete in the long window.
    pub find_delay: i64,
    /// `IONOSPHERE_REPETITIVE_PATTERNS_EXCLUDE_ALGORITHMS`: anomalies
    /// triggered by any of these are not compared by the sporadic rule.
    pub exclude_algorithms: Vec<String>,
}

impl Default for RepetitiveConfig {
    fn default() -> Self {
        RepetitiveConfig {
            learn_repetitive_patterns: false,
            find_repetitive_patterns: false,
            include: NestedPatterns::default(),
            exclude: RepetitiveFilter::default_exclude(),
            minmax_avg_value: MINMAX_MEAN,
            keep_training_timeseries_for: KEEP_TRAINING_FOR,
            min_anomaly_full_duration: REFERENCE_MIN_FULL_DURATION,
            find_delay: FIND_DELAY,
            exclude_algorithms: vec!["decreased_percent_with_increasing_pair".to_owned()],
        }
    }
}

/// A `[learn.repetitive]` table that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RepetitiveConfigError {
    /// INCLUDE or EXCLUDE does not compile.
    #[error("learn.repetitive: {0}")]
    Filter(#[from] FilterError),
    /// This setting (seconds) is below zero.
    #[error("learn.repetitive: {0} must not be negative")]
    Negative(&'static str),
    /// `minmax_avg_value` is negative, NaN or infinite.
    #[error("learn.repetitive: minmax_avg_value must be a finite number >= 0")]
    MinMax,
}

/// A [`RepetitiveConfig`] validated, its patterns compiled.
#[derive(Debug, Clone)]
pub struct RepetitivePolicy {
    /// Run the daily rule (§4).
    pub daily: bool,
    /// Run the sporadic rule (§5).
    pub sporadic: bool,
    /// Which metrics may learn.
    pub filter: RepetitiveFilter,
    /// Seconds of checks the daily rule compares.
    pub keep_training_for: i64,
    /// The sporadic rule's numbers.
    pub sporadic_settings: SporadicSettings,
    /// Seconds of data time the sporadic rule waits after an anomaly.
    pub find_delay: i64,
    /// Anomalies triggered by these are not compared.
    pub exclude_algorithms: Vec<String>,
}

impl RepetitiveConfig {
    /// Validates the table and compiles INCLUDE and EXCLUDE.
    pub fn policy(&self) -> Result<RepetitivePolicy, RepetitiveConfigError> {
        for (name, value) in [
            (
                "keep_training_timeseries_for",
                self.keep_training_timeseries_for,
            ),
            ("min_anomaly_full_duration", self.min_anomaly_full_duration),
            ("find_delay", self.find_delay),
        ] {
            if value < 0 {
                return Err(RepetitiveConfigError::Negative(name));
            }
        }
        if !(self.minmax_avg_value.is_finite() && self.minmax_avg_value >= 0.0) {
            return Err(RepetitiveConfigError::MinMax);
        }
        Ok(RepetitivePolicy {
            daily: self.learn_repetitive_patterns,
            sporadic: self.find_repetitive_patterns,
            filter: RepetitiveFilter::new(self.include.clone(), self.exclude.clone())?,
            keep_training_for: self.keep_training_timeseries_for,
            sporadic_settings: SporadicSettings {
                min_anomaly_full_duration: self.min_anomaly_full_duration,
                minmax_avg_value: self.minmax_avg_value,
            },
            find_delay: self.find_delay,
            exclude_algorithms: self.exclude_algorithms.clone(),
        })
    }
}

impl Default for RepetitivePolicy {
    /// Both rules off, the reference's EXCLUDE.
    fn default() -> Self {
        let config = RepetitiveConfig::default();
        RepetitivePolicy {
            daily: false,
            sporadic: false,
            filter: RepetitiveFilter::new(config.include, config.exclude)
                .unwrap_or_else(|e| unreachable!("the default EXCLUDE compiles: {e}")),
            keep_training_for: config.keep_training_timeseries_for,
            sporadic_settings: SporadicSettings::default(),
            find_delay: config.find_delay,
            exclude_algorithms: config.exclude_algorithms,
        }
    }
}

impl RepetitivePolicy {
    /// Whether either rule runs.
    pub fn any(&self) -> bool {
        self.daily || self.sporadic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_references() {
        let c = RepetitiveConfig::default();
        assert!(!c.learn_repetitive_patterns && !c.find_repetitive_patterns);
        let p = c.policy().unwrap();
        assert!(!p.any());
        assert_eq!(p.keep_training_for, 259_200);
        assert_eq!(p.find_delay, 4_500);
        assert_eq!(p.sporadic_settings, SporadicSettings::default());
        assert!(p.filter.selects("stats.web01.cpu"));
        assert!(!p.filter.selects("skyline.analyzer.host.run_time"));
        assert!(!RepetitivePolicy::default()
            .filter
            .selects("carbon.agents.a.errors"));
    }

    #[test]
    fn tables_from_the_configuration_file() {
        let c: RepetitiveConfig = toml::from_str(
            r#"
            learn_repetitive_patterns = true
            minmax_avg_value = 0.0
            [include."stats"]
            "stats" = []
            [exclude."stats.db"]
            "stats.db" = ["backup"]
            "#,
        )
        .unwrap();
        let p = c.policy().unwrap();
        assert!(p.daily && !p.sporadic);
        assert_eq!(p.sporadic_settings.minmax_avg_value, 0.0);
        assert!(p.filter.selects("stats.web01.cpu"));
        assert!(!p.filter.selects("stats.db.backup.duration"));
        assert!(p.filter.selects("stats.db.queries"));
        // Giving EXCLUDE replaces the default list.
        assert!(!p.filter.selects("host.cpu"), "not included");
        let e = toml::from_str::<RepetitiveConfig>("learn_repetitive = true")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn bad_tables_are_refused() {
        let bad = RepetitiveConfig {
            find_delay: -1,
            ..RepetitiveConfig::default()
        };
        assert!(bad.policy().unwrap_err().to_string().contains("find_delay"));
        let bad = RepetitiveConfig {
            minmax_avg_value: f64::NAN,
            ..RepetitiveConfig::default()
        };
        assert!(bad.policy().is_err());
        let bad: RepetitiveConfig = toml::from_str("[include.\"a[\"]\n\"a[\" = []\n").unwrap();
        assert!(bad.policy().unwrap_err().to_string().contains("a["));
    }
}
