//! `labels`: every operator judgement.

use futures::future::BoxFuture;
use sqlx::AnyConnection;

use super::insert_events;
use crate::db::{Dialect, Kind};
use crate::{metric_id, Error, Event, Projection, Table, Topic};

pub struct Labels;

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
    ],
};

static TABLES: [&Table; 1] = [&LABELS];

impl Projection for Labels {
    fn name(&self) -> &'static str {
        "labels"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Labels]
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
                    Event::Label(l) => Some(vec![
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
                    ]),
                    _ => None,
                })
                .collect();
            insert_events(conn, dialect, &LABELS, &rows).await
        })
    }
}
