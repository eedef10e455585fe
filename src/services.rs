//! Running skyline's services: each on its own (`skyline ingest`,
//! `skyline analyze`), all in one process (`skyline up`), and the replays.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use analyze::service::Analyzer;
use anyhow::{Context, Result};
use ingest::sources::SourceStats;
use runtime::Runtime;
use tokio::sync::watch;
use topics::kafka::{ensure_topics, Producer};
use topics::shutdown::Shutdown;
use windows::{MemoryWindows, RedisWindows, Windows};

use crate::config::Config;

/// Starts listening for Ctrl-C; the sender stops everything.
pub fn shutdown_on_ctrl_c() -> (watch::Sender<bool>, Shutdown) {
    let (tx, shutdown) = Shutdown::new();
    let on_signal = tx.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping...");
            let _ = on_signal.send(true);
        }
    });
    (tx, shutdown)
}

/// Opens the windows store: Redis when configured, else memory.
pub async fn open_windows(config: &Config) -> Result<Windows> {
    Ok(match &config.redis {
        Some(url) => Windows::Redis(
            RedisWindows::connect(url, config.windows.clone())
                .await
                .with_context(|| format!("connecting to Redis at {url}"))?,
        ),
        None => Windows::Memory(MemoryWindows::new(config.windows.clone())),
    })
}

/// Creates every skyline topic (and the configured input topics).
pub async fn create_topics(config: &Config, extra: &[&str]) -> Result<()> {
    let t = &config.topics;
    let mut names = vec![
        t.datapoints.as_str(),
        t.anomalies.as_str(),
        t.checks.as_str(),
        t.matches.as_str(),
        t.labels.as_str(),
        t.profiles.as_str(),
        t.alerts.as_str(),
        t.deadletter.as_str(),
    ];
    names.extend(config.ingest.kafka_sources.iter().map(|s| s.topic.as_str()));
    names.extend_from_slice(extra);
    // Not wrapped in more context: the error is already the one line an
    // operator needs ("cannot reach Kafka at … (creating topics): …").
    topics::kafka::ensure_reachable(&config.kafka, "creating topics").await?;
    ensure_topics(&config.kafka, &names, None)
        .await
        .with_context(|| format!("creating topics on {}", config.kafka.bootstrap_servers))
}

/// Starts the configured sources ([`ingest::service::start`]) and says
/// where they listen; returns their stats.
pub async fn start_ingest(
    config: &Config,
    producer: &Producer,
    shutdown: &Shutdown,
) -> Result<Arc<SourceStats>> {
    let started = ingest::service::start(
        &config.ingest,
        &config.kafka,
        &config.topics,
        producer,
        shutdown,
    )
    .await?;
    if let Some(addr) = started.graphite {
        eprintln!("graphite plaintext: {addr}");
    }
    if let Some(addr) = started.http {
        eprintln!("http: POST http://{addr}/api/v1/datapoints");
    }
    for source in &config.ingest.kafka_sources {
        eprintln!("kafka source: {} ({:?})", source.topic, source.format);
    }
    Ok(started.stats)
}

/// Runs the Analyzer's restore phase: with in-memory windows, the windows
/// and the per-metric states come back from the log
/// ([`Analyzer::restore`]); says what it did. With Redis they are kept
/// there and nothing is read.
pub async fn restore_windows(runtime: &Runtime<Analyzer>) -> Result<()> {
    runtime
        .restore()
        .await
        .context("restoring the windows from the datapoints topic")?;
    let r = runtime.service().restored();
    if r.points > 0 {
        eprintln!(
            "windows: restored {} datapoints of {} metric{} from the log in {:.1}s ({} re-judged to rebuild alert and derivative state)",
            r.points,
            r.metrics,
            if r.metrics == 1 { "" } else { "s" },
            r.seconds,
            r.judged
        );
    }
    Ok(())
}

/// Builds the Analyzer service.
pub fn analyzer(config: &Config, windows: Arc<Windows>, producer: Producer) -> Arc<Analyzer> {
    Arc::new(Analyzer::new(
        config.analyzer.clone(),
        config.alerts.clone(),
        config.analyzer_service.clone(),
        config.topics.clone(),
        windows,
        producer,
    ))
}

/// `skyline replay windows`: forget the windows and fold the datapoints
/// topic again ([`windows::replay`]). `idle` is the fallback end for a
/// broker that under-reports where a partition ends.
pub async fn replay_windows(config: &Config, idle: Duration) -> Result<windows::Replayed> {
    let windows = open_windows(config).await?;
    Ok(windows::replay(&windows, &config.kafka, &config.topics.datapoints, idle).await?)
}

/// The demo series bundled with the repository.
pub fn demo_file() -> PathBuf {
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .map(|d| d.join("../../data/nab/ec2_cpu_utilization_825cc2.csv"));
    let candidates = [
        Some(PathBuf::from("data/nab/ec2_cpu_utilization_825cc2.csv")),
        beside_binary,
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nab/ec2_cpu_utilization_825cc2.csv")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("data/nab/ec2_cpu_utilization_825cc2.csv"))
}

/// Produces `points` of `metric` as Graphite lines to `topic`, the way an
/// operator's own metric stream would carry them.
pub async fn produce_graphite_lines(
    producer: &Producer,
    topic: &str,
    metric: &str,
    points: &[(i64, f64)],
) -> Result<usize> {
    let records: Vec<topics::kafka::KeyedMessage> = points
        .iter()
        .map(|(t, v)| {
            (
                metric.as_bytes().to_vec(),
                format!("{metric} {v} {t}").into_bytes(),
            )
        })
        .collect();
    Ok(producer.send_batch(topic, records).await?)
}

/// The Kafka configuration for an embedded broker.
#[cfg(feature = "embedded-broker")]
pub fn embedded_kafka(config: &Config, bootstrap: String) -> topics::kafka::KafkaConfig {
    topics::kafka::KafkaConfig {
        bootstrap_servers: bootstrap,
        partitions: 1,
        ..config.kafka.clone()
    }
}
