//! `profiles` (features profiles) with `profile_features` (one row per
//! feature of a profile, keyed (profile, feature) rather than a table per
//! metric), `profile_series` (the series a profile was built from) and
//! `layers` (a profile's layers definition), folded from the profiles topic.
//!
//! Created and learnt events insert a profile once (a re-emitted creation
//! keeps the first row and never re-enables a disabled profile), validated
//! from the start when the event says so (an operator's own profile);
//! validated and disabled events set their flag, the first one recording
//! when (and, for a disabling, which profile's disabling it came with).
//! Disabling a profile disables its layers too. All of it is idempotent and
//! does not depend on the order of a batch beyond the log's own order per
//! metric.
//!
//! The metric's learn settings a created or learnt event carries go to
//! `metrics`, which the anomalies projection owns (it reads this topic too),
//! so a rebuild of either projection never leaves the other's rows stale.

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::ProfileAction;

use super::insert_events;
use crate::db::{Dialect, Kind, Value};
use crate::{layer_id, metric_id, Error, Event, Projection, Table, Topic};

/// The `profiles`, `profile_features`, `profile_series` and `layers` projection.
pub struct Profiles;

/// `profiles`: one row per features profile, with its lineage, flags and learn settings.
pub static PROFILES: Table = Table {
    name: "profiles",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("metric_id", Kind::Text),
        ("origin", Kind::Text),
        ("parent_id", Kind::Text),
        ("generation", Kind::Int),
        ("full_duration", Kind::Int),
        ("features_count", Kind::Int),
        ("features_sum", Kind::Real),
        ("series_points", Kind::Int),
        ("layer_id", Kind::Text),
        ("label_id", Kind::Text),
        ("enabled", Kind::Int),
        ("validated", Kind::Int),
        ("created_at_ms", Kind::Int),
        ("validated_at_ms", Kind::Int),
        ("disabled_at_ms", Kind::Int),
        ("learn", Kind::Int),
        ("description", Kind::Text),
        ("operator", Kind::Text),
        ("anomaly_timestamp", Kind::Int),
        ("check_id", Kind::Text),
        ("learn_full_duration", Kind::Int),
        ("learn_valid_ts_older_than", Kind::Int),
        ("max_generations", Kind::Int),
        ("max_percent_diff_from_origin", Kind::Real),
        ("disabled_with", Kind::Text),
    ],
};

/// `profile_features`: one row per (profile, feature id) with its value.
pub static PROFILE_FEATURES: Table = Table {
    name: "profile_features",
    key: &["profile_id", "feature_id"],
    columns: &[
        ("profile_id", Kind::Text),
        ("feature_id", Kind::Int),
        ("value", Kind::Real),
    ],
};

/// `profile_series`: one row per point of the series a profile was made from.
pub static PROFILE_SERIES: Table = Table {
    name: "profile_series",
    key: &["profile_id", "series_timestamp"],
    columns: &[
        ("profile_id", Kind::Text),
        ("series_timestamp", Kind::Int),
        ("value", Kind::Real),
    ],
};

/// `layers`: one row per layers definition (JSON), keyed by layer id.
pub static LAYERS: Table = Table {
    name: "layers",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("profile_id", Kind::Text),
        ("metric_id", Kind::Text),
        ("definition", Kind::Text),
        ("enabled", Kind::Int),
        ("created_at_ms", Kind::Int),
    ],
};

static TABLES: [&Table; 4] = [&PROFILES, &PROFILE_FEATURES, &PROFILE_SERIES, &LAYERS];

impl Projection for Profiles {
    fn name(&self) -> &'static str {
        "profiles"
    }

    fn topics(&self) -> &'static [Topic] {
        &[Topic::Profiles]
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
            let (mut profiles, mut features, mut series, mut layers) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut flags = Vec::new();
            for event in events {
                let Event::Profile(p) = event else { continue };
                let origin = match p.action {
                    ProfileAction::Created => "created",
                    ProfileAction::Learnt => "learnt",
                    ProfileAction::Validated | ProfileAction::Disabled => {
                        flags.push((p.action, p.profile_id, p.at_ms, p.disabled_with));
                        continue;
                    }
                };
                let metric = metric_id(&p.metric);
                let layer = p.layers_json.as_ref().map(|_| layer_id(p.profile_id));
                let learn = p.learn_settings.as_ref();
                profiles.push(vec![
                    p.profile_id.into(),
                    metric.into(),
                    origin.into(),
                    p.parent_id.into(),
                    i64::from(p.generation).into(),
                    p.full_duration.into(),
                    (p.features.len() as i64).into(),
                    stored_sum(p.features_sum).into(),
                    (p.series.len() as i64).into(),
                    layer.into(),
                    p.label_id.into(),
                    Value::from(1),
                    p.validated.into(),
                    p.at_ms.into(),
                    p.validated.then_some(p.at_ms).into(),
                    Value::Int(None),
                    p.learn.into(),
                    p.description.clone().into(),
                    p.operator.clone().into(),
                    p.anomaly_timestamp.into(),
                    p.check_id.into(),
                    learn.map(|l| l.full_duration).into(),
                    learn.map(|l| l.valid_ts_older_than).into(),
                    learn.map(|l| i64::from(l.max_generations)).into(),
                    learn
                        .map(|l| l.max_percent_diff_from_origin)
                        .filter(|v| v.is_finite())
                        .into(),
                    Value::Text(None),
                ]);
                // MySQL's DOUBLE holds no NaN or infinity, and these
                // columns are NOT NULL: a feature or point that is not a
                // number is left out (unknown, as the matching treats it)
                // rather than stalling the fold on it.
                for f in p.features.iter().filter(|f| f.value.is_finite()) {
                    features.push(vec![
                        p.profile_id.into(),
                        i64::from(f.id).into(),
                        f.value.into(),
                    ]);
                }
                for s in p.series.iter().filter(|s| s.value.is_finite()) {
                    series.push(vec![
                        p.profile_id.into(),
                        s.timestamp.into(),
                        s.value.into(),
                    ]);
                }
                if let (Some(layer), Some(definition)) = (layer, &p.layers_json) {
                    layers.push(vec![
                        layer.into(),
                        p.profile_id.into(),
                        metric.into(),
                        definition.as_str().into(),
                        Value::from(1),
                        p.at_ms.into(),
                    ]);
                }
            }
            let mut written = insert_events(conn, dialect, &PROFILES, &profiles).await?;
            written += insert_events(conn, dialect, &PROFILE_FEATURES, &features).await?;
            written += insert_events(conn, dialect, &PROFILE_SERIES, &series).await?;
            written += insert_events(conn, dialect, &LAYERS, &layers).await?;
            for (action, profile, at_ms, with) in flags {
                // The first validation or disabling is the one recorded.
                // `disabled_with` is assigned before `disabled_at_ms`:
                // MySQL evaluates assignments left to right on the updated
                // row (SQLite on the old one), so both see the old
                // `disabled_at_ms` there.
                let done = match action {
                    ProfileAction::Validated => {
                        sqlx::query(
                            "UPDATE profiles SET validated = 1, \
                             validated_at_ms = COALESCE(validated_at_ms, ?) WHERE id = ?",
                        )
                        .bind(at_ms)
                        .bind(profile.to_string())
                        .execute(&mut *conn)
                        .await?
                    }
                    _ => {
                        sqlx::query(
                            "UPDATE profiles SET enabled = 0, \
                             disabled_with = CASE WHEN disabled_at_ms IS NULL \
                             THEN ? ELSE disabled_with END, \
                             disabled_at_ms = COALESCE(disabled_at_ms, ?) WHERE id = ?",
                        )
                        .bind(with.map(|u| u.to_string()))
                        .bind(at_ms)
                        .bind(profile.to_string())
                        .execute(&mut *conn)
                        .await?
                    }
                };
                if action == ProfileAction::Disabled {
                    sqlx::query("UPDATE layers SET enabled = 0 WHERE profile_id = ?")
                        .bind(profile.to_string())
                        .execute(&mut *conn)
                        .await?;
                }
                written += done.rows_affected();
            }
            Ok(written)
        })
    }
}

/// A features sum as the NOT NULL `features_sum` column can hold it: NaN
/// features are skipped by the sum, so only an overflow (features near
/// ±f64::MAX) makes it non-finite, and then it is stored as the largest
/// double of its sign.
fn stored_sum(sum: f64) -> f64 {
    if sum.is_nan() {
        0.0
    } else {
        sum.clamp(-f64::MAX, f64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::stored_sum;

    #[test]
    fn an_overflowed_sum_is_stored_as_the_largest_double() {
        assert_eq!(stored_sum(f64::INFINITY), f64::MAX);
        assert_eq!(stored_sum(f64::NEG_INFINITY), -f64::MAX);
        assert_eq!(stored_sum(12.5), 12.5);
        assert!(stored_sum(f64::NAN).is_finite());
    }
}
