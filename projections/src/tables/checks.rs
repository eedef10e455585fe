//! `checks`: every request to re-judge an anomaly. The judged series itself
//! stays on the log (the checks topic carries it); the table keeps its
//! length and span.

use topics::CheckTarget;

use super::EventTable;
use crate::db::{Kind, Value};
use crate::{csv, metric_id, Event, Table, Topic};

/// The `checks` projection: one row per event.
pub const PROJECTION: EventTable = EventTable {
    name: "checks",
    topics: &[Topic::Checks],
    table: &[&CHECKS],
    row,
};

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

fn row(event: &Event) -> Option<Vec<Value>> {
    let Event::Check(c) = event else {
        return None;
    };
    Some(vec![
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
    ])
}
