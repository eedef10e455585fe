//! An operator's training from outside the console: a label on a check,
//! a retrain from the labels topic, a profile disabled or validated. Each
//! ends in events produced to the log; the learn service and the
//! projections do the rest.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use learn::{label_for_check, lifecycle, CheckLookup, LabelRequest};
use topics::codec::encode;
use topics::kafka::Producer;
use topics::{Label, ProfileEvent};
use uuid::Uuid;

use crate::services::{self as build, DEFAULT_SQLITE};
use crate::Config;

/// Reads a layers definition file and checks that it parses.
pub fn read_layers(path: &Path) -> Result<String> {
    let json = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the layers file {}", path.display()))?;
    fingerprint::matching::Layers::from_json(&json)
        .map_err(|e| anyhow!("{}: invalid layers definition: {e}", path.display()))?;
    Ok(json)
}

/// Labels the check `request` names (looked up in the projections) and
/// produces the label to the labels topic.
pub async fn label(config: &Config, request: &LabelRequest) -> Result<Label> {
    let db = build::open_database(config, Path::new(DEFAULT_SQLITE)).await?;
    let check = console::DbChecks(db)
        .check_for_label(request.check_id)
        .await?
        .ok_or_else(|| anyhow!("no check {} in the projections database", request.check_id))?;
    let label = label_for_check(request, &check, topics::clock::now_ms())
        .with_context(|| format!("labelling check {}", request.check_id))?;
    if label.learn && !label.not_anomalous {
        bail!("--learn needs --not-anomalous: only a normal series is learnt from");
    }
    build::create_topics(config, &[]).await?;
    let producer = Producer::new(&config.kafka)?;
    let bytes = encode(&label).map_err(|e| anyhow!("encoding the label: {e}"))?;
    producer
        .send(&config.topics.labels, label.metric.as_bytes(), &bytes)
        .await
        .with_context(|| format!("producing the label to {}", config.topics.labels))?;
    Ok(label)
}

/// Re-derives every label's profile from the labels topic (read to its
/// end; `idle` is the fallback end) and, unless `dry_run`, produces the
/// new profiles and the old ones' disabling. Returns the labels read and
/// the events.
pub async fn retrain(
    config: &Config,
    idle: Duration,
    dry_run: bool,
) -> Result<(usize, Vec<ProfileEvent>)> {
    let policy = config.learn.policy().context("invalid [learn] table")?;
    build::create_topics(config, &[]).await?;
    let (read, events) =
        learn::service::retrain_from_log(&config.kafka, &config.topics, policy, idle).await?;
    if !dry_run && !events.is_empty() {
        build::produce_profiles(config, &events).await?;
    }
    Ok((read, events))
}

/// Disables the profile `id` and every profile learnt from it (`disable`),
/// or validates it; produces and returns the events.
pub async fn change_profile(
    config: &Config,
    id: Uuid,
    operator: &str,
    disable: bool,
) -> Result<Vec<ProfileEvent>> {
    build::check_retention(config).await?;
    let (store, _) = build::read_profiles(config).await?;
    let events = if disable {
        lifecycle::disable(&store, id, operator)?
    } else {
        vec![lifecycle::validate(&store, id, operator)?]
    };
    build::produce_profiles(config, &events).await?;
    Ok(events)
}
