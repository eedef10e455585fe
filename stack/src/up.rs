//! `skyline up`: every service in one process. With no Kafka address it
//! needs nothing installed: an embedded Kafka-protocol broker (its log in
//! the data directory, kept across restarts) and windows in memory,
//! restored from the log at each start up to where the Analyzer had
//! committed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use analyze::service::Restored;
use anyhow::{Context, Result};
use ingest::line::LineFormat;
use ingest::sources::kafka_stream::KafkaSourceConfig;
use ingest::sources::SourceStats;
use runtime::RunStats;
use tokio::task::JoinHandle;
use topics::kafka::Producer;
use topics::shutdown::Shutdown;
use windows::Windows;

use crate::demo::DEMO_TOPIC;
use crate::services::{self as build};
use crate::Config;

/// How `up` runs.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Run the embedded broker (no Kafka address was given).
    pub embedded_broker: bool,
    /// Also read the demo topic, and make a demo login when the config
    /// names no operator.
    pub demo: bool,
    /// Where the embedded broker keeps its log and the default projections
    /// database lives.
    pub data_dir: PathBuf,
    /// Port of the embedded broker (0: any free port).
    pub broker_port: u16,
}

type Task<T> = JoinHandle<Result<T>>;

/// The services of `up`, running until the shutdown they were started
/// with fires; [`Up::stop`] waits for them.
pub struct Up {
    /// The configuration they run with (the embedded broker's address and
    /// the demo's source filled in).
    pub config: Config,
    /// The producer they share.
    pub producer: Producer,
    /// The windows they share (the Analyzer folds, the others read).
    pub windows: Arc<Windows>,
    /// What the restore phase folded back into in-memory windows.
    pub restored: Restored,
    /// The ingest listeners' addresses and counters.
    pub ingest: ingest::service::Started,
    /// The projections database (redacted URL).
    pub database: String,
    /// Where the console listens.
    pub console: SocketAddr,
    /// The demo login's password, when one was made for this run.
    pub demo_password: Option<String>,
    analyzer: Task<RunStats>,
    projections: Task<projections::fold::FoldStats>,
    others: Vec<(&'static str, Task<()>)>,
    #[cfg(feature = "embedded-broker")]
    broker: Option<topics::embedded::EmbeddedBroker>,
}

/// How the services of `up` ended.
pub struct UpReport {
    /// The Analyzer's counts, if it stopped cleanly.
    pub analyzed: Option<RunStats>,
    /// The projections' counts, if they stopped cleanly.
    pub projected: Option<projections::fold::FoldStats>,
    /// What ingest accepted and refused.
    pub ingested: Arc<SourceStats>,
    /// Each service that stopped with an error, and the error.
    pub failures: Vec<(&'static str, String)>,
}

impl Up {
    /// Starts the broker (when embedded), then every service: profiles are
    /// loaded and windows restored before anything is judged.
    pub async fn start(mut config: Config, options: &UpOptions, shutdown: &Shutdown) -> Result<Up> {
        #[cfg(feature = "embedded-broker")]
        let broker = match options.embedded_broker {
            false => None,
            true => {
                let listen = SocketAddr::from(([127, 0, 0, 1], options.broker_port));
                let dir = options.data_dir.join("broker");
                let broker = topics::embedded::EmbeddedBroker::start(&dir, listen)
                    .await
                    .with_context(|| {
                        format!("starting the embedded broker in {}", dir.display())
                    })?;
                config.kafka = topics::kafka::KafkaConfig {
                    bootstrap_servers: broker.bootstrap_servers(),
                    partitions: 1,
                    ..config.kafka.clone()
                };
                Some(broker)
            }
        };
        #[cfg(not(feature = "embedded-broker"))]
        if options.embedded_broker {
            anyhow::bail!(
                "this skyline was built without the embedded broker: pass --kafka HOST:PORT"
            );
        }

        let extra: &[&str] = if options.demo { &[DEMO_TOPIC] } else { &[] };
        build::create_topics(&config, extra).await?;
        build::serve_telemetry(&config, "up").await?;
        let mut demo_password = None;
        if options.demo {
            config.ingest.kafka_sources.push(KafkaSourceConfig {
                topic: DEMO_TOPIC.to_owned(),
                format: LineFormat::Graphite,
                name: None,
            });
            if config.console.users.is_empty() {
                demo_password = Some(demo_operator(&mut config)?);
            }
        }
        let producer = Producer::new(&config.kafka)?;
        let windows = Arc::new(build::open_windows(&config).await?);
        // The fingerprint service writes the ionosphere-enabled flags the
        // Analyzer routes anomalies by: load the profiles before anything
        // is judged.
        let fingerprinter = build::fingerprinter(&config, windows.clone(), producer.clone());
        fingerprinter
            .restore()
            .await
            .context("loading the features profiles")?;
        // The Analyzer's consumer group is the same at every start, so it
        // resumes where it committed; in-memory windows are restored from
        // the log first (without deciding anything again).
        let analyzer = build::analyzer(&config, windows.clone(), producer.clone())?;
        let restored = build::restore_windows(&analyzer).await?;
        let ingest = build::start_ingest(&config, &producer, shutdown).await?;
        let stop = shutdown.clone();
        let analyzer = tokio::spawn(async move { Ok(analyzer.run(stop.wait()).await?) });

        let db =
            build::open_database(&config, &options.data_dir.join("projections.sqlite")).await?;
        let database = db.url().to_owned();
        let projections = {
            let (config, db, stop) = (config.clone(), db.clone(), shutdown.clone());
            let producer = producer.clone();
            tokio::spawn(async move {
                build::project(&config, db, projections::all(), producer, stop).await
            })
        };

        // Fingerprint, learn and the console share the windows (so the
        // Analyzer sees which metrics are ionosphere-enabled) and the
        // projections database (where labels find their checks).
        let learner = Arc::new(build::learner(&config, windows.clone(), producer.clone())?);
        let console = build::console(
            &config,
            &producer,
            db,
            Some(windows.clone()),
            fingerprinter.service().profiles.clone(),
        )?;
        let listener = build::bind_console(&config).await?;
        let console_addr = listener.local_addr()?;
        let stop = shutdown.clone();
        let fingerprint =
            tokio::spawn(async move { Ok(fingerprinter.run(stop.wait()).await.map(|_| ())?) });
        let (kafka, stop) = (config.kafka.clone(), shutdown.clone());
        let learn =
            tokio::spawn(async move { Ok(learner.run(&kafka, stop.wait()).await.map(|_| ())?) });
        let seasonal = build::seasonal(&config, windows.clone(), producer.clone());
        let stop = shutdown.clone();
        let seasonal =
            tokio::spawn(async move { Ok(seasonal.run(stop.wait()).await.map(|_| ())?) });
        let alerters = build::alerters(&config, &producer)?;
        let watchdog = build::watchdog(&config, &producer);
        let stop = shutdown.clone();
        let alert =
            tokio::spawn(async move { build::run_alerters(alerters, watchdog, stop).await });
        let (limits, stop) = (config.console.connections.clone(), shutdown.clone());
        let console = tokio::spawn(async move {
            Ok(console::serve_within(listener, console, &limits, stop.wait()).await?)
        });

        Ok(Up {
            config,
            producer,
            windows,
            restored,
            ingest,
            database,
            console: console_addr,
            demo_password,
            analyzer,
            projections,
            others: vec![
                ("fingerprint", fingerprint),
                ("seasonal", seasonal),
                ("learn", learn),
                ("alert", alert),
                ("console", console),
            ],
            #[cfg(feature = "embedded-broker")]
            broker,
        })
    }

    /// Waits for every service to stop (after the shutdown fired), then
    /// stops the embedded broker: every client goes first, so none of them
    /// sees it vanish.
    pub async fn stop(mut self) -> UpReport {
        let mut failures = Vec::new();
        self.ingest.sources_stopped().await;
        let analyzed = joined("analyze", self.analyzer.await, &mut failures);
        for (name, task) in self.others {
            joined(name, task.await, &mut failures);
        }
        let projected = joined("projections", self.projections.await, &mut failures);
        runtime::telemetry::stop_publishing().await;
        drop(self.producer);
        drop(self.windows);
        #[cfg(feature = "embedded-broker")]
        if let Some(broker) = self.broker {
            broker.stop().await;
        }
        UpReport {
            analyzed,
            projected,
            ingested: self.ingest.stats,
            failures,
        }
    }
}

/// A task's result, its error (or panic) noted under `name`.
fn joined<T>(
    name: &'static str,
    result: Result<Result<T>, tokio::task::JoinError>,
    failures: &mut Vec<(&'static str, String)>,
) -> Option<T> {
    match result {
        Ok(Ok(value)) => Some(value),
        Ok(Err(e)) => {
            failures.push((name, format!("stopped with an error: {e:#}")));
            None
        }
        Err(e) => {
            failures.push((name, format!("task failed: {e}")));
            None
        }
    }
}

/// The demo's console login when the config names no operator: `demo`
/// with a fresh random password; returns the password.
fn demo_operator(config: &mut Config) -> Result<String> {
    let password = console::auth::random_password();
    let password_hash = console::auth::hash_password(&password)
        .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?;
    config.console.users.push(console::User {
        name: "demo".to_owned(),
        password_hash,
    });
    Ok(password)
}
