//! `checks`: every request to re-judge an anomaly. The judged series itself
//! stays on the log (the checks topic carries it); the table keeps its
//! length and span.

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::CheckTarget;

use super::insert_events;
use crate::db::{Dialect, Kind};
use crate::{csv, metric_id, Error, Event, Projection, Table, Topic};

pub struct Checks;

pub static CHECKS: Table = Table {
    name: "checks",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("anomaly_id", Kind::Text),
        ("target", Kind::Text),
        ("metric_id", Kind::Text),
        ("check_timestamp", Kind::Int),
        ("value", Kind::Real),
        ("triggered_algorithms", Kind::Text),
        ("second_order_resolution_hours", Kind::Int),
        ("series_points", Kind::Int),
        ("series_from", Kind::Int),
        ("series_until", Kind::Int),
        ("decided_at_ms", Kind::Int),
    ],
};

static TABLES: [&Table; 1] = [&CHECKS];

impl Projection for Checks {
    fn name(&self) -> &'static str {
        "checks"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Checks]
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
            let rows: Vec<_> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Check(c) => Some(vec![
                        c.id.into(),
                        c.anomaly_id.into(),
                        match c.target {
                            CheckTarget::Seasonal => "seasonal",
                            CheckTarget::Fingerprint => "fingerprint",
                        }
                        .into(),
                        metric_id(&c.metric).into(),
                        c.timestamp.into(),
                        c.value.into(),
                        csv(&c.triggered_algorithms).into(),
                        c.second_order_resolution_hours.map(i64::from).into(),
                        (c.series.len() as i64).into(),
                        c.series.iter().map(|p| p.timestamp).min().into(),
                        c.series.iter().map(|p| p.timestamp).max().into(),
                        c.decided_at_ms.into(),
                    ]),
                    _ => None,
                })
                .collect();
            insert_events(conn, dialect, &CHECKS, &rows).await
        })
    }
}
