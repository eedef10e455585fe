//! `skyline label CHECK_ID ...`: an operator's label on a check, produced to
//! the labels topic (the learn service makes the profile).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use learn::{label_for_check, CheckLookup, LabelRequest};
use topics::codec::encode;
use topics::kafka::Producer;
use uuid::Uuid;

use crate::config::Config;
use crate::panorama::{DatabaseArgs, DEFAULT_SQLITE};
use crate::InfraArgs;

#[derive(clap::Args)]
pub struct LabelArgs {
    /// The check labelled (its id, as the projections' `checks` table and
    /// the anomaly's `check_id` show it).
    check_id: Uuid,
    /// The check's series is normal: make a features profile of it.
    #[arg(long)]
    not_anomalous: bool,
    /// Also learn from it at learn_full_duration ("Create and LEARN").
    #[arg(long)]
    learn: bool,
    /// A layers definition (JSON file) to attach to the profile.
    #[arg(long)]
    layers: Option<PathBuf>,
    /// The operator's words for the pattern.
    #[arg(long)]
    description: Option<String>,
    /// Who labels (default: $USER).
    #[arg(long)]
    operator: Option<String>,
    #[command(flatten)]
    infra: InfraArgs,
    #[command(flatten)]
    db: DatabaseArgs,
}

/// Reads and validates a layers definition file.
fn read_layers(path: &Path) -> Result<String> {
    let json = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the layers file {}", path.display()))?;
    fingerprint::matching::Layers::from_json(&json)
        .map_err(|e| anyhow!("{}: invalid layers definition: {e}", path.display()))?;
    Ok(json)
}

pub async fn run(mut config: Config, args: LabelArgs) -> Result<()> {
    args.infra.apply(&mut config);
    let layers_json = args.layers.as_deref().map(read_layers).transpose()?;
    let db = args.db.open(&config, Path::new(DEFAULT_SQLITE)).await?;
    let check = console::DbChecks(db)
        .check_for_label(args.check_id)
        .await?
        .ok_or_else(|| anyhow!("no check {} in the projections database", args.check_id))?;
    let operator = args
        .operator
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".to_owned());
    let request = LabelRequest {
        check_id: args.check_id,
        not_anomalous: args.not_anomalous,
        learn: args.learn,
        layers_json,
        description: args.description,
        operator,
    };
    let label = label_for_check(&request, &check, topics::clock::now_ms())
        .with_context(|| format!("labelling check {}", args.check_id))?;
    if label.learn && !label.not_anomalous {
        bail!("--learn needs --not-anomalous: only a normal series is learnt from");
    }
    crate::services::create_topics(&config, &[]).await?;
    let producer = Producer::new(&config.kafka)?;
    let bytes = encode(&label).map_err(|e| anyhow!("encoding the label: {e}"))?;
    producer
        .send(&config.topics.labels, label.metric.as_bytes(), &bytes)
        .await
        .with_context(|| format!("producing the label to {}", config.topics.labels))?;
    println!(
        "label {} on check {} ({} at {}): {}",
        label.id,
        args.check_id,
        label.metric,
        label.timestamp,
        if label.not_anomalous {
            "not anomalous"
        } else {
            "anomalous"
        }
    );
    Ok(())
}
