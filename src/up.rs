//! `skyline up`: every service in one process. With no options it needs
//! nothing installed: an embedded Kafka-protocol broker (its log in
//! `--data-dir`, kept across restarts) and windows in memory, restored from
//! the log at each start up to where the analyzer had committed. `--demo` replays a bundled real series through the
//! same path an operator's metric stream takes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fingerprint::service::Fingerprinter;
use ingest::line::LineFormat;
use ingest::sources::kafka_stream::KafkaSourceConfig;
use runtime::Runtime;
use topics::codec::decode;
use topics::kafka::{Consumer, Producer};
use topics::AnomalyEvent;

use crate::config::Config;
use crate::services;
use crate::InfraArgs;
use topics::shutdown::Shutdown;

/// The topic the demo's Graphite lines are produced to.
pub const DEMO_TOPIC: &str = "skyline.demo.input";
/// The demo series' metric name.
pub const DEMO_METRIC: &str = "demo.ec2_cpu_utilization_825cc2";

#[derive(clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    infra: InfraArgs,
    /// Projections database: `--mysql URL` or `--sqlite FILE` (default: a
    /// SQLite file in the data directory).
    #[command(flatten)]
    db: crate::panorama::DatabaseArgs,
    /// Replay the bundled real series (two weeks of EC2 CPU from NAB)
    /// through the pipeline and print the anomalies found.
    #[arg(long)]
    demo: bool,
    /// Where the embedded broker keeps its log.
    #[arg(long, default_value = "skyline-data")]
    data_dir: PathBuf,
    /// Port of the embedded broker (0: any free port).
    #[arg(long, default_value_t = 9092)]
    broker_port: u16,
    /// Stop once the demo series has been analysed.
    #[arg(long)]
    exit_after_demo: bool,
}

pub async fn run(mut config: Config, args: UpArgs) -> Result<()> {
    args.infra.apply(&mut config);
    let (stop, shutdown) = services::shutdown_on_ctrl_c();

    #[cfg(feature = "embedded-broker")]
    let broker = match &args.infra.kafka {
        Some(_) => None,
        None => {
            let listen = std::net::SocketAddr::from(([127, 0, 0, 1], args.broker_port));
            let dir = args.data_dir.join("broker");
            let broker = topics::embedded::EmbeddedBroker::start(&dir, listen)
                .await
                .with_context(|| format!("starting the embedded broker in {}", dir.display()))?;
            config.kafka = services::embedded_kafka(&config, broker.bootstrap_servers());
            Some(broker)
        }
    };
    #[cfg(not(feature = "embedded-broker"))]
    if args.infra.kafka.is_none() {
        anyhow::bail!("this skyline was built without the embedded broker: pass --kafka HOST:PORT");
    }

    let extra: &[&str] = if args.demo { &[DEMO_TOPIC] } else { &[] };
    services::create_topics(&config, extra).await?;
    let mut demo_login = None;
    if args.demo {
        config.ingest.kafka_sources.push(KafkaSourceConfig {
            topic: DEMO_TOPIC.to_owned(),
            format: LineFormat::Graphite,
            name: None,
        });
        if config.console.users.is_empty() {
            demo_login = Some(demo_operator(&mut config)?);
        }
    }
    let producer = Producer::new(&config.kafka)?;
    let windows = Arc::new(services::open_windows(&config).await?);
    eprintln!("skyline up");
    eprintln!("kafka: {}", config.kafka.bootstrap_servers);
    eprintln!(
        "windows: {}",
        config
            .redis
            .as_deref()
            .unwrap_or("in memory (restored from the log at start)")
    );
    // The fingerprint service writes the ionosphere-enabled flags the
    // analyzer routes anomalies by: load the profiles before anything is
    // judged.
    let fingerprinter = Arc::new(crate::fingerprint_cmd::fingerprinter(
        &config,
        windows.clone(),
        producer.clone(),
    ))
    .runtime(&config.kafka);
    fingerprinter
        .restore()
        .await
        .context("loading the features profiles")?;
    // The analyzer's consumer group is the same at every start, so it
    // resumes where it committed; with in-memory windows, what they held
    // is restored from the log first (without deciding anything again).
    let analyzer =
        services::analyzer(&config, windows.clone(), producer.clone()).runtime(&config.kafka);
    services::restore_windows(&analyzer).await?;
    let stats = services::start_ingest(&config, &producer, &shutdown).await?;
    let analyzer_stop = shutdown.clone();
    let analyzer_task = tokio::spawn(async move { analyzer.run(analyzer_stop.wait()).await });
    let (projections, db) =
        crate::panorama::start_in_up(&config, &args.db, &args.data_dir, shutdown.clone()).await?;
    let (console_addr, tasks) =
        start_deflection(&config, fingerprinter, &windows, &producer, db, &shutdown).await?;
    eprintln!(
        "anomalies: topic {} (alerts: {}, checks: {}, refused input: {})",
        config.topics.anomalies,
        config.topics.alerts,
        config.topics.checks,
        config.topics.deadletter
    );

    if args.demo {
        run_demo(&config, &producer, &windows, shutdown.clone()).await?;
        if args.exit_after_demo {
            let _ = stop.send(true);
        } else {
            // The lines above scroll away: say again where to look.
            match &demo_login {
                Some(password) => eprintln!(
                    "\nconsole: http://{console_addr}/ (log in as demo with password {password}); Ctrl-C stops"
                ),
                None => eprintln!("\nconsole: http://{console_addr}/; Ctrl-C stops"),
            }
        }
    }
    shutdown.clone().wait().await;
    match analyzer_task.await {
        Ok(Ok(s)) => eprintln!("analyze: {} datapoints in {} batches", s.records, s.batches),
        Ok(Err(e)) => eprintln!("analyze stopped with an error: {e}"),
        Err(e) => eprintln!("analyze task failed: {e}"),
    }
    for (name, task) in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("{name} stopped with an error: {e:#}"),
            Err(e) => eprintln!("{name} task failed: {e}"),
        }
    }
    match projections.await {
        Ok(Ok(s)) => eprintln!("projections: {} records, {} rows written", s.events, s.rows),
        Ok(Err(e)) => eprintln!("projections stopped with an error: {e:#}"),
        Err(e) => eprintln!("projections task failed: {e}"),
    }
    eprintln!(
        "ingest: {} datapoints accepted, {} lines refused",
        stats.accepted(),
        stats.refused()
    );
    // Every client goes before the broker does, so none of them sees it
    // vanish.
    drop(producer);
    drop(windows);
    #[cfg(feature = "embedded-broker")]
    if let Some(broker) = broker {
        broker.stop().await;
    }
    Ok(())
}

/// The demo's console login when the config names no operator: `demo`
/// with a fresh random password, printed once (and again after the demo's
/// summary); returns the password.
fn demo_operator(config: &mut Config) -> Result<String> {
    let password = console::auth::random_password();
    let password_hash = console::auth::hash_password(&password)
        .map_err(|e| anyhow::anyhow!("hashing the demo password: {e}"))?;
    config.console.users.push(console::User {
        name: "demo".to_owned(),
        password_hash,
    });
    eprintln!("console: log in as demo with password {password} (this run only)");
    Ok(password)
}

type ServiceTask = tokio::task::JoinHandle<Result<()>>;

/// Starts fingerprint (deflection; its profiles already loaded), learn and
/// the console, all on the
/// shared windows (so the analyzer sees which metrics are
/// ionosphere-enabled) and the shared projections database (where labels
/// find their checks). Returns the console's address and the tasks.
async fn start_deflection(
    config: &Config,
    fingerprinter: Runtime<Fingerprinter>,
    windows: &Arc<windows::Windows>,
    producer: &Producer,
    db: projections::Database,
    shutdown: &Shutdown,
) -> Result<(std::net::SocketAddr, Vec<(&'static str, ServiceTask)>)> {
    let learner = Arc::new(crate::learn_cmd::learner(
        config,
        windows.clone(),
        producer.clone(),
    )?);
    let console = crate::console_cmd::console(
        config,
        producer,
        db,
        Some(windows.clone()),
        fingerprinter.service().profiles.clone(),
    )?;
    let listener = tokio::net::TcpListener::bind(config.console.listen)
        .await
        .with_context(|| format!("binding the console on {}", config.console.listen))?;
    let console_addr = listener.local_addr()?;
    crate::console_cmd::announce(config, console_addr);
    let stop = shutdown.clone();
    let fingerprint = tokio::spawn(async move {
        fingerprinter
            .run(stop.wait())
            .await
            .map(|_| ())
            .map_err(anyhow::Error::from)
    });
    let kafka = config.kafka.clone();
    let stop = shutdown.clone();
    let learn = tokio::spawn(async move {
        learner
            .run(&kafka, stop.wait())
            .await
            .map(|_| ())
            .map_err(anyhow::Error::from)
    });
    let stop = shutdown.clone();
    let limits = config.console.connections.clone();
    let console_task = tokio::spawn(async move {
        console::serve_within(listener, console, &limits, stop.wait())
            .await
            .map_err(anyhow::Error::from)
    });
    Ok((
        console_addr,
        vec![
            ("fingerprint", fingerprint),
            ("learn", learn),
            ("console", console_task),
        ],
    ))
}

/// Produces the demo series and prints the anomalies as they come off the
/// log, then a summary once the last point has been analysed.
async fn run_demo(
    config: &Config,
    producer: &Producer,
    windows: &windows::Windows,
    shutdown: Shutdown,
) -> Result<()> {
    let file = services::demo_file();
    let series = analyze::series_file::read_series_csv(&file, false)?;
    let mut points = series.points;
    analyze::series::sort_dedup(&mut points);
    let last_ts = points
        .last()
        .map(|p| p.0)
        .context("the demo series is empty")?;
    let started = Instant::now();
    eprintln!(
        "demo: producing {} points of {DEMO_METRIC} as Graphite lines to {DEMO_TOPIC} ({})",
        points.len(),
        file.display()
    );

    let group = format!("demo-watch-{}", uuid::Uuid::now_v7());
    let watcher = Consumer::with_group(
        &config.kafka,
        &group,
        &group,
        &[config.topics.anomalies.as_str()],
    )?;
    services::produce_graphite_lines(producer, DEMO_TOPIC, DEMO_METRIC, &points).await?;

    let mut found: Vec<AnomalyEvent> = Vec::new();
    let mut done_at: Option<Instant> = None;
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            batch = watcher.next_batch(1000) => {
                for r in batch.iter() {
                    if let Ok(a) = decode::<AnomalyEvent>(r.payload()) {
                        if a.metric == DEMO_METRIC && !found.iter().any(|f| f.id == a.id) {
                            if found.len() < 25 {
                                println!("anomaly {}  {}  value {}  triggered: {}", utc(a.timestamp), a.metric, a.value, a.triggered_algorithms.join(", "));
                            }
                            found.push(a);
                        }
                    }
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        if done_at.is_none() {
            let window = windows
                .windows(&[DEMO_METRIC])
                .await?
                .pop()
                .unwrap_or_default();
            if window.last().is_some_and(|p| p.0 >= last_ts) {
                done_at = Some(Instant::now());
            }
        }
        // Anomalies are published before the window is folded; give the
        // watcher a moment to read the last ones.
        if done_at.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("demo: the series was not analysed within 10 minutes");
        }
    }
    if found.len() > 25 {
        println!("... and {} more", found.len() - 25);
    }
    println!(
        "demo: {} points analysed in {:.1}s, {} anomalies on topic {} (NAB labels this series' anomaly window 2014-04-15 07:24 to 2014-04-16 11:54 UTC)",
        points.len(),
        started.elapsed().as_secs_f64(),
        found.len(),
        config.topics.anomalies
    );
    watcher.close().await;
    Ok(())
}

fn utc(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}
