//! How each metric learns (`spec/learn.md` §1): the `[learn]` table of the
//! configuration, with the reference's defaults
//! (`IONOSPHERE_LEARN_DEFAULT_*`) and its per-namespace overrides
//! (`IONOSPHERE_LEARN_NAMESPACE_CONFIG`), and whether labels on seasonal
//! checks also make echo profiles (`IONOSPHERE_ECHO_ENABLED`, at
//! FULL_DURATION).

use regex::Regex;
use serde::{Deserialize, Serialize};
use topics::LearnSettings;

use crate::repetitive::{RepetitiveConfig, RepetitiveConfigError, RepetitivePolicy};

/// Seconds per learn day.
const DAY: i64 = 86_400;

/// The `[learn]` table: whether skyline learns, the defaults every metric
/// learns with, and per-namespace overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LearnConfig {
    /// `IONOSPHERE_LEARN`: learn from labels marked LEARN and from unmatched
    /// anomalies. Off: labels still make profiles, nothing is learnt.
    pub enabled: bool,
    /// `IONOSPHERE_LEARN_DEFAULT_FULL_DURATION_DAYS`: days of data learnt
    /// from (0 means 30, as the reference's learn loop reads it).
    pub learn_full_duration_days: i64,
    /// `IONOSPHERE_LEARN_DEFAULT_VALID_TIMESERIES_OLDER_THAN_SECONDS`:
    /// seconds an anomaly must be old before learning from it.
    pub valid_ts_older_than: i64,
    /// `IONOSPHERE_LEARN_DEFAULT_MAX_GENERATIONS`: learnt profiles have a
    /// generation below this.
    pub max_generations: u32,
    /// `IONOSPHERE_LEARN_DEFAULT_MAX_PERCENT_DIFF_FROM_ORIGIN`: largest
    /// percent difference of a learnt profile's features sum from its
    /// origin's.
    pub max_percent_diff_from_origin: f64,
    /// `IONOSPHERE_LEARN_NAMESPACE_CONFIG`: overrides per namespace; the
    /// first whose pattern matches at the start of the metric name wins.
    pub namespaces: Vec<NamespaceLearn>,
    /// `IONOSPHERE_ECHO_ENABLED`: a not-anomalous label on a seasonal check
    /// (longer than `full_duration`, carrying its last 24 h) also makes the
    /// echo profile at `full_duration` (`spec/ionosphere.md` §8).
    pub echo_enabled: bool,
    /// FULL_DURATION: the analyzer's window in seconds, the duration echo
    /// profiles are made at. Must equal `[fingerprint] full_duration`, which
    /// compares seasonal checks with the profiles at this duration.
    pub full_duration: i64,
    /// Name of the learn service's consumer (group `<prefix>.<consumer>`).
    pub consumer: String,
    /// Seconds between looks at the delayed learn work.
    pub poll_seconds: u64,
    /// `[learn.repetitive]`: learning repetitive patterns without an
    /// operator.
    pub repetitive: RepetitiveConfig,
}

/// One `IONOSPHERE_LEARN_NAMESPACE_CONFIG` tuple.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceLearn {
    /// Regular expression matched at the start of the metric name
    /// (Python's `re.match`).
    pub pattern: String,
    /// Days of data learnt from (0 means 30).
    pub learn_full_duration_days: i64,
    /// Seconds an anomaly must be old before learning from it.
    pub valid_ts_older_than: i64,
    /// Learnt profiles have a generation below this.
    pub max_generations: u32,
    /// Largest percent difference from the origin's features sum.
    pub max_percent_diff_from_origin: f64,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            enabled: true,
            learn_full_duration_days: 30,
            valid_ts_older_than: 3661,
            max_generations: 16,
            max_percent_diff_from_origin: 100.0,
            namespaces: Vec::new(),
            echo_enabled: true,
            full_duration: DAY,
            consumer: "learn".to_owned(),
            poll_seconds: 10,
            repetitive: RepetitiveConfig::default(),
        }
    }
}

/// A `[learn]` table that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A namespace's pattern does not compile.
    #[error("learn.namespaces: {pattern:?} is not a valid regex: {reason}")]
    Pattern {
        /// The pattern as written.
        pattern: String,
        /// The regex compiler's message.
        reason: String,
    },
    /// This setting (seconds) is below zero.
    #[error("learn: {0} must not be negative")]
    Negative(&'static str),
    /// `full_duration` (FULL_DURATION) is not positive.
    #[error("learn: full_duration must be positive")]
    FullDuration,
    /// `max_percent_diff_from_origin` is NaN or infinite.
    #[error("learn: max_percent_diff_from_origin must be a finite number")]
    PercentDiff,
    /// The `[learn.repetitive]` table cannot be used.
    #[error(transparent)]
    Repetitive(#[from] RepetitiveConfigError),
}

/// A [`LearnConfig`] with its patterns compiled: what the learn service and
/// the label paths ask "how does this metric learn?".
#[derive(Debug, Clone)]
pub struct LearnPolicy {
    /// Whether learning is on at all.
    pub enabled: bool,
    /// Whether labels on seasonal checks also make echo profiles.
    pub echo_enabled: bool,
    /// FULL_DURATION: the duration echo profiles are made at.
    pub full_duration: i64,
    /// Learning repetitive patterns.
    pub repetitive: RepetitivePolicy,
    defaults: LearnSettings,
    namespaces: Vec<(Regex, LearnSettings)>,
}

/// `days` of learning in seconds; 0 (or less) means 30 days.
fn learn_seconds(days: i64) -> i64 {
    if days <= 0 {
        30 * DAY
    } else {
        days.saturating_mul(DAY)
    }
}

impl LearnConfig {
    /// Validates the table and compiles its patterns (anchored at the
    /// start, like Python's `re.match`).
    pub fn policy(&self) -> Result<LearnPolicy, SettingsError> {
        if self.full_duration <= 0 {
            return Err(SettingsError::FullDuration);
        }
        let settings = |days, older, max_generations, pd: f64| {
            if older < 0 {
                return Err(SettingsError::Negative("valid_ts_older_than"));
            }
            if !pd.is_finite() {
                return Err(SettingsError::PercentDiff);
            }
            Ok(LearnSettings {
                full_duration: learn_seconds(days),
                valid_ts_older_than: older,
                max_generations,
                max_percent_diff_from_origin: pd,
            })
        };
        let defaults = settings(
            self.learn_full_duration_days,
            self.valid_ts_older_than,
            self.max_generations,
            self.max_percent_diff_from_origin,
        )?;
        let namespaces = self
            .namespaces
            .iter()
            .map(|n| {
                let re = Regex::new(&format!("^(?:{})", n.pattern)).map_err(|e| {
                    SettingsError::Pattern {
                        pattern: n.pattern.clone(),
                        reason: e.to_string(),
                    }
                })?;
                Ok((
                    re,
                    settings(
                        n.learn_full_duration_days,
                        n.valid_ts_older_than,
                        n.max_generations,
                        n.max_percent_diff_from_origin,
                    )?,
                ))
            })
            .collect::<Result<_, SettingsError>>()?;
        Ok(LearnPolicy {
            enabled: self.enabled,
            echo_enabled: self.echo_enabled,
            full_duration: self.full_duration,
            repetitive: self.repetitive.policy()?,
            defaults,
            namespaces,
        })
    }
}

impl Default for LearnPolicy {
    fn default() -> Self {
        LearnPolicy {
            enabled: true,
            echo_enabled: true,
            full_duration: DAY,
            repetitive: RepetitivePolicy::default(),
            defaults: LearnSettings {
                full_duration: 30 * DAY,
                valid_ts_older_than: 3661,
                max_generations: 16,
                max_percent_diff_from_origin: 100.0,
            },
            namespaces: Vec::new(),
        }
    }
}

impl LearnPolicy {
    /// How `metric` learns: the first namespace whose pattern matches at
    /// the start of the name, else the defaults
    /// (`get_ionosphere_learn_details`).
    pub fn for_metric(&self, metric: &str) -> LearnSettings {
        self.namespaces
            .iter()
            .find(|(re, _)| re.is_match(metric))
            .map_or(self.defaults, |(_, s)| *s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(pattern: &str, days: i64, gens: u32) -> NamespaceLearn {
        NamespaceLearn {
            pattern: pattern.into(),
            learn_full_duration_days: days,
            valid_ts_older_than: 60,
            max_generations: gens,
            max_percent_diff_from_origin: 7.0,
        }
    }

    #[test]
    fn defaults_are_the_references() {
        let p = LearnConfig::default().policy().unwrap();
        let s = p.for_metric("anything");
        assert_eq!(s.full_duration, 2_592_000);
        assert_eq!(s.valid_ts_older_than, 3661);
        assert_eq!(s.max_generations, 16);
        assert_eq!(s.max_percent_diff_from_origin, 100.0);
        assert!(p.enabled && p.echo_enabled);
        assert_eq!(p.full_duration, DAY);
    }

    #[test]
    fn first_namespace_matching_at_the_start_wins() {
        let config = LearnConfig {
            namespaces: vec![
                ns("stats\\.web", 7, 3),
                ns("stats", 14, 5),
                ns("web", 1, 2),
                ns(".*", 0, 9),
            ],
            ..LearnConfig::default()
        };
        let p = config.policy().unwrap();
        assert_eq!(p.for_metric("stats.web01.cpu").max_generations, 3);
        assert_eq!(p.for_metric("stats.db01.cpu").max_generations, 5);
        // "web" occurs in the name but not at its start: `.*` wins.
        let s = p.for_metric("host.web01");
        assert_eq!(s.max_generations, 9);
        // 0 days means 30.
        assert_eq!(s.full_duration, 30 * DAY);
        assert_eq!(p.for_metric("web01").full_duration, DAY);
        assert_eq!(p.for_metric("stats.web").full_duration, 7 * DAY);
    }

    #[test]
    fn bad_tables_are_refused() {
        let bad = LearnConfig {
            namespaces: vec![ns("a[", 1, 1)],
            ..LearnConfig::default()
        };
        assert!(bad.policy().unwrap_err().to_string().contains("a["));
        let bad = LearnConfig {
            valid_ts_older_than: -1,
            ..LearnConfig::default()
        };
        assert!(bad.policy().is_err());
        let bad = LearnConfig {
            full_duration: 0,
            ..LearnConfig::default()
        };
        assert!(matches!(bad.policy(), Err(SettingsError::FullDuration)));
        let e = toml_like_unknown_key();
        assert!(e.contains("unknown field"), "{e}");
    }

    fn toml_like_unknown_key() -> String {
        serde_json::from_str::<LearnConfig>(r#"{"max_generation": 3}"#)
            .unwrap_err()
            .to_string()
    }
}
