//! `skyline rematch`: past fingerprint checks re-judged against today's
//! profiles ([`fingerprint::rematch`]), printed as text or JSON.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use fingerprint::rematch::{rematch, RematchQuery, RematchRow, Summary};
use serde::Serialize;
use stack::Config;

/// `skyline rematch` (what it does: `Command::Rematch`).
#[derive(clap::Args)]
pub struct RematchArgs {
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

/// The `--json` document.
#[derive(Serialize)]
struct Report<'a> {
    checks: &'a [RematchRow],
    summary: &'a Summary,
}

/// `skyline rematch`.
pub async fn run(config: Config, args: RematchArgs) -> Result<()> {
    stack::services::check_retention(&config).await?;
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
        let report = Report {
            checks: &rows,
            summary: &summary,
        };
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        for row in &rows {
            writeln!(out, "{row}")?;
        }
        writeln!(out, "{summary}")?;
    }
    out.flush()?;
    Ok(())
}
