//! `skyline alert`: the alerter service (one queue per alerter), a test
//! alert sent straight to the receivers, and mutes.

use std::time::Duration;

use alert::config::effective;
use alert::mutes::{mute_event, unmute_event, MuteBook};
use alert::retry::Attempt;
use alert::{Links, Transport};
use anyhow::{bail, Context, Result};
use stack::services::{self as build, shutdown_on_ctrl_c};
use stack::Config;
use topics::codec::encode;
use topics::kafka::Producer;
use topics::{AlertEvent, MuteEvent, SourceApp};
use uuid::Uuid;

#[derive(clap::Args)]
pub struct AlertArgs {
    #[command(subcommand)]
    command: Option<AlertCommand>,
}

#[derive(clap::Subcommand)]
enum AlertCommand {
    /// Send a TEST alert for METRIC to each alerter now, straight to its
    /// receiver (no broker), and print each answer; exits non-zero when one
    /// was not delivered.
    Test {
        /// The metric named in the alert.
        metric: String,
        /// Only this alerter (repeatable); default: every declared one.
        #[arg(long)]
        alerter: Vec<String>,
        /// Which app's alert form to use.
        #[arg(long, value_enum, default_value = "analyzer")]
        source: TestSource,
    },
    /// Mute the alerts of metrics matching PATTERN for a while (deliveries
    /// are recorded as muted).
    Mute {
        /// Metric pattern, as an alert rule writes it.
        pattern: String,
        /// How long, e.g. 30m, 2h, 1d (at most 366 days).
        #[arg(long = "for", value_parser = alert::mutes::mute_duration)]
        duration: Duration,
        /// Why (shown with the mute).
        #[arg(long)]
        reason: Option<String>,
        /// Who mutes.
        #[arg(long, env = "USER")]
        operator: Option<String>,
    },
    /// End a mute early.
    Unmute {
        /// The mute's id, as `skyline alert mute` and `mutes` print it.
        id: Uuid,
    },
    /// Print the mutes in force.
    Mutes,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TestSource {
    Analyzer,
    Seasonal,
    Boundary,
}

impl AlertArgs {
    /// What `skyline alert …` validates before it starts (the alerters'
    /// clients, a mute's pattern) and what it needs to reach.
    pub fn needs(&self, config: &Config) -> Result<build::Needs> {
        let kafka = build::Needs {
            kafka: true,
            ..build::Needs::default()
        };
        Ok(match &self.command {
            None => {
                build::transports(config)?;
                kafka
            }
            // Straight to the receivers: no broker.
            Some(AlertCommand::Test { .. }) => {
                build::transports(config)?;
                build::Needs::default()
            }
            Some(AlertCommand::Mute { pattern, .. }) => {
                mute_pattern(pattern)?;
                kafka
            }
            Some(AlertCommand::Unmute { .. } | AlertCommand::Mutes) => kafka,
        })
    }
}

/// A mute's pattern, refused when it is not one an alert rule could write.
fn mute_pattern(pattern: &str) -> Result<()> {
    analyze::pattern::MetricPattern::new(pattern)
        .map_err(|e| anyhow::anyhow!("pattern {pattern:?} is not a valid regex: {e}"))?;
    Ok(())
}

pub async fn run(config: Config, args: AlertArgs) -> Result<()> {
    match args.command {
        None => serve(config).await,
        Some(AlertCommand::Test {
            metric,
            alerter,
            source,
        }) => test(&config, &metric, &alerter, source).await,
        Some(AlertCommand::Mute {
            pattern,
            duration,
            reason,
            operator,
        }) => {
            mute_pattern(&pattern)?;
            let ms = i64::try_from(duration.as_millis()).context("--for is too long")?;
            let event = mute_event(&pattern, topics::clock::now_ms(), ms, reason, operator);
            produce_mute(&config, &event).await?;
            println!(
                "muted {pattern} until {} (id {})",
                crate::utc(event.until_ms / 1000),
                event.id
            );
            Ok(())
        }
        Some(AlertCommand::Unmute { id }) => {
            let book = read_mutes(&config).await?;
            let now = topics::clock::now_ms();
            let Some(mute) = book.active(now).into_iter().find(|m| m.id == id) else {
                bail!("no mute {id} is in force (`skyline alert mutes` lists them)");
            };
            let event = unmute_event(id, mute.pattern.as_str(), now, None);
            produce_mute(&config, &event).await?;
            println!("unmuted {} (id {id})", mute.pattern.as_str());
            Ok(())
        }
        Some(AlertCommand::Mutes) => {
            let book = read_mutes(&config).await?;
            let active = book.active(topics::clock::now_ms());
            if active.is_empty() {
                println!("no mutes in force");
            }
            for m in active {
                println!(
                    "{}  {}  until {}  {}{}",
                    m.id,
                    m.pattern.as_str(),
                    crate::utc(m.until_ms / 1000),
                    m.operator.as_deref().unwrap_or("-"),
                    m.reason
                        .as_deref()
                        .map(|r| format!("  ({r})"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

/// `skyline alert`: every alerter's queue until Ctrl-C.
async fn serve(config: Config) -> Result<()> {
    build::create_topics(&config, &[]).await?;
    build::serve_telemetry(&config, "alert").await?;
    let producer = Producer::new(&config.kafka)?;
    let (_stop, shutdown) = shutdown_on_ctrl_c();
    let alerters = build::alerters(&config, &producer)?;
    for a in &alerters {
        eprintln!("alerter: {}", a.service().alerter());
    }
    let watchdog = build::watchdog(&config, &producer);
    if watchdog.is_some() {
        eprintln!("watchdog: on {}", config.topics.system);
    }
    build::run_alerters(alerters, watchdog, shutdown).await
}

/// `skyline alert test`: one attempt per alerter, answers printed.
async fn test(config: &Config, metric: &str, only: &[String], source: TestSource) -> Result<()> {
    let all = effective(&config.alerters);
    for name in only {
        if !all.iter().any(|a| a.name() == name) {
            bail!("--alerter {name:?}: no [[alerters]] table declares it");
        }
    }
    let chosen: Vec<_> = all
        .iter()
        .filter(|a| {
            if only.is_empty() {
                a.kind() != "topic"
            } else {
                only.iter().any(|n| n == a.name())
            }
        })
        .collect();
    if chosen.is_empty() {
        bail!("no alerter to test: declare [[alerters]] in the config file");
    }
    let links = Links::new(Some(&config.console.public_url()));
    let mut failed = 0;
    for alerter in chosen {
        let transport = Transport::new(alerter, links.clone())?;
        let alert = test_alert(metric, alerter.name(), source);
        let answer = transport.attempt(&alert).await;
        let (word, ok) = match &answer {
            Attempt::Delivered(_) => ("delivered", true),
            Attempt::Transient(_) => ("failed", false),
            Attempt::Permanent(_) => ("refused", false),
        };
        println!(
            "{} ({}): {word}: {}",
            alerter.name(),
            alerter.kind(),
            answer.detail()
        );
        if !ok {
            failed += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} alerter(s) did not deliver the test alert");
    }
    Ok(())
}

/// A test alert as the reference makes one (alerts.md §12): value 1, now,
/// algorithm `testing`, expiry 10 s, marked TEST.
fn test_alert(metric: &str, alerter: &str, source: TestSource) -> AlertEvent {
    let now_ms = topics::clock::now_ms();
    let source = match source {
        TestSource::Analyzer => SourceApp::Analyzer,
        TestSource::Seasonal => SourceApp::Seasonal,
        TestSource::Boundary => SourceApp::Boundary,
    };
    AlertEvent {
        id: Uuid::now_v7(),
        anomaly_id: Uuid::now_v7(),
        metric: metric.to_owned(),
        timestamp: now_ms / 1000,
        value: 1.0,
        source,
        alerter: alerter.to_owned(),
        rule: "test".to_owned(),
        triggered_algorithms: vec!["testing".to_owned()],
        decided_at_ms: now_ms,
        series: None,
        full_duration: None,
        expiration_time: Some(10),
        boundary: (source == SourceApp::Boundary).then(|| topics::BoundaryTrigger {
            algorithm: "testing".to_owned(),
            trigger_value: 1.0,
            alert_threshold: 0,
        }),
        fingerprinted: false,
        test: true,
    }
}

async fn produce_mute(config: &Config, event: &MuteEvent) -> Result<()> {
    build::create_topics(config, &[]).await?;
    let producer = Producer::new(&config.kafka)?;
    let payload = encode(event).map_err(|e| anyhow::anyhow!("encoding the mute: {e}"))?;
    producer
        .send(&config.topics.mutes, event.pattern.as_bytes(), &payload)
        .await
        .with_context(|| format!("producing to {}", config.topics.mutes))?;
    Ok(())
}

async fn read_mutes(config: &Config) -> Result<MuteBook> {
    build::check_retention(config).await?;
    let mut book = MuteBook::default();
    topics::follow::load(
        &config.kafka,
        "mutes-reader",
        &config.topics.mutes,
        Duration::from_secs(2),
        |e: MuteEvent| book.apply(&e),
    )
    .await
    .with_context(|| format!("reading {}", config.topics.mutes))?;
    Ok(book)
}
