//! Read queries over the projections, for the CLI's quick looks.

use sqlx::Row;

use crate::db::{text, Database};
use crate::{metric_id, Error};

/// One anomaly as `skyline anomalies` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyRow {
    pub id: String,
    pub metric: String,
    pub timestamp: i64,
    pub value: f64,
    pub source: String,
    pub triggered_algorithms: String,
    pub full_duration: i64,
}

/// The latest `limit` anomalies, newest first, optionally of one metric and
/// from `since` (unix seconds) on.
pub async fn recent_anomalies(
    db: &Database,
    metric: Option<&str>,
    since: Option<i64>,
    limit: u32,
) -> Result<Vec<AnomalyRow>, Error> {
    let mut sql = String::from(
        "SELECT a.id, m.name, a.anomaly_timestamp, a.value, a.source_app, \
         a.triggered_algorithms, a.full_duration \
         FROM anomalies a JOIN metrics m ON m.id = a.metric_id WHERE 1 = 1",
    );
    if metric.is_some() {
        sql.push_str(" AND a.metric_id = ?");
    }
    if since.is_some() {
        sql.push_str(" AND a.anomaly_timestamp >= ?");
    }
    sql.push_str(" ORDER BY a.anomaly_timestamp DESC, a.id LIMIT ?");
    let mut query = sqlx::query(&sql);
    if let Some(metric) = metric {
        query = query.bind(metric_id(metric).to_string());
    }
    if let Some(since) = since {
        query = query.bind(since);
    }
    query = query.bind(i64::from(limit));
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| {
            Ok(AnomalyRow {
                id: text(r, 0)?.unwrap_or_default(),
                metric: text(r, 1)?.unwrap_or_default(),
                timestamp: r.try_get(2)?,
                value: r.try_get(3)?,
                source: text(r, 4)?.unwrap_or_default(),
                triggered_algorithms: text(r, 5)?.unwrap_or_default(),
                full_duration: r.try_get(6)?,
            })
        })
        .collect()
}
