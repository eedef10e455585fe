//! An operator's training from the command line: `skyline label` (a label
//! on a check, produced to the labels topic; the learn service makes the
//! profile), `skyline retrain` and `skyline profile disable|validate`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use learn::LabelRequest;
use stack::training::read_layers;
use stack::Config;
use topics::ProfileAction;
use uuid::Uuid;

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
}

/// Who acts: `--operator`, else `$USER`.
fn operator(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".to_owned())
}

/// `skyline label CHECK_ID ...`.
pub async fn label(config: Config, args: LabelArgs) -> Result<()> {
    let request = LabelRequest {
        check_id: args.check_id,
        not_anomalous: args.not_anomalous,
        learn: args.learn,
        layers_json: args.layers.as_deref().map(read_layers).transpose()?,
        description: args.description,
        operator: operator(args.operator),
    };
    let label = stack::training::label(&config, &request).await?;
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

#[derive(clap::Args)]
pub struct RetrainArgs {
    /// Print what would be produced, produce nothing.
    #[arg(long)]
    dry_run: bool,
    /// The labels and profiles are read to where they ended when the
    /// retrain began; only for a broker that under-reports that end
    /// (tansu), after this many seconds without a record.
    #[arg(long, default_value_t = 5)]
    idle_seconds: u64,
}

/// `skyline retrain`: re-derives every label's profile.
pub async fn retrain(config: Config, args: RetrainArgs) -> Result<()> {
    let idle = Duration::from_secs(args.idle_seconds);
    let (read, events) = stack::training::retrain(&config, idle, args.dry_run).await?;
    let count = |a| events.iter().filter(|e| e.action == a).count();
    println!(
        "retrain: {read} labels read, {} profiles created, {} disabled{}",
        count(ProfileAction::Created),
        count(ProfileAction::Disabled),
        if args.dry_run {
            " (dry run: nothing produced)"
        } else {
            ""
        }
    );
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum ProfileCommand {
    /// Disable a profile and every profile learnt from it.
    Disable(ProfileArgs),
    /// Validate a (learnt) profile.
    Validate(ProfileArgs),
}

#[derive(clap::Args)]
pub struct ProfileArgs {
    /// The profile's id.
    id: Uuid,
    /// Who does it (default: $USER).
    #[arg(long)]
    operator: Option<String>,
}

/// `skyline profile disable|validate ID`.
pub async fn profile(config: Config, command: ProfileCommand) -> Result<()> {
    let (disable, args) = match command {
        ProfileCommand::Disable(a) => (true, a),
        ProfileCommand::Validate(a) => (false, a),
    };
    let operator = operator(args.operator);
    let events = stack::training::change_profile(&config, args.id, &operator, disable).await?;
    let verb = if disable { "disabled" } else { "validated" };
    for e in &events {
        match e.disabled_with {
            Some(with) => println!("{verb} {} (learnt from {with})", e.profile_id),
            None => println!("{verb} {}", e.profile_id),
        }
    }
    Ok(())
}
