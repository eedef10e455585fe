//! `matches`: every fingerprint verdict on a check, matched or not.

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::MatchMethod;

use super::insert_events;
use crate::db::{Dialect, Kind};
use crate::{metric_id, Error, Event, Projection, Table, Topic};

pub struct Matches;

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

static TABLES: [&Table; 1] = [&MATCHES];

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

impl Projection for Matches {
    fn name(&self) -> &'static str {
        "matches"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Matches]
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
                    Event::Match(m) => Some(vec![
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
                    ]),
                    _ => None,
                })
                .collect();
            insert_events(conn, dialect, &MATCHES, &rows).await
        })
    }
}
