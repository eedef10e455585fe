//! `skyline fingerprint` (the fingerprint service on its own) and
//! `skyline rematch` (past checks re-judged against today's profiles).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use fingerprint::follow::load_profiles;
use fingerprint::service::{decide, judge_check, profiles_for, Fingerprinter};
use ingest::windows::Windows;
use serde::Serialize;
use topics::codec::decode;
use topics::kafka::{partitions, Consumer, KafkaConfig, Producer, Record};
use topics::{CheckRequest, CheckTarget, MatchMethod, MatchResult};
use uuid::Uuid;

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
    /// A topic counts as fully read after this many seconds without a
    /// record.
    #[arg(long, default_value_t = 3)]
    pub idle_seconds: u64,
}

/// Verdict of a check, then or now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Deflected,
    Alerts,
}

impl Outcome {
    fn of(matched: bool) -> Outcome {
        if matched {
            Outcome::Deflected
        } else {
            Outcome::Alerts
        }
    }
}

/// One re-judged check.
#[derive(Debug, Serialize)]
struct RematchRow {
    timestamp: i64,
    metric: String,
    anomaly_id: Uuid,
    check_id: Uuid,
    /// The verdict's id had the service judged it now.
    match_id: Uuid,
    now: Outcome,
    method: MatchMethod,
    profile_id: Option<Uuid>,
    /// Alerters that would be sent to (empty when deflected).
    alerters: Vec<String>,
    /// The latest verdict on the matches topic, if any.
    original: Option<Outcome>,
    original_profile_id: Option<Uuid>,
    /// The verdict now differs from the original (`None`: no original).
    changed: Option<bool>,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    checks: usize,
    deflected: usize,
    alerting: usize,
    newly_deflected: usize,
    newly_alerting: usize,
    unchanged: usize,
    without_original: usize,
}

#[derive(Serialize)]
struct Report<'a> {
    checks: &'a [RematchRow],
    summary: &'a Summary,
}

/// Every record of `topic`, read from the beginning of each partition by a
/// consumer outside any group (no group join, no commit). Ends once no
/// record came for `idle` (the broker's high watermark is only a hint).
async fn read_topic(kafka: &KafkaConfig, topic: &str, idle: Duration) -> Result<Vec<Record>> {
    let parts = partitions(kafka, topic)
        .await
        .with_context(|| format!("reading the partitions of {topic}"))?;
    let start: Vec<(String, i32, i64)> =
        parts.iter().map(|p| (topic.to_owned(), p.0, p.1)).collect();
    let name = format!("rematch-{}", Uuid::now_v7());
    let consumer = Consumer::assigned(kafka, &kafka.group_id(&name), &name, &start)?;
    let looks_empty = parts.iter().all(|p| p.2 <= p.1);
    // The first fetch can take a while; later silences mean the end.
    let mut wait = if looks_empty {
        idle
    } else {
        idle.max(Duration::from_secs(10))
    };
    let mut records = Vec::new();
    while let Ok(batch) = tokio::time::timeout(wait, consumer.next_batch(10_000)).await {
        wait = idle;
        records.extend(batch.iter().cloned());
    }
    consumer.close().await;
    Ok(records)
}

/// `skyline rematch`.
pub async fn run_rematch(mut config: Config, args: RematchArgs) -> Result<()> {
    if let Some(k) = &args.kafka {
        config.kafka.bootstrap_servers = k.clone();
    }
    let idle = Duration::from_secs(args.idle_seconds.max(1));
    let kafka = &config.kafka;
    let (checks, matches, profiles) = tokio::try_join!(
        read_topic(kafka, &config.topics.checks, idle),
        read_topic(kafka, &config.topics.matches, idle),
        async {
            load_profiles(kafka, &config.topics.profiles, idle)
                .await
                .context("reading the profiles topic")
        },
    )?;
    let (store, _) = profiles;

    // The checks asked about, once each (a re-published check is the same).
    let mut wanted: BTreeMap<(i64, String, Uuid), CheckRequest> = BTreeMap::new();
    let mut unreadable = 0usize;
    for r in &checks {
        let Ok(c) = decode::<CheckRequest>(r.payload()) else {
            unreadable += 1;
            continue;
        };
        if c.target != CheckTarget::Fingerprint
            || c.timestamp < args.since
            || args.metric.as_deref().is_some_and(|m| m != c.metric)
        {
            continue;
        }
        wanted
            .entry((c.timestamp, c.metric.clone(), c.id))
            .or_insert(c);
    }
    if unreadable > 0 {
        tracing::warn!(unreadable, "unreadable check records skipped");
    }

    // The latest verdict per check: the newest decision, the later record
    // on a tie.
    let mut original: HashMap<Uuid, (i64, i32, i64, MatchResult)> = HashMap::new();
    for r in &matches {
        let Ok(m) = decode::<MatchResult>(r.payload()) else {
            continue;
        };
        let key = (m.decided_at_ms, r.partition, r.offset);
        match original.get(&m.check_id) {
            Some(old) if (old.0, old.1, old.2) >= key => {}
            _ => {
                original.insert(m.check_id, (key.0, key.1, key.2, m));
            }
        }
    }

    let work: Vec<(CheckRequest, Vec<Arc<fingerprint::matching::Profile>>)> = wanted
        .into_values()
        .map(|c| {
            let p = profiles_for(&store, &c.metric);
            (c, p)
        })
        .collect();
    let settings = config.fingerprint.clone();
    let decisions = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        work.par_iter()
            .map(|(check, profiles)| {
                let verdict = judge_check(check, profiles, &settings);
                // No wall clock: the report must be reproducible.
                (check.alerts.clone(), decide(check, profiles, &verdict, 0))
            })
            .collect::<Vec<_>>()
    })
    .await
    .context("judging task")?;

    let mut summary = Summary::default();
    let rows: Vec<RematchRow> = decisions
        .into_iter()
        .map(|(routes, d)| {
            let r = d.result;
            let now = Outcome::of(r.matched);
            let was = original.get(&r.check_id).map(|o| &o.3);
            let row = RematchRow {
                timestamp: r.timestamp,
                metric: r.metric,
                anomaly_id: r.anomaly_id,
                check_id: r.check_id,
                match_id: r.id,
                now,
                method: r.method,
                profile_id: r.profile_id,
                alerters: if r.matched {
                    Vec::new()
                } else {
                    routes.into_iter().map(|a| a.alerter).collect()
                },
                original: was.map(|w| Outcome::of(w.matched)),
                original_profile_id: was.and_then(|w| w.profile_id),
                changed: was.map(|w| w.matched != r.matched),
            };
            summary.checks += 1;
            match now {
                Outcome::Deflected => summary.deflected += 1,
                Outcome::Alerts => summary.alerting += 1,
            }
            match (row.original, now) {
                (None, _) => summary.without_original += 1,
                (Some(Outcome::Alerts), Outcome::Deflected) => summary.newly_deflected += 1,
                (Some(Outcome::Deflected), Outcome::Alerts) => summary.newly_alerting += 1,
                _ => summary.unchanged += 1,
            }
            row
        })
        .collect();

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
