//! The production [`DatapointSink`]: datapoints to the datapoints topic
//! (Avro, keyed by metric so a metric's points stay in order on one
//! partition), refused lines to the dead-letter topic.

use std::time::{SystemTime, UNIX_EPOCH};

use topics::codec::encode;
use topics::ids::fresh_id;
use topics::kafka::{KeyedMessage, Producer};
use topics::{Datapoint, DeadLetter};

use crate::sources::{DatapointSink, SinkError};

/// Produces to Kafka; `accept` returns once the broker has every datapoint.
#[derive(Clone)]
pub struct KafkaSink {
    pub producer: Producer,
    pub datapoints_topic: String,
    pub deadletter_topic: String,
}

/// Encodes datapoints as `(key, value)` records for the datapoints topic.
pub fn datapoint_records(batch: &[Datapoint]) -> Result<Vec<KeyedMessage>, SinkError> {
    batch
        .iter()
        .map(|d| {
            let value = encode(d).map_err(|e| SinkError(e.to_string()))?;
            Ok((d.metric.as_bytes().to_vec(), value))
        })
        .collect()
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl DatapointSink for KafkaSink {
    async fn accept(&self, batch: Vec<Datapoint>) -> Result<(), SinkError> {
        let records = datapoint_records(&batch)?;
        self.producer
            .send_batch(&self.datapoints_topic, records)
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        Ok(())
    }

    async fn refuse(&self, source: &str, raw: Vec<u8>, reason: String) -> Result<(), SinkError> {
        tracing::debug!(source, reason = %reason, "refused a line");
        let letter = DeadLetter {
            id: fresh_id(),
            source_topic: source.to_owned(),
            partition: None,
            offset: None,
            key: None,
            payload: raw,
            error: reason,
            consumer: "ingest".to_owned(),
            at_ms: now_ms(),
        };
        let value = encode(&letter).map_err(|e| SinkError(e.to_string()))?;
        self.producer
            .send(&self.deadletter_topic, source.as_bytes(), &value)
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        Ok(())
    }
}
