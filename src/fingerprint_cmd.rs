//! `skyline fingerprint` (the fingerprint service on its own) and
//! `skyline rematch` (past checks re-judged against today's profiles).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use fingerprint::rematch::{rematch, Outcome, RematchQuery, RematchRow, Summary};
use fingerprint::service::Fingerprinter;
use serde::Serialize;
use topics::kafka::Producer;
use topics::MatchMethod;
use windows::Windows;

use crate::config::Config;
use crate::services;
use crate::InfraArgs;

/// Builds the fingerprint service.
pub fn fingerprinter(config: &Config, windows: Arc<Windows>, producer: Producer) -> Fingerprinter {
    Fingerprinter::new(
        config.fingerprint.clone(),
        config.fingerprint_service.clone(),
        config.topics.clone(),
        windows,
        producer,
    )
}

/// `skyline fingerprint`: judges fingerprint checks until Ctrl-C.
pub async fn run_fingerprint(mut config: Config, infra: InfraArgs) -> Result<()> {
    infra.apply(&mut config);
    services::create_topics(&config, &[]).await?;
    if config.redis.is_none() {
        tracing::warn!(
            "no Redis configured: the ionosphere-enabled flags stay in this process, \
             so an analyzer elsewhere will not route anomalies here"
        );
    }
    let producer = Producer::new(&config.kafka)?;
    let windows = Arc::new(services::open_windows(&config).await?);
    let (_stop, shutdown) = services::shutdown_on_ctrl_c();
    let service = Arc::new(fingerprinter(&config, windows, producer));
    let stats = service.run(&config.kafka, shutdown.wait()).await?;
    eprintln!(
        "fingerprint: {} checks in {} batches",
        stats.records, stats.batches
    );
    Ok(())
}

/// Re-judge past fingerprint checks against today's profiles.
///
/// Reads every fingerprint check on the checks topic whose anomaly is at or
/// after --since, the verdicts on the matches topic and the profiles as they
/// are now, and prints per check whether it would now be deflected (by
/// which profile, how) or would still alert, and whether that differs from
/// its original verdict; then counts. Sorted by timestamp, metric and check
/// id, with no wall-clock values: two runs over the same log print the same
/// bytes.
///
/// A report only: nothing is written to any topic. The fingerprint service
/// replaying the same checks would publish exactly these verdicts (same
/// match ids).
#[derive(clap::Args)]
pub struct RematchArgs {
    /// Kafka bootstrap servers (`[kafka] bootstrap_servers`).
    #[arg(long, env = "SKYLINE_KAFKA")]
    pub kafka: Option<String>,
    /// Checks of anomalies at or after this: unix seconds, an age like 6h
    /// or 7d, or YYYY-MM-DD[ HH:MM:SS] (UTC).
    #[arg(long, value_parser = crate::panorama::parse_since)]
    pub since: i64,
    /// Only this metric's checks.
    #[arg(long)]
    pub metric: Option<String>,
    /// Print one JSON document instead of text lines.
    #[arg(long)]
    pub json: bool,
    /// Each topic is read to where it ended when the rematch began; only
    /// for a broker that under-reports that end (tansu), it ends after
    /// this many seconds without a record.
    #[arg(long, default_value_t = 3)]
    pub idle_seconds: u64,
}

#[derive(Serialize)]
struct Report<'a> {
    checks: &'a [RematchRow],
    summary: &'a Summary,
}

/// `skyline rematch`.
pub async fn run_rematch(mut config: Config, args: RematchArgs) -> Result<()> {
    if let Some(k) = &args.kafka {
        config.kafka.bootstrap_servers = k.clone();
    }
    let idle = Duration::from_secs(args.idle_seconds.max(1));
    let query = RematchQuery {
        since: args.since,
        metric: args.metric.clone(),
    };
    let (rows, summary) = rematch(
        &config.kafka,
        &config.topics,
        &config.fingerprint,
        &query,
        idle,
    )
    .await?;

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &Report {
                checks: &rows,
                summary: &summary,
            },
        )?;
        writeln!(out)?;
    } else {
        for row in &rows {
            writeln!(out, "{}", text_line(row))?;
        }
        writeln!(
            out,
            "{} checks: {} would now be deflected, {} would not; {} newly deflected, {} no longer deflected, {} unchanged, {} with no verdict on record",
            summary.checks,
            summary.deflected,
            summary.alerting,
            summary.newly_deflected,
            summary.newly_alerting,
            summary.unchanged,
            summary.without_original
        )?;
    }
    out.flush()?;
    Ok(())
}

fn method_name(m: MatchMethod) -> &'static str {
    match m {
        MatchMethod::FeaturesProfile => "features profile",
        MatchMethod::MinMax => "min-max",
        MatchMethod::Layers => "layers",
        MatchMethod::Motif => "motif",
        MatchMethod::None => "none",
    }
}

fn text_line(row: &RematchRow) -> String {
    let when = chrono::DateTime::from_timestamp(row.timestamp, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| row.timestamp.to_string());
    let now = match (row.now, row.profile_id) {
        (Outcome::Deflected, Some(p)) => format!(
            "would now be deflected by profile {p} ({})",
            method_name(row.method)
        ),
        (Outcome::Deflected, None) => {
            format!("would now be deflected ({})", method_name(row.method))
        }
        // A training check (its metric had no profile then) carries no
        // alerts: the analyzer sent them itself.
        (Outcome::Alerts, _) if row.alerters.is_empty() => "would not be deflected".to_owned(),
        (Outcome::Alerts, _) => {
            format!("would not be deflected: alerts {}", row.alerters.join(", "))
        }
    };
    let was = match (row.original, row.changed) {
        (None, _) => "no verdict on record".to_owned(),
        (Some(o), Some(true)) => format!("a change: it was {} when judged", outcome_word(o)),
        (Some(_), _) => "as when judged".to_owned(),
    };
    format!(
        "{when}  {}  anomaly {}  {now}; {was}",
        row.metric, row.anomaly_id
    )
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Deflected => "deflected",
        Outcome::Alerts => "not deflected",
    }
}
