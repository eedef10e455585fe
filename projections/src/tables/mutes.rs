//! `mutes`: the operators' mutes of alerts, folded from the mutes topic. A
//! mute event is a row; an unmute event (which carries the id of the mute
//! it ends) moves that row's `until_ms` to the unmute's time — never later,
//! as the alerter's own fold (`alert::mutes::MuteBook`) does — and records
//! when and by whom. Both are idempotent, so a refold gives the same rows.
//!
//! A mute and its unmute share a key (the pattern), hence a partition, so
//! the unmute is always folded after its mute: within a batch the mutes
//! are inserted before the unmutes are applied.

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::MuteAction;

use super::insert_events;
use crate::db::{Dialect, Kind, Value};
use crate::{Error, Event, Projection, Table, Topic};

/// The `mutes` projection.
pub struct Mutes;

/// `mutes`: one row per mute, its end moved by an unmute.
pub static MUTES: Table = Table {
    name: "mutes",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("pattern", Kind::Text),
        ("from_ms", Kind::Int),
        ("until_ms", Kind::Int),
        ("reason", Kind::Text),
        ("operator", Kind::Text),
        ("unmuted_at_ms", Kind::Int),
        ("unmuted_by", Kind::Text),
    ],
};

static TABLES: [&Table; 1] = [&MUTES];

impl Projection for Mutes {
    fn name(&self) -> &'static str {
        "mutes"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Mutes]
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
            let mut rows: Vec<Vec<Value>> = Vec::new();
            let mut unmutes = Vec::new();
            for event in events {
                let Event::Mute(m) = event else { continue };
                match m.action {
                    MuteAction::Mute => rows.push(vec![
                        m.id.into(),
                        m.pattern.as_str().into(),
                        m.at_ms.into(),
                        m.until_ms.into(),
                        m.reason.clone().into(),
                        m.operator.clone().into(),
                        Value::Int(None),
                        Value::Text(None),
                    ]),
                    MuteAction::Unmute => unmutes.push(m),
                }
            }
            let mut written = insert_events(conn, dialect, &MUTES, &rows).await?;
            let sql = match dialect {
                Dialect::MySql => {
                    "UPDATE mutes SET until_ms = LEAST(until_ms, ?), \
                     unmuted_at_ms = COALESCE(unmuted_at_ms, ?), \
                     unmuted_by = COALESCE(unmuted_by, ?) WHERE id = ?"
                }
                Dialect::Sqlite => {
                    "UPDATE mutes SET until_ms = MIN(until_ms, ?), \
                     unmuted_at_ms = COALESCE(unmuted_at_ms, ?), \
                     unmuted_by = COALESCE(unmuted_by, ?) WHERE id = ?"
                }
            };
            for m in unmutes {
                let done = sqlx::query(sql)
                    .bind(m.at_ms)
                    .bind(m.at_ms)
                    .bind(m.operator.clone())
                    .bind(m.id.to_string())
                    .execute(&mut *conn)
                    .await?;
                if done.rows_affected() == 0 {
                    tracing::warn!(id = %m.id, pattern = %m.pattern, "an unmute changed no mute row (a mute not folded, or one already ended)");
                }
                written += done.rows_affected();
            }
            Ok(written)
        })
    }
}
