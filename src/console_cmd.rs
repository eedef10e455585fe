//! `skyline console`: the web console on its own (it also runs inside
//! `skyline up`), and `skyline hash-password` for `[[console.users]]`.

use std::io::BufRead;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use fingerprint::SharedProfiles;
use profiles::{follow_profiles, load_profiles};
use topics::kafka::Producer;

use crate::config::Config;
use crate::panorama::{DatabaseArgs, DEFAULT_SQLITE};
use crate::services;
use crate::InfraArgs;

#[derive(clap::Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    infra: InfraArgs,
    #[command(flatten)]
    db: DatabaseArgs,
    /// Listen here instead of `[console] listen`.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

/// The console over these backends, with the settings checked.
pub fn console(
    config: &Config,
    producer: &Producer,
    db: projections::Database,
    windows: Option<Arc<windows::Windows>>,
    profiles: SharedProfiles,
) -> Result<Arc<console::Console>> {
    let writes = console::ApiState {
        producer: producer.clone(),
        topics: config.topics.clone(),
        checks: Arc::new(console::DbChecks(db.clone())),
        profiles,
        api_token: config.console.api_token.clone(),
    };
    let console = console::Console::new(&config.console, writes, db, windows)
        .context("invalid [console] table")?;
    Ok(Arc::new(console))
}

/// What `skyline up` and `skyline console` print about the console.
pub fn announce(config: &Config, addr: std::net::SocketAddr) {
    let c = &config.console;
    eprintln!(
        "console: http://{addr}/ ({} operator{} can log in{}{})",
        c.users.len(),
        if c.users.len() == 1 { "" } else { "s" },
        if c.anonymous_read {
            "; anyone may read"
        } else {
            ""
        },
        if c.api_token.is_some() {
            "; API token set"
        } else {
            ""
        },
    );
    if c.users.is_empty() {
        eprintln!(
            "console: add [[console.users]] (name, password_hash from `skyline hash-password`) to log in and label"
        );
    }
}

pub async fn run(mut config: Config, args: ConsoleArgs) -> Result<()> {
    args.infra.apply(&mut config);
    if let Some(listen) = args.listen {
        config.console.listen = listen;
    }
    let (_stop, shutdown) = services::shutdown_on_ctrl_c();
    let db = args
        .db
        .open(&config, std::path::Path::new(DEFAULT_SQLITE))
        .await?;
    let producer = Producer::new(&config.kafka)?;
    let windows = match &config.redis {
        Some(_) => Some(Arc::new(services::open_windows(&config).await?)),
        None => None,
    };
    let (store, positions) = load_profiles::<fingerprint::matching::Profile>(
        &config.kafka,
        &config.topics.profiles,
        Duration::from_secs(5),
    )
    .await
    .context("reading the profiles topic")?;
    let profiles: SharedProfiles = Arc::new(RwLock::new(store));
    let console = console(&config, &producer, db, windows, profiles.clone())?;
    let listener = tokio::net::TcpListener::bind(config.console.listen)
        .await
        .with_context(|| format!("binding the console on {}", config.console.listen))?;
    announce(&config, listener.local_addr()?);
    let kafka = config.kafka.clone();
    let stop = shutdown.clone();
    let follower = tokio::spawn(async move {
        follow_profiles(&kafka, profiles, &positions, stop.wait(), |_| async {}).await
    });
    console::serve_within(
        listener,
        console,
        &config.console.connections,
        shutdown.clone().wait(),
    )
    .await
    .context("serving the console")?;
    follower.await??;
    Ok(())
}

/// `skyline hash-password`: reads a password (one line on stdin) and
/// prints its Argon2id hash for `[[console.users]] password_hash`.
pub fn hash_password() -> Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        bail!("no password on stdin (type it, or pipe it in, then a newline)");
    }
    let hash = console::auth::hash_password(password)
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    println!("{hash}");
    Ok(())
}
