//! `skyline <command> --check`: the command's arguments parsed and its
//! configuration loaded and validated exactly as the command starts (the
//! same [`Config::load`] and the same builders' checks), then — unless
//! `--check=config` — what it needs reached the way it reaches it; one line
//! printed, `ok: …`, and exit 0, or the one-line error and exit 1. The
//! container healthchecks of docker-compose.yml run the full form; the
//! compose test runs the config-only form, which contacts nothing.

use anyhow::Result;
use stack::services::{self as build, DatabaseUse, Needs};
use stack::Config;

use crate::Command;

/// How far `--check` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckMode {
    /// The configuration, then Kafka, Redis and the database the command
    /// uses.
    Full,
    /// The configuration only: no I/O at all.
    Config,
}

/// Runs the check of `command` and prints its `ok:` line.
pub fn run(
    mut config: Config,
    command: &Command,
    mode: CheckMode,
    embedded_broker: bool,
) -> Result<()> {
    let (name, needs) = validate(&mut config, command, embedded_broker)?;
    if mode == CheckMode::Config {
        println!("ok: {name}: configuration valid (nothing contacted)");
        return Ok(());
    }
    let answered = crate::block_on_value(build::reach(&config, needs))?;
    if answered.is_empty() {
        println!("ok: {name}: configuration valid (needs nothing reachable)");
    } else {
        println!(
            "ok: {name}: configuration valid; {} answered",
            answered.join(", ")
        );
    }
    Ok(())
}

/// The command's own start-time validation beyond [`Config::load`] (the
/// same calls its start makes) and what it needs to reach.
fn validate(
    config: &mut Config,
    command: &Command,
    embedded_broker: bool,
) -> Result<(&'static str, Needs)> {
    let kafka = Needs {
        kafka: true,
        ..Needs::default()
    };
    // The services that hold windows: Redis when one is configured.
    let windowed = Needs {
        kafka: true,
        redis: true,
        database: None,
    };
    let reading = Needs {
        database: Some(DatabaseUse::Read),
        ..Needs::default()
    };
    Ok(match command {
        Command::Backtest(_) => ("backtest", Needs::default()),
        Command::Evaluate(_) => ("evaluate", Needs::default()),
        Command::Features(_) => ("features", Needs::default()),
        Command::HashPassword => ("hash-password", Needs::default()),
        Command::Import(_) => ("import", kafka),
        // The Skyline database it reads is given on the command line, not
        // in the configuration: only the broker is checked.
        Command::ImportSkyline(_) => ("import-skyline", kafka),
        Command::Up(_) => (
            "up",
            Needs {
                // Without --kafka, `up` runs its own broker, and without a
                // configured database its own SQLite file.
                kafka: !embedded_broker,
                redis: true,
                database: config
                    .projections
                    .database
                    .is_some()
                    .then_some(DatabaseUse::Write),
            },
        ),
        Command::Ingest => ("ingest", kafka),
        // Their Boundary rules, periodic checks, seasonal settings and
        // learn policy are validated by `Config::load`, which their start
        // calls too.
        Command::Analyze => ("analyze", windowed),
        Command::Fingerprint => ("fingerprint", windowed),
        Command::Seasonal => ("seasonal", windowed),
        Command::Learn => ("learn", windowed),
        Command::Alert(args) => ("alert", args.needs(config)?),
        Command::Project(args) => {
            args.selected()?;
            (
                "project",
                Needs {
                    kafka: true,
                    database: Some(DatabaseUse::Write),
                    ..Needs::default()
                },
            )
        }
        Command::Console(args) => {
            args.apply(config);
            (
                "console",
                Needs {
                    kafka: true,
                    redis: true,
                    database: Some(DatabaseUse::Write),
                },
            )
        }
        Command::Rematch(_) => ("rematch", kafka),
        Command::Anomalies(_) => ("anomalies", reading),
        Command::Metrics(_) => ("metrics", reading),
        Command::Profiles(_) => ("profiles", reading),
        Command::Replay(replay) => ("replay", replay.needs()?),
        Command::Label(_) => ("label", kafka),
        Command::Retrain(_) => ("retrain", kafka),
        Command::Profile(_) => ("profile", kafka),
    })
}
