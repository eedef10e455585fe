//! `metric_activity`: every metric skyline has received, folded from the
//! datapoints topic — when it was first and last seen (data time) and how
//! many datapoints arrived. The `metrics` table knows a metric only once it
//! has an anomaly or a profile; this is the list of what is being received.
//!
//! The datapoints topic is the busiest there is, so the fold is kept cheap:
//! a batch becomes one row write per metric in it (its earliest and latest
//! timestamps and its count), however many points it carried. Counts stay
//! exact because the fold applies each record once (offsets stored with the
//! rows); datapoints an operator sent twice are counted twice — they did
//! arrive twice.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use sqlx::AnyConnection;

use crate::db::{insert_rows, Dialect, Kind, OnConflict, Value};
use crate::{metric_id, Error, Event, Projection, Table, Topic};

/// The `metric_activity` projection, folded from the datapoints.
pub struct Activity;

/// `metric_activity`: one row per metric received, with its first and last
/// timestamps (unix seconds) and datapoints counted.
pub static METRIC_ACTIVITY: Table = Table {
    name: "metric_activity",
    key: &["metric_id"],
    columns: &[
        ("metric_id", Kind::Text),
        ("name", Kind::Text),
        ("first_seen", Kind::Int),
        ("last_seen", Kind::Int),
        ("datapoints", Kind::Int),
    ],
};

static TABLES: [&Table; 1] = [&METRIC_ACTIVITY];

/// One metric's part of a batch: first and last timestamp, and count.
struct Seen {
    first: i64,
    last: i64,
    count: i64,
}

impl Projection for Activity {
    fn name(&self) -> &'static str {
        "activity"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Datapoints]
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
            let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
            for event in events {
                let Event::Datapoint(d) = event else { continue };
                let s = seen.entry(d.metric.as_str()).or_insert(Seen {
                    first: d.timestamp,
                    last: d.timestamp,
                    count: 0,
                });
                s.first = s.first.min(d.timestamp);
                s.last = s.last.max(d.timestamp);
                s.count += 1;
            }
            let rows: Vec<Vec<Value>> = seen
                .iter()
                .map(|(name, s)| {
                    vec![
                        metric_id(name).into(),
                        (*name).into(),
                        s.first.into(),
                        s.last.into(),
                        s.count.into(),
                    ]
                })
                .collect();
            insert_rows(
                conn,
                dialect,
                METRIC_ACTIVITY.name,
                &["metric_id", "name", "first_seen", "last_seen", "datapoints"],
                METRIC_ACTIVITY.key,
                OnConflict::Update {
                    mysql: "first_seen = LEAST(first_seen, VALUES(first_seen)), \
                            last_seen = GREATEST(last_seen, VALUES(last_seen)), \
                            datapoints = datapoints + VALUES(datapoints)",
                    sqlite: "first_seen = MIN(first_seen, excluded.first_seen), \
                             last_seen = MAX(last_seen, excluded.last_seen), \
                             datapoints = datapoints + excluded.datapoints",
                },
                &rows,
            )
            .await
        })
    }
}
