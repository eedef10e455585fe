//! `anomalies` and `metrics` (with `metric_profiles`, the profiles each
//! metric has, from which `metrics.ionosphere_enabled` is derived), folded
//! from the anomalies and profiles topics.
//!
//! A metric's learn settings come from the latest created or learnt profile
//! event that carries them (latest by `at_ms`, then profile id): the
//! event's settings are what the metric learnt with when the profile was
//! made. The row remembers which event set them and only a later one
//! replaces them, so a re-emitted or late older event changes nothing and
//! the result does not depend on fold order.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::{LearnSettings, ProfileAction};

use super::insert_events;
use crate::db::{insert_rows, Dialect, Kind, OnConflict, Value};
use crate::{csv, metric_id, Error, Event, Projection, Table, Topic};

/// The `anomalies`, `metrics` and `metric_profiles` projection.
pub struct Anomalies;

/// `anomalies`: one row per anomaly the Analyzer found.
pub static ANOMALIES: Table = Table {
    name: "anomalies",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("metric_id", Kind::Text),
        ("anomaly_timestamp", Kind::Int),
        ("value", Kind::Real),
        ("source_app", Kind::Text),
        ("algorithms_run", Kind::Text),
        ("triggered_algorithms", Kind::Text),
        ("full_duration", Kind::Int),
        ("from_timestamp", Kind::Int),
        ("end_timestamp", Kind::Int),
        ("check_id", Kind::Text),
        ("derivative", Kind::Int),
        ("decided_at_ms", Kind::Int),
        ("anomaly_count", Kind::Int),
        ("last_timestamp", Kind::Int),
        ("max_deviation", Kind::Real),
    ],
};

/// `anomaly_ends`: each anomaly's end ([`topics::AnomalyEnded`]), kept by
/// anomaly so an end folded before its anomaly's row still reaches it.
pub static ANOMALY_ENDS: Table = Table {
    name: "anomaly_ends",
    key: &["anomaly_id"],
    columns: &[
        ("anomaly_id", Kind::Text),
        ("id", Kind::Text),
        ("metric_id", Kind::Text),
        ("anomaly_timestamp", Kind::Int),
        ("end_timestamp", Kind::Int),
        ("anomaly_count", Kind::Int),
        ("decided_at_ms", Kind::Int),
    ],
};

/// `metrics`: one row per metric with an anomaly or a profile, with its learn settings.
pub static METRICS: Table = Table {
    name: "metrics",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("name", Kind::Text),
        ("first_seen", Kind::Int),
        ("last_seen", Kind::Int),
        ("ionosphere_enabled", Kind::Int),
        ("learn_full_duration_days", Kind::Int),
        ("learn_valid_ts_older_than", Kind::Int),
        ("max_generations", Kind::Int),
        ("max_percent_diff_from_origin", Kind::Real),
        ("learn_full_duration", Kind::Int),
        ("learn_settings_at_ms", Kind::Int),
        ("learn_settings_profile_id", Kind::Text),
    ],
};

/// `metric_profiles`: each profile's metric and whether it is enabled (for `ionosphere_enabled`).
pub static METRIC_PROFILES: Table = Table {
    name: "metric_profiles",
    key: &["profile_id"],
    columns: &[
        ("profile_id", Kind::Text),
        ("metric_id", Kind::Text),
        ("enabled", Kind::Int),
    ],
};

static TABLES: [&Table; 4] = [&ANOMALIES, &METRICS, &METRIC_PROFILES, &ANOMALY_ENDS];

impl Projection for Anomalies {
    fn name(&self) -> &'static str {
        "anomalies"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Anomalies, Topic::Profiles, Topic::AnomalyEnds]
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
            let mut anomalies = Vec::new();
            let mut ends = Vec::new();
            // Per metric: name, earliest and latest anomaly in the batch.
            let mut seen: BTreeMap<uuid::Uuid, (&str, i64, i64)> = BTreeMap::new();
            let mut profiles_created = Vec::new();
            let mut profiles_disabled = Vec::new();
            let mut profile_metrics: BTreeMap<uuid::Uuid, &str> = BTreeMap::new();
            // Per metric: the latest learn settings in the batch, with the
            // (at_ms, profile id) that orders them.
            let mut learn: BTreeMap<uuid::Uuid, (i64, uuid::Uuid, LearnSettings)> = BTreeMap::new();
            for event in events {
                match event {
                    Event::Anomaly(a) => {
                        let id = metric_id(&a.metric);
                        let slot = seen
                            .entry(id)
                            .or_insert((&a.metric, a.timestamp, a.timestamp));
                        slot.1 = slot.1.min(a.timestamp);
                        slot.2 = slot.2.max(a.timestamp);
                        anomalies.push(vec![
                            a.id.into(),
                            id.into(),
                            a.timestamp.into(),
                            a.value.into(),
                            a.source.as_str().into(),
                            csv(&a.algorithms_run).into(),
                            csv(&a.triggered_algorithms).into(),
                            a.full_duration.into(),
                            a.from_timestamp.into(),
                            Value::Int(None),
                            a.check_id.into(),
                            a.derivative.into(),
                            a.decided_at_ms.into(),
                            i64::from(a.count).into(),
                            a.last_timestamp.into(),
                            a.max_deviation.into(),
                        ]);
                    }
                    Event::AnomalyEnded(e) => {
                        ends.push(vec![
                            e.anomaly_id.into(),
                            e.id.into(),
                            metric_id(&e.metric).into(),
                            e.timestamp.into(),
                            e.end_timestamp.into(),
                            i64::from(e.count).into(),
                            e.decided_at_ms.into(),
                        ]);
                    }
                    Event::Profile(p) => {
                        let id = metric_id(&p.metric);
                        profile_metrics.insert(id, &p.metric);
                        if let (ProfileAction::Created | ProfileAction::Learnt, Some(settings)) =
                            (p.action, p.learn_settings)
                        {
                            let newer = learn
                                .get(&id)
                                .is_none_or(|(at, pid, _)| (*at, *pid) <= (p.at_ms, p.profile_id));
                            if newer {
                                learn.insert(id, (p.at_ms, p.profile_id, settings));
                            }
                        }
                        match p.action {
                            ProfileAction::Created | ProfileAction::Learnt => profiles_created
                                .push(vec![p.profile_id.into(), id.into(), Value::from(1)]),
                            ProfileAction::Disabled => profiles_disabled.push(p.profile_id),
                            ProfileAction::Validated => {}
                        }
                    }
                    _ => {}
                }
            }
            let mut written = 0;
            let metrics: Vec<Vec<Value>> = seen
                .iter()
                .map(|(id, (name, first, last))| {
                    vec![
                        (*id).into(),
                        (*name).into(),
                        (*first).into(),
                        (*last).into(),
                    ]
                })
                .collect();
            written += insert_rows(
                conn,
                dialect,
                "metrics",
                &["id", "name", "first_seen", "last_seen"],
                &["id"],
                OnConflict::Update {
                    mysql: "first_seen = LEAST(COALESCE(first_seen, VALUES(first_seen)), VALUES(first_seen)), \
                            last_seen = GREATEST(COALESCE(last_seen, VALUES(last_seen)), VALUES(last_seen))",
                    sqlite: "first_seen = MIN(COALESCE(first_seen, excluded.first_seen), excluded.first_seen), \
                             last_seen = MAX(COALESCE(last_seen, excluded.last_seen), excluded.last_seen)",
                },
                &metrics,
            )
            .await?;
            written += fold_anomalies(conn, dialect, &anomalies, &ends).await?;

            if profile_metrics.is_empty() {
                return Ok(written);
            }
            // A metric known only from its profiles gets a row without
            // first/last seen.
            let known: Vec<Vec<Value>> = profile_metrics
                .iter()
                .map(|(id, name)| vec![(*id).into(), (*name).into()])
                .collect();
            insert_rows(
                conn,
                dialect,
                "metrics",
                &["id", "name"],
                &["id"],
                OnConflict::Keep,
                &known,
            )
            .await?;
            written += insert_rows(
                conn,
                dialect,
                "metric_profiles",
                &["profile_id", "metric_id", "enabled"],
                &["profile_id"],
                OnConflict::Keep,
                &profiles_created,
            )
            .await?;
            for profile in profiles_disabled {
                sqlx::query("UPDATE metric_profiles SET enabled = 0 WHERE profile_id = ?")
                    .bind(profile.to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            for (id, (at_ms, profile, settings)) in learn {
                write_learn_settings(conn, id, at_ms, profile, &settings).await?;
            }
            // ionosphere_enabled: 1 while the metric has an enabled profile.
            for id in profile_metrics.keys() {
                sqlx::query(
                    "UPDATE metrics SET ionosphere_enabled = \
                     (SELECT COUNT(*) FROM metric_profiles WHERE metric_id = ? AND enabled = 1) > 0 \
                     WHERE id = ?",
                )
                .bind(id.to_string())
                .bind(id.to_string())
                .execute(&mut *conn)
                .await?;
            }
            Ok(written)
        })
    }
}

/// Upserts the anomaly rows (an anomaly re-published as points extend it
/// keeps its first row and the largest count, last timestamp and deviation
/// seen: extensions only grow them, so the fold is idempotent and does not
/// depend on order), records the ends, and copies each end into its
/// anomaly's row whichever of the two was folded first.
async fn fold_anomalies(
    conn: &mut AnyConnection,
    dialect: Dialect,
    anomalies: &[Vec<Value>],
    ends: &[Vec<Value>],
) -> Result<u64, Error> {
    let columns: Vec<&str> = ANOMALIES.columns.iter().map(|c| c.0).collect();
    let mut written = insert_rows(
        conn,
        dialect,
        ANOMALIES.name,
        &columns,
        ANOMALIES.key,
        OnConflict::Update {
            mysql: "anomaly_count = GREATEST(anomaly_count, VALUES(anomaly_count)), \
                    last_timestamp = GREATEST(COALESCE(last_timestamp, VALUES(last_timestamp)), VALUES(last_timestamp)), \
                    max_deviation = GREATEST(max_deviation, VALUES(max_deviation))",
            sqlite: "anomaly_count = MAX(anomaly_count, excluded.anomaly_count), \
                     last_timestamp = MAX(COALESCE(last_timestamp, excluded.last_timestamp), excluded.last_timestamp), \
                     max_deviation = MAX(max_deviation, excluded.max_deviation)",
        },
        anomalies,
    )
    .await?;
    written += insert_events(conn, dialect, &ANOMALY_ENDS, ends).await?;
    // An end reaches its row here when both are in: this batch's ends, and
    // this batch's anomalies whose end was folded earlier.
    let mut touched: Vec<String> = ends.iter().filter_map(|r| text(&r[0])).collect();
    touched.extend(anomalies.iter().filter_map(|r| text(&r[0])));
    touched.sort_unstable();
    touched.dedup();
    for chunk in touched.chunks(500) {
        let sql = format!(
            "UPDATE anomalies SET end_timestamp = \
             (SELECT end_timestamp FROM anomaly_ends WHERE anomaly_ends.anomaly_id = anomalies.id) \
             WHERE id IN ({}) AND end_timestamp IS NULL",
            vec!["?"; chunk.len()].join(", ")
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(written)
}

/// The text of a text value.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(t) => t.clone(),
        _ => None,
    }
}

/// Sets a metric's learn settings from the profile event `(at_ms, profile)`
/// unless a later event set them already. Values are clamped to the
/// columns' range (and a non-finite percentage keeps the stored one): a
/// value the database refused would stop the fold at that record.
async fn write_learn_settings(
    conn: &mut AnyConnection,
    metric: uuid::Uuid,
    at_ms: i64,
    profile: uuid::Uuid,
    settings: &LearnSettings,
) -> Result<(), Error> {
    let int = |v: i64| v.clamp(0, i64::from(i32::MAX));
    // Whole days, rounded to the nearest (the reference keeps days).
    let days = int(settings.full_duration.saturating_add(43_200) / 86_400);
    let percent = Some(settings.max_percent_diff_from_origin).filter(|v| v.is_finite());
    sqlx::query(
        "UPDATE metrics SET learn_full_duration_days = ?, learn_valid_ts_older_than = ?, \
         max_generations = ?, \
         max_percent_diff_from_origin = COALESCE(?, max_percent_diff_from_origin), \
         learn_full_duration = ?, learn_settings_at_ms = ?, learn_settings_profile_id = ? \
         WHERE id = ? AND (learn_settings_at_ms IS NULL OR learn_settings_at_ms < ? \
         OR (learn_settings_at_ms = ? AND learn_settings_profile_id <= ?))",
    )
    .bind(days)
    .bind(int(settings.valid_ts_older_than))
    .bind(int(i64::from(settings.max_generations)))
    .bind(percent)
    .bind(settings.full_duration)
    .bind(at_ms)
    .bind(profile.to_string())
    .bind(metric.to_string())
    .bind(at_ms)
    .bind(at_ms)
    .bind(profile.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
