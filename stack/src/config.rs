//! The configuration every `skyline` command reads: built-in defaults, then
//! the `--config` TOML file (any subset of keys), then `SKYLINE_<TABLE>__<KEY>`
//! environment variables (e.g. `SKYLINE_ANALYZER__CONSENSUS=5`), then the
//! infrastructure flags ([`Infra`]). `skyline.example.toml` documents every
//! key.

use std::path::Path;

use alert::AlerterConfig;
use analyze::alert_rules::{self, AlertRule};
use analyze::service::ServiceSettings;
use anyhow::{bail, Context, Result};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use ingest::service::IngestSettings;
use serde::{Deserialize, Serialize};
use topics::kafka::KafkaConfig;
use topics::names::TopicNames;
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
    /// Where datapoints come from.
    pub ingest: IngestSettings,
    /// The Kafka cluster (ignored by `skyline up` without `--kafka`, which
    /// runs its own embedded broker).
    pub kafka: KafkaConfig,
    /// Topic names.
    pub topics: TopicNames,
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            analyzer: analyze::Settings::default(),
            analyzer_service: ServiceSettings::default(),
            alerts: vec![AlertRule::catch_all()],
            alerters: Vec::new(),
            ingest: IngestSettings::default(),
            kafka: KafkaConfig::default(),
            topics: TopicNames::default(),
            redis: None,
            windows: WindowSettings::default(),
            projections: projections::Settings::default(),
            learn: learn::LearnConfig::default(),
            console: console::ConsoleSettings::default(),
            fingerprint: fingerprint::matching::MatchSettings::default(),
            fingerprint_service: fingerprint::service::ServiceSettings::default(),
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
}

impl Config {
    /// Every alerter an alert rule names is declared (or is the implicit
    /// `topic` alerter).
    fn check_alerter_names(&self) -> Result<()> {
        let alerters = alert::config::effective(&self.alerters);
        for (index, rule) in self.alerts.iter().enumerate() {
            if let Some(name) = alert::config::undeclared(&alerters, &rule.alerter) {
                let declared: Vec<&str> = alerters.iter().map(AlerterConfig::name).collect();
                bail!(
                    "invalid configuration: alerts[{index}].alerter names {name:?}, which no [[alerters]] table declares (declared: {})",
                    declared.join(", ")
                );
            }
        }
        Ok(())
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
    }

    /// The projections' database URL: the configured one, else the SQLite
    /// file `fallback`.
    pub fn database_url(&self, fallback: &Path) -> String {
        self.projections
            .database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", fallback.display()))
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
        config.check_alerter_names()?;
        config.learn.policy().context("invalid configuration")?;
        config
            .console
            .auth()
            .context("invalid configuration: [console]")?;
        if config.windows.full_duration < config.analyzer.full_duration {
            bail!(
                "invalid configuration: windows.full_duration ({}) must cover analyzer.full_duration ({})",
                config.windows.full_duration,
                config.analyzer.full_duration
            );
        }
        if config.windows.rollup_resolution <= 0 {
            bail!("invalid configuration: windows.rollup_resolution must be positive");
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
    fn subset_of_keys_keeps_other_defaults() {
        let c = load_str("[analyzer]\nconsensus = 5\n").unwrap();
        assert_eq!(c.analyzer.consensus, 5);
        assert_eq!(c.analyzer.full_duration, 86_400);
        assert_eq!(c.alerts.len(), 1);
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
    fn the_example_config_is_valid_and_says_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../skyline.example.toml");
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c, Config::default(), "the example must show the defaults");
    }
}
