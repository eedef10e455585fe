//! `skyline import-skyline --mysql URL`: an existing Skyline's features
//! profiles and layers read from its MySQL (`metrics`, `ionosphere`,
//! `z_fp_<metric_id>`, `z_ts_<metric_id>`, `ionosphere_layers`,
//! `layers_algorithms`), made into profile events by [`learn::import`] and
//! produced to the profiles topic — skipping the profiles already there, so
//! importing twice produces nothing the second time.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use learn::import::{import, Import, LayerRow, SkylineLayers, SkylineMetric, SkylineProfile};
use sqlx::mysql::MySqlPool;
use sqlx::Row;
use topics::{LearnSettings, ProfileEvent};

use crate::services as build;
use crate::Config;

/// What an import did.
#[derive(Debug)]
pub struct Imported {
    /// The events and one report per Skyline profile.
    pub import: Import,
    /// Events produced (0 on a dry run): the import's, less those whose
    /// profile the profiles topic already holds.
    pub produced: usize,
    /// Events left out because their profile was already imported.
    pub already: usize,
}

/// MySQL's "table doesn't exist" (ER_NO_SUCH_TABLE).
fn no_such_table(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "42S02")
}

/// Reads a Skyline database at `url` (`mysql://user:pass@host:port/skyline`).
pub async fn read_skyline(
    url: &str,
) -> Result<(
    Vec<SkylineMetric>,
    Vec<SkylineProfile>,
    BTreeMap<i64, SkylineLayers>,
)> {
    let pool = MySqlPool::connect(url)
        .await
        .with_context(|| format!("connecting to the Skyline database {}", redact(url)))?;
    let rows = sqlx::query(
        "SELECT CAST(id AS SIGNED), CAST(metric_id AS SIGNED), CAST(full_duration AS SIGNED), \
         CAST(COALESCE(anomaly_timestamp, 0) AS SIGNED), CAST(COALESCE(enabled, 1) AS SIGNED), \
         CAST(deleted AS SIGNED), CAST(COALESCE(parent_id, 0) AS SIGNED), \
         CAST(COALESCE(generation, 0) AS SIGNED), CAST(COALESCE(validated, 0) AS SIGNED), \
         CAST(COALESCE(echo_fp, 0) AS SIGNED), label, \
         CAST(COALESCE(UNIX_TIMESTAMP(created_timestamp), 0) AS SIGNED), \
         CAST(COALESCE(layers_id, 0) AS SIGNED) FROM ionosphere ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .context("reading the ionosphere table (is this a Skyline database?)")?;
    let mut profiles = Vec::with_capacity(rows.len());
    for r in &rows {
        let deleted: Option<i64> = r.try_get(5)?;
        profiles.push(SkylineProfile {
            id: r.try_get(0)?,
            metric_id: r.try_get(1)?,
            full_duration: r.try_get(2)?,
            anomaly_timestamp: r.try_get(3)?,
            enabled: r.try_get::<i64, _>(4)? == 1 && deleted.is_none_or(|d| d == 0),
            parent_id: r.try_get(6)?,
            generation: u32::try_from(r.try_get::<i64, _>(7)?).unwrap_or(0),
            validated: r.try_get::<i64, _>(8)? > 0,
            echo: r.try_get::<i64, _>(9)? == 1,
            label: r.try_get(10)?,
            created_at_ms: r.try_get::<i64, _>(11)?.saturating_mul(1000),
            layers_id: r.try_get(12)?,
            features: Vec::new(),
            series: None,
        });
    }
    let metric_ids: std::collections::BTreeSet<i64> =
        profiles.iter().map(|p| p.metric_id).collect();

    let mut metrics = Vec::new();
    for r in sqlx::query(
        "SELECT CAST(id AS SIGNED), metric, CAST(COALESCE(learn_full_duration_days, 30) AS SIGNED), \
         CAST(COALESCE(learn_valid_ts_older_than, 3661) AS SIGNED), \
         CAST(COALESCE(max_generations, 5) AS SIGNED), \
         CAST(COALESCE(max_percent_diff_from_origin, 7.0) AS DOUBLE) FROM metrics",
    )
    .fetch_all(&pool)
    .await
    .context("reading the metrics table")?
    {
        let id: i64 = r.try_get(0)?;
        if !metric_ids.contains(&id) {
            continue;
        }
        let days: i64 = r.try_get(2)?;
        metrics.push(SkylineMetric {
            id,
            name: r.try_get(1)?,
            learn: LearnSettings {
                full_duration: if days <= 0 { 30 } else { days }.saturating_mul(86_400),
                valid_ts_older_than: r.try_get(3)?,
                max_generations: u32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(0),
                max_percent_diff_from_origin: r.try_get(5)?,
            },
        });
    }

    // Each metric's features and series tables (ids are integers from the
    // database: safe in a table name).
    for metric_id in &metric_ids {
        let mut features: BTreeMap<i64, Vec<(u16, f64)>> = BTreeMap::new();
        match sqlx::query(&format!(
            "SELECT CAST(fp_id AS SIGNED), CAST(feature_id AS SIGNED), value FROM z_fp_{metric_id}"
        ))
        .fetch_all(&pool)
        .await
        {
            Ok(rows) => {
                for r in rows {
                    let value: Option<f64> = r.try_get(2)?;
                    let id = u16::try_from(r.try_get::<i64, _>(1)?).unwrap_or(0);
                    features
                        .entry(r.try_get(0)?)
                        .or_default()
                        .push((id, value.unwrap_or(f64::NAN)));
                }
            }
            Err(e) if no_such_table(&e) => {}
            Err(e) => return Err(e).context(format!("reading z_fp_{metric_id}")),
        }
        let mut series: BTreeMap<i64, Vec<(i64, f64)>> = BTreeMap::new();
        match sqlx::query(&format!(
            "SELECT CAST(fp_id AS SIGNED), CAST(timestamp AS SIGNED), value FROM z_ts_{metric_id} \
             ORDER BY fp_id, timestamp"
        ))
        .fetch_all(&pool)
        .await
        {
            Ok(rows) => {
                for r in rows {
                    let value: Option<f64> = r.try_get(2)?;
                    if let Some(v) = value.filter(|v| v.is_finite()) {
                        series
                            .entry(r.try_get(0)?)
                            .or_default()
                            .push((r.try_get(1)?, v));
                    }
                }
            }
            Err(e) if no_such_table(&e) => {}
            Err(e) => return Err(e).context(format!("reading z_ts_{metric_id}")),
        }
        for p in profiles.iter_mut().filter(|p| p.metric_id == *metric_id) {
            p.features = features.remove(&p.id).unwrap_or_default();
            p.series = series.remove(&p.id);
        }
    }

    let mut layers: BTreeMap<i64, SkylineLayers> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT CAST(id AS SIGNED), CAST(COALESCE(enabled, 1) AS SIGNED), CAST(deleted AS SIGNED) \
         FROM ionosphere_layers",
    )
    .fetch_all(&pool)
    .await
    .context("reading the ionosphere_layers table")?
    {
        let id: i64 = r.try_get(0)?;
        let deleted: Option<i64> = r.try_get(2)?;
        layers.insert(
            id,
            SkylineLayers {
                id,
                enabled: r.try_get::<i64, _>(1)? == 1 && deleted.is_none_or(|d| d == 0),
                rows: Vec::new(),
            },
        );
    }
    for r in sqlx::query(
        "SELECT CAST(layer_id AS SIGNED), layer, `condition`, layer_boundary, \
         CAST(times_in_row AS SIGNED) FROM layers_algorithms ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .context("reading the layers_algorithms table")?
    {
        let layer_id: i64 = r.try_get(0)?;
        if let Some(l) = layers.get_mut(&layer_id) {
            l.rows.push(LayerRow {
                layer: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                condition: r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
                boundary: r.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
                times_in_row: r.try_get(4)?,
            });
        }
    }
    pool.close().await;
    Ok((metrics, profiles, layers))
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Reads the Skyline database at `url`, makes the events, and (unless
/// `dry_run`) produces those whose profile is not yet on the profiles
/// topic.
pub async fn import_skyline(config: &Config, url: &str, dry_run: bool) -> Result<Imported> {
    let (metrics, profiles, layers) = read_skyline(url).await?;
    let import = tokio::task::spawn_blocking(move || import(&metrics, &profiles, &layers))
        .await
        .context("making the profile events")?;
    build::create_topics(config, &[]).await?;
    let (store, _) = build::read_profiles(config).await?;
    let new: Vec<ProfileEvent> = import
        .events
        .iter()
        .filter(|e| store.get(e.profile_id).is_none())
        .cloned()
        .collect();
    let already = import.events.len() - new.len();
    let produced = if dry_run || new.is_empty() {
        0
    } else {
        build::produce_profiles(config, &new).await?;
        new.len()
    };
    Ok(Imported {
        import,
        produced,
        already,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redact("mysql://skyline:secret@db:3306/skyline"),
            "mysql://skyline:***@db:3306/skyline"
        );
        assert_eq!(redact("mysql://root@db/skyline"), "mysql://root@db/skyline");
    }
}
