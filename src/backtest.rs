//! `skyline backtest FILE`: a static series through the Analyzer as a live
//! stream would see it, every point's votes as CSV.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use analyze::backtest;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use stack::Config;

#[derive(clap::Args)]
pub struct BacktestArgs {
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
    /// Also judge the `[[boundary]]` rules at every point, as the Analyzer
    /// does, and write where they alert here as CSV
    /// (`timestamp,value,algorithm,times_seen,alerters`).
    #[arg(long)]
    boundary_out: Option<PathBuf>,
}

pub fn run(config: &Config, args: BacktestArgs) -> Result<()> {
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
    let metric = args.metric.unwrap_or_else(|| {
        args.file.file_stem().map_or_else(
            || "backtest".to_owned(),
            |s| s.to_string_lossy().into_owned(),
        )
    });
    let progress = progress_bar(points.len());
    // As the Analyzer has them: a rule naming several alerters is one rule
    // per alerter.
    let alerts = analyze::alert_rules::one_per_alerter(&config.alerts);
    let rows = backtest::backtest(
        &points,
        &metric,
        &config.analyzer,
        &alerts,
        args.all_algorithms,
        |n| progress.inc(n as u64),
    );
    progress.finish_and_clear();

    match &args.out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            backtest::write_csv(&rows, &mut BufWriter::new(file))
        }
        None => backtest::write_csv(&rows, &mut BufWriter::new(std::io::stdout().lock())),
    }
    .context("writing the backtest CSV")?;

    if let Some(path) = &args.boundary_out {
        let rules = config
            .boundary_rules()
            .context("invalid [[boundary]] tables")?;
        let fired = backtest::backtest_boundary(&points, &metric, &config.analyzer, &rules, &rows);
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        backtest::write_boundary_csv(&fired, &mut BufWriter::new(file))
            .with_context(|| format!("writing the Boundary CSV {}", path.display()))?;
        let matching = analyze::boundary::rules_for(&rules, &metric).len();
        eprintln!(
            "{metric}: {} Boundary alert{} from {matching} matching rule{}",
            fired.len(),
            if fired.len() == 1 { "" } else { "s" },
            if matching == 1 { "" } else { "s" },
        );
    }

    let s = backtest::summarise(&rows);
    writeln!(
        std::io::stderr().lock(),
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
fn progress_bar(points: usize) -> ProgressBar {
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
