//! The ingest service: every configured source (Graphite plaintext, HTTP,
//! Kafka metric streams) started by one call, writing to the datapoints and
//! dead-letter topics through one [`KafkaSink`].

use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::net::TcpListener;
use topics::kafka::{KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::shutdown::Shutdown;

use crate::connections::{HttpLimits, TcpLimits};
use crate::http_server;
use crate::sink::KafkaSink;
use crate::sources::kafka_stream::{self, KafkaSourceConfig};
use crate::sources::{graphite_tcp, http, SourceStats};

/// The sources `skyline ingest` (and `skyline up`) run: `[ingest]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    /// Graphite plaintext listener address; unset: none.
    pub graphite_listen: Option<SocketAddr>,
    /// HTTP listener for `POST /api/v1/datapoints`; unset: none.
    pub http_listen: Option<SocketAddr>,
    /// Existing Kafka topics of metric lines to read.
    pub kafka_sources: Vec<KafkaSourceConfig>,
    /// Bounds on the Graphite listener's connections.
    pub graphite_connections: TcpLimits,
    /// Bounds on the HTTP listener's connections.
    pub http_connections: HttpLimits,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            graphite_listen: Some(SocketAddr::from(([127, 0, 0, 1], 2003))),
            http_listen: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            kafka_sources: Vec::new(),
            graphite_connections: TcpLimits::default(),
            http_connections: HttpLimits::default(),
        }
    }
}

/// A listener could not be opened.
#[derive(Debug, Error)]
#[error("cannot listen for {what} on {addr}")]
pub struct StartError {
    /// Which listener.
    pub what: &'static str,
    /// The address asked for.
    pub addr: SocketAddr,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// The running sources: where the listeners are bound (the configured
/// port may be 0) and the counts they share.
pub struct Started {
    /// What every source accepted and refused.
    pub stats: Arc<SourceStats>,
    /// The Graphite plaintext listener's address, if any.
    pub graphite: Option<SocketAddr>,
    /// The HTTP listener's address, if any.
    pub http: Option<SocketAddr>,
    /// The Kafka sources' tasks: each ends once its consumer has left the
    /// group after `shutdown` ([`Started::sources_stopped`]).
    pub kafka_sources: Vec<tokio::task::JoinHandle<()>>,
}

impl Started {
    /// Waits, after the shutdown, for every Kafka source to have closed its
    /// consumer (a process stopping its own broker must wait for this, so
    /// no client sees the broker vanish).
    pub async fn sources_stopped(&mut self) {
        for task in self.kafka_sources.drain(..) {
            let _ = task.await;
        }
    }
}

/// Binds the listeners, then starts every configured source as a task
/// that runs until `shutdown`. A Kafka source that stops on an error logs
/// it with its topic (the listeners cannot stop that way).
pub async fn start(
    settings: &IngestSettings,
    kafka: &KafkaConfig,
    topics: &TopicNames,
    producer: &Producer,
    shutdown: &Shutdown,
) -> Result<Started, StartError> {
    let sink = Arc::new(KafkaSink {
        producer: producer.clone(),
        datapoints_topic: topics.datapoints.clone(),
        deadletter_topic: topics.deadletter.clone(),
    });
    let stats = Arc::new(SourceStats::default());
    let mut started = Started {
        stats: stats.clone(),
        graphite: None,
        http: None,
        kafka_sources: Vec::new(),
    };
    if let Some(addr) = settings.graphite_listen {
        let (listener, bound) = bind(addr, "Graphite plaintext").await?;
        started.graphite = Some(bound);
        let (sink, stats, stop) = (sink.clone(), stats.clone(), shutdown.clone());
        let limits = settings.graphite_connections.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = graphite_tcp::serve(listener, sink, stats, limits) => {}
                _ = stop.wait() => {}
            }
        });
    }
    if let Some(addr) = settings.http_listen {
        let (listener, bound) = bind(addr, "HTTP").await?;
        started.http = Some(bound);
        // The process's /metrics and /health beside the datapoints (`skyline
        // up` and `skyline ingest` serve them here).
        let app = http::router(sink.clone(), stats.clone()).merge(runtime::telemetry::router());
        let stop = shutdown.clone();
        let limits = settings.http_connections.clone();
        tokio::spawn(async move {
            if let Err(e) = http_server::serve(listener, app, "http", &limits, stop.wait()).await {
                tracing::error!(error = %e, "http server failed");
            }
        });
    }
    for source in &settings.kafka_sources {
        let (kafka, source, sink, stats, stop) = (
            kafka.clone(),
            source.clone(),
            (*sink).clone(),
            stats.clone(),
            shutdown.clone(),
        );
        started.kafka_sources.push(tokio::spawn(async move {
            if let Err(e) = kafka_stream::run(&kafka, &source, sink, stats, stop.wait()).await {
                tracing::error!(topic = %source.topic, error = %e, "kafka source stopped");
            }
        }));
    }
    // Its sources are listening and reading: ready (the Kafka sources'
    // consumers report their own readiness when they run on the runtime).
    runtime::telemetry().set_ready("ingest", Ok(()));
    Ok(started)
}

async fn bind(
    addr: SocketAddr,
    what: &'static str,
) -> Result<(TcpListener, SocketAddr), StartError> {
    let error = |source| StartError { what, addr, source };
    let listener = TcpListener::bind(addr).await.map_err(error)?;
    let bound = listener.local_addr().map_err(error)?;
    Ok((listener, bound))
}
