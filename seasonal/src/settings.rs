//! The `[seasonal]` table: how seasonal checks are judged (`seasonal.md`
//! §2), how fast, and which metrics are checked on a schedule.

use analyze::Algorithm;
use serde::{Deserialize, Serialize};

use crate::{DailyPeakSettings, MirageSettings, MIRAGE_ALGORITHMS};

/// The reference's MIRAGE_SKIP_IRREGULAR_UNSTABLE: error and status-code
/// counters are spiky by nature, a quiet month of them is no reason to
/// judge 30 days instead of 7.
pub const SKIP_IRREGULAR_UNSTABLE: [&str; 16] = [
    "err",
    "error",
    "exception",
    "warning",
    "critical",
    "emergency",
    "fatal",
    "400",
    "401",
    "403",
    "429",
    "499",
    "500",
    "501",
    "502",
    "503",
];

/// The seasonal service's settings (the `[seasonal]` table). Every field
/// has the reference's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeasonalSettings {
    /// MIRAGE_ALGORITHMS: the algorithms that vote, in order.
    pub algorithms: Vec<Algorithm>,
    /// MIRAGE_CONSENSUS: how many must not vote False.
    pub consensus: usize,
    /// MIN_TOLERABLE_LENGTH: a shorter series is not judged.
    pub min_tolerable_length: usize,
    /// MIRAGE_ANALYSIS_RESOLUTION: seconds the long series is judged at
    /// when its own resolution is finer; 0 keeps the store's.
    pub analysis_resolution: i64,
    /// MIRAGE_CHECK_REPETITIVE_DAILY_PEAKS: other daily peaks an anomaly's
    /// peak is compared with before it is let off as a normal daily peak;
    /// 0 disables the override.
    pub check_repetitive_daily_peaks: usize,
    /// How far (percent) beyond three sigma of the other peaks a peak may
    /// still be normal (the override's `within_percent_of_normal_peaks`).
    pub within_percent_of_normal_peaks: f64,
    /// Judge 30 days instead of 7 when the 7 are irregular and unstable
    /// (§8.1).
    pub irregular_unstable: bool,
    /// Metrics whose name contains one of these are never judged over 30
    /// days (MIRAGE_SKIP_IRREGULAR_UNSTABLE).
    pub skip_irregular_unstable: Vec<String>,
    /// MIRAGE_STALE_SECONDS: a check that waited longer than this (from
    /// its request to its turn) is recorded as skipped, not judged.
    pub stale_seconds: i64,
    /// Most checks judged per minute by one instance (the reference's 30
    /// per run). Real checks go before periodic ones.
    pub checks_per_minute: u32,
    /// MIRAGE_PERIODIC_CHECK: check the metrics of
    /// `periodic_check_namespaces` on a schedule even when the Analyzer
    /// finds nothing.
    pub periodic_check: bool,
    /// MIRAGE_PERIODIC_CHECK_INTERVAL, seconds of data time.
    pub periodic_check_interval: i64,
    /// MIRAGE_PERIODIC_CHECK_NAMESPACES: patterns (as alert rules) of the
    /// seasonal metrics checked periodically.
    pub periodic_check_namespaces: Vec<String>,
    /// Consumer name (group `<prefix>.<name>`).
    pub consumer: String,
    /// Most checks read per batch.
    pub max_batch: usize,
}

impl Default for SeasonalSettings {
    fn default() -> Self {
        SeasonalSettings {
            algorithms: MIRAGE_ALGORITHMS.to_vec(),
            consensus: 6,
            min_tolerable_length: 100,
            analysis_resolution: 0,
            check_repetitive_daily_peaks: 3,
            within_percent_of_normal_peaks: 20.0,
            irregular_unstable: true,
            skip_irregular_unstable: SKIP_IRREGULAR_UNSTABLE
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            stale_seconds: 300,
            checks_per_minute: 30,
            periodic_check: true,
            periodic_check_interval: 3_600,
            periodic_check_namespaces: Vec::new(),
            consumer: "seasonal".to_owned(),
            max_batch: 500,
        }
    }
}

/// A setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seasonal.{key}: {reason}")]
pub struct SettingsError {
    /// The key, as in the config file.
    pub key: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl SeasonalSettings {
    /// Refuses what cannot work, naming the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let err = |key, reason: &str| {
            Err(SettingsError {
                key,
                reason: reason.to_owned(),
            })
        };
        if self.algorithms.is_empty() {
            return err("algorithms", "at least one algorithm must vote");
        }
        if self.consensus == 0 || self.consensus > self.algorithms.len() {
            return err(
                "consensus",
                &format!("must be 1 to {} (the algorithms)", self.algorithms.len()),
            );
        }
        if self.analysis_resolution < 0 {
            return err("analysis_resolution", "must be 0 (off) or seconds");
        }
        if self.stale_seconds <= 0 {
            return err("stale_seconds", "must be positive");
        }
        if self.checks_per_minute == 0 {
            return err("checks_per_minute", "must be at least 1");
        }
        if self.periodic_check_interval < 60 {
            return err("periodic_check_interval", "must be at least 60 seconds");
        }
        if !(0.0..=1000.0).contains(&self.within_percent_of_normal_peaks) {
            return err("within_percent_of_normal_peaks", "must be 0 to 1000");
        }
        if self.max_batch == 0 {
            return err("max_batch", "must be at least 1");
        }
        Ok(())
    }

    /// The judging part, for [`crate::judge`].
    pub fn mirage(&self) -> MirageSettings {
        MirageSettings {
            algorithms: self.algorithms.clone(),
            consensus: self.consensus,
            min_tolerable_length: self.min_tolerable_length,
        }
    }

    /// The daily-peak override's parameters, `None` when it is off.
    pub fn daily_peak(&self) -> Option<DailyPeakSettings> {
        (self.check_repetitive_daily_peaks > 0).then_some(DailyPeakSettings {
            number_of_daily_peaks: self.check_repetitive_daily_peaks,
            within_percent_of_normal_peaks: self.within_percent_of_normal_peaks,
        })
    }

    /// Whether `metric` may be judged over 30 days (§8.1).
    pub fn may_use_30_days(&self, metric: &str) -> bool {
        self.irregular_unstable
            && !self
                .skip_irregular_unstable
                .iter()
                .any(|s| metric.contains(s.as_str()))
    }
}
