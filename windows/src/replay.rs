//! Rebuilding the windows from the datapoints topic (`skyline replay
//! windows`): forget every window, then fold the topic from its start to
//! where it ended when the replay began.

use std::time::{Duration, Instant};

use thiserror::Error;
use topics::codec::decode;
use topics::kafka::{read_to_end, Error as KafkaError, KafkaConfig};
use topics::Datapoint;

use crate::{WindowError, Windows};

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Replayed {
    /// Records read from the datapoints topic (undecodable ones included:
    /// they are counted and skipped).
    pub datapoints: u64,
    /// Wall-clock seconds the fold took (clearing not included).
    pub seconds: f64,
}

/// Why a replay stopped.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// The windows could not be forgotten; nothing was folded.
    #[error("clearing the windows: {0}")]
    Clear(#[source] WindowError),
    /// A batch could not be folded; the windows hold what came before it.
    #[error("folding datapoints into the windows: {0}")]
    Fold(#[source] WindowError),
    /// The datapoints topic could not be read.
    #[error("reading the datapoints topic: {0}")]
    Kafka(#[from] KafkaError),
}

/// Clears `windows` and folds every datapoint of `topic` into them, reading
/// it to the end it had when the replay began
/// ([`topics::kafka::read_to_end`]), so a replay finishes while ingest goes
/// on writing. `idle` is the fallback end for a broker that under-reports
/// where a partition ends. Records that do not decode as a datapoint are
/// skipped.
pub async fn replay(
    windows: &Windows,
    kafka: &KafkaConfig,
    topic: &str,
    idle: Duration,
) -> Result<Replayed, ReplayError> {
    windows.clear().await.map_err(ReplayError::Clear)?;
    let started = Instant::now();
    let datapoints = read_to_end(kafka, "replay-windows", topic, idle, |records| {
        let points: Vec<Datapoint> = records
            .iter()
            .filter_map(|r| decode::<Datapoint>(r.payload()).ok())
            // The Analyzer dead-letters non-finite values; the windows never
            // hold them.
            .filter(|d| d.value.is_finite())
            .collect();
        async move {
            windows.fold(&points).await.map_err(ReplayError::Fold)?;
            Ok::<(), ReplayError>(())
        }
    })
    .await?;
    Ok(Replayed {
        datapoints,
        seconds: started.elapsed().as_secs_f64(),
    })
}
