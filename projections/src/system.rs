//! Read queries on what skyline says about itself (the console's System
//! page): each service process's newest heartbeat, the checks stalled now,
//! the metrics stale or about to go stale now, and the latest system
//! events. What is stalled or stale now is each subject's latest event.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use crate::browse::MAX_PER_PAGE;
use crate::db::{text, Database};
use crate::query::uuid;
use crate::Error;

/// A service process's newest heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeartbeatRow {
    /// The service (`analyze`, `ingest`, …).
    pub service: String,
    /// Which process of it.
    pub instance: String,
    /// When it was sent (unix seconds).
    pub at: i64,
    /// Whether the service was ready.
    pub ready: Option<bool>,
    /// Why not (or `ok`).
    pub reason: Option<String>,
    /// Its figures: `lag_records`, `lag_seconds`, `records`, ….
    pub figures: BTreeMap<String, f64>,
}

/// A stall, a recovery, or a metric gone stale, about to go stale or
/// sending again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemEventRow {
    /// The event's id.
    pub id: Uuid,
    /// `stalled`, `recovered`, `stale`, `about_to_go_stale` or `fresh`.
    pub kind: String,
    /// The check (stalls) or the metric (staleness).
    pub subject: String,
    /// The service that said it.
    pub service: String,
    /// When, by the decider's clock (unix seconds).
    pub at: i64,
    /// When the check was last fine, or the metric's last datapoint.
    pub since: Option<i64>,
    /// Whether it was handed to the alerters.
    pub alert: bool,
    /// Why, in words.
    pub reason: Option<String>,
}

/// Every service process's newest heartbeat, by service then instance.
pub async fn heartbeats(db: &Database) -> Result<Vec<HeartbeatRow>, Error> {
    sqlx::query(
        "SELECT service, instance, at, ready, reason, figures FROM service_heartbeats \
         ORDER BY service, instance",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        let figures = text(r, 5)?.unwrap_or_default();
        Ok(HeartbeatRow {
            service: text(r, 0)?.unwrap_or_default(),
            instance: text(r, 1)?.unwrap_or_default(),
            at: r.try_get(2)?,
            ready: r.try_get::<Option<i64>, _>(3)?.map(|v| v != 0),
            reason: text(r, 4)?,
            // Written by the fold as a JSON object of numbers; anything
            // else reads as no figures rather than failing the page.
            figures: serde_json::from_str(&figures).unwrap_or_default(),
        })
    })
    .collect()
}

const EVENT_COLUMNS: &str = "id, kind, subject, service, at, since, alert, reason";

fn event_row(r: &AnyRow) -> Result<SystemEventRow, Error> {
    Ok(SystemEventRow {
        id: uuid(r, 0, "system event id")?,
        kind: text(r, 1)?.unwrap_or_default(),
        subject: text(r, 2)?.unwrap_or_default(),
        service: text(r, 3)?.unwrap_or_default(),
        at: r.try_get(4)?,
        since: r.try_get(5)?,
        alert: r.try_get::<i64, _>(6)? != 0,
        reason: text(r, 7)?,
    })
}

/// Of `rows` (oldest first), each subject's latest whose kind is one of
/// `open`, by subject.
pub fn open_per_subject(rows: Vec<SystemEventRow>, open: &[&str]) -> Vec<SystemEventRow> {
    let mut latest: BTreeMap<String, SystemEventRow> = BTreeMap::new();
    for row in rows {
        latest.insert(row.subject.clone(), row);
    }
    latest
        .into_values()
        .filter(|r| open.contains(&r.kind.as_str()))
        .collect()
}

/// The events of `kinds`, oldest first (by the decider's time, then when
/// decided).
async fn events_of(db: &Database, kinds: &[&str]) -> Result<Vec<SystemEventRow>, Error> {
    let marks = vec!["?"; kinds.len()].join(", ");
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM system_events WHERE kind IN ({marks}) \
         ORDER BY at, decided_at_ms, id"
    );
    let mut query = sqlx::query(&sql);
    for k in kinds {
        query = query.bind(*k);
    }
    query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(event_row)
        .collect()
}

/// The checks stalled now: each check's latest stall or recovery, when it
/// is a stall.
pub async fn active_stalls(db: &Database) -> Result<Vec<SystemEventRow>, Error> {
    let rows = events_of(db, &["stalled", "recovered"]).await?;
    Ok(open_per_subject(rows, &["stalled"]))
}

/// The metrics stale or about to go stale now: each metric's latest
/// staleness event, unless it is sending again.
pub async fn stale_metrics(db: &Database) -> Result<Vec<SystemEventRow>, Error> {
    let rows = events_of(db, &["stale", "about_to_go_stale", "fresh"]).await?;
    Ok(open_per_subject(rows, &["stale", "about_to_go_stale"]))
}

/// The latest `limit` system events (heartbeats aside), newest first.
pub async fn latest_events(db: &Database, limit: u32) -> Result<Vec<SystemEventRow>, Error> {
    let limit = limit.min(MAX_PER_PAGE);
    if limit == 0 {
        return Ok(Vec::new());
    }
    sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM system_events ORDER BY at DESC, decided_at_ms DESC, id DESC LIMIT ?"
    ))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(event_row)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, subject: &str, at: i64) -> SystemEventRow {
        SystemEventRow {
            id: Uuid::nil(),
            kind: kind.into(),
            subject: subject.into(),
            service: "alert".into(),
            at,
            since: None,
            alert: true,
            reason: None,
        }
    }

    #[test]
    fn a_subject_is_open_while_its_latest_event_is() {
        let rows = vec![
            row("stalled", "ingest.received", 10),
            row("stalled", "analyze.heartbeat", 20),
            row("recovered", "ingest.received", 30),
        ];
        let open = open_per_subject(rows, &["stalled"]);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].subject, "analyze.heartbeat");
    }
}
