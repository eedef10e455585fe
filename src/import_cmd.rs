//! `skyline import FILE…`: history files to the datapoints topic, with
//! their own timestamps, so the Analyzer folds them into the windows (the
//! last `full_duration` at full resolution, the rest rolled up) and a new
//! install can judge a metric at 7 or 30 days on day one.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use ingest::history::{read_history, History};
use stack::services as build;
use stack::Config;
use topics::kafka::{keyed_messages, Producer};

use crate::utc;

/// Datapoints encoded and handed to the producer at once: large enough to
/// keep the producer's pipeline full, small enough that the progress bar
/// moves and the encoded batch stays a few MB.
const CHUNK: usize = 10_000;

/// Bad rows listed on stderr per file when they are skipped (the summary
/// counts them all).
const LISTED_BAD_ROWS: usize = 10;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// History files, each CSV `timestamp,value` (header optional; unix
    /// seconds or `YYYY-MM-DD HH:MM:SS` UTC), Graphite render JSON
    /// (`[{"target", "datapoints": [[value, ts], …]}, …]`) or Skyline JSON
    /// (`{"results": [[ts, value], …]}`), told apart by their content.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The metric the points belong to (default: the Graphite target, else
    /// the file's stem). Refused for a Graphite file of several targets.
    #[arg(long)]
    metric: Option<String>,
    /// Skip malformed rows (and count them) instead of refusing the file.
    #[arg(long)]
    skip_bad_rows: bool,
}

/// Parses every file, then produces them. A file refused produces nothing:
/// all files are read whole before the first datapoint is sent, so a bad
/// second file leaves the topic as it was.
pub fn run(config: Config, args: ImportArgs) -> Result<()> {
    let mut files = Vec::with_capacity(args.files.len());
    for path in &args.files {
        // The parser's errors already name the file and the line: no more
        // context, so the error stays one line.
        let history = read_history(path, args.metric.as_deref(), args.skip_bad_rows)?;
        for bad in history.bad_rows.iter().take(LISTED_BAD_ROWS) {
            eprintln!("skipped {}{}: {}", path.display(), bad.at, bad.reason);
        }
        files.push((path.clone(), history));
    }
    crate::block_on(produce(&config, &files))
}

async fn produce(config: &Config, files: &[(PathBuf, History)]) -> Result<()> {
    build::create_topics(config, &[]).await?;
    let producer = Producer::new(&config.kafka).context("creating the Kafka producer")?;
    let topic = &config.topics.datapoints;
    let total: usize = files.iter().map(|(_, h)| h.len()).sum();
    let bar = progress_bar(total);
    let mut out = std::io::stdout().lock();
    let started = Instant::now();
    for (path, history) in files {
        let file_started = Instant::now();
        let points: Vec<_> = history.datapoints().collect();
        for chunk in points.chunks(CHUNK) {
            let messages = keyed_messages(chunk.iter().copied(), |d| d.metric.as_str())
                .with_context(|| format!("{}: encoding datapoints", path.display()))?;
            producer.send_batch(topic, messages).await.with_context(|| {
                format!(
                    "{}: producing datapoints to {topic} (some may have been produced; importing the file again is harmless)",
                    path.display()
                )
            })?;
            bar.inc(chunk.len() as u64);
        }
        let seconds = file_started.elapsed().as_secs_f64();
        bar.suspend(|| summarise(&mut out, path, history, topic, seconds))?;
    }
    bar.finish_and_clear();
    if files.len() > 1 {
        let seconds = started.elapsed().as_secs_f64();
        writeln!(
            out,
            "{} files: {total} datapoints produced in {seconds:.2}s ({:.0} datapoints/s)",
            files.len(),
            rate(total, seconds)
        )?;
    }
    Ok(())
}

/// A file's lines of the summary: what was produced, per metric its span.
fn summarise(
    out: &mut impl Write,
    path: &std::path::Path,
    history: &History,
    topic: &str,
    seconds: f64,
) -> std::io::Result<()> {
    let bad = history.bad_rows.len();
    writeln!(
        out,
        "{} ({}): {} datapoints of {} metric{} produced to {topic} in {seconds:.2}s ({:.0} datapoints/s); {} null{} skipped, {bad} bad row{} skipped",
        path.display(),
        history.format,
        history.len(),
        history.metrics.len(),
        plural(history.metrics.len()),
        rate(history.len(), seconds),
        history.nulls,
        plural(history.nulls),
        plural(bad),
    )?;
    for m in &history.metrics {
        match m.span() {
            Some((first, last)) => writeln!(
                out,
                "  {}: {} points, {} to {}",
                m.metric,
                m.datapoints.len(),
                utc(first),
                utc(last)
            )?,
            None => writeln!(out, "  {}: no points", m.metric)?,
        }
    }
    Ok(())
}

fn rate(points: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        points as f64 / seconds
    } else {
        0.0
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The progress of producing (indicatif draws it on stderr only when
/// stderr is a terminal).
fn progress_bar(points: usize) -> ProgressBar {
    let bar = ProgressBar::new(points as u64);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} importing {pos}/{len} datapoints [{bar:40}] {per_sec} {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
