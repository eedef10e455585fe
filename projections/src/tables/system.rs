//! `service_heartbeats` and `system_events`: what skyline says about itself,
//! folded from the system topic for the console's System page. A
//! heartbeat replaces its service and instance's row only when it is newer
//! (a late one changes nothing); every other event (a stall, a recovery, a
//! metric gone stale, about to go stale or sending again) is a row by its
//! deterministic id. Both are idempotent, so a refold gives the same rows.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::{SystemEvent, SystemKind};

use super::insert_events;
use crate::db::{insert_rows, Dialect, Kind, OnConflict, Value};
use crate::{Error, Event, Projection, Table, Topic};

/// The `system` projection.
pub struct System;

/// `service_heartbeats`: each service process's newest heartbeat.
pub static SERVICE_HEARTBEATS: Table = Table {
    name: "service_heartbeats",
    key: &["service", "instance"],
    columns: &[
        ("service", Kind::Text),
        ("instance", Kind::Text),
        ("at", Kind::Int),
        ("ready", Kind::Int),
        ("reason", Kind::Text),
        ("figures", Kind::Text),
    ],
};

/// `system_events`: stalls, recoveries and stale metrics, one row each.
pub static SYSTEM_EVENTS: Table = Table {
    name: "system_events",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("kind", Kind::Text),
        ("subject", Kind::Text),
        ("service", Kind::Text),
        ("instance", Kind::Text),
        ("at", Kind::Int),
        ("since", Kind::Int),
        ("alert", Kind::Int),
        ("reason", Kind::Text),
        ("decided_at_ms", Kind::Int),
    ],
};

static TABLES: [&Table; 2] = [&SERVICE_HEARTBEATS, &SYSTEM_EVENTS];

/// A heartbeat's figures as a JSON object (`{"lag_records": 0, …}`);
/// non-finite values are left out (JSON has none).
fn figures_json(e: &SystemEvent) -> String {
    let figures: serde_json::Map<String, serde_json::Value> = e
        .figures
        .iter()
        .filter_map(|f| serde_json::Number::from_f64(f.value).map(|n| (f.name.clone(), n.into())))
        .collect();
    serde_json::Value::Object(figures).to_string()
}

impl Projection for System {
    fn name(&self) -> &'static str {
        "system"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::System]
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
            // The newest heartbeat of each service and instance in the
            // batch (one row each per statement).
            let mut newest: BTreeMap<(&str, &str), &SystemEvent> = BTreeMap::new();
            let mut rows: Vec<Vec<Value>> = Vec::new();
            for event in events {
                let Event::System(e) = event else { continue };
                if e.kind == SystemKind::Heartbeat {
                    let key = (e.service.as_str(), e.instance.as_str());
                    if newest.get(&key).is_none_or(|n| n.at <= e.at) {
                        newest.insert(key, e);
                    }
                    continue;
                }
                rows.push(vec![
                    e.id.into(),
                    e.kind.as_str().into(),
                    e.subject.as_str().into(),
                    e.service.as_str().into(),
                    e.instance.as_str().into(),
                    e.at.into(),
                    e.since.into(),
                    e.alert.into(),
                    Some(e.reason.clone()).filter(|r| !r.is_empty()).into(),
                    e.decided_at_ms.into(),
                ]);
            }
            let mut written = insert_events(conn, dialect, &SYSTEM_EVENTS, &rows).await?;
            let heartbeats: Vec<Vec<Value>> = newest
                .values()
                .map(|e| {
                    vec![
                        e.service.as_str().into(),
                        e.instance.as_str().into(),
                        e.at.into(),
                        e.ready.map(i64::from).into(),
                        Some(e.reason.clone()).filter(|r| !r.is_empty()).into(),
                        figures_json(e).into(),
                    ]
                })
                .collect();
            // Each column takes the incoming value only when the heartbeat
            // is at least as new; MySQL assigns left to right, so `at`
            // goes last.
            written += insert_rows(
                conn,
                dialect,
                SERVICE_HEARTBEATS.name,
                &["service", "instance", "at", "ready", "reason", "figures"],
                SERVICE_HEARTBEATS.key,
                OnConflict::Update {
                    mysql: "ready = IF(VALUES(at) >= at, VALUES(ready), ready), \
                            reason = IF(VALUES(at) >= at, VALUES(reason), reason), \
                            figures = IF(VALUES(at) >= at, VALUES(figures), figures), \
                            at = GREATEST(at, VALUES(at))",
                    sqlite: "ready = CASE WHEN excluded.at >= at THEN excluded.ready ELSE ready END, \
                             reason = CASE WHEN excluded.at >= at THEN excluded.reason ELSE reason END, \
                             figures = CASE WHEN excluded.at >= at THEN excluded.figures ELSE figures END, \
                             at = MAX(at, excluded.at)",
                },
                &heartbeats,
            )
            .await?;
            Ok(written)
        })
    }
}
