//! Read queries on the seasonal verdicts (`seasonal_results`,
//! [`crate::tables::seasonal`]): an anomaly's verdicts with the series
//! judged (its page draws it beside the 24 h one), the latest verdicts
//! without their series (a list), and how many there are of each outcome
//! and reason.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use crate::browse::{split_csv, MAX_PER_PAGE};
use crate::db::{text, Database};
use crate::query::{opt_uuid, uuid};
use crate::tables::checks::parse_series;
use crate::Error;

/// One seasonal verdict, as folded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonalRow {
    /// The verdict's id (UUID v5 of the check).
    pub id: Uuid,
    /// The seasonal check it answers.
    pub check_id: Uuid,
    /// The anomaly the check was about; for a periodic check a stand-in id
    /// that names no anomaly.
    pub anomaly_id: Uuid,
    /// The metric judged.
    pub metric: String,
    /// The checked datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// The checked datapoint's value.
    pub value: f64,
    /// Hours of history asked for.
    pub hours: i64,
    /// A periodic check rather than an anomaly's.
    pub periodic: bool,
    /// `anomalous`, `cleared` or `skipped`.
    pub outcome: String,
    /// `consensus`, `daily_peak`, `stale` or `too_short`.
    pub reason: String,
    /// Algorithms that ran, in order.
    pub algorithms_run: Vec<String>,
    /// Algorithms that voted anomalous.
    pub triggered_algorithms: Vec<String>,
    /// Seconds between the judged series' points.
    pub resolution: i64,
    /// Seconds of data judged.
    pub full_duration: i64,
    /// Points in the judged series.
    pub series_points: i64,
    /// Its first timestamp (none when skipped).
    pub series_from: Option<i64>,
    /// Its last timestamp.
    pub series_until: Option<i64>,
    /// The judged series, `(unix seconds, value)`, exact to the bit; empty
    /// in lists ([`latest_results`]), which leave it out.
    pub series: Vec<(i64, f64)>,
    /// When anomalous: the seasonal anomaly.
    pub seasonal_anomaly_id: Option<Uuid>,
    /// When anomalous: the fingerprint check it was handed on with.
    pub fingerprint_check_id: Option<Uuid>,
    /// When decided (unix milliseconds).
    pub decided_at_ms: i64,
}

/// How many verdicts have one outcome for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeCount {
    /// `anomalous`, `cleared` or `skipped`.
    pub outcome: String,
    /// Why.
    pub reason: String,
    /// Verdicts.
    pub results: i64,
}

/// The columns [`seasonal_row`] reads; the series column last, so a list
/// can select `''` in its place.
const COLUMNS: &str = "id, check_id, anomaly_id, metric, result_timestamp, value, hours, \
     periodic, outcome, reason, algorithms_run, triggered_algorithms, resolution, \
     full_duration, series_points, series_from, series_until, seasonal_anomaly_id, \
     fingerprint_check_id, decided_at_ms";

fn seasonal_row(r: &AnyRow) -> Result<SeasonalRow, Error> {
    let id = uuid(r, 0, "seasonal result id")?;
    let series = match text(r, 20)? {
        Some(json) if !json.is_empty() => parse_series(&json).map_err(|e| Error::Stored {
            what: "seasonal series",
            detail: format!("seasonal result {id}: {e}"),
        })?,
        _ => Vec::new(),
    };
    Ok(SeasonalRow {
        id,
        check_id: uuid(r, 1, "seasonal check id")?,
        anomaly_id: uuid(r, 2, "seasonal anomaly id")?,
        metric: text(r, 3)?.unwrap_or_default(),
        timestamp: r.try_get(4)?,
        value: r.try_get(5)?,
        hours: r.try_get(6)?,
        periodic: r.try_get::<i64, _>(7)? != 0,
        outcome: text(r, 8)?.unwrap_or_default(),
        reason: text(r, 9)?.unwrap_or_default(),
        algorithms_run: split_csv(&text(r, 10)?.unwrap_or_default()),
        triggered_algorithms: split_csv(&text(r, 11)?.unwrap_or_default()),
        resolution: r.try_get(12)?,
        full_duration: r.try_get(13)?,
        series_points: r.try_get(14)?,
        series_from: r.try_get(15)?,
        series_until: r.try_get(16)?,
        seasonal_anomaly_id: opt_uuid(r, 17, "seasonal anomaly id")?,
        fingerprint_check_id: opt_uuid(r, 18, "fingerprint check id")?,
        decided_at_ms: r.try_get(19)?,
        series,
    })
}

/// The verdicts on anomaly `id`'s seasonal checks, oldest decision first,
/// with their series (inside the caller's transaction).
pub(crate) async fn results_in(
    conn: &mut AnyConnection,
    id: Uuid,
) -> Result<Vec<SeasonalRow>, Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS}, series FROM seasonal_results WHERE anomaly_id = ? \
         ORDER BY decided_at_ms, id"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(seasonal_row)
    .collect()
}

/// The verdicts on anomaly `id`'s seasonal checks (or a periodic check's
/// stand-in id), oldest decision first, with their series.
pub async fn results_of_anomaly(db: &Database, id: Uuid) -> Result<Vec<SeasonalRow>, Error> {
    let mut conn = db.acquire().await?;
    results_in(&mut conn, id).await
}

/// The latest `limit` verdicts (at most [`MAX_PER_PAGE`]), newest decision
/// first, without their series (`series_points` says how long each is).
pub async fn latest_results(db: &Database, limit: u32) -> Result<Vec<SeasonalRow>, Error> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    sqlx::query(&format!(
        "SELECT {COLUMNS}, '' FROM seasonal_results ORDER BY decided_at_ms DESC, id DESC LIMIT ?"
    ))
    .bind(i64::from(limit.min(MAX_PER_PAGE)))
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(seasonal_row)
    .collect()
}

/// How many verdicts there are of each outcome and reason, by outcome then
/// reason.
pub async fn outcome_counts(db: &Database) -> Result<Vec<OutcomeCount>, Error> {
    sqlx::query(
        "SELECT outcome, reason, COUNT(*) FROM seasonal_results GROUP BY outcome, reason \
         ORDER BY outcome, reason",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(OutcomeCount {
            outcome: text(r, 0)?.unwrap_or_default(),
            reason: text(r, 1)?.unwrap_or_default(),
            results: r.try_get(2)?,
        })
    })
    .collect()
}
