//! One module per projection (table group). Each says which topics it
//! reads and which tables it owns, and folds a batch of events into them
//! with multi-row, idempotent inserts.

pub mod alerts;
pub mod anomalies;
pub mod checks;
pub mod labels;
pub mod matches;
pub mod profiles;

use crate::db::{insert_rows, Dialect, OnConflict, Value};
use crate::{Error, Table};
use sqlx::AnyConnection;

/// Inserts rows of an immutable event table: an id seen before keeps its
/// first row.
pub(crate) async fn insert_events(
    conn: &mut AnyConnection,
    dialect: Dialect,
    table: &Table,
    rows: &[Vec<Value>],
) -> Result<u64, Error> {
    let columns: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
    insert_rows(
        conn,
        dialect,
        table.name,
        &columns,
        table.key,
        OnConflict::Keep,
        rows,
    )
    .await
}

/// The stable name of a source app in the tables (its serde name).
pub(crate) fn source_name(source: topics::SourceApp) -> &'static str {
    match source {
        topics::SourceApp::Analyzer => "analyzer",
        topics::SourceApp::Seasonal => "seasonal",
        topics::SourceApp::Fingerprint => "fingerprint",
    }
}
