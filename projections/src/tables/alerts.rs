//! `alerts`: every alert sent.

use futures::future::BoxFuture;
use sqlx::AnyConnection;

use super::{insert_events, source_name};
use crate::db::{Dialect, Kind};
use crate::{csv, metric_id, Error, Event, Projection, Table, Topic};

pub struct Alerts;

pub static ALERTS: Table = Table {
    name: "alerts",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("anomaly_id", Kind::Text),
        ("metric_id", Kind::Text),
        ("alert_timestamp", Kind::Int),
        ("value", Kind::Real),
        ("source_app", Kind::Text),
        ("alerter", Kind::Text),
        ("rule", Kind::Text),
        ("triggered_algorithms", Kind::Text),
        ("decided_at_ms", Kind::Int),
    ],
};

static TABLES: [&Table; 1] = [&ALERTS];

impl Projection for Alerts {
    fn name(&self) -> &'static str {
        "alerts"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Alerts]
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
                    Event::Alert(a) => Some(vec![
                        a.id.into(),
                        a.anomaly_id.into(),
                        metric_id(&a.metric).into(),
                        a.timestamp.into(),
                        a.value.into(),
                        source_name(a.source).into(),
                        a.alerter.as_str().into(),
                        a.rule.as_str().into(),
                        csv(&a.triggered_algorithms).into(),
                        a.decided_at_ms.into(),
                    ]),
                    _ => None,
                })
                .collect();
            insert_events(conn, dialect, &ALERTS, &rows).await
        })
    }
}
