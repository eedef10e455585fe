//! `skyline`: one binary, a subcommand per service or tool. It parses
//! arguments, loads the configuration, starts what the `stack` crate builds
//! and prints; the work is in the library crates (see ARCHITECTURE.md).

mod alert_cmd;
mod backtest;
mod check;
mod console_cmd;
mod evaluate;
mod features_cmd;
mod import_cmd;
mod import_skyline;
mod panorama;
mod rematch;
mod replay;
mod serve;
mod training;
mod up;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use stack::{Config, Infra};

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
    #[command(flatten)]
    infra: InfraArgs,
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
    /// Check instead of running: parse the arguments, load and validate
    /// the configuration as the command does at start, then (`--check`,
    /// `--check=full`) reach the Kafka, Redis and database it uses; print
    /// `ok: <command> …` and exit 0, or the error and exit 1.
    /// `--check=config` stops after the configuration and contacts nothing.
    #[arg(
        long,
        global = true,
        value_enum,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "full"
    )]
    check: Option<check::CheckMode>,
    #[command(subcommand)]
    command: Command,
}

/// Where the infrastructure is: every command takes these the same way,
/// and each overrides its key in the config file.
#[derive(clap::Args)]
struct InfraArgs {
    /// Kafka bootstrap servers (`[kafka] bootstrap_servers`; `up` without
    /// it runs an embedded broker).
    #[arg(long, global = true, env = "SKYLINE_KAFKA")]
    kafka: Option<String>,
    /// Redis URL of the windows (`redis`); unset: in memory.
    #[arg(long, global = true, env = "SKYLINE_REDIS")]
    redis: Option<String>,
    /// Projections in MySQL/MariaDB (`[projections] database`), e.g.
    /// mysql://skyline:secret@127.0.0.1:3306/skyline.
    #[arg(long, global = true, env = "SKYLINE_MYSQL", conflicts_with = "sqlite")]
    mysql: Option<String>,
    /// Projections in this SQLite file (created if missing).
    #[arg(long, global = true)]
    sqlite: Option<PathBuf>,
    /// Start even when a topic keeps less than skyline replays from it
    /// (labels, profiles and mutes forever; datapoints the longest window,
    /// see `[retention]`): a warning instead of refusing to start.
    #[arg(long, global = true, env = "SKYLINE_ALLOW_SHORT_RETENTION")]
    allow_short_retention: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Replay a static series through the Analyzer as a live stream would see
    /// it and print every point's votes as CSV.
    Backtest(backtest::BacktestArgs),
    /// Replay labelled series through the whole pipeline in-process (analyze,
    /// seasonal, fingerprint, learn) over data time, untrained and with a
    /// simulated operator labelling false alerts; report alerts, true and
    /// false alerts, missed windows, deflections, labels and NAB scores,
    /// per series and in total.
    Evaluate(evaluate::EvaluateArgs),
    /// Import history files (CSV, Graphite render JSON, Skyline JSON) to
    /// the datapoints topic with their own timestamps: the Analyzer folds
    /// them into the windows (the last day at full resolution, older points
    /// rolled up), so a metric can be judged at 7 or 30 days on day one.
    Import(import_cmd::ImportArgs),
    /// Import an existing Skyline's training from its MySQL: features
    /// profiles (series, features recomputed and compared with the stored
    /// ones, generations, parents, learn settings, enabled and validated)
    /// and layers, as profile events. Importing twice produces nothing new.
    ImportSkyline(import_skyline::ImportSkylineArgs),
    /// Run every service in one process: with no options on an embedded
    /// broker and in-memory windows, serving Graphite and HTTP ingest.
    Up(up::UpArgs),
    /// Run the sources (Graphite TCP, HTTP, Kafka metric streams) that
    /// publish datapoints.
    Ingest,
    /// Run the Analyzer: fold datapoints into windows and judge them.
    Analyze,
    /// Fold the log into the projection tables (anomalies, metrics,
    /// checks, matches, profiles, labels, alerts, outcomes) in MySQL/MariaDB or SQLite.
    Project(serve::ProjectArgs),
    /// Print recent anomalies from the projections.
    Anomalies(panorama::AnomaliesArgs),
    /// Print every metric received: last seen, points in window,
    /// ionosphere-enabled, anomalies in its last 24 hours.
    Metrics(panorama::MetricsArgs),
    /// Print features profiles from the projections: lineage, flags and
    /// how often each deflected an anomaly.
    Profiles(panorama::ProfilesArgs),
    /// Rebuild state from the log.
    #[command(subcommand)]
    Replay(replay::ReplayCommand),
    /// Run the fingerprint service: judge fingerprint checks against the
    /// features profiles, publish verdicts and the alerts of anomalies not
    /// deflected.
    Fingerprint,
    /// Run the seasonal (Mirage) service: re-judge seasonal checks over
    /// their second-order window (the long window merged with the last
    /// day), hand on what stays anomalous, record what clears.
    Seasonal,
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
    Rematch(rematch::RematchArgs),
    /// Print a series' features fingerprint (`feature_name,value` lines in
    /// Skyline id order).
    Features(features_cmd::FeaturesArgs),
    /// Label a check: `--not-anomalous` makes a features profile of its
    /// series (`--learn`: and learn from it at learn_full_duration).
    Label(training::LabelArgs),
    /// Deliver alerts (one queue per [[alerters]] table, each attempt
    /// recorded on skyline.deliveries); `alert test`, `alert mute`.
    Alert(alert_cmd::AlertArgs),
    /// Run the learn service: profiles from labels, learnt profiles from
    /// LEARN profiles and unmatched anomalies.
    Learn,
    /// Re-derive every profile from the labels topic (new profiles after a
    /// features change; the old ones are disabled).
    Retrain(training::RetrainArgs),
    /// Disable or validate a features profile.
    #[command(subcommand)]
    Profile(training::ProfileCommand),
    /// Serve the web console: anomalies, training pages, labels, profiles
    /// and matches, and their JSON API (`skyline up` serves it too).
    Console(console_cmd::ConsoleArgs),
    /// Read a password on stdin and print its Argon2id hash, for
    /// `[[console.users]] password_hash`.
    HashPassword,
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // A healthcheck's arguments that do not parse: one line, and
            // exit 1 (a container healthcheck's "unhealthy"; clap's 2 is
            // reserved there).
            let checking = std::env::args().any(|a| a == "--check" || a.starts_with("--check="));
            if checking && err.use_stderr() {
                let message = err.to_string();
                eprintln!("{}", message.lines().next().unwrap_or("error"));
                std::process::exit(1);
            }
            err.exit()
        }
    };
    init_logging(cli.log_format);
    let checking = cli.check.is_some();
    if let Err(err) = run(cli) {
        let message = format!("{err:#}");
        if checking {
            // A healthcheck's output is read as one line.
            let line: Vec<&str> = message.lines().map(str::trim).collect();
            eprintln!("error: {}", line.join("; "));
        } else {
            eprintln!("error: {message}");
        }
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    let infra = cli.infra.infra();
    config.apply(&infra);
    if let Some(mode) = cli.check {
        return check::run(config, &cli.command, mode, infra.kafka.is_none());
    }
    match cli.command {
        Command::Backtest(args) => backtest::run(&config, args),
        Command::Evaluate(args) => evaluate::run(config, args),
        Command::Features(args) => features_cmd::run(args),
        Command::Import(args) => import_cmd::run(config, args),
        Command::HashPassword => console_cmd::hash_password(),
        Command::Up(args) => block_on(up::run(config, args, infra.kafka.is_none())),
        Command::Ingest => block_on(serve::ingest(config)),
        Command::Analyze => block_on(serve::analyze(config)),
        Command::Fingerprint => block_on(serve::fingerprint(config)),
        Command::Seasonal => block_on(serve::seasonal(config)),
        Command::Learn => block_on(serve::learn(config)),
        Command::Alert(args) => block_on(alert_cmd::run(config, args)),
        Command::Project(args) => block_on(serve::project(config, args)),
        Command::Console(args) => block_on(console_cmd::run(config, args)),
        Command::Rematch(args) => block_on(rematch::run(config, args)),
        Command::Anomalies(args) => block_on(panorama::anomalies(config, args)),
        Command::Metrics(args) => block_on(panorama::metrics(config, args)),
        Command::Profiles(args) => block_on(panorama::profiles(config, args)),
        Command::Replay(command) => block_on(replay::run(config, command)),
        Command::Label(args) => block_on(training::label(config, args)),
        Command::ImportSkyline(args) => block_on(import_skyline::run(config, args)),
        Command::Retrain(args) => block_on(training::retrain(config, args)),
        Command::Profile(command) => block_on(training::profile(config, command)),
    }
}

/// Runs a command's work on a multi-threaded async runtime.
fn block_on(work: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    block_on_value(work)
}

/// [`block_on`] for work that returns a value.
fn block_on_value<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(work)
}

impl InfraArgs {
    fn infra(&self) -> Infra {
        Infra {
            kafka: self.kafka.clone(),
            redis: self.redis.clone(),
            database: self.mysql.clone().or_else(|| {
                self.sqlite
                    .as_ref()
                    .map(|file| format!("sqlite://{}", file.display()))
            }),
            allow_short_retention: self.allow_short_retention,
        }
    }
}

/// A unix time as every command prints it.
fn utc(ts: i64) -> String {
    topics::clock::utc(ts)
}
