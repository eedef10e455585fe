//! `anomaly_outcomes`: what each anomaly came to — deflected (by which
//! match), alerted, awaiting its fingerprint verdict, cleared, confirmed or
//! skipped by the seasonal check, or not alerted — kept as one row per
//! anomaly from the anomalies, checks, matches, alerts and seasonal topics,
//! so that listing the anomalies in one state reads one index.
//!
//! Each event only adds a fact to its anomaly's row, merged in SQL so that
//! the merge is idempotent, order-independent and safe under concurrent
//! folds (the row lock of the upsert serialises them): the anomaly's
//! metric and time; an alert was sent; the alerting fingerprint check
//! (the greatest id, should there be several); a verdict arrived; the
//! deflecting match decided last (greatest `(decided_at_ms, id)`); the
//! seasonal verdict decided last (the same order; a periodic check's
//! verdict names no anomaly and adds nothing). The
//! `state` column is then recomputed from the facts of the rows touched,
//! in the same transaction, by the same rules the console shows a row's
//! state with ([`crate::browse::AnomalyState`]). It stays NULL until the
//! anomaly itself is folded.

use std::collections::BTreeSet;

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::CheckTarget;

use crate::db::{insert_rows, Dialect, Kind, OnConflict, Value};
use crate::{metric_id, Error, Event, Projection, Table, Topic};

/// The `anomaly_outcomes` projection.
pub struct Outcomes;

/// `anomaly_outcomes`: one row per anomaly, its facts and the `state` derived from them.
pub static OUTCOMES: Table = Table {
    name: "anomaly_outcomes",
    key: &["anomaly_id"],
    columns: &[
        ("anomaly_id", Kind::Text),
        ("metric_id", Kind::Text),
        ("anomaly_timestamp", Kind::Int),
        ("alerted", Kind::Int),
        ("awaiting_check", Kind::Text),
        ("judged", Kind::Int),
        ("deflect_method", Kind::Text),
        ("deflect_profile", Kind::Text),
        ("deflect_at_ms", Kind::Int),
        ("deflect_match", Kind::Text),
        ("state", Kind::Text),
        ("seasonal_outcome", Kind::Text),
        ("seasonal_at_ms", Kind::Int),
        ("seasonal_result", Kind::Text),
    ],
};

static TABLES: [&Table; 1] = [&OUTCOMES];

/// The columns an event's fact row gives (all but `state`).
const FACT_COLUMNS: [&str; 13] = [
    "anomaly_id",
    "metric_id",
    "anomaly_timestamp",
    "alerted",
    "awaiting_check",
    "judged",
    "deflect_method",
    "deflect_profile",
    "deflect_at_ms",
    "deflect_match",
    "seasonal_outcome",
    "seasonal_at_ms",
    "seasonal_result",
];

/// A fact row with only its anomaly id set.
fn fact(anomaly: uuid::Uuid) -> Vec<Value> {
    vec![
        anomaly.into(),
        Value::Text(None),
        Value::Int(None),
        Value::from(0),
        Value::Text(None),
        Value::from(0),
        Value::Text(None),
        Value::Text(None),
        Value::Int(None),
        Value::Text(None),
        Value::Text(None),
        Value::Int(None),
        Value::Text(None),
    ]
}

/// The methods whose match deflects an anomaly.
const DEFLECTING: [&str; 4] = ["features_profile", "min_max", "layers", "motif"];

/// The fact an event adds to its anomaly's row, or `None`.
fn fact_of(event: &Event) -> Option<Vec<Value>> {
    match event {
        Event::Anomaly(a) => {
            let mut row = fact(a.id);
            row[1] = metric_id(&a.metric).into();
            row[2] = a.timestamp.into();
            Some(row)
        }
        Event::Alert(a) => {
            let mut row = fact(a.anomaly_id);
            row[3] = Value::from(1);
            Some(row)
        }
        Event::Check(c) if c.target == CheckTarget::Fingerprint && !c.alerts.is_empty() => {
            let mut row = fact(c.anomaly_id);
            row[4] = c.id.into();
            Some(row)
        }
        Event::Match(m) => {
            let mut row = fact(m.anomaly_id);
            row[5] = Value::from(1);
            let method = m.method.as_str();
            if m.matched && DEFLECTING.contains(&method) {
                row[6] = method.into();
                row[7] = m.profile_id.into();
                row[8] = m.decided_at_ms.into();
                row[9] = m.id.into();
            }
            Some(row)
        }
        Event::Seasonal(r) if !r.periodic => {
            let mut row = fact(r.anomaly_id);
            row[10] = r.outcome.as_str().into();
            row[11] = r.decided_at_ms.into();
            row[12] = r.id.into();
            Some(row)
        }
        _ => None,
    }
}

/// The merge of a fact into an existing row, per dialect. MySQL evaluates
/// `ON DUPLICATE KEY UPDATE` assignments in order, each seeing the ones
/// before, so the deflection's ordering columns come last: `deflect_match`
/// changes only where the newer match wins on `(at_ms, id)`, and
/// `deflect_at_ms` after it only where its time is later, which that leaves
/// true.
const MERGE_MYSQL: &str = "metric_id = COALESCE(VALUES(metric_id), metric_id), \
     anomaly_timestamp = COALESCE(VALUES(anomaly_timestamp), anomaly_timestamp), \
     alerted = GREATEST(alerted, VALUES(alerted)), \
     awaiting_check = CASE WHEN VALUES(awaiting_check) IS NOT NULL AND (awaiting_check IS NULL \
       OR VALUES(awaiting_check) > awaiting_check) THEN VALUES(awaiting_check) ELSE awaiting_check END, \
     judged = GREATEST(judged, VALUES(judged)), \
     deflect_method = CASE WHEN VALUES(deflect_at_ms) IS NOT NULL AND (deflect_at_ms IS NULL \
       OR VALUES(deflect_at_ms) > deflect_at_ms OR (VALUES(deflect_at_ms) = deflect_at_ms \
       AND VALUES(deflect_match) > deflect_match)) THEN VALUES(deflect_method) ELSE deflect_method END, \
     deflect_profile = CASE WHEN VALUES(deflect_at_ms) IS NOT NULL AND (deflect_at_ms IS NULL \
       OR VALUES(deflect_at_ms) > deflect_at_ms OR (VALUES(deflect_at_ms) = deflect_at_ms \
       AND VALUES(deflect_match) > deflect_match)) THEN VALUES(deflect_profile) ELSE deflect_profile END, \
     deflect_match = CASE WHEN VALUES(deflect_at_ms) IS NOT NULL AND (deflect_at_ms IS NULL \
       OR VALUES(deflect_at_ms) > deflect_at_ms OR (VALUES(deflect_at_ms) = deflect_at_ms \
       AND VALUES(deflect_match) > deflect_match)) THEN VALUES(deflect_match) ELSE deflect_match END, \
     deflect_at_ms = CASE WHEN VALUES(deflect_at_ms) IS NOT NULL AND (deflect_at_ms IS NULL \
       OR VALUES(deflect_at_ms) > deflect_at_ms) THEN VALUES(deflect_at_ms) ELSE deflect_at_ms END, \
     seasonal_outcome = CASE WHEN VALUES(seasonal_at_ms) IS NOT NULL AND (seasonal_at_ms IS NULL \
       OR VALUES(seasonal_at_ms) > seasonal_at_ms OR (VALUES(seasonal_at_ms) = seasonal_at_ms \
       AND VALUES(seasonal_result) > seasonal_result)) THEN VALUES(seasonal_outcome) ELSE seasonal_outcome END, \
     seasonal_result = CASE WHEN VALUES(seasonal_at_ms) IS NOT NULL AND (seasonal_at_ms IS NULL \
       OR VALUES(seasonal_at_ms) > seasonal_at_ms OR (VALUES(seasonal_at_ms) = seasonal_at_ms \
       AND VALUES(seasonal_result) > seasonal_result)) THEN VALUES(seasonal_result) ELSE seasonal_result END, \
     seasonal_at_ms = CASE WHEN VALUES(seasonal_at_ms) IS NOT NULL AND (seasonal_at_ms IS NULL \
       OR VALUES(seasonal_at_ms) > seasonal_at_ms) THEN VALUES(seasonal_at_ms) ELSE seasonal_at_ms END";

/// The same merge for SQLite, whose `SET` expressions all see the old row.
const MERGE_SQLITE: &str = "metric_id = COALESCE(excluded.metric_id, metric_id), \
     anomaly_timestamp = COALESCE(excluded.anomaly_timestamp, anomaly_timestamp), \
     alerted = MAX(alerted, excluded.alerted), \
     awaiting_check = CASE WHEN excluded.awaiting_check IS NOT NULL AND (awaiting_check IS NULL \
       OR excluded.awaiting_check > awaiting_check) THEN excluded.awaiting_check ELSE awaiting_check END, \
     judged = MAX(judged, excluded.judged), \
     deflect_method = CASE WHEN {newer} THEN excluded.deflect_method ELSE deflect_method END, \
     deflect_profile = CASE WHEN {newer} THEN excluded.deflect_profile ELSE deflect_profile END, \
     deflect_match = CASE WHEN {newer} THEN excluded.deflect_match ELSE deflect_match END, \
     deflect_at_ms = CASE WHEN {newer} THEN excluded.deflect_at_ms ELSE deflect_at_ms END, \
     seasonal_outcome = CASE WHEN {later} THEN excluded.seasonal_outcome ELSE seasonal_outcome END, \
     seasonal_result = CASE WHEN {later} THEN excluded.seasonal_result ELSE seasonal_result END, \
     seasonal_at_ms = CASE WHEN {later} THEN excluded.seasonal_at_ms ELSE seasonal_at_ms END";

/// When the fact's deflection wins over the row's (SQLite).
const NEWER_SQLITE: &str = "excluded.deflect_at_ms IS NOT NULL AND (deflect_at_ms IS NULL \
     OR excluded.deflect_at_ms > deflect_at_ms OR (excluded.deflect_at_ms = deflect_at_ms \
     AND excluded.deflect_match > deflect_match))";

/// When the fact's seasonal verdict wins over the row's (SQLite): decided
/// later, or at the same time with a greater result id (a re-decision
/// after a crash is stamped later, so it wins in either folding order).
const LATER_SQLITE: &str = "excluded.seasonal_at_ms IS NOT NULL AND (seasonal_at_ms IS NULL \
     OR excluded.seasonal_at_ms > seasonal_at_ms OR (excluded.seasonal_at_ms = seasonal_at_ms \
     AND excluded.seasonal_result > seasonal_result))";

/// The state of a row from its facts: the first that holds of a deflecting
/// match (by its method), an alert, an alerting check without a verdict,
/// the seasonal verdict (cleared, confirmed, skipped), else not alerted;
/// NULL while the anomaly itself is unknown. A seasonal verdict comes after
/// the fingerprint and alert facts because those are what the operator
/// acts on: an anomaly seasonal confirmed is handed on, and what the
/// handing on came to says more.
const STATE_SQL: &str = "CASE \
     WHEN anomaly_timestamp IS NULL THEN NULL \
     WHEN deflect_method IN ('features_profile', 'min_max') THEN 'deflected_by_profile' \
     WHEN deflect_method = 'layers' THEN 'deflected_by_layer' \
     WHEN deflect_method = 'motif' THEN 'motif' \
     WHEN alerted = 1 THEN 'alerted' \
     WHEN awaiting_check IS NOT NULL AND judged = 0 THEN 'pending' \
     WHEN seasonal_outcome = 'cleared' THEN 'cleared_by_seasonal' \
     WHEN seasonal_outcome = 'anomalous' THEN 'confirmed_by_seasonal' \
     WHEN seasonal_outcome = 'skipped' THEN 'seasonal_skipped' \
     ELSE 'not_alerted' END";

/// Ids per `UPDATE … WHERE anomaly_id IN (…)`.
const IDS_PER_UPDATE: usize = 500;

impl Projection for Outcomes {
    fn name(&self) -> &'static str {
        "outcomes"
    }

    fn topics(&self) -> &'static [Topic] {
        &[
            Topic::Anomalies,
            Topic::Checks,
            Topic::Matches,
            Topic::Alerts,
            Topic::Seasonal,
        ]
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
            let facts: Vec<Vec<Value>> = events.iter().filter_map(|e| fact_of(e)).collect();
            if facts.is_empty() {
                return Ok(0);
            }
            let touched: BTreeSet<String> = facts
                .iter()
                .filter_map(|row| match &row[0] {
                    Value::Text(Some(id)) => Some(id.clone()),
                    _ => None,
                })
                .collect();
            let sqlite = MERGE_SQLITE
                .replace("{newer}", NEWER_SQLITE)
                .replace("{later}", LATER_SQLITE);
            let written = insert_rows(
                conn,
                dialect,
                OUTCOMES.name,
                &FACT_COLUMNS,
                OUTCOMES.key,
                OnConflict::Update {
                    mysql: MERGE_MYSQL,
                    sqlite: &sqlite,
                },
                &facts,
            )
            .await?;
            let touched: Vec<String> = touched.into_iter().collect();
            for ids in touched.chunks(IDS_PER_UPDATE) {
                let sql = format!(
                    "UPDATE anomaly_outcomes SET state = {STATE_SQL} WHERE anomaly_id IN ({})",
                    vec!["?"; ids.len()].join(", ")
                );
                let mut query = sqlx::query(&sql);
                for id in ids {
                    query = query.bind(id.clone());
                }
                query.execute(&mut *conn).await?;
            }
            Ok(written)
        })
    }
}
