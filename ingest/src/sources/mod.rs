//! Where datapoints come from. Each source parses and validates what it
//! receives and hands the result to a [`DatapointSink`]: valid datapoints to
//! [`DatapointSink::accept`], refused lines (with the reason) to
//! [`DatapointSink::refuse`], which dead-letters them — nothing is dropped
//! silently.

pub mod graphite_tcp;
pub mod http;
pub mod kafka_stream;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use thiserror::Error;
use topics::kafka::RefusalReason;
use topics::Datapoint;

/// The sink failed: the datapoints were not made durable and the source
/// must not acknowledge them.
#[derive(Debug, Error)]
#[error("datapoint sink: {0}")]
pub struct SinkError(pub String);

/// Where a source's output goes (the datapoints topic and the dead-letter
/// topic, in production).
pub trait DatapointSink: Send + Sync + 'static {
    /// Makes `batch` durable; returns only once it is.
    fn accept(&self, batch: Vec<Datapoint>) -> impl Future<Output = Result<(), SinkError>> + Send;
    /// Records what `source` refused: each line, element or body as its
    /// raw bytes, with why. All of `refused` at once, so a request or
    /// connection with many bad lines costs one round trip to the log, not
    /// one per line.
    fn refuse(
        &self,
        source: &str,
        refused: Vec<Refusal>,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// Something a source refused: its raw bytes, the counted reason and the
/// error in full.
pub type Refusal = (Vec<u8>, RefusalReason, String);

/// What a source has done since it started.
#[derive(Debug, Default)]
pub struct SourceStats {
    /// Datapoints handed to the sink.
    pub accepted: AtomicU64,
    /// Lines, elements or bodies refused.
    pub refused: AtomicU64,
}

impl SourceStats {
    /// Datapoints accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Lines, elements or bodies refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, accepted: usize, refused: usize) {
        self.accepted.fetch_add(accepted as u64, Ordering::Relaxed);
        self.refused.fetch_add(refused as u64, Ordering::Relaxed);
        let t = runtime::telemetry();
        for (outcome, n) in [("accepted", accepted), ("refused", refused)] {
            if n > 0 {
                t.count(
                    "skyline_ingest_datapoints_total",
                    "Datapoints accepted, and lines, elements or bodies refused, by ingest's sources.",
                    &[("outcome", outcome)],
                    n as u64,
                );
            }
        }
        if accepted > 0 {
            t.received(topics::clock::now_ms());
        }
    }
}
