//! `skyline`: one binary, a subcommand per service or tool.

mod backtest;
mod config;
mod series_file;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "skyline",
    version,
    about = "Streaming anomaly detection and deflection for metric time series"
)]
struct Cli {
    /// TOML config file (any subset of the keys in skyline.example.toml).
    #[arg(long, global = true, env = "SKYLINE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a static series through the Analyzer as a live stream would see
    /// it and print every point's votes as CSV.
    Backtest(BacktestArgs),
}

#[derive(clap::Args)]
struct BacktestArgs {
    /// CSV of `timestamp,value` (header optional; epoch seconds or
    /// `YYYY-MM-DD HH:MM:SS` UTC).
    file: PathBuf,
    /// Write the CSV here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run all nine algorithms at every point (no early exit).
    #[arg(long)]
    all_algorithms: bool,
    /// Skip malformed rows (and count them) instead of stopping at the first.
    #[arg(long)]
    skip_bad_rows: bool,
    /// The metric name the alert rules see (default: the file's stem).
    #[arg(long)]
    metric: Option<String>,
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKYLINE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    if let Err(err) = run(Cli::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Backtest(args) => run_backtest(&config, args),
    }
}

fn run_backtest(config: &Config, args: BacktestArgs) -> Result<()> {
    let started = Instant::now();
    let input = series_file::read_series_csv(&args.file, args.skip_bad_rows)?;
    for (line, reason) in input.bad_rows.iter().take(10) {
        eprintln!("skipped {}:{line}: {reason}", args.file.display());
    }
    let mut points = input.points;
    let duplicates = analyze::series::sort_dedup(&mut points);
    if duplicates > 0 {
        tracing::warn!(
            duplicates,
            "dropped points sharing a timestamp (the first after sorting is kept)"
        );
    }
    let metric = args.metric.unwrap_or_else(|| file_stem(&args.file));
    let rows = backtest::backtest(&points, &metric, config, args.all_algorithms);

    match &args.out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            backtest::write_csv(&rows, &mut BufWriter::new(file))
        }
        None => backtest::write_csv(&rows, &mut BufWriter::new(std::io::stdout().lock())),
    }
    .context("writing the backtest CSV")?;

    let s = backtest::summarise(&rows);
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{metric}: {} points, {} analysed, {} anomalous, {} alerts; not analysed: {} too short, {} stale, {} boring, {} other; {} bad rows skipped; {:.2}s",
        s.points,
        s.judged,
        s.anomalous,
        s.alerts,
        s.too_short,
        s.stale,
        s.boring,
        s.not_analysed,
        input.bad_rows.len(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backtest".to_owned())
}
