//! `seasonal_results`: the seasonal (Mirage) service's verdict on each
//! seasonal check — anomalous, cleared or skipped, why, over how many
//! hours, and the long series it judged — so the console can say what
//! became of an anomaly handed to seasonal and draw the second-order
//! series beside the 24 h one.
//!
//! One row per check, upserted by the result's id (UUID v5 of the check):
//! a seasonal service that crashed after producing and judged the check
//! again re-emits the same id, and its row then holds the later decision.
//! The later one wins by `decided_at_ms` whatever order the two are folded
//! in (a rebuild gives the same row), and folding the same event twice
//! changes nothing. The series is JSON text as in `checks`
//! ([`super::checks::series_json`]), for the same reasons.

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::SeasonalResult;

use super::checks::series_json;
use crate::db::{insert_rows, Dialect, Kind, OnConflict, Value};
use crate::{csv, metric_id, Error, Event, Projection, Table, Topic};

/// The `seasonal` projection.
pub struct Seasonal;

/// `seasonal_results`: one row per seasonal check, the latest decision.
pub static SEASONAL_RESULTS: Table = Table {
    name: "seasonal_results",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("check_id", Kind::Text),
        ("anomaly_id", Kind::Text),
        ("metric_id", Kind::Text),
        ("metric", Kind::Text),
        ("result_timestamp", Kind::Int),
        ("value", Kind::Real),
        ("hours", Kind::Int),
        ("periodic", Kind::Int),
        ("outcome", Kind::Text),
        ("reason", Kind::Text),
        ("algorithms_run", Kind::Text),
        ("triggered_algorithms", Kind::Text),
        ("resolution", Kind::Int),
        ("full_duration", Kind::Int),
        ("series_points", Kind::Int),
        ("series_from", Kind::Int),
        ("series_until", Kind::Int),
        ("series", Kind::Text),
        ("seasonal_anomaly_id", Kind::Text),
        ("fingerprint_check_id", Kind::Text),
        ("decided_at_ms", Kind::Int),
    ],
};

static TABLES: [&Table; 1] = [&SEASONAL_RESULTS];

fn row(r: &SeasonalResult) -> Vec<Value> {
    vec![
        r.id.into(),
        r.check_id.into(),
        r.anomaly_id.into(),
        metric_id(&r.metric).into(),
        r.metric.as_str().into(),
        r.timestamp.into(),
        r.value.into(),
        i64::from(r.hours).into(),
        r.periodic.into(),
        r.outcome.as_str().into(),
        r.reason.as_str().into(),
        csv(&r.algorithms_run).into(),
        csv(&r.triggered_algorithms).into(),
        r.resolution.into(),
        r.full_duration.into(),
        (r.series.len() as i64).into(),
        r.series.iter().map(|p| p.timestamp).min().into(),
        r.series.iter().map(|p| p.timestamp).max().into(),
        series_json(&r.series).into(),
        r.seasonal_anomaly_id.into(),
        r.fingerprint_check_id.into(),
        r.decided_at_ms.into(),
    ]
}

/// The upsert's `SET` clauses: every column but the key takes the new
/// row's value when it was decided later. MySQL evaluates the assignments
/// in order, each seeing those before, so `decided_at_ms` (which the
/// condition reads) is assigned last; SQLite's `WHERE` on the update sees
/// the old row throughout.
fn merge(dialect: Dialect) -> String {
    let columns = SEASONAL_RESULTS
        .columns
        .iter()
        .map(|c| c.0)
        .filter(|c| *c != "id" && *c != "decided_at_ms")
        .chain(["decided_at_ms"]);
    match dialect {
        Dialect::MySql => columns
            .map(|c| format!("{c} = IF(VALUES(decided_at_ms) > decided_at_ms, VALUES({c}), {c})"))
            .collect::<Vec<_>>()
            .join(", "),
        Dialect::Sqlite => {
            let set: Vec<String> = columns.map(|c| format!("{c} = excluded.{c}")).collect();
            format!(
                "{} WHERE excluded.decided_at_ms > seasonal_results.decided_at_ms",
                set.join(", ")
            )
        }
    }
}

impl Projection for Seasonal {
    fn name(&self) -> &'static str {
        "seasonal"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Seasonal]
    }

    fn tables(&self) -> &'static [&'static Table] {
        &TABLES
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        dialect: Dialect,
        events: &'a [&'a Event],
    ) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            let rows: Vec<Vec<Value>> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Seasonal(r) => Some(row(r)),
                    _ => None,
                })
                .collect();
            let columns: Vec<&str> = SEASONAL_RESULTS.columns.iter().map(|c| c.0).collect();
            let set = merge(dialect);
            insert_rows(
                conn,
                dialect,
                SEASONAL_RESULTS.name,
                &columns,
                SEASONAL_RESULTS.key,
                OnConflict::Update {
                    mysql: &set,
                    sqlite: &set,
                },
                &rows,
            )
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_merge_sets_every_column_but_the_key_and_the_time_last() {
        for dialect in [Dialect::MySql, Dialect::Sqlite] {
            let set = merge(dialect);
            assert!(!set.starts_with("id =") && !set.contains(", id ="), "{set}");
            let last = set.rfind("decided_at_ms =").unwrap();
            assert!(set.find("series =").unwrap() < last, "{set}");
            assert!(set.contains("outcome = "), "{set}");
        }
    }
}
