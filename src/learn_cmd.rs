//! `skyline learn` (the learn service), `skyline retrain` and
//! `skyline profile disable|validate`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use learn::lifecycle;
use learn::service::Learner;
use profiles::load_profiles;
use topics::kafka::Producer;
use topics::{ProfileAction, ProfileEvent};
use uuid::Uuid;
use windows::Windows;

use crate::config::Config;
use crate::InfraArgs;

/// How long the profiles topic may stay silent before it counts as read.
const PROFILES_IDLE: Duration = Duration::from_secs(5);

/// Builds the learn service.
pub fn learner(config: &Config, windows: Arc<Windows>, producer: Producer) -> Result<Learner> {
    Ok(Learner {
        policy: config.learn.policy().context("invalid [learn] table")?,
        topics: config.topics.clone(),
        windows,
        producer,
        consumer: config.learn.consumer.clone(),
        poll: Duration::from_secs(config.learn.poll_seconds.max(1)),
    })
}

/// `skyline learn`: runs the learn service until Ctrl-C.
pub async fn run_learn(mut config: Config, infra: InfraArgs) -> Result<()> {
    infra.apply(&mut config);
    crate::services::create_topics(&config, &[]).await?;
    let producer = Producer::new(&config.kafka)?;
    let windows = Arc::new(crate::services::open_windows(&config).await?);
    let learner = Arc::new(learner(&config, windows, producer)?);
    let (_stop, shutdown) = crate::services::shutdown_on_ctrl_c();
    let stats = learner.run(&config.kafka, shutdown.wait()).await?;
    eprintln!(
        "learn: {} labels, {} profiles created, {} learnt, {} dead letters",
        stats.labels, stats.created, stats.learnt, stats.dead_letters
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
    #[command(flatten)]
    infra: InfraArgs,
}

async fn produce_profiles(config: &Config, events: &[ProfileEvent]) -> Result<()> {
    let producer = Producer::new(&config.kafka)?;
    let records = topics::kafka::keyed_messages(events, |e| &e.metric)
        .map_err(|x| anyhow!("encoding a profile event: {x}"))?;
    producer
        .send_batch(&config.topics.profiles, records)
        .await
        .with_context(|| format!("producing to {}", config.topics.profiles))?;
    Ok(())
}

/// `skyline retrain`: re-derives every label's profile.
pub async fn run_retrain(mut config: Config, args: RetrainArgs) -> Result<()> {
    args.infra.apply(&mut config);
    let policy = config.learn.policy().context("invalid [learn] table")?;
    crate::services::create_topics(&config, &[]).await?;
    let (read, events) = learn::service::retrain_from_log(
        &config.kafka,
        &config.topics,
        policy,
        Duration::from_secs(args.idle_seconds),
    )
    .await?;
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
    if !args.dry_run && !events.is_empty() {
        produce_profiles(&config, &events).await?;
    }
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
    #[command(flatten)]
    infra: InfraArgs,
}

/// `skyline profile disable|validate ID`.
pub async fn run_profile(mut config: Config, command: ProfileCommand) -> Result<()> {
    let (disable, args) = match command {
        ProfileCommand::Disable(a) => (true, a),
        ProfileCommand::Validate(a) => (false, a),
    };
    args.infra.apply(&mut config);
    let operator = args
        .operator
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".to_owned());
    let (store, _) = load_profiles::<fingerprint::matching::Profile>(
        &config.kafka,
        &config.topics.profiles,
        PROFILES_IDLE,
    )
    .await?;
    let events = if disable {
        lifecycle::disable(&store, args.id, &operator)?
    } else {
        vec![lifecycle::validate(&store, args.id, &operator)?]
    };
    produce_profiles(&config, &events).await?;
    for e in &events {
        let verb = if disable { "disabled" } else { "validated" };
        match e.disabled_with {
            Some(with) => println!("{verb} {} (learnt from {with})", e.profile_id),
            None => println!("{verb} {}", e.profile_id),
        }
    }
    Ok(())
}
