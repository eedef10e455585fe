//! `labels`: every operator judgement. The labelled series itself is not
//! kept here: the label's check (`checks.series`) and the profile made from
//! it (`profile_series`) already hold it.

use super::EventTable;
use crate::db::{Kind, Value};
use crate::{metric_id, Event, Table, Topic};

/// The `labels` projection: one row per event.
pub const PROJECTION: EventTable = EventTable {
    name: "labels",
    topics: &[Topic::Labels],
    table: &[&LABELS],
    row,
};

/// `labels`: one row per label.
pub static LABELS: Table = Table {
    name: "labels",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("metric_id", Kind::Text),
        ("anomaly_id", Kind::Text),
        ("training_id", Kind::Text),
        ("label_timestamp", Kind::Int),
        ("not_anomalous", Kind::Int),
        ("learn", Kind::Int),
        ("layers_json", Kind::Text),
        ("operator", Kind::Text),
        ("labelled_at_ms", Kind::Int),
        ("check_id", Kind::Text),
        ("full_duration", Kind::Int),
        ("description", Kind::Text),
    ],
};

fn row(event: &Event) -> Option<Vec<Value>> {
    let Event::Label(l) = event else {
        return None;
    };
    Some(vec![
        l.id.into(),
        metric_id(&l.metric).into(),
        l.anomaly_id.into(),
        l.training_id.into(),
        l.timestamp.into(),
        l.not_anomalous.into(),
        l.learn.into(),
        l.layers_json.clone().into(),
        l.operator.as_str().into(),
        l.labelled_at_ms.into(),
        l.check_id.into(),
        l.full_duration.into(),
        l.description.clone().into(),
    ])
}
