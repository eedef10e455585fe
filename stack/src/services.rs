//! Each service built from the configuration, and the shared pieces they
//! start on: topics, windows, the projections database, the Ctrl-C
//! shutdown.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use alert::{AlertService, WatchdogService};
use analyze::service::{Analyzer, Restored, Rules};
use anyhow::{bail, Context, Result};
use fingerprint::service::Fingerprinter;
use fingerprint::SharedProfiles;
use learn::service::Learner;
use profiles::{load_profiles, Positions, ProfileStore};
use projections::Database;
use runtime::Runtime;
use seasonal::SeasonalService;
use tokio::sync::watch;
use topics::kafka::{ensure_topics_with_configs, Producer, TopicSpec};
use topics::retention::TopicRetention;
use topics::shutdown::Shutdown;
use windows::{MemoryWindows, RedisWindows, Windows};

use crate::Config;

/// Where the projections live when nothing names a database: the SQLite
/// file `skyline up` writes by default, which the other commands read.
pub const DEFAULT_SQLITE: &str = "skyline-data/projections.sqlite";

/// How long the profiles topic may stay silent before it counts as read,
/// on a broker that under-reports where it ends.
const PROFILES_IDLE: Duration = Duration::from_secs(5);

/// Starts listening for Ctrl-C; the sender stops everything too.
pub fn shutdown_on_ctrl_c() -> (watch::Sender<bool>, Shutdown) {
    let (tx, shutdown) = Shutdown::new();
    let on_signal = tx.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C: stopping");
            let _ = on_signal.send(true);
        }
    });
    (tx, shutdown)
}

/// The process's telemetry, as `[telemetry]` asks, for as long as the
/// process runs: `/metrics` and `/health` on `listen` when set (printing
/// `telemetry: ADDR` on stderr once listening), and its figures published
/// as `skyline.<service>.<instance>.*` datapoints every
/// `self_metrics_interval` seconds when not 0 (`process` names the figures
/// no service label claims), and its services' heartbeats on
/// `skyline.system` every `heartbeat_interval` seconds when not 0.
pub async fn serve_telemetry(config: &Config, process: &str) -> Result<()> {
    let t = &config.telemetry;
    let instance = instance(config);
    let listen = t.listen.trim();
    if !listen.is_empty() {
        let addr = runtime::telemetry::serve(listen, std::future::pending())
            .await
            .with_context(|| format!("telemetry.listen {listen:?}: cannot listen"))?;
        eprintln!("telemetry: {addr}");
    }
    if t.self_metrics_interval == 0 && t.heartbeat_interval == 0 {
        return Ok(());
    }
    // One client for both publishers.
    let producer =
        Producer::new(&config.kafka).context("creating the self-metrics and heartbeat producer")?;
    if t.self_metrics_interval > 0 {
        runtime::telemetry::publish_self_metrics(
            producer.clone(),
            config.topics.datapoints.clone(),
            process.to_owned(),
            instance.clone(),
            std::time::Duration::from_secs(t.self_metrics_interval),
        );
    }
    if t.heartbeat_interval > 0 {
        runtime::telemetry::publish_heartbeats(
            producer,
            config.topics.system.clone(),
            instance,
            std::time::Duration::from_secs(t.heartbeat_interval),
        );
    }
    Ok(())
}

/// This process's name in what it says about itself (`[telemetry]
/// instance`, else the host's name).
pub fn instance(config: &Config) -> String {
    match config.telemetry.instance.trim() {
        "" => runtime::telemetry::host_name(),
        given => given.to_owned(),
    }
}

/// Opens the windows store: Redis when configured, else memory.
pub async fn open_windows(config: &Config) -> Result<Windows> {
    Ok(match &config.redis {
        Some(url) => Windows::Redis(
            RedisWindows::connect(url, config.windows.clone())
                .await
                .with_context(|| format!("connecting to Redis at {url}"))?,
        ),
        None => Windows::Memory(MemoryWindows::new(config.windows.clone())),
    })
}

/// Creates every skyline topic with its retention ([`crate::retention`]),
/// the configured input topics and `extra`, then checks the retention of
/// the topics skyline replays ([`check_retention`]).
///
/// The input topics (`[[ingest.kafka_sources]]`, the demo's) are the
/// operator's: one that exists is left as it is, a missing one is created
/// with the broker's defaults, and their retention is not checked. Ingest
/// reads them live, with a committed group offset, and everything replayed
/// is replayed from `skyline.datapoints`, which ingest writes.
pub async fn create_topics(config: &Config, extra: &[&str]) -> Result<()> {
    let plan = crate::retention::plan(config);
    let mut specs: Vec<TopicSpec<'_>> = plan.iter().map(TopicRetention::spec).collect();
    let inputs =
        (config.ingest.kafka_sources.iter().map(|s| s.topic.as_str())).chain(extra.iter().copied());
    for input in inputs {
        if !specs.iter().any(|s| s.name == input) {
            specs.push(TopicSpec::new(input));
        }
    }
    // Not wrapped in more context: the error is already the one line an
    // operator needs ("cannot reach Kafka at … (creating topics): …").
    topics::kafka::ensure_reachable(&config.kafka, "creating topics").await?;
    ensure_topics_with_configs(&config.kafka, &specs, None)
        .await
        .with_context(|| format!("creating topics on {}", config.kafka.bootstrap_servers))?;
    check_retention(config).await
}

/// Refuses to go on (one line, no more context) when a topic skyline
/// replays keeps less than it needs, unless `--allow-short-retention`
/// ([`crate::retention::check`]). Every command that reads or writes the
/// log runs it at start, through [`create_topics`] or on its own.
pub async fn check_retention(config: &Config) -> Result<()> {
    crate::retention::check(config).await
}

/// Opens the projections database (created if missing; `fallback` is the
/// SQLite file used when none is configured).
pub async fn open_database(config: &Config, fallback: &Path) -> Result<Database> {
    let url = config.database_url(fallback);
    Database::open(&url).await.with_context(|| {
        format!(
            "opening the projections database {}",
            projections::redact(&url)
        )
    })
}

/// Opens the projections database a reading command needs, refusing to
/// create an empty SQLite file where none was asked for.
pub async fn open_database_for_reading(config: &Config) -> Result<Database> {
    let fallback = Path::new(DEFAULT_SQLITE);
    if config.projections.database.is_none() && !fallback.is_file() {
        bail!("no projections database: pass --mysql URL or --sqlite FILE, or set [projections] database");
    }
    open_database(config, fallback).await
}

/// Starts the configured sources ([`ingest::service::start`]).
pub async fn start_ingest(
    config: &Config,
    producer: &Producer,
    shutdown: &Shutdown,
) -> Result<ingest::service::Started> {
    Ok(ingest::service::start(
        &config.ingest,
        &config.kafka,
        &config.topics,
        producer,
        shutdown,
    )
    .await?)
}

/// The Analyzer on the service runtime, judging the `[[boundary]]` rules
/// beside the ensemble (refused when a table is invalid).
pub fn analyzer(
    config: &Config,
    windows: Arc<Windows>,
    producer: Producer,
) -> Result<Runtime<Analyzer>> {
    let rules = analyzer_rules(config)?;
    Ok(Arc::new(
        Analyzer::new(
            rules.settings,
            rules.alerts,
            rules.boundary,
            config.analyzer_service.clone(),
            config.topics.clone(),
            windows,
            producer,
        )
        .with_boundary_limits(rules.boundary_limits)
        .with_periodic_checks(rules.periodic)
        .with_instance(instance(config)),
    )
    .runtime(&config.kafka))
}

/// What the Analyzer decides with, from the configuration: `[analyzer]`,
/// the alert rules (the first per alerter), Boundary's rules and rate
/// limits, the analysis interval and the periodic seasonal checks.
pub fn analyzer_rules(config: &Config) -> Result<Rules> {
    Ok(Rules {
        settings: config.analyzer.clone(),
        alerts: analyze::alert_rules::one_per_alerter(&config.alerts),
        boundary: config
            .boundary_rules()
            .context("invalid [[boundary]] tables")?,
        boundary_limits: config.boundary_limits(),
        interval: config.analyzer_service.interval,
        periodic: config.periodic_checks()?,
    })
}

/// The pipeline `skyline evaluate` runs in-process: what each service
/// decides with, from the same configuration.
pub fn evaluation_pipeline(config: &Config) -> Result<evaluate::pipeline::Pipeline> {
    Ok(evaluate::pipeline::Pipeline {
        analyzer: analyzer_rules(config)?,
        seasonal: config.seasonal.clone(),
        fingerprint: config.fingerprint.clone(),
        learn: config.learn.policy().context("invalid [learn] table")?,
        windows: config.windows.clone(),
    })
}

/// The seasonal service on the service runtime.
pub fn seasonal(
    config: &Config,
    windows: Arc<Windows>,
    producer: Producer,
) -> Runtime<SeasonalService> {
    Arc::new(SeasonalService::new(
        config.seasonal.clone(),
        config.topics.clone(),
        windows,
        producer,
    ))
    .runtime(&config.kafka)
}

/// Runs the Analyzer's restore phase: with in-memory windows, the windows
/// and the per-metric states come back from the log up to the group's
/// commit ([`Analyzer::restore`]); with Redis they are kept there and
/// nothing is read.
pub async fn restore_windows(analyzer: &Runtime<Analyzer>) -> Result<Restored> {
    analyzer
        .restore()
        .await
        .context("restoring the windows from the datapoints topic")?;
    Ok(analyzer.service().restored())
}

/// The fingerprint service on the service runtime (its profiles not yet
/// loaded: that is its restore phase).
pub fn fingerprinter(
    config: &Config,
    windows: Arc<Windows>,
    producer: Producer,
) -> Runtime<Fingerprinter> {
    Arc::new(Fingerprinter::new(
        config.fingerprint.clone(),
        config.fingerprint_service.clone(),
        config.topics.clone(),
        windows,
        producer,
    ))
    .runtime(&config.kafka)
}

/// The learn service.
pub fn learner(config: &Config, windows: Arc<Windows>, producer: Producer) -> Result<Learner> {
    Ok(Learner {
        policy: config.learn.policy().context("invalid [learn] table")?,
        topics: config.topics.clone(),
        windows,
        producer,
        consumer: config.learn.consumer.clone(),
        poll: Duration::from_secs(config.learn.poll_seconds.max(1)),
    })
}

/// Each alerter's client, one per alerter in effect (the `[[alerters]]`
/// and the implicit `topic` alerter), their links pointing at `[console]
/// public_url`. Builds clients only: nothing is contacted.
pub fn transports(config: &Config) -> Result<Vec<alert::Transport>> {
    let links = alert::Links::new(Some(&config.console.public_url()));
    alert::config::effective(&config.alerters)
        .iter()
        .map(|alerter| Ok(alert::Transport::new(alerter, links.clone())?))
        .collect()
}

/// One alerter service per alerter in effect ([`transports`]), each its
/// own consumer group and so its own queue.
pub fn alerters(config: &Config, producer: &Producer) -> Result<Vec<Runtime<AlertService>>> {
    Ok(transports(config)?
        .into_iter()
        .map(|transport| {
            let service = AlertService::new(transport, producer.clone(), config.topics.clone());
            Runtime::dead_lettering(
                Arc::new(service),
                &config.kafka,
                producer.clone(),
                config.topics.deadletter.clone(),
            )
        })
        .collect())
}

/// The stall watchdog on the service runtime, when `[watchdog] enabled`.
pub fn watchdog(config: &Config, producer: &Producer) -> Option<Runtime<WatchdogService>> {
    config.watchdog.enabled.then(|| {
        Runtime::dead_lettering(
            Arc::new(WatchdogService::new(
                config.watchdog.clone(),
                config.topics.clone(),
                producer.clone(),
                instance(config),
            )),
            &config.kafka,
            producer.clone(),
            config.topics.deadletter.clone(),
        )
    })
}

/// Runs the alerter services and the watchdog until `shutdown`; an alerter
/// that fails stops only itself (logged), so one broken alerter never
/// silences the others, and a failing watchdog stops only itself.
pub async fn run_alerters(
    alerters: Vec<Runtime<AlertService>>,
    watchdog: Option<Runtime<WatchdogService>>,
    shutdown: Shutdown,
) -> Result<()> {
    let stop = shutdown.clone();
    let watchdog = async move {
        if let Some(w) = watchdog {
            if let Err(e) = w.run(stop.wait()).await {
                tracing::error!(error = %e, "watchdog stopped");
            }
        }
    };
    let runs = alerters.into_iter().map(|runtime| {
        let stop = shutdown.clone();
        async move {
            let name = runtime.service().alerter().to_owned();
            let outcome = runtime.run(stop.wait()).await;
            if let Err(e) = &outcome {
                tracing::error!(alerter = %name, error = %e, "alerter stopped");
            }
            outcome
                .map(|_| ())
                .with_context(|| format!("alerter {name}"))
        }
    });
    let (outcomes, ()) = tokio::join!(futures::future::join_all(runs), watchdog);
    outcomes.into_iter().collect()
}

/// What a command needs to answer before it can work (`skyline <command>
/// --check`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// The Kafka cluster.
    pub kafka: bool,
    /// The windows' Redis, when one is configured (in-memory windows need
    /// nothing).
    pub redis: bool,
    /// The projections database.
    pub database: Option<DatabaseUse>,
}

/// How a command opens the projections database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseUse {
    /// As a service writing it ([`open_database`]: created if missing).
    Write,
    /// As a report reading it ([`open_database_for_reading`]).
    Read,
}

/// Opens what `needs` names the way the services open it — Kafka as topic
/// creation reaches it, the windows store, the projections database
/// (migrations applied, as at a service's start) — and says what answered,
/// one phrase each; the first that does not answer is the error.
pub async fn reach(config: &Config, needs: Needs) -> Result<Vec<String>> {
    let mut answered = Vec::new();
    if needs.kafka {
        topics::kafka::ensure_reachable(&config.kafka, "checking").await?;
        answered.push(format!("kafka {}", config.kafka.bootstrap_servers));
    }
    if needs.redis {
        if let Some(url) = &config.redis {
            open_windows(config).await?;
            answered.push(format!("redis {}", projections::redact(url)));
        }
    }
    if let Some(mode) = needs.database {
        let db = match mode {
            DatabaseUse::Write => open_database(config, Path::new(DEFAULT_SQLITE)).await?,
            DatabaseUse::Read => open_database_for_reading(config).await?,
        };
        answered.push(format!("database {}", db.url()));
    }
    Ok(answered)
}

/// Reads the profiles topic to its end: the profiles read model as it is
/// now, and where to follow it from.
pub async fn read_profiles(
    config: &Config,
) -> Result<(ProfileStore<fingerprint::matching::Profile>, Positions)> {
    load_profiles(&config.kafka, &config.topics.profiles, PROFILES_IDLE)
        .await
        .context("reading the profiles topic")
}

/// The console over these backends, with its settings checked.
pub fn console(
    config: &Config,
    producer: &Producer,
    db: Database,
    windows: Option<Arc<Windows>>,
    profiles: SharedProfiles,
) -> Result<Arc<console::Console>> {
    let writes = console::ApiState {
        producer: producer.clone(),
        topics: config.topics.clone(),
        checks: Arc::new(console::DbChecks(db.clone())),
        profiles,
        api_token: config.console.api_token.clone(),
    };
    let console = console::Console::new(&config.console, writes, db, windows)
        .context("invalid [console] table")?;
    Ok(Arc::new(console))
}

/// Binds the console's listener (`[console] listen`).
pub async fn bind_console(config: &Config) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(config.console.listen)
        .await
        .with_context(|| format!("binding the console on {}", config.console.listen))
}

/// Runs the projections `selected` into `db` until `shutdown`;
/// `producer` sends what they cannot fold to the dead letters.
pub async fn project(
    config: &Config,
    db: Database,
    selected: Vec<Box<dyn projections::Projection>>,
    producer: Producer,
    shutdown: Shutdown,
) -> Result<projections::fold::FoldStats> {
    Ok(projections::fold::serve(
        db,
        &selected,
        &config.kafka,
        &config.topics,
        producer,
        &fold_settings(config),
        shutdown.wait(),
    )
    .await?)
}

/// How the projections fold: `[projections] max_batch`, the rest default.
pub fn fold_settings(config: &Config) -> projections::fold::FoldSettings {
    projections::fold::FoldSettings {
        max_batch: config.projections.max_batch.max(1),
        ..Default::default()
    }
}

/// `skyline replay windows`: forgets the windows and folds the datapoints
/// topic again ([`windows::replay`]). `idle` is the fallback end for a
/// broker that under-reports where a partition ends.
pub async fn replay_windows(config: &Config, idle: Duration) -> Result<windows::Replayed> {
    let windows = open_windows(config).await?;
    Ok(windows::replay(&windows, &config.kafka, &config.topics.datapoints, idle).await?)
}

/// Produces profile events to the profiles topic.
pub async fn produce_profiles(config: &Config, events: &[topics::ProfileEvent]) -> Result<()> {
    let producer = Producer::new(&config.kafka)?;
    let records = topics::kafka::keyed_messages(events, |e| &e.metric)
        .map_err(|x| anyhow::anyhow!("encoding a profile event: {x}"))?;
    producer
        .send_batch(&config.topics.profiles, records)
        .await
        .with_context(|| format!("producing to {}", config.topics.profiles))?;
    Ok(())
}
