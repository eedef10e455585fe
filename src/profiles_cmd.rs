//! `skyline profiles`: the features profiles in the projections, per
//! metric, drawn as their lineage (each learnt profile under the profile it
//! was learnt from) with how often each deflected an anomaly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Result};
use projections::query::{self, ProfileRow};
use uuid::Uuid;

use crate::config::Config;
use crate::panorama::{DatabaseArgs, DEFAULT_SQLITE};

#[derive(clap::Args)]
pub struct ProfilesArgs {
    #[command(flatten)]
    db: DatabaseArgs,
    /// Only this metric (default: every metric with profiles).
    #[arg(long)]
    metric: Option<String>,
}

pub async fn run(config: Config, args: ProfilesArgs) -> Result<()> {
    let fallback = Path::new(DEFAULT_SQLITE);
    if args.db.mysql.is_none()
        && args.db.sqlite.is_none()
        && config.projections.database.is_none()
        && !fallback.is_file()
    {
        bail!("no projections database: pass --mysql URL or --sqlite FILE, or set [projections] database");
    }
    let db = args.db.open(&config, fallback).await?;
    let metrics = match args.metric {
        Some(m) => vec![m],
        None => query::metrics_with_profiles(&db).await?,
    };
    let mut total = 0;
    for metric in &metrics {
        let rows = query::profiles_of(&db, metric).await?;
        total += rows.len();
        println!("{metric}  ({} profiles)", rows.len());
        for line in lineage(&rows) {
            println!("{line}");
        }
    }
    eprintln!("{total} profiles of {} metrics", metrics.len());
    db.close().await;
    Ok(())
}

/// One line per profile, depth-first from each original (a profile whose
/// parent is not among `rows` counts as one), children indented under
/// their parent. Stored data could hold a cycle; each profile is printed
/// once regardless.
fn lineage(rows: &[ProfileRow]) -> Vec<String> {
    let ids: BTreeSet<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut children: BTreeMap<Uuid, Vec<&ProfileRow>> = BTreeMap::new();
    let mut roots = Vec::new();
    for r in rows {
        match r.parent.filter(|p| ids.contains(p) && *p != r.id) {
            Some(p) => children.entry(p).or_default().push(r),
            None => roots.push(r),
        }
    }
    let mut out = Vec::new();
    let mut printed = BTreeSet::new();
    let mut stack: Vec<(&ProfileRow, usize)> = roots.iter().rev().map(|r| (*r, 0)).collect();
    // Rows only reachable through a cycle get printed as roots afterwards.
    let mut rest = rows.iter();
    while let Some((r, depth)) = stack.pop().or_else(|| {
        rest.by_ref()
            .find(|r| !printed.contains(&r.id))
            .map(|r| (r, 0))
    }) {
        if !printed.insert(r.id) {
            continue;
        }
        out.push(format!("{}{}", "  ".repeat(depth + 1), line(r)));
        if let Some(kids) = children.get(&r.id) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

fn line(r: &ProfileRow) -> String {
    let m = &r.matches;
    let mut flags = vec![if r.enabled { "enabled" } else { "disabled" }];
    if r.validated {
        flags.push("validated");
    }
    if r.learn {
        flags.push("learn");
    }
    let last = m.last_matched.map_or_else(|| "never".to_owned(), utc);
    let mut s = format!(
        "{}  gen {}  {}  {}  {}  features {} sum {}  matched {} (features {}, min-max {}, motif {}, layers {}), last {}, in {} results",
        r.id,
        r.generation,
        r.origin,
        duration(r.full_duration),
        flags.join(" "),
        r.features_count,
        r.features_sum,
        m.matched(),
        m.features,
        m.min_max,
        m.motif,
        m.layers,
        last,
        m.checked,
    );
    if let Some(d) = &r.description {
        s.push_str(&format!("  {d:?}"));
    }
    s
}

fn duration(seconds: i64) -> String {
    match seconds {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        s => format!("{s}s"),
    }
}

fn utc(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use projections::query::MatchCounts;

    fn row(n: u128, parent: Option<u128>) -> ProfileRow {
        ProfileRow {
            id: Uuid::from_u128(n),
            parent: parent.map(Uuid::from_u128),
            generation: i64::from(parent.is_some()),
            full_duration: 86_400,
            enabled: true,
            validated: false,
            learn: true,
            description: None,
            origin: "created".into(),
            features_count: 3,
            features_sum: 1.5,
            created_at_ms: 0,
            matches: MatchCounts::default(),
        }
    }

    #[test]
    fn children_sit_under_their_parent_and_cycles_print_once() {
        let rows = [row(1, None), row(2, None), row(3, Some(1)), row(4, Some(3))];
        let depth: Vec<(usize, char)> = lineage(&rows)
            .iter()
            .map(|l| {
                let d = l.len() - l.trim_start().len();
                (d / 2, l.trim_start().chars().nth(35).unwrap())
            })
            .collect();
        assert_eq!(depth, [(1, '1'), (2, '3'), (3, '4'), (1, '2')]);
        let cycle = [row(5, Some(6)), row(6, Some(5)), row(7, Some(7))];
        assert_eq!(lineage(&cycle).len(), 3);
        assert!(lineage(&cycle)[0].contains("never"));
    }
}
