//! What the projections hold, printed: `skyline anomalies`, `skyline
//! metrics` and `skyline profiles` (each profile under the one it was
//! learnt from).

use anyhow::Result;
use projections::browse::{self, AnomalyFilter, AnomalyState};
use projections::query::{self, ProfileRow};
use stack::services::{open_database_for_reading, open_windows};
use stack::Config;

use crate::utc;

#[derive(clap::Args)]
pub struct AnomaliesArgs {
    /// Metrics matching this pattern, as the console's filter reads it:
    /// with `*` a glob over the whole name (`web*.latency`), else a
    /// substring. Case-insensitive.
    #[arg(long)]
    metric: Option<String>,
    /// Only anomalies in this state: alerted, deflected_by_profile,
    /// deflected_by_layer, motif, pending, cleared_by_seasonal,
    /// confirmed_by_seasonal, seasonal_skipped, not_alerted.
    #[arg(long, value_parser = parse_state)]
    state: Option<AnomalyState>,
    /// Only anomalies from this time on: unix seconds, an age such as 30m,
    /// 6h or 2d, or a UTC date `YYYY-MM-DD[ HH:MM:SS]`.
    #[arg(long, value_parser = parse_since)]
    since: Option<i64>,
    /// How many to print (newest first).
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

fn parse_state(s: &str) -> Result<AnomalyState, String> {
    AnomalyState::parse(s).ok_or_else(|| format!("{s:?} is not a state: {}", AnomalyState::names()))
}

/// `--since`: unix seconds, an age (`90s`, `30m`, `6h`, `2d`) or a UTC date.
pub fn parse_since(s: &str) -> Result<i64, String> {
    topics::clock::parse_time(s, topics::clock::now_ms() / 1000)
}

/// `skyline anomalies`.
pub async fn anomalies(config: Config, args: AnomaliesArgs) -> Result<()> {
    let db = open_database_for_reading(&config).await?;
    let filter = AnomalyFilter {
        metric: args.metric.clone(),
        state: args.state,
        since: args.since,
        per_page: browse::MAX_PER_PAGE,
        ..Default::default()
    };
    let (rows, total) = browse::first_rows(args.limit as usize, |page| {
        let (db, filter) = (
            &db,
            AnomalyFilter {
                page,
                ..filter.clone()
            },
        );
        async move { browse::anomalies(db, &filter).await }
    })
    .await?;
    for a in &rows {
        // The ids are what `skyline label` and the console take. One row
        // per anomaly: its points (the first and its repeats within
        // PANORAMA_EXPIRY_TIME) and when it ended, or that it goes on.
        let end = match a.end_timestamp {
            Some(end) => format!(
                "ended {} after {}",
                utc(end),
                console::pages::duration(end.saturating_sub(a.timestamp))
            ),
            None => "ongoing".to_owned(),
        };
        println!(
            "{}  {}  value {}  {}  {}  {} points  {}  anomaly {}  check {}  triggered: {}",
            utc(a.timestamp),
            a.metric,
            a.value,
            a.source,
            a.state.as_str(),
            a.count,
            end,
            a.id,
            a.check_id.map_or_else(|| "-".to_owned(), |c| c.to_string()),
            a.triggered_algorithms.join(", ")
        );
    }
    eprintln!("{} of {total} anomalies", rows.len());
    db.close().await;
    Ok(())
}

#[derive(clap::Args)]
pub struct MetricsArgs {
    /// Metrics matching this pattern: with `*` a glob over the whole name,
    /// else a substring.
    #[arg(long)]
    metric: Option<String>,
    /// How many to print (by name).
    #[arg(long, default_value_t = 100)]
    limit: u32,
}

/// `skyline metrics`: every metric received, with its points in window
/// when `--redis` names the windows (else `-`).
pub async fn metrics(config: Config, args: MetricsArgs) -> Result<()> {
    let db = open_database_for_reading(&config).await?;
    let per_page = args.limit.clamp(1, browse::MAX_PER_PAGE);
    let pattern = args.metric.as_deref();
    let (rows, total) = browse::first_rows(args.limit as usize, |page| {
        browse::metric_activity(&db, pattern, page, per_page)
    })
    .await?;
    let in_window: Vec<Option<usize>> = match &config.redis {
        Some(_) => {
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            let windows = open_windows(&config).await?.windows(&names).await?;
            windows.into_iter().map(|w| Some(w.len())).collect()
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

#[derive(clap::Args)]
pub struct ProfilesArgs {
    /// Only this metric (default: every metric with profiles).
    #[arg(long)]
    metric: Option<String>,
}

/// `skyline profiles`: per metric, its profiles as a lineage tree.
pub async fn profiles(config: Config, args: ProfilesArgs) -> Result<()> {
    let db = open_database_for_reading(&config).await?;
    let metrics = match args.metric {
        Some(m) => vec![m],
        None => query::metrics_with_profiles(&db).await?,
    };
    let mut total = 0;
    for metric in &metrics {
        let rows = query::profiles_of(&db, metric).await?;
        total += rows.len();
        println!("{metric}  ({} profiles)", rows.len());
        for (depth, row) in query::lineage(&rows) {
            println!("{}{}", "  ".repeat(depth + 1), profile_line(row));
        }
    }
    eprintln!("{total} profiles of {} metrics", metrics.len());
    db.close().await;
    Ok(())
}

fn profile_line(r: &ProfileRow) -> String {
    let m = &r.matches;
    let mut flags = vec![if r.enabled { "enabled" } else { "disabled" }];
    if r.validated {
        flags.push("validated");
    }
    if r.learn {
        flags.push("learn");
    }
    let duration = match r.full_duration {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        s => format!("{s}s"),
    };
    let mut s = format!(
        "{}  gen {}  {}  {duration}  {}  features {} sum {}  matched {} (features {}, min-max {}, motif {}, layers {}), last {}, in {} results",
        r.id,
        r.generation,
        r.origin,
        flags.join(" "),
        r.features_count,
        r.features_sum,
        m.matched(),
        m.features,
        m.min_max,
        m.motif,
        m.layers,
        m.last_matched.map_or_else(|| "never".to_owned(), utc),
        m.checked,
    );
    if let Some(d) = &r.description {
        s.push_str(&format!("  {d:?}"));
    }
    s
}
