//! `skyline`: one binary, a subcommand per service or tool.

mod config;
mod console_cmd;
mod features_cmd;
mod fingerprint_cmd;
mod label_cmd;
mod learn_cmd;
mod panorama;
mod profiles_cmd;
mod services;
mod up;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use analyze::backtest;
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

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
    /// How log lines are written to stderr: `text` (coloured on a
    /// terminal only) or `json` (one object per line, for collectors).
    /// What is logged is set by `SKYLINE_LOG` (e.g. `debug`,
    /// `info,analyze=debug`).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "SKYLINE_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a static series through the Analyzer as a live stream would see
    /// it and print every point's votes as CSV.
    Backtest(BacktestArgs),
    /// Run every service in one process: with no options on an embedded
    /// broker and in-memory windows, serving Graphite and HTTP ingest.
    Up(up::UpArgs),
    /// Run the sources (Graphite TCP, HTTP, Kafka metric streams) that
    /// publish datapoints.
    Ingest(InfraArgs),
    /// Run the Analyzer: fold datapoints into windows and judge them.
    Analyze(InfraArgs),
    /// Fold the log into the projection tables (anomalies, metrics,
    /// checks, matches, profiles, labels, alerts, outcomes) in MySQL/MariaDB or SQLite.
    Project(panorama::ProjectArgs),
    /// Print recent anomalies from the projections.
    Anomalies(panorama::AnomaliesArgs),
    /// Print every metric received: last seen, points in window,
    /// ionosphere-enabled, anomalies in its last 24 hours.
    Metrics(panorama::MetricsArgs),
    /// Print features profiles from the projections: lineage, flags and
    /// how often each deflected an anomaly.
    Profiles(profiles_cmd::ProfilesArgs),
    /// Rebuild state from the log.
    #[command(subcommand)]
    Replay(ReplayCommand),
    /// Run the fingerprint service: judge fingerprint checks against the
    /// features profiles, publish verdicts and the alerts of anomalies not
    /// deflected.
    Fingerprint(InfraArgs),
    /// Report which past fingerprint checks today's profiles would deflect
    /// (a report: writes nothing to the log).
    ///
    /// Re-judges every fingerprint check since --since against the profiles
    /// as they are now and prints, per check, whether it would be deflected
    /// (by which profile, how) or still alert, and whether that differs from
    /// its verdict on the matches topic; then counts. Sorted, with no
    /// wall-clock values: two runs over the same log print the same bytes.
    /// Nothing is published; the fingerprint service replaying the same
    /// checks would publish these verdicts, with these match ids.
    Rematch(fingerprint_cmd::RematchArgs),
    /// Print a series' features fingerprint (`feature_name,value` lines in
    /// Skyline id order).
    Features(features_cmd::FeaturesArgs),
    /// Label a check: `--not-anomalous` makes a features profile of its
    /// series (`--learn`: and learn from it at learn_full_duration).
    Label(label_cmd::LabelArgs),
    /// Run the learn service: profiles from labels, learnt profiles from
    /// LEARN profiles and unmatched anomalies.
    Learn(InfraArgs),
    /// Re-derive every profile from the labels topic (new profiles after a
    /// features change; the old ones are disabled).
    Retrain(learn_cmd::RetrainArgs),
    /// Disable or validate a features profile.
    #[command(subcommand)]
    Profile(learn_cmd::ProfileCommand),
    /// Serve the web console: anomalies, training pages, labels, profiles
    /// and matches, and their JSON API (`skyline up` serves it too).
    Console(console_cmd::ConsoleArgs),
    /// Read a password on stdin and print its Argon2id hash, for
    /// `[[console.users]] password_hash`.
    HashPassword,
}

#[derive(Subcommand)]
enum ReplayCommand {
    /// Forget the windows and fold the whole datapoints topic again.
    Windows(ReplayArgs),
    /// Empty the projection tables and fold their topics again from
    /// offset 0.
    Projections(panorama::ReplayProjectionsArgs),
}

/// Where the infrastructure is (overrides the config file).
#[derive(clap::Args, Clone, Default)]
pub struct InfraArgs {
    /// Kafka bootstrap servers (`[kafka] bootstrap_servers`).
    #[arg(long, env = "SKYLINE_KAFKA")]
    pub kafka: Option<String>,
    /// Redis URL for the windows (`redis`); unset: in memory.
    #[arg(long, env = "SKYLINE_REDIS")]
    pub redis: Option<String>,
}

#[derive(clap::Args)]
struct ReplayArgs {
    #[command(flatten)]
    infra: InfraArgs,
    /// The replay ends where the datapoints topic ended when it began;
    /// only for a broker that under-reports that end (tansu), it ends after
    /// this many seconds without a new datapoint.
    #[arg(long, default_value_t = 5)]
    idle_seconds: u64,
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// What is logged when `SKYLINE_LOG` is unset: skyline's own events at
/// info; the embedded broker (tansu, which traces every record it encodes
/// at info) and librdkafka's connection chatter only when they warn.
const DEFAULT_LOG: &str = "info,tansu=warn,librdkafka=warn,rdkafka=warn";

fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("SKYLINE_LOG")
        .unwrap_or_else(|_| DEFAULT_LOG.into());
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().init(),
    }
}

fn main() {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    if let Err(err) = run(cli) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Backtest(args) => run_backtest(&config, args),
        Command::Features(args) => features_cmd::run(args),
        Command::Up(args) => runtime()?.block_on(up::run(config, args)),
        Command::Ingest(infra) => {
            infra.apply(&mut config);
            runtime()?.block_on(run_ingest(config))
        }
        Command::Analyze(infra) => {
            infra.apply(&mut config);
            runtime()?.block_on(run_analyze(config))
        }
        Command::Fingerprint(infra) => {
            runtime()?.block_on(fingerprint_cmd::run_fingerprint(config, infra))
        }
        Command::Rematch(args) => runtime()?.block_on(fingerprint_cmd::run_rematch(config, args)),
        Command::Project(args) => runtime()?.block_on(panorama::run_project(config, args)),
        Command::Anomalies(args) => runtime()?.block_on(panorama::run_anomalies(config, args)),
        Command::Metrics(args) => runtime()?.block_on(panorama::run_metrics(config, args)),
        Command::Profiles(args) => runtime()?.block_on(profiles_cmd::run(config, args)),
        Command::Replay(ReplayCommand::Projections(args)) => {
            runtime()?.block_on(panorama::run_replay(config, args))
        }
        Command::Label(args) => runtime()?.block_on(label_cmd::run(config, args)),
        Command::Learn(infra) => runtime()?.block_on(learn_cmd::run_learn(config, infra)),
        Command::Retrain(args) => runtime()?.block_on(learn_cmd::run_retrain(config, args)),
        Command::Profile(cmd) => runtime()?.block_on(learn_cmd::run_profile(config, cmd)),
        Command::Console(args) => runtime()?.block_on(console_cmd::run(config, args)),
        Command::HashPassword => console_cmd::hash_password(),
        Command::Replay(ReplayCommand::Windows(args)) => {
            args.infra.apply(&mut config);
            runtime()?.block_on(async {
                let windows::Replayed {
                    datapoints,
                    seconds,
                } = services::replay_windows(
                    &config,
                    std::time::Duration::from_secs(args.idle_seconds),
                )
                .await?;
                eprintln!("replayed {datapoints} datapoints into the windows in {seconds:.1}s");
                Ok(())
            })
        }
    }
}

impl InfraArgs {
    pub fn apply(&self, config: &mut Config) {
        if let Some(k) = &self.kafka {
            config.kafka.bootstrap_servers = k.clone();
        }
        if let Some(r) = &self.redis {
            config.redis = Some(r.clone());
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn run_ingest(config: Config) -> Result<()> {
    services::create_topics(&config, &[]).await?;
    let producer = topics::kafka::Producer::new(&config.kafka)?;
    let (_stop, shutdown) = services::shutdown_on_ctrl_c();
    let stats = services::start_ingest(&config, &producer, &shutdown).await?;
    shutdown.wait().await;
    eprintln!(
        "ingest: {} datapoints accepted, {} lines refused",
        stats.accepted(),
        stats.refused()
    );
    Ok(())
}

async fn run_analyze(config: Config) -> Result<()> {
    services::create_topics(&config, &[]).await?;
    let producer = topics::kafka::Producer::new(&config.kafka)?;
    let windows = std::sync::Arc::new(services::open_windows(&config).await?);
    let (_stop, shutdown) = services::shutdown_on_ctrl_c();
    let analyzer = services::analyzer(&config, windows, producer).runtime(&config.kafka);
    services::restore_windows(&analyzer).await?;
    let stats = analyzer.run(shutdown.wait()).await?;
    eprintln!(
        "analyze: {} datapoints in {} batches",
        stats.records, stats.batches
    );
    Ok(())
}

fn run_backtest(config: &Config, args: BacktestArgs) -> Result<()> {
    let started = Instant::now();
    let input = analyze::series_file::read_series_csv(&args.file, args.skip_bad_rows)?;
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
    let rows = {
        let progress = backtest_progress(points.len());
        let rows = backtest::backtest(
            &points,
            &metric,
            &config.analyzer,
            &config.alerts,
            args.all_algorithms,
            |n| progress.inc(n as u64),
        );
        progress.finish_and_clear();
        rows
    };

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

/// A progress bar for inputs long enough to want one (indicatif draws it
/// only when stderr is a terminal).
fn backtest_progress(points: usize) -> ProgressBar {
    const PROGRESS_MIN_POINTS: usize = 5_000;
    if points < PROGRESS_MIN_POINTS {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(points as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} analysing {pos}/{len} points [{bar:40}] {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backtest".to_owned())
}
