//! `skyline replay windows|projections`: state rebuilt from the log.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use projections::fold;
use stack::services::{self as build, DEFAULT_SQLITE};
use stack::Config;

use crate::serve::names;

#[derive(clap::Subcommand)]
pub enum ReplayCommand {
    /// Forget the windows and fold the whole datapoints topic again.
    Windows(WindowsArgs),
    /// Empty the projection tables and fold their topics again from
    /// offset 0.
    Projections(ProjectionsArgs),
}

#[derive(clap::Args)]
pub struct WindowsArgs {
    /// The replay ends where the datapoints topic ended when it began;
    /// only for a broker that under-reports that end (tansu), it ends after
    /// this many seconds without a new datapoint.
    #[arg(long, default_value_t = 5)]
    idle_seconds: u64,
}

#[derive(clap::Args)]
pub struct ProjectionsArgs {
    /// Only these projections or tables (a table rebuilds the projection
    /// that owns it; default: all).
    #[arg(long, num_args = 1..)]
    only: Vec<String>,
    /// Stop after this many seconds without a new record.
    #[arg(long, default_value_t = 5)]
    idle_seconds: u64,
}

impl ReplayCommand {
    /// What the replay validates before it starts (the projections
    /// `--only` selects) and what it needs to reach.
    pub fn needs(&self) -> Result<stack::services::Needs> {
        use stack::services::{DatabaseUse, Needs};
        Ok(match self {
            ReplayCommand::Windows(_) => Needs {
                kafka: true,
                redis: true,
                database: None,
            },
            ReplayCommand::Projections(args) => {
                projections::select(&args.only)?;
                Needs {
                    kafka: true,
                    redis: false,
                    database: Some(DatabaseUse::Write),
                }
            }
        })
    }
}

pub async fn run(config: Config, command: ReplayCommand) -> Result<()> {
    // A replay of a topic that expired its oldest events rebuilds less than
    // there was: say so before rebuilding.
    build::check_retention(&config).await?;
    match command {
        ReplayCommand::Windows(args) => {
            let idle = Duration::from_secs(args.idle_seconds);
            let r = build::replay_windows(&config, idle).await?;
            eprintln!(
                "replayed {} datapoints into the windows in {:.1}s",
                r.datapoints, r.seconds
            );
            Ok(())
        }
        ReplayCommand::Projections(args) => projections(config, args).await,
    }
}

async fn projections(config: Config, args: ProjectionsArgs) -> Result<()> {
    let selected = projections::select(&args.only)?;
    let db = build::open_database(&config, Path::new(DEFAULT_SQLITE)).await?;
    let total = fold::backlog(&config.kafka, &config.topics, &selected).await;
    let bar = if total > 0 {
        ProgressBar::new(total)
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} rebuilding [{bar:30}] {pos}/{len} events ({per_sec}) {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    eprintln!(
        "rebuilding {} in {} from offset 0 (stop `skyline project` first)",
        names(&selected),
        db.url()
    );
    let read = Arc::new(AtomicU64::new(0));
    let ticker = {
        let (bar, read) = (bar.clone(), read.clone());
        tokio::spawn(async move {
            loop {
                // The backlog is an estimate: grow the bar past it.
                let n = read.load(Ordering::Relaxed);
                if bar.length().is_some_and(|l| l > 0 && n > l) {
                    bar.set_length(n);
                }
                bar.set_position(n);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let summary = fold::replay(
        &db,
        &selected,
        &config.kafka,
        &config.topics,
        &build::fold_settings(&config),
        Duration::from_secs(args.idle_seconds),
        &read,
    )
    .await;
    ticker.abort();
    bar.finish_and_clear();
    let summary = summary?;
    db.close().await;
    let seconds = (summary.seconds - args.idle_seconds as f64).max(0.0);
    println!(
        "replayed projections {}: {} events read, {} rows written, {} refused, {:.1}s",
        names(&selected),
        summary.stats.events,
        summary.stats.rows,
        summary.stats.refused,
        seconds
    );
    Ok(())
}
