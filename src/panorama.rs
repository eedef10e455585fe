//! The projections' commands: `skyline project` (the folding consumers as a
//! service), `skyline replay projections` and `skyline anomalies`, and the
//! projections `skyline up` runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use projections::fold::{self, FoldSettings};
use projections::Database;
use topics::kafka::Producer;

use crate::config::Config;
use crate::services;
use crate::InfraArgs;
use topics::shutdown::Shutdown;

/// Where `skyline up` keeps the projections by default, and where the other
/// commands look when no database is given.
pub const DEFAULT_SQLITE: &str = "skyline-data/projections.sqlite";

/// Which database holds the projections (overrides `[projections] database`).
#[derive(clap::Args, Clone, Default)]
pub struct DatabaseArgs {
    /// MySQL/MariaDB URL, e.g. mysql://skyline:secret@127.0.0.1:3306/skyline.
    #[arg(long, env = "SKYLINE_MYSQL", conflicts_with = "sqlite")]
    pub mysql: Option<String>,
    /// SQLite file (created if missing).
    #[arg(long)]
    pub sqlite: Option<PathBuf>,
}

impl DatabaseArgs {
    /// The database URL: `--mysql`, `--sqlite`, the config, else the SQLite
    /// file `skyline up` writes by default (`fallback`).
    pub fn url(&self, config: &Config, fallback: &Path) -> String {
        if let Some(url) = &self.mysql {
            return url.clone();
        }
        if let Some(file) = &self.sqlite {
            return format!("sqlite://{}", file.display());
        }
        config
            .projections
            .database
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", fallback.display()))
    }

    pub async fn open(&self, config: &Config, fallback: &Path) -> Result<Database> {
        let url = self.url(config, fallback);
        Database::open(&url).await.with_context(|| {
            format!(
                "opening the projections database {}",
                projections::redact(&url)
            )
        })
    }
}

#[derive(clap::Args)]
pub struct ProjectArgs {
    #[command(flatten)]
    infra: InfraArgs,
    #[command(flatten)]
    db: DatabaseArgs,
    /// Only these projections or tables (default: all).
    #[arg(long, num_args = 1..)]
    only: Vec<String>,
}

#[derive(clap::Args)]
pub struct ReplayProjectionsArgs {
    #[command(flatten)]
    infra: InfraArgs,
    #[command(flatten)]
    db: DatabaseArgs,
    /// Only these projections or tables (a table rebuilds the projection
    /// that owns it; default: all).
    #[arg(long, num_args = 1..)]
    only: Vec<String>,
    /// Stop after this many seconds without a new record.
    #[arg(long, default_value_t = 5)]
    idle_seconds: u64,
}

#[derive(clap::Args)]
pub struct AnomaliesArgs {
    #[command(flatten)]
    db: DatabaseArgs,
    /// Metrics matching this pattern, as the console's filter reads it:
    /// with `*` a glob over the whole name (`web*.latency`), else a
    /// substring. Case-insensitive.
    #[arg(long)]
    metric: Option<String>,
    /// Only anomalies in this state: alerted, deflected_by_profile,
    /// deflected_by_layer, motif, pending, not_alerted.
    #[arg(long, value_parser = parse_state)]
    state: Option<projections::browse::AnomalyState>,
    /// Only anomalies from this time on: unix seconds, an age such as 30m,
    /// 6h or 2d, or a UTC date `YYYY-MM-DD[ HH:MM:SS]`.
    #[arg(long, value_parser = parse_since)]
    since: Option<i64>,
    /// How many to print (newest first).
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

fn parse_state(s: &str) -> Result<projections::browse::AnomalyState, String> {
    projections::browse::AnomalyState::parse(s).ok_or_else(|| {
        format!(
            "{s:?} is not a state: alerted, deflected_by_profile, deflected_by_layer, motif, pending or not_alerted"
        )
    })
}

fn fold_settings(config: &Config) -> FoldSettings {
    FoldSettings {
        max_batch: config.projections.max_batch.max(1),
        ..FoldSettings::default()
    }
}

/// `skyline project`: the folding consumers until Ctrl-C.
pub async fn run_project(mut config: Config, args: ProjectArgs) -> Result<()> {
    args.infra.apply(&mut config);
    let selected = projections::select(&args.only)?;
    services::create_topics(&config, &[]).await?;
    let db = args.db.open(&config, Path::new(DEFAULT_SQLITE)).await?;
    let (_stop, shutdown) = services::shutdown_on_ctrl_c();
    eprintln!("projections: {} into {}", names(&selected), db.url());
    let stats = run(&config, db, selected, shutdown).await?;
    eprintln!(
        "projections: {} records, {} rows written, {} refused",
        stats.events, stats.rows, stats.refused
    );
    Ok(())
}

fn names(selected: &[Box<dyn projections::Projection>]) -> String {
    selected
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `selected` against `db` until `shutdown`.
pub async fn run(
    config: &Config,
    db: Database,
    selected: Vec<Box<dyn projections::Projection>>,
    shutdown: Shutdown,
) -> Result<fold::FoldStats> {
    let producer = Producer::new(&config.kafka)?;
    Ok(fold::serve(
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

/// Starts the projections of `skyline up` as a task.
pub async fn start_in_up(
    config: &Config,
    db_args: &DatabaseArgs,
    data_dir: &Path,
    shutdown: Shutdown,
) -> Result<(tokio::task::JoinHandle<Result<fold::FoldStats>>, Database)> {
    let db = db_args
        .open(config, &data_dir.join("projections.sqlite"))
        .await?;
    eprintln!("projections: {}", db.url());
    let config = config.clone();
    let folding = db.clone();
    Ok((
        tokio::spawn(async move { run(&config, folding, projections::all(), shutdown).await }),
        db,
    ))
}

/// `skyline replay projections`.
pub async fn run_replay(mut config: Config, args: ReplayProjectionsArgs) -> Result<()> {
    args.infra.apply(&mut config);
    let selected = projections::select(&args.only)?;
    let db = args.db.open(&config, Path::new(DEFAULT_SQLITE)).await?;
    let total = fold::backlog(&config.kafka, &config.topics, &selected).await;
    let bar = if total > 0 {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} rebuilding [{bar:30}] {pos}/{len} events ({per_sec}) {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
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
                let n = read.load(Ordering::Relaxed);
                if n > bar.length().unwrap_or(0) && bar.length().is_some_and(|l| l > 0) {
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
        &fold_settings(&config),
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

/// `skyline anomalies`.
/// Opens the projections database a reading command names, refusing to
/// create an empty SQLite file where none was asked for.
async fn open_for_reading(config: &Config, db: &DatabaseArgs) -> Result<Database> {
    let fallback = Path::new(DEFAULT_SQLITE);
    if db.mysql.is_none()
        && db.sqlite.is_none()
        && config.projections.database.is_none()
        && !fallback.is_file()
    {
        bail!("no projections database: pass --mysql URL or --sqlite FILE, or set [projections] database");
    }
    db.open(config, fallback).await
}

pub async fn run_anomalies(config: Config, args: AnomaliesArgs) -> Result<()> {
    let db = open_for_reading(&config, &args.db).await?;
    let mut filter = projections::browse::AnomalyFilter {
        metric: args.metric.clone(),
        state: args.state,
        since: args.since,
        per_page: projections::browse::MAX_PER_PAGE,
        ..Default::default()
    };
    let mut printed = 0u32;
    let total = 'pages: loop {
        let page = projections::browse::anomalies(&db, &filter).await?;
        for a in &page.rows {
            if printed >= args.limit {
                break 'pages page.total;
            }
            // The ids are what `skyline label` and the console take.
            println!(
                "{}  {}  value {}  {}  {}  anomaly {}  check {}  triggered: {}",
                utc(a.timestamp),
                a.metric,
                a.value,
                a.source,
                a.state.as_str(),
                a.id,
                a.check_id.map_or_else(|| "-".to_owned(), |c| c.to_string()),
                a.triggered_algorithms.join(", ")
            );
            printed += 1;
        }
        if page.rows.len() < page.per_page as usize {
            break page.total;
        }
        filter.page += 1;
    };
    eprintln!("{printed} of {total} anomalies");
    db.close().await;
    Ok(())
}

/// `skyline metrics`: every metric received.
#[derive(clap::Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    db: DatabaseArgs,
    /// Redis URL of the windows, to show each metric's points in window
    /// (`redis`; without it that column is `-`).
    #[arg(long, env = "SKYLINE_REDIS")]
    redis: Option<String>,
    /// Metrics matching this pattern: with `*` a glob over the whole name,
    /// else a substring.
    #[arg(long)]
    metric: Option<String>,
    /// How many to print (by name).
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

pub async fn run_metrics(mut config: Config, args: MetricsArgs) -> Result<()> {
    if let Some(redis) = &args.redis {
        config.redis = Some(redis.clone());
    }
    let db = open_for_reading(&config, &args.db).await?;
    let per_page = args.limit.clamp(1, projections::browse::MAX_PER_PAGE);
    let mut rows = Vec::new();
    let mut page_no = 1;
    let total = loop {
        let page =
            projections::browse::metric_activity(&db, args.metric.as_deref(), page_no, per_page)
                .await?;
        let full = page.rows.len() == page.per_page as usize;
        rows.extend(page.rows);
        if !full || rows.len() >= args.limit as usize {
            break page.total;
        }
        page_no += 1;
    };
    rows.truncate(args.limit as usize);
    let in_window: Vec<Option<usize>> = match &config.redis {
        Some(_) => {
            let windows = services::open_windows(&config).await?;
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            windows
                .windows(&names)
                .await?
                .into_iter()
                .map(|w| Some(w.len()))
                .collect()
        }
        None => vec![None; rows.len()],
    };
    for (m, points) in rows.iter().zip(in_window) {
        println!(
            "{}  last seen {}  {} in window  {} received  ionosphere {}  {} anomalies in 24h",
            m.name,
            utc(m.last_seen),
            points.map_or_else(|| "-".to_owned(), |n| n.to_string()),
            m.datapoints,
            if m.ionosphere_enabled { "on" } else { "off" },
            m.anomalies_24h
        );
    }
    eprintln!("{} of {total} metrics", rows.len());
    db.close().await;
    Ok(())
}

fn utc(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}

/// `--since`: unix seconds, an age (`90s`, `30m`, `6h`, `2d`) or a UTC date.
pub fn parse_since(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<i64>() {
        return Ok(ts);
    }
    if let Some(unit) = s.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let n: i64 = s[..s.len() - 1]
            .parse()
            .map_err(|_| format!("not an age: {s:?}"))?;
        let per_unit = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("unknown unit in {s:?}: use s, m, h or d")),
        };
        return n
            .checked_mul(per_unit)
            .and_then(|seconds| chrono::Utc::now().timestamp().checked_sub(seconds))
            .ok_or_else(|| format!("age out of range: {s:?}"));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Ok(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp()));
    }
    Err(format!(
        "cannot read {s:?}: give unix seconds, an age like 6h, or YYYY-MM-DD[ HH:MM:SS]"
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_takes_seconds_ages_and_dates() {
        assert_eq!(parse_since("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_since("2023-11-14"), Ok(1_699_920_000));
        assert_eq!(parse_since("2023-11-14 22:13:20"), Ok(1_700_000_000));
        let now = chrono::Utc::now().timestamp();
        let h = parse_since("6h").unwrap();
        assert!((now - 6 * 3600 - h).abs() <= 2);
        assert!(parse_since("6w").is_err());
        assert!(parse_since("soon").is_err());
        assert!(
            parse_since("999999999999999999d").is_err(),
            "overflow is an error"
        );
    }
}
