//! `alerts`: every alert sent.

use super::EventTable;
use crate::db::{Kind, Value};
use crate::{csv, metric_id, Event, Table, Topic};

/// The `alerts` projection: one row per event.
pub const PROJECTION: EventTable = EventTable {
    name: "alerts",
    topics: &[Topic::Alerts],
    table: &[&ALERTS],
    row,
};

/// `alerts`: one row per alert sent.
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

fn row(event: &Event) -> Option<Vec<Value>> {
    let Event::Alert(a) = event else {
        return None;
    };
    Some(vec![
        a.id.into(),
        a.anomaly_id.into(),
        metric_id(&a.metric).into(),
        a.timestamp.into(),
        a.value.into(),
        a.source.as_str().into(),
        a.alerter.as_str().into(),
        a.rule.as_str().into(),
        csv(&a.triggered_algorithms).into(),
        a.decided_at_ms.into(),
    ])
}
