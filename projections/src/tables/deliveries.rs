//! `deliveries`: every attempt to deliver an alert, as the alerter recorded
//! it on the deliveries topic — delivered, failed (with the reason),
//! gave up, or muted.

use super::EventTable;
use crate::db::{Kind, Value};
use crate::{metric_id, Event, Table, Topic};

/// The `deliveries` projection: one row per delivery event.
pub const PROJECTION: EventTable = EventTable {
    name: "deliveries",
    topics: &[Topic::Deliveries],
    table: &[&DELIVERIES],
    row,
};

/// `deliveries`: one row per attempt (its id is the event's, UUID v5 of
/// the alert and the attempt, so a resent event is stored once).
pub static DELIVERIES: Table = Table {
    name: "deliveries",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("alert_id", Kind::Text),
        ("anomaly_id", Kind::Text),
        ("metric_id", Kind::Text),
        ("metric", Kind::Text),
        ("alerter", Kind::Text),
        ("kind", Kind::Text),
        ("outcome", Kind::Text),
        ("attempt", Kind::Int),
        ("detail", Kind::Text),
        ("at_ms", Kind::Int),
    ],
};

fn row(event: &Event) -> Option<Vec<Value>> {
    let Event::Delivery(d) = event else {
        return None;
    };
    Some(vec![
        d.id.into(),
        d.alert_id.into(),
        d.anomaly_id.into(),
        metric_id(&d.metric).into(),
        d.metric.as_str().into(),
        d.alerter.as_str().into(),
        d.kind.as_str().into(),
        d.outcome.as_str().into(),
        i64::from(d.attempt).into(),
        d.detail.clone().into(),
        d.at_ms.into(),
    ])
}
