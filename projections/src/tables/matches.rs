//! `matches`: every fingerprint verdict on a check, matched or not.

use topics::MatchMethod;

use super::EventTable;
use crate::db::{Kind, Value};
use crate::{metric_id, Event, Table, Topic};

/// The `matches` projection: one row per event.
pub const PROJECTION: EventTable = EventTable {
    name: "matches",
    topics: &[Topic::Matches],
    table: &[&MATCHES],
    row,
};

pub static MATCHES: Table = Table {
    name: "matches",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("check_id", Kind::Text),
        ("anomaly_id", Kind::Text),
        ("metric_id", Kind::Text),
        ("match_timestamp", Kind::Int),
        ("matched", Kind::Int),
        ("method", Kind::Text),
        ("profile_id", Kind::Text),
        ("layer_id", Kind::Text),
        ("percent_different", Kind::Real),
        ("distance", Kind::Real),
        ("decided_at_ms", Kind::Int),
    ],
};

fn row(event: &Event) -> Option<Vec<Value>> {
    let Event::Match(m) = event else {
        return None;
    };
    Some(vec![
        m.id.into(),
        m.check_id.into(),
        m.anomaly_id.into(),
        metric_id(&m.metric).into(),
        m.timestamp.into(),
        m.matched.into(),
        method_name(m.method).into(),
        m.profile_id.into(),
        m.layer_id.into(),
        m.percent_different.into(),
        m.distance.into(),
        m.decided_at_ms.into(),
    ])
}

/// The stable name of a match method in the table (its serde name).
fn method_name(method: MatchMethod) -> &'static str {
    match method {
        MatchMethod::FeaturesProfile => "features_profile",
        MatchMethod::MinMax => "min_max",
        MatchMethod::Layers => "layers",
        MatchMethod::Motif => "motif",
        MatchMethod::None => "none",
    }
}
