//! The configuration every `skyline` command reads: built-in defaults, then
//! the `--config` TOML file (any subset of keys), then `SKYLINE_<TABLE>__<KEY>`
//! environment variables (e.g. `SKYLINE_ANALYZER__CONSENSUS=5`), then the
//! infrastructure flags ([`Infra`]). `skyline.example.toml` documents every
//! key.

use std::collections::BTreeMap;
use std::path::Path;

use alert::AlerterConfig;
use analyze::alert_rules::{self, AlertRule};
use analyze::boundary::{AlerterLimit, BoundaryAlgorithm, BoundaryRule};
use analyze::pattern::MetricPattern;
use analyze::periodic::PeriodicChecks;
use analyze::service::ServiceSettings;
use anyhow::{bail, Context, Result};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use ingest::service::IngestSettings;
use serde::{Deserialize, Serialize};
use topics::kafka::KafkaConfig;
use topics::names::TopicNames;
use topics::retention::RetentionSettings;
use windows::WindowSettings;

/// Everything configurable, one table per service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The three-sigma ensemble and its gates.
    pub analyzer: analyze::Settings,
    /// How the Analyzer consumes datapoints.
    pub analyzer_service: ServiceSettings,
    /// `ALERTS`: tested in order, first match per alerter wins; metrics that
    /// match no rule are low priority and never alert.
    pub alerts: Vec<AlertRule>,
    /// `[[alerters]]`: where alerts go, by the names alert rules use
    /// (`kind` smtp, webhook, slack, pagerduty or topic, and the kind's
    /// keys). A `topic` alerter exists even when none is declared.
    pub alerters: Vec<AlerterConfig>,
    /// `BOUNDARY_METRICS`: Boundary's hard conditions on key metrics, judged
    /// by the Analyzer beside the ensemble (see [`validate_boundary`]).
    pub boundary: Vec<BoundaryTable>,
    /// Where datapoints come from.
    pub ingest: IngestSettings,
    /// The Kafka cluster (ignored by `skyline up` without `--kafka`, which
    /// runs its own embedded broker).
    pub kafka: KafkaConfig,
    /// Topic names.
    pub topics: TopicNames,
    /// How long the topics skyline creates keep their events.
    pub retention: RetentionSettings,
    /// Start even when a topic keeps less than skyline replays from it
    /// (`--allow-short-retention`): a warning instead of a refusal. Not a
    /// key of the file: a per-run decision.
    #[serde(skip)]
    pub allow_short_retention: bool,
    /// Redis URL for the windows; unset: windows in memory (embedded default).
    pub redis: Option<String>,
    /// Window lengths and roll-up.
    pub windows: WindowSettings,
    /// The projections' database.
    pub projections: projections::Settings,
    /// How metrics learn (Ionosphere learning).
    pub learn: learn::LearnConfig,
    /// The web console and its API.
    pub console: console::ConsoleSettings,
    /// Matching thresholds (Ionosphere's settings).
    pub fingerprint: fingerprint::matching::MatchSettings,
    /// How the fingerprint service consumes checks.
    pub fingerprint_service: fingerprint::service::ServiceSettings,
    /// The seasonal re-check (Mirage): its algorithms, the daily-peak
    /// override, its pace and the periodic checks.
    pub seasonal: seasonal::SeasonalSettings,
    /// Where each service serves `/metrics` and `/health`, its
    /// self-metrics and heartbeats.
    pub telemetry: runtime::telemetry::TelemetrySettings,
    /// The stall watchdog (the reference's Thunder): its thresholds.
    pub watchdog: alert::WatchdogSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            analyzer: analyze::Settings::default(),
            analyzer_service: ServiceSettings::default(),
            alerts: vec![AlertRule::skyline_itself(), AlertRule::catch_all()],
            alerters: Vec::new(),
            boundary: Vec::new(),
            ingest: IngestSettings::default(),
            kafka: KafkaConfig::default(),
            topics: TopicNames::default(),
            retention: RetentionSettings::default(),
            allow_short_retention: false,
            redis: None,
            windows: WindowSettings::default(),
            projections: projections::Settings::default(),
            learn: learn::LearnConfig::default(),
            console: console::ConsoleSettings::default(),
            fingerprint: fingerprint::matching::MatchSettings::default(),
            fingerprint_service: fingerprint::service::ServiceSettings::default(),
            seasonal: seasonal::SeasonalSettings::default(),
            telemetry: runtime::telemetry::TelemetrySettings::default(),
            watchdog: alert::WatchdogSettings::default(),
        }
    }
}

/// Where the infrastructure is, as a command's flags (or their
/// environment variables) name it: each field that is set overrides its key
/// in the configuration, the same way for every command.
#[derive(Debug, Clone, Default)]
pub struct Infra {
    /// Kafka bootstrap servers (`[kafka] bootstrap_servers`).
    pub kafka: Option<String>,
    /// Redis URL of the windows (`redis`).
    pub redis: Option<String>,
    /// The projections' database URL (`[projections] database`).
    pub database: Option<String>,
    /// Start on topics keeping less than skyline replays from them, with a
    /// warning (`--allow-short-retention`).
    pub allow_short_retention: bool,
}

impl Config {
    /// Every alerter an alert rule names is declared (or is the implicit
    /// `topic` alerter).
    fn check_alerter_names(&self) -> Result<()> {
        let alerters = alert::config::effective(&self.alerters);
        // Where rules name alerters: `alerts[i].alerter`, `boundary[i].alerters`.
        let named = (self.alerts.iter().enumerate())
            .map(|(i, rule)| (format!("alerts[{i}].alerter"), &rule.alerter))
            .chain(
                (self.boundary.iter().enumerate())
                    .map(|(i, table)| (format!("boundary[{i}].alerters"), &table.alerters)),
            );
        for (key, names) in named {
            if let Some(name) = alert::config::undeclared(&alerters, names) {
                let declared: Vec<&str> = alerters.iter().map(AlerterConfig::name).collect();
                bail!(
                    "invalid configuration: {key} names {name:?}, which no [[alerters]] table declares (declared: {})",
                    declared.join(", ")
                );
            }
        }
        Ok(())
    }

    /// Boundary's rate limit of each declared alerter, by its kind (the
    /// reference's `BOUNDARY_ALERTER_OPTS`: smtp, pagerduty, slack).
    pub fn boundary_limits(&self) -> BTreeMap<String, AlerterLimit> {
        alert::config::effective(&self.alerters)
            .iter()
            .map(|a| (a.name().to_owned(), AlerterLimit::reference(a.kind())))
            .collect()
    }

    /// Overrides the configured infrastructure with what `infra` names.
    pub fn apply(&mut self, infra: &Infra) {
        if let Some(kafka) = &infra.kafka {
            self.kafka.bootstrap_servers = kafka.clone();
        }
        if let Some(redis) = &infra.redis {
            self.redis = Some(redis.clone());
        }
        if let Some(url) = &infra.database {
            self.projections.database = Some(url.clone());
        }
        if infra.allow_short_retention {
            self.allow_short_retention = true;
        }
    }

    /// The projections' database URL: the configured one, else the SQLite
    /// file `fallback`.
    pub fn database_url(&self, fallback: &Path) -> String {
        self.projections
            .database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", fallback.display()))
    }

    /// The periodic seasonal checks the Analyzer asks for (`[seasonal]`
    /// `periodic_check*`); `None` when off or no namespace is listed.
    pub fn periodic_checks(&self) -> Result<Option<PeriodicChecks>> {
        let s = &self.seasonal;
        if !s.periodic_check || s.periodic_check_namespaces.is_empty() {
            return Ok(None);
        }
        let patterns = (s.periodic_check_namespaces.iter().enumerate())
            .map(|(i, p)| {
                MetricPattern::new(p).map_err(|e| {
                    anyhow::anyhow!(
                        "seasonal.periodic_check_namespaces[{i}] {p:?} is not a valid pattern: {e}"
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(PeriodicChecks {
            interval: s.periodic_check_interval,
            patterns,
        }))
    }

    /// The `[[boundary]]` tables as the Analyzer's rules ([`validate_boundary`]).
    pub fn boundary_rules(&self) -> Result<Vec<BoundaryRule>, BoundaryErrors> {
        validate_boundary(&self.boundary)
    }

    /// Loads defaults ← `file` ← environment, and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                bail!("config file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // Only SKYLINE_<TABLE>__<KEY> variables: others (SKYLINE_LOG, ...)
        // are not configuration keys.
        figment = figment.merge(
            Env::prefixed("SKYLINE_")
                .filter(|k| k.as_str().contains("__"))
                .split("__"),
        );
        let config: Config = figment.extract().map_err(|e| {
            let mut msg = String::from("invalid configuration");
            for err in e {
                msg.push_str(&format!("\n  {err}"));
            }
            anyhow::anyhow!(msg)
        })?;
        config
            .analyzer
            .validate()
            .context("invalid configuration")?;
        alert_rules::validate(&config.alerts).context("invalid configuration")?;
        alert::config::validate(&config.alerters).context("invalid configuration")?;
        config.boundary_rules().context("invalid configuration")?;
        config.check_alerter_names()?;
        config.learn.policy().context("invalid configuration")?;
        config
            .seasonal
            .validate()
            .context("invalid configuration")?;
        config.periodic_checks().context("invalid configuration")?;
        config
            .console
            .auth()
            .context("invalid configuration: [console]")?;
        config
            .console
            .client_address_header()
            .context("invalid configuration: [console]")?;
        if config.windows.full_duration < config.analyzer.full_duration {
            bail!(
                "invalid configuration: windows.full_duration ({}) must cover analyzer.full_duration ({})",
                config.windows.full_duration,
                config.analyzer.full_duration
            );
        }
        // Echo profiles are made at learn's FULL_DURATION and compared at
        // fingerprint's: apart, no echo profile would ever be compared.
        if config.learn.full_duration != config.fingerprint.full_duration {
            bail!(
                "invalid configuration: learn.full_duration ({}) must equal fingerprint.full_duration ({})",
                config.learn.full_duration,
                config.fingerprint.full_duration
            );
        }
        if config.windows.rollup_resolution <= 0 {
            bail!("invalid configuration: windows.rollup_resolution must be positive");
        }
        crate::retention::validate(&config).context("invalid configuration")?;
        Ok(config)
    }
}

/// One `[[boundary]]` table as written: the reference's `BOUNDARY_METRICS`
/// tuple `(pattern, algorithm, EXPIRATION_TIME, MIN_AVERAGE,
/// MIN_AVERAGE_SECONDS, TRIGGER_VALUE, ALERT_THRESHOLD, ALERT_VIAS[,
/// EXCLUDES])`. Kept as written (the algorithm and patterns as text) so that
/// [`validate_boundary`] can name what is wrong by table and key; the
/// optional keys default as the reference's external rules do (0, and an
/// alert threshold of 1, which alerts on the first trigger as 0 does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryTable {
    /// The metrics covered, matched as alert rules match
    /// ([`MetricPattern`]); for each algorithm the last matching table wins.
    pub pattern: String,
    /// `detect_drop_off_cliff`, `less_than` or `greater_than`.
    pub algorithm: String,
    /// `EXPIRATION_TIME`: seconds before the metric alerts again on an
    /// alerter for this algorithm (also accepted as `expiration_time`).
    #[serde(alias = "expiration_time")]
    pub expiration: i64,
    /// `MIN_AVERAGE`, `detect_drop_off_cliff` only: not judged unless the
    /// mean of the last `min_average_seconds` is at least this (0 disables).
    #[serde(default)]
    pub min_average: f64,
    /// `MIN_AVERAGE_SECONDS`: the span of that mean (0 disables).
    #[serde(default)]
    pub min_average_seconds: i64,
    /// `TRIGGER_VALUE`: the threshold of `less_than` and `greater_than`.
    #[serde(default)]
    pub trigger_value: f64,
    /// `ALERT_THRESHOLD`: anomalous points in a row before alerting (0 and
    /// 1: the first).
    #[serde(default = "one")]
    pub alert_threshold: i64,
    /// `ALERT_VIAS`: one or several alerters separated by `|`
    /// (`"ops-mail|ops-hook"`).
    pub alerters: String,
    /// `EXCLUDES`: metrics the pattern matches that this table does not cover.
    #[serde(default)]
    pub excludes: Vec<String>,
}

fn one() -> i64 {
    1
}

/// What is wrong with one `[[boundary]]` table, named by its position and key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BoundaryConfigError {
    /// `algorithm` is none of Boundary's.
    #[error("boundary[{index}].algorithm: unknown algorithm {value:?} (expected detect_drop_off_cliff, less_than or greater_than)")]
    UnknownAlgorithm {
        /// The table's position in `boundary`.
        index: usize,
        /// The algorithm as written.
        value: String,
    },
    /// A pattern is empty or not a regular expression.
    #[error("boundary[{index}].{key}: {pattern:?} {reason}")]
    Pattern {
        /// The table's position.
        index: usize,
        /// `pattern` or `excludes[i]`.
        key: String,
        /// The pattern as written.
        pattern: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A count of seconds or triggers below zero.
    #[error("boundary[{index}].{key}: {value} must not be negative")]
    Negative {
        /// The table's position.
        index: usize,
        /// The key.
        key: &'static str,
        /// Its value.
        value: i64,
    },
    /// `alert_threshold` beyond what a count can reach.
    #[error("boundary[{index}].alert_threshold: {value} is too large")]
    TooLarge {
        /// The table's position.
        index: usize,
        /// Its value.
        value: i64,
    },
    /// `min_average` or `trigger_value` is not a finite number.
    #[error("boundary[{index}].{key}: must be a finite number")]
    NotFinite {
        /// The table's position.
        index: usize,
        /// The key.
        key: &'static str,
    },
    /// `alerters` names no alerter.
    #[error("boundary[{index}].alerters: names no alerter (one or several separated by \"|\")")]
    NoAlerter {
        /// The table's position.
        index: usize,
    },
}

/// Every problem found in the `[[boundary]]` tables (at least one).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct BoundaryErrors {
    /// The problems, in table order.
    pub errors: Vec<BoundaryConfigError>,
}

/// Checks the `[[boundary]]` tables and makes them the Analyzer's rules,
/// in order; or every problem found, each naming its table and key.
pub fn validate_boundary(tables: &[BoundaryTable]) -> Result<Vec<BoundaryRule>, BoundaryErrors> {
    let mut errors = Vec::new();
    let mut rules = Vec::with_capacity(tables.len());
    for (index, t) in tables.iter().enumerate() {
        let before = errors.len();
        let pattern = |key: String, text: &str, errors: &mut Vec<BoundaryConfigError>| {
            let reason = if text.trim().is_empty() {
                "is empty".to_owned()
            } else {
                match MetricPattern::new(text) {
                    Ok(p) => return Some(p),
                    Err(e) => format!("is not a valid regex: {e}"),
                }
            };
            errors.push(BoundaryConfigError::Pattern {
                index,
                key,
                pattern: text.to_owned(),
                reason,
            });
            None
        };
        let main = pattern("pattern".to_owned(), &t.pattern, &mut errors);
        let excludes: Vec<Option<MetricPattern>> = t
            .excludes
            .iter()
            .enumerate()
            .map(|(i, e)| pattern(format!("excludes[{i}]"), e, &mut errors))
            .collect();
        let algorithm = BoundaryAlgorithm::from_name(t.algorithm.trim());
        if algorithm.is_none() {
            errors.push(BoundaryConfigError::UnknownAlgorithm {
                index,
                value: t.algorithm.clone(),
            });
        }
        for (key, value) in [
            ("expiration", t.expiration),
            ("min_average_seconds", t.min_average_seconds),
            ("alert_threshold", t.alert_threshold),
        ] {
            if value < 0 {
                errors.push(BoundaryConfigError::Negative { index, key, value });
            }
        }
        let threshold = u32::try_from(t.alert_threshold.max(0));
        if threshold.is_err() {
            errors.push(BoundaryConfigError::TooLarge {
                index,
                value: t.alert_threshold,
            });
        }
        for (key, value) in [
            ("min_average", t.min_average),
            ("trigger_value", t.trigger_value),
        ] {
            if !value.is_finite() {
                errors.push(BoundaryConfigError::NotFinite { index, key });
            }
        }
        if t.alerters.split('|').all(|a| a.trim().is_empty()) {
            errors.push(BoundaryConfigError::NoAlerter { index });
        }
        if errors.len() > before {
            continue;
        }
        if let (Some(pattern), Some(algorithm), Ok(alert_threshold)) = (main, algorithm, threshold)
        {
            rules.push(BoundaryRule {
                pattern,
                algorithm,
                expiration_time: t.expiration,
                min_average: t.min_average,
                min_average_seconds: t.min_average_seconds,
                trigger_value: t.trigger_value,
                alert_threshold,
                alerters: t.alerters.clone(),
                excludes: excludes.into_iter().flatten().collect(),
            });
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(BoundaryErrors { errors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn periodic_checks_come_from_the_seasonal_table() {
        let config = load_str(
            "[seasonal]\nperiodic_check_interval = 21600\nperiodic_check_namespaces = [\"office\\\\.periodic\"]\n",
        )
        .unwrap();
        let periodic = config.periodic_checks().unwrap().expect("periodic checks");
        assert_eq!(periodic.interval, 21_600);
        assert!(periodic.covers("office.periodic.small_noise"));
        assert!(!periodic.covers("office.other"));
        assert!(load_str("[seasonal]\nperiodic_check_namespaces = []\n")
            .unwrap()
            .periodic_checks()
            .unwrap()
            .is_none());
        let err = load_str("[seasonal]\nperiodic_check_namespaces = [\"a[\"]\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("seasonal.periodic_check_namespaces[0]"),
            "{err:#}"
        );
        let err = load_str("[seasonal]\nchecks_per_minute = 0\n").unwrap_err();
        assert!(
            format!("{err:#}").contains("seasonal.checks_per_minute"),
            "{err:#}"
        );
    }

    fn load_str(toml: &str) -> Result<Config> {
        let mut f = tempfile_in_target();
        f.1.write_all(toml.as_bytes()).unwrap();
        Config::load(Some(&f.0))
    }

    fn tempfile_in_target() -> (std::path::PathBuf, std::fs::File) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("skyline-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.toml", N.fetch_add(1, Ordering::SeqCst)));
        let file = std::fs::File::create(&path).unwrap();
        (path, file)
    }

    #[test]
    fn learn_makes_echo_profiles_at_fingerprints_full_duration() {
        let e = load_str("[learn]\nfull_duration = 3600\n").unwrap_err();
        assert!(
            format!("{e:#}").contains(
                "learn.full_duration (3600) must equal fingerprint.full_duration (86400)"
            ),
            "{e:#}"
        );
        let c = load_str(
            "[learn]\nfull_duration = 3600\necho_enabled = false\n\
             [fingerprint]\nfull_duration = 3600\n",
        )
        .unwrap();
        let policy = c.learn.policy().unwrap();
        assert_eq!((policy.full_duration, policy.echo_enabled), (3600, false));
    }

    #[test]
    fn subset_of_keys_keeps_other_defaults() {
        let c = load_str("[analyzer]\nconsensus = 5\n").unwrap();
        assert_eq!(c.analyzer.consensus, 5);
        assert_eq!(c.analyzer.full_duration, 86_400);
        assert_eq!(c.alerts.len(), 2);
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let e = load_str("[analyzer]\nconsenus = 5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("consenus"), "{e}");
        let e = format!(
            "{:#}",
            load_str("[analyzer]\nconsensus = 12\n").unwrap_err()
        );
        assert!(e.contains("consensus = 12"), "{e}");
        let e = load_str("[[alerts]]\npattern = \"a[\"\nalerter = \"smtp\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a valid regex"), "{e}");
        assert!(Config::load(Some(Path::new("/nonexistent/skyline.toml"))).is_err());
    }

    fn table(algorithm: &str) -> BoundaryTable {
        BoundaryTable {
            pattern: "stats.web".to_owned(),
            algorithm: algorithm.to_owned(),
            expiration: 3600,
            min_average: 0.0,
            min_average_seconds: 0,
            trigger_value: 0.0,
            alert_threshold: 1,
            alerters: "smtp".to_owned(),
            excludes: Vec::new(),
        }
    }

    fn boundary_error(tables: &[BoundaryTable]) -> String {
        validate_boundary(tables).unwrap_err().to_string()
    }

    #[test]
    fn boundary_tables_parse_with_the_spec_defaults() {
        let c = load_str(
            r#"
[[alerters]]
name = "ops-mail"
kind = "smtp"
host = "smtp.example.org"
sender = "skyline@example.org"
default_recipients = ["ops@example.org"]

[[alerters]]
name = "ops-hook"
kind = "webhook"
url = "https://hooks.example.org/skyline"

[[alerters]]
name = "pagerduty"
kind = "pagerduty"
routing_key = "key"

[[boundary]]
pattern = "stats.web.requests"
algorithm = "detect_drop_off_cliff"
expiration = 1800
min_average = 50.0
min_average_seconds = 600
alerters = "ops-mail|ops-hook"

[[boundary]]
pattern = 'stats\.db\..*\.load'
algorithm = "greater_than"
expiration_time = 600
trigger_value = 8.5
alert_threshold = 3
alerters = "pagerduty"
excludes = ["stats.db.replica"]
"#,
        )
        .unwrap();
        assert_eq!(c.boundary.len(), 2);
        assert_eq!(c.boundary[0].trigger_value, 0.0, "default");
        assert_eq!(c.boundary[0].alert_threshold, 1, "default");
        assert_eq!(c.boundary[1].expiration, 600, "expiration_time is accepted");
        let rules = c.boundary_rules().unwrap();
        assert_eq!(rules[0].algorithm, BoundaryAlgorithm::DetectDropOffCliff);
        assert_eq!(rules[0].expiration_time, 1800);
        assert_eq!(rules[0].min_average, 50.0);
        assert_eq!(rules[0].min_average_seconds, 600);
        assert_eq!(
            rules[0].alerter_names().collect::<Vec<_>>(),
            ["ops-mail", "ops-hook"]
        );
        assert_eq!(rules[1].algorithm, BoundaryAlgorithm::GreaterThan);
        assert_eq!(rules[1].trigger_value, 8.5);
        assert_eq!(rules[1].alert_threshold, 3);
        assert!(rules[1].pattern.matches("stats.db.primary.load"));
        assert_eq!(rules[1].excludes[0].as_str(), "stats.db.replica");
        assert!(Config::default().boundary_rules().unwrap().is_empty());
    }

    #[test]
    fn boundary_tables_refuse_unknown_and_missing_keys() {
        let e = load_str(
            "[[boundary]]\npattern = \"a\"\nalgorithm = \"less_than\"\nexpiration = 60\nalerters = \"smtp\"\ntriger_value = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("triger_value"), "{e}");
        let e = load_str(
            "[[boundary]]\npattern = \"a\"\nalgorithm = \"less_than\"\nalerters = \"smtp\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("expiration"), "{e}");
        // An invalid table stops the load, naming it.
        let e = format!(
            "{:#}",
            load_str("[[boundary]]\npattern = \"a\"\nalgorithm = \"foo\"\nexpiration = 60\nalerters = \"smtp\"\n")
                .unwrap_err()
        );
        assert!(
            e.contains("boundary[0].algorithm: unknown algorithm \"foo\""),
            "{e}"
        );
    }

    #[test]
    fn boundary_validation_names_the_table_and_key() {
        let ok = table("less_than");
        assert_eq!(
            boundary_error(&[ok.clone(), ok.clone(), table("foo")]),
            "boundary[2].algorithm: unknown algorithm \"foo\" (expected detect_drop_off_cliff, less_than or greater_than)"
        );
        let bad = |f: fn(&mut BoundaryTable)| {
            let mut t = table("greater_than");
            f(&mut t);
            boundary_error(&[ok.clone(), t])
        };
        assert_eq!(
            bad(|t| t.pattern = "a[".to_owned()),
            format!(
                "boundary[1].pattern: \"a[\" is not a valid regex: {}",
                MetricPattern::new("a[").unwrap_err()
            )
        );
        assert_eq!(
            bad(|t| t.pattern = " ".to_owned()),
            "boundary[1].pattern: \" \" is empty"
        );
        assert!(bad(|t| t.excludes = vec!["ok".into(), "(".into()])
            .starts_with("boundary[1].excludes[1]: \"(\" is not a valid regex"));
        assert_eq!(
            bad(|t| t.expiration = -5),
            "boundary[1].expiration: -5 must not be negative"
        );
        assert_eq!(
            bad(|t| t.min_average_seconds = -1),
            "boundary[1].min_average_seconds: -1 must not be negative"
        );
        assert_eq!(
            bad(|t| t.alert_threshold = -2),
            "boundary[1].alert_threshold: -2 must not be negative"
        );
        assert_eq!(
            bad(|t| t.alert_threshold = i64::from(u32::MAX) + 1),
            "boundary[1].alert_threshold: 4294967296 is too large"
        );
        assert_eq!(
            bad(|t| t.min_average = f64::NAN),
            "boundary[1].min_average: must be a finite number"
        );
        assert_eq!(
            bad(|t| t.trigger_value = f64::INFINITY),
            "boundary[1].trigger_value: must be a finite number"
        );
        assert_eq!(
            bad(|t| t.alerters = " | ".to_owned()),
            "boundary[1].alerters: names no alerter (one or several separated by \"|\")"
        );
        // Every problem is reported, in table order.
        let mut worse = table("nope");
        worse.expiration = -1;
        let e = validate_boundary(&[worse, table("bad")]).unwrap_err();
        assert_eq!(e.errors.len(), 3);
        assert_eq!(e.to_string().lines().count(), 3);
    }

    #[test]
    fn alert_rules_name_declared_alerters() {
        let alerters = "[[alerters]]\nname = \"ops-hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\n";
        let c = load_str(&format!(
            "{alerters}[[alerts]]\npattern = \"stats\"\nalerter = \"ops-hook|topic\"\n"
        ))
        .unwrap();
        assert_eq!(c.alerters.len(), 1);
        let e = load_str(&format!(
            "{alerters}[[alerts]]\npattern = \"stats\"\nalerter = \"topic\"\n[[alerts]]\npattern = \"x\"\nalerter = \"ops-hook|ops-mail\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("alerts[1].alerter names \"ops-mail\", which no [[alerters]] table declares (declared: ops-hook, topic)"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            load_str("[[alerters]]\nname = \"m\"\nkind = \"smtp\"\nhost = \"h\"\nsender = \"nobody\"\ndefault_recipients = [\"a@b.c\"]\n").unwrap_err()
        );
        assert!(e.contains("alerters[0].sender"), "{e}");
    }

    #[test]
    fn boundary_rules_name_declared_alerters_and_are_limited_by_kind() {
        let alerters = "[[alerters]]\nname = \"ops-mail\"\nkind = \"smtp\"\nhost = \"h\"\nsender = \"s@example.org\"\ndefault_recipients = [\"a@example.org\"]\n";
        let rule = |to: &str| {
            format!("[[boundary]]\npattern = \"stats.web\"\nalgorithm = \"less_than\"\nexpiration = 600\nalerters = \"{to}\"\n")
        };
        let c = load_str(&format!("{alerters}{}", rule("ops-mail|topic"))).unwrap();
        let limits = c.boundary_limits();
        assert_eq!(limits["ops-mail"], AlerterLimit::reference("smtp"));
        assert_eq!(limits["topic"], AlerterLimit::default());
        let e = load_str(&format!("{alerters}{}", rule("ops-mail|ops-pager")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "boundary[0].alerters names \"ops-pager\", which no [[alerters]] table declares"
            ),
            "{e}"
        );
    }

    #[test]
    fn the_example_config_is_valid_and_says_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../skyline.example.toml");
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c, Config::default(), "the example must show the defaults");
    }
}
