//! The services run one per process: `skyline ingest`, `analyze`,
//! `fingerprint`, `seasonal`, `learn` and `project`, each until Ctrl-C.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use stack::services::{self as build, shutdown_on_ctrl_c, DEFAULT_SQLITE};
use stack::Config;
use topics::kafka::Producer;

/// The topics exist, a producer and the windows: what every service starts
/// with.
async fn prepare(config: &Config, process: &str) -> Result<(Producer, Arc<windows::Windows>)> {
    // Topics first: a start refused on their retention publishes nothing.
    build::create_topics(config, &[]).await?;
    build::serve_telemetry(config, process).await?;
    let producer = Producer::new(&config.kafka)?;
    let windows = Arc::new(build::open_windows(config).await?);
    Ok((producer, windows))
}

/// `skyline ingest`.
pub async fn ingest(config: Config) -> Result<()> {
    build::create_topics(&config, &[]).await?;
    build::serve_telemetry(&config, "ingest").await?;
    let producer = Producer::new(&config.kafka)?;
    let (_stop, shutdown) = shutdown_on_ctrl_c();
    let started = build::start_ingest(&config, &producer, &shutdown).await?;
    print_listeners(&config, &started);
    shutdown.wait().await;
    print_ingested(&started.stats);
    Ok(())
}

/// Where `started`'s sources listen and read.
pub fn print_listeners(config: &Config, started: &ingest::service::Started) {
    if let Some(addr) = started.graphite {
        eprintln!("graphite plaintext: {addr}");
    }
    if let Some(addr) = started.http {
        eprintln!("http: POST http://{addr}/api/v1/datapoints");
    }
    for source in &config.ingest.kafka_sources {
        eprintln!("kafka source: {} ({:?})", source.topic, source.format);
    }
}

/// What ingest accepted and refused.
pub fn print_ingested(stats: &ingest::sources::SourceStats) {
    eprintln!(
        "ingest: {} datapoints accepted, {} lines refused",
        stats.accepted(),
        stats.refused()
    );
}

/// What the Analyzer's restore phase folded back, when it read anything.
pub fn print_restored(r: &analyze::service::Restored) {
    if r.points > 0 {
        eprintln!(
            "windows: restored {} datapoints of {} metric{} from the log in {:.1}s ({} re-judged to rebuild alert and derivative state)",
            r.points,
            r.metrics,
            if r.metrics == 1 { "" } else { "s" },
            r.seconds,
            r.judged
        );
    }
}

/// `skyline analyze`.
pub async fn analyze(config: Config) -> Result<()> {
    let (producer, windows) = prepare(&config, "analyze").await?;
    let (_stop, shutdown) = shutdown_on_ctrl_c();
    let analyzer = build::analyzer(&config, windows, producer)?;
    print_restored(&build::restore_windows(&analyzer).await?);
    let stats = analyzer.run(shutdown.wait()).await?;
    eprintln!(
        "analyze: {} datapoints in {} batches",
        stats.records, stats.batches
    );
    Ok(())
}

/// `skyline fingerprint`.
pub async fn fingerprint(config: Config) -> Result<()> {
    let (producer, windows) = prepare(&config, "fingerprint").await?;
    if config.redis.is_none() {
        tracing::warn!(
            "no Redis configured: the ionosphere-enabled flags stay in this process, \
             so an analyzer elsewhere will not route anomalies here"
        );
    }
    let (_stop, shutdown) = shutdown_on_ctrl_c();
    let stats = build::fingerprinter(&config, windows, producer)
        .run(shutdown.wait())
        .await?;
    eprintln!(
        "fingerprint: {} checks in {} batches",
        stats.records, stats.batches
    );
    Ok(())
}

/// `skyline seasonal`.
pub async fn seasonal(config: Config) -> Result<()> {
    let (producer, windows) = prepare(&config, "seasonal").await?;
    if config.redis.is_none() {
        tracing::warn!(
            "no Redis configured: this process has no long window of its own \
             (seasonal checks are judged on their 24 hours only); pass --redis"
        );
    }
    let (_stop, shutdown) = shutdown_on_ctrl_c();
    let runtime = build::seasonal(&config, windows, producer);
    let service = runtime.service().clone();
    let run = runtime.run(shutdown.wait()).await?;
    let stats = service.stats();
    eprintln!(
        "seasonal: {} records in {} batches; {} checks judged ({} anomalous, {} cleared), {} skipped",
        run.records, run.batches, stats.judged, stats.anomalous, stats.cleared, stats.skipped
    );
    Ok(())
}

/// `skyline learn`.
pub async fn learn(config: Config) -> Result<()> {
    let (producer, windows) = prepare(&config, "learn").await?;
    let learner = Arc::new(build::learner(&config, windows, producer)?);
    let (_stop, shutdown) = shutdown_on_ctrl_c();
    let stats = learner.run(&config.kafka, shutdown.wait()).await?;
    eprintln!(
        "learn: {} labels, {} profiles created, {} learnt, {} dead letters",
        stats.labels, stats.created, stats.learnt, stats.dead_letters
    );
    Ok(())
}

#[derive(clap::Args)]
pub struct ProjectArgs {
    /// Only these projections or tables (default: all).
    #[arg(long, num_args = 1..)]
    only: Vec<String>,
}

impl ProjectArgs {
    /// The projections `--only` selects (all by default); an unknown name
    /// is an error.
    pub fn selected(&self) -> Result<Vec<Box<dyn projections::Projection>>> {
        Ok(projections::select(&self.only)?)
    }
}

/// `skyline project`.
pub async fn project(config: Config, args: ProjectArgs) -> Result<()> {
    let selected = args.selected()?;
    build::create_topics(&config, &[]).await?;
    build::serve_telemetry(&config, "project").await?;
    let db = build::open_database(&config, Path::new(DEFAULT_SQLITE)).await?;
    let (_stop, shutdown) = shutdown_on_ctrl_c();
    eprintln!("projections: {} into {}", names(&selected), db.url());
    let producer = Producer::new(&config.kafka)?;
    let stats = build::project(&config, db, selected, producer, shutdown).await?;
    eprintln!(
        "projections: {} records, {} rows written, {} refused",
        stats.events, stats.rows, stats.refused
    );
    Ok(())
}

/// The projections' names, comma-separated.
pub fn names(selected: &[Box<dyn projections::Projection>]) -> String {
    let names: Vec<&str> = selected.iter().map(|p| p.name()).collect();
    names.join(", ")
}
