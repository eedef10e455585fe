//! `skyline console`: the web console on its own (it also runs inside
//! `skyline up`), and `skyline hash-password` for `[[console.users]]`.

use std::io::BufRead;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::{bail, Context, Result};
use profiles::follow_profiles;
use stack::services::{self as build, DEFAULT_SQLITE};
use stack::Config;
use topics::kafka::Producer;

#[derive(clap::Args)]
pub struct ConsoleArgs {
    /// Listen here instead of `[console] listen`.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

impl ConsoleArgs {
    /// The configuration the console runs with: `--listen` over `[console]
    /// listen`.
    pub fn apply(&self, config: &mut Config) {
        if let Some(listen) = self.listen {
            config.console.listen = listen;
        }
    }
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

/// `skyline console`: the console, following the profiles topic, until
/// Ctrl-C.
pub async fn run(mut config: Config, args: ConsoleArgs) -> Result<()> {
    args.apply(&mut config);
    // The console replays the profiles and writes labels: both must be kept.
    build::check_retention(&config).await?;
    build::serve_telemetry(&config, "console").await?;
    let (_stop, shutdown) = build::shutdown_on_ctrl_c();
    let db = build::open_database(&config, Path::new(DEFAULT_SQLITE)).await?;
    let producer = Producer::new(&config.kafka)?;
    let windows = match &config.redis {
        Some(_) => Some(Arc::new(build::open_windows(&config).await?)),
        None => None,
    };
    let (store, positions) = build::read_profiles(&config).await?;
    let profiles: fingerprint::SharedProfiles = Arc::new(RwLock::new(store));
    {
        let db = db.clone();
        runtime::telemetry::probe("database", move || {
            let db = db.clone();
            async move { db.ping(std::time::Duration::from_secs(1)).await }
        });
    }
    if let Some(windows) = &windows {
        let windows = Arc::clone(windows);
        runtime::telemetry::probe("redis", move || {
            let windows = Arc::clone(&windows);
            async move { windows.ping().await }
        });
    }
    runtime::telemetry().set_ready(runtime::telemetry::CONSOLE, Ok(()));
    let console = build::console(&config, &producer, db, windows, profiles.clone())?;
    let listener = build::bind_console(&config).await?;
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
