//! Read queries on what became of the alerts and on the mutes: the
//! `deliveries` of an anomaly or the latest ones (the console's anomaly
//! and alerts views), each alert's outcome per alerter
//! ([`delivery_summaries`]), and the mutes in force at a time or all of
//! them (the console's mutes page).

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::browse::MAX_PER_PAGE;
use crate::db::{text, Database};
use crate::query::uuid;
use crate::Error;

/// One delivery attempt, as the alerter recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRow {
    /// The attempt's id.
    pub id: Uuid,
    /// The alert delivered.
    pub alert_id: Uuid,
    /// The anomaly the alert is about.
    pub anomaly_id: Uuid,
    /// The anomalous metric.
    pub metric: String,
    /// The alerter's name.
    pub alerter: String,
    /// The alerter's kind (`smtp`, `webhook`, `slack`, `pagerduty`, `topic`).
    pub kind: String,
    /// `delivered`, `failed`, `gave_up` or `muted`.
    pub outcome: String,
    /// Attempt number, from 1 (0 when muted).
    pub attempt: i64,
    /// The receiver's answer or the error; the mute when muted.
    pub detail: Option<String>,
    /// When the attempt ended (unix milliseconds).
    pub at_ms: i64,
}

/// Where one alert stands with one alerter: its latest attempt's outcome
/// and how many attempts were made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliverySummary {
    /// The alert.
    pub alert_id: Uuid,
    /// The anomaly it is about.
    pub anomaly_id: Uuid,
    /// The metric.
    pub metric: String,
    /// The alerter's name.
    pub alerter: String,
    /// Its kind.
    pub kind: String,
    /// The latest attempt's outcome (`delivered`, `failed`, `gave_up`,
    /// `muted`).
    pub outcome: String,
    /// Attempts made (the highest attempt number; 0 when muted).
    pub attempts: i64,
    /// The latest attempt's detail (the failure's reason, the mute).
    pub detail: Option<String>,
    /// When the latest attempt ended (unix milliseconds).
    pub at_ms: i64,
}

/// One mute, as folded from the mutes topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MuteRow {
    /// The mute's id.
    pub id: Uuid,
    /// The metrics muted, as an alert rule's pattern.
    pub pattern: String,
    /// When it was made (unix milliseconds).
    pub from_ms: i64,
    /// When it ends or ended (unix milliseconds): moved back by an unmute.
    pub until_ms: i64,
    /// Why, as the operator wrote it.
    pub reason: Option<String>,
    /// Who muted.
    pub operator: Option<String>,
    /// When it was ended early, if it was.
    pub unmuted_at_ms: Option<i64>,
    /// Who ended it early.
    pub unmuted_by: Option<String>,
}

impl MuteRow {
    /// Whether it holds at `at_ms` (unix milliseconds).
    pub fn active_at(&self, at_ms: i64) -> bool {
        self.from_ms <= at_ms && at_ms < self.until_ms
    }
}

const DELIVERY_COLUMNS: &str =
    "id, alert_id, anomaly_id, metric, alerter, kind, outcome, attempt, detail, at_ms";

fn delivery_row(r: &AnyRow) -> Result<DeliveryRow, Error> {
    Ok(DeliveryRow {
        id: uuid(r, 0, "delivery id")?,
        alert_id: uuid(r, 1, "delivery alert id")?,
        anomaly_id: uuid(r, 2, "delivery anomaly id")?,
        metric: text(r, 3)?.unwrap_or_default(),
        alerter: text(r, 4)?.unwrap_or_default(),
        kind: text(r, 5)?.unwrap_or_default(),
        outcome: text(r, 6)?.unwrap_or_default(),
        attempt: r.try_get(7)?,
        detail: text(r, 8)?,
        at_ms: r.try_get(9)?,
    })
}

const MUTE_COLUMNS: &str =
    "id, pattern, from_ms, until_ms, reason, operator, unmuted_at_ms, unmuted_by";

fn mute_row(r: &AnyRow) -> Result<MuteRow, Error> {
    Ok(MuteRow {
        id: uuid(r, 0, "mute id")?,
        pattern: text(r, 1)?.unwrap_or_default(),
        from_ms: r.try_get(2)?,
        until_ms: r.try_get(3)?,
        reason: text(r, 4)?,
        operator: text(r, 5)?,
        unmuted_at_ms: r.try_get(6)?,
        unmuted_by: text(r, 7)?,
    })
}

/// The delivery attempts for anomaly `id`'s alerts, oldest first, through
/// `conn` (inside the caller's transaction).
pub(crate) async fn deliveries_in(
    conn: &mut AnyConnection,
    id: Uuid,
) -> Result<Vec<DeliveryRow>, Error> {
    sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE anomaly_id = ? \
         ORDER BY at_ms, attempt, id"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(delivery_row)
    .collect()
}

/// The delivery attempts for anomaly `id`'s alerts, oldest first.
pub async fn deliveries_of_anomaly(db: &Database, id: Uuid) -> Result<Vec<DeliveryRow>, Error> {
    let mut conn = db.acquire().await?;
    deliveries_in(&mut conn, id).await
}

/// The latest `limit` delivery attempts (at most [`MAX_PER_PAGE`]),
/// newest first.
pub async fn latest_deliveries(db: &Database, limit: u32) -> Result<Vec<DeliveryRow>, Error> {
    let limit = limit.min(MAX_PER_PAGE);
    if limit == 0 {
        return Ok(Vec::new());
    }
    sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries ORDER BY at_ms DESC, id DESC LIMIT ?"
    ))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(delivery_row)
    .collect()
}

/// Each (alert, alerter)'s standing among `rows`: the latest attempt (by
/// time, then attempt number) with the attempts counted, in the order the
/// pairs first appear in `rows`.
pub fn delivery_summaries(rows: &[DeliveryRow]) -> Vec<DeliverySummary> {
    let mut order: Vec<(Uuid, &str)> = Vec::new();
    let mut by: BTreeMap<(Uuid, &str), DeliverySummary> = BTreeMap::new();
    for d in rows {
        let key = (d.alert_id, d.alerter.as_str());
        match by.get_mut(&key) {
            None => {
                order.push(key);
                by.insert(key, summary(d));
            }
            Some(s) => {
                let attempts = s.attempts.max(d.attempt);
                if (d.at_ms, d.attempt) >= (s.at_ms, s.attempts) {
                    *s = summary(d);
                }
                s.attempts = attempts;
            }
        }
    }
    order
        .into_iter()
        .filter_map(|key| by.remove(&key))
        .collect()
}

fn summary(d: &DeliveryRow) -> DeliverySummary {
    DeliverySummary {
        alert_id: d.alert_id,
        anomaly_id: d.anomaly_id,
        metric: d.metric.clone(),
        alerter: d.alerter.clone(),
        kind: d.kind.clone(),
        outcome: d.outcome.clone(),
        attempts: d.attempt,
        detail: d.detail.clone(),
        at_ms: d.at_ms,
    }
}

/// The mutes in force at `at_ms` (unix milliseconds), soonest-ending
/// first.
pub async fn active_mutes(db: &Database, at_ms: i64) -> Result<Vec<MuteRow>, Error> {
    sqlx::query(&format!(
        "SELECT {MUTE_COLUMNS} FROM mutes WHERE from_ms <= ? AND until_ms > ? \
         ORDER BY until_ms, id"
    ))
    .bind(at_ms)
    .bind(at_ms)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(mute_row)
    .collect()
}

/// The `limit` (at most [`MAX_PER_PAGE`]) mutes that had ended by `at_ms`,
/// latest-ended first.
pub async fn ended_mutes(db: &Database, at_ms: i64, limit: u32) -> Result<Vec<MuteRow>, Error> {
    let limit = limit.min(MAX_PER_PAGE);
    if limit == 0 {
        return Ok(Vec::new());
    }
    sqlx::query(&format!(
        "SELECT {MUTE_COLUMNS} FROM mutes WHERE until_ms <= ? \
         ORDER BY until_ms DESC, id DESC LIMIT ?"
    ))
    .bind(at_ms)
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(mute_row)
    .collect()
}

/// Every mute ever made, newest first.
pub async fn all_mutes(db: &Database) -> Result<Vec<MuteRow>, Error> {
    sqlx::query(&format!(
        "SELECT {MUTE_COLUMNS} FROM mutes ORDER BY from_ms DESC, id DESC"
    ))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(mute_row)
    .collect()
}

/// Mute `id`, if the projections have folded it.
pub async fn mute(db: &Database, id: Uuid) -> Result<Option<MuteRow>, Error> {
    sqlx::query(&format!("SELECT {MUTE_COLUMNS} FROM mutes WHERE id = ?"))
        .bind(id.to_string())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(mute_row)
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(alert: Uuid, alerter: &str, outcome: &str, n: i64, at_ms: i64) -> DeliveryRow {
        DeliveryRow {
            id: Uuid::now_v7(),
            alert_id: alert,
            anomaly_id: Uuid::nil(),
            metric: "m".into(),
            alerter: alerter.into(),
            kind: "webhook".into(),
            outcome: outcome.into(),
            attempt: n,
            detail: (outcome == "failed").then(|| "HTTP 500".to_owned()),
            at_ms,
        }
    }

    #[test]
    fn a_summary_is_the_latest_attempt_per_alerter_with_the_attempts_counted() {
        let a = Uuid::now_v7();
        let rows = [
            attempt(a, "hook", "failed", 1, 10),
            attempt(a, "mail", "delivered", 1, 11),
            attempt(a, "hook", "failed", 2, 20),
            attempt(a, "hook", "delivered", 3, 40),
        ];
        let s = delivery_summaries(&rows);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].alerter.as_str(), s[0].outcome.as_str(), s[0].attempts),
            ("hook", "delivered", 3)
        );
        assert_eq!(
            (s[1].alerter.as_str(), s[1].outcome.as_str(), s[1].attempts),
            ("mail", "delivered", 1)
        );
        assert!(delivery_summaries(&[]).is_empty());
    }
}
