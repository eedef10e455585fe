//! TEMPORARY stand-in for `projections::query::check_for_label`, which is
//! being added (with a `series` column on the `checks` projection) on
//! another branch. Same signature and result type, so the merge replaces
//! the one `use` in `label_cmd.rs` and deletes this file.
//!
//! Until then the `checks` table has no series: the check is found (so a
//! missing check is reported as such), but its series is empty, so a
//! not-anomalous label made through it is refused as having no series.

use projections::{Database, Error};
use sqlx::Row;
use uuid::Uuid;

/// A check as labelling needs it (the projections' type, to be).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckForLabel {
    pub check_id: Uuid,
    pub anomaly_id: Uuid,
    pub metric: String,
    pub timestamp: i64,
    pub full_duration: i64,
    pub series: Vec<(i64, f64)>,
}

fn text(row: &sqlx::any::AnyRow, i: usize) -> Result<String, Error> {
    match row.try_get::<String, _>(i) {
        Ok(v) => Ok(v),
        Err(_) => Ok(String::from_utf8_lossy(&row.try_get::<Vec<u8>, _>(i)?).into_owned()),
    }
}

/// The check `check_id` from the `checks` projection, if it is there.
pub async fn check_for_label(
    db: &Database,
    check_id: Uuid,
) -> Result<Option<CheckForLabel>, Error> {
    let row = sqlx::query(
        "SELECT c.id, c.anomaly_id, m.name, c.check_timestamp, c.series_from, c.series_until \
         FROM checks c JOIN metrics m ON m.id = c.metric_id WHERE c.id = ?",
    )
    .bind(check_id.to_string())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let from: Option<i64> = row.try_get(4)?;
    let until: Option<i64> = row.try_get(5)?;
    Ok(Some(CheckForLabel {
        check_id,
        anomaly_id: Uuid::parse_str(&text(&row, 1)?).unwrap_or_default(),
        metric: text(&row, 2)?,
        timestamp: row.try_get(3)?,
        full_duration: until.zip(from).map_or(0, |(u, f)| u - f),
        series: Vec::new(),
    }))
}
