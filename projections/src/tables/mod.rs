//! One module per projection (table group). Each says which topics it
//! reads and which tables it owns, and folds a batch of events into them
//! with multi-row, idempotent inserts.

pub mod activity;
pub mod alerts;
pub mod anomalies;
pub mod checks;
pub mod deliveries;
pub mod labels;
pub mod matches;
pub mod mutes;
pub mod outcomes;
pub mod profiles;
pub mod seasonal;
pub mod system;

use futures::future::BoxFuture;
use sqlx::AnyConnection;

use crate::db::{insert_rows, Dialect, OnConflict, Value};
use crate::{Error, Event, Projection, Table, Topic};

/// A projection of one immutable event table: each event of its topics
/// that `row` maps becomes one row, and an id seen before keeps its first
/// row. (Projections that derive several tables, like anomalies and
/// profiles, implement [`Projection`] themselves.)
pub struct EventTable {
    /// The projection's name (consumer group `projections.<name>`).
    pub name: &'static str,
    /// The topics it reads.
    pub topics: &'static [Topic],
    /// Its one table.
    pub table: &'static [&'static Table; 1],
    /// The row of an event, in `table`'s column order; `None` for an event
    /// this table does not hold.
    pub row: fn(&Event) -> Option<Vec<Value>>,
}

impl Projection for EventTable {
    fn name(&self) -> &'static str {
        self.name
    }

    fn topics(&self) -> &'static [Topic] {
        self.topics
    }

    fn tables(&self) -> &'static [&'static Table] {
        self.table
    }

    fn apply<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        dialect: Dialect,
        events: &'a [&'a Event],
    ) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            let rows: Vec<Vec<Value>> = events.iter().filter_map(|e| (self.row)(e)).collect();
            insert_events(conn, dialect, self.table[0], &rows).await
        })
    }
}

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
