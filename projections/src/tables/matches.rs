//! `matches`: every fingerprint verdict on a check, matched or not, with
//! how it matched (echo, approximately-close layers, where a motif matched).
//! Per-profile match counts are queried from these rows
//! ([`crate::query::profile_match_counts`]), never kept as counters.

use topics::MotifKind;

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

/// `matches`: one row per fingerprint verdict.
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
        ("echo", Kind::Int),
        ("profiles_checked", Kind::Int),
        ("features_sum", Kind::Real),
        ("common_features", Kind::Int),
        ("approx_close", Kind::Int),
        ("motif_index", Kind::Int),
        ("motif_size", Kind::Int),
        ("motif_kind", Kind::Text),
        ("motif_area", Kind::Real),
        ("motif_profile_area", Kind::Real),
        ("motif_area_percent_diff", Kind::Real),
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
        m.method.as_str().into(),
        m.profile_id.into(),
        m.layer_id.into(),
        m.percent_different.into(),
        m.distance.into(),
        m.decided_at_ms.into(),
        m.echo.into(),
        i64::from(m.profiles_checked).into(),
        finite(m.features_sum).into(),
        m.common_features.map(i64::from).into(),
        m.approx_close.into(),
        m.motif.map(|x| i64::from(x.index)).into(),
        m.motif.map(|x| i64::from(x.size)).into(),
        m.motif
            .map(|x| match x.kind {
                MotifKind::Exact => "exact",
                MotifKind::AllInRange => "all_in_range",
            })
            .map(str::to_owned)
            .into(),
        finite(m.motif.map(|x| x.area)).into(),
        finite(m.motif.map(|x| x.profile_area)).into(),
        finite(m.motif.map(|x| x.area_percent_diff)).into(),
    ])
}

/// A measurement as stored: MySQL's DOUBLE has no NaN or infinity, and a
/// value it refuses would stop the fold at that record for good, so a
/// non-finite measurement is stored as NULL (unknown).
fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite())
}
