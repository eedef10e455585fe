//! The production [`DatapointSink`]: datapoints to the datapoints topic
//! (Avro, keyed by metric so a metric's points stay in order on one
//! partition), refused lines to the dead-letter topic.

use topics::codec::encode;
use topics::kafka::{DeadLetters, KeyedMessage, Producer};
use topics::Datapoint;

use crate::sources::{DatapointSink, Refusal, SinkError};

/// Produces to Kafka; `accept` returns once the broker has every datapoint.
#[derive(Clone)]
pub struct KafkaSink {
    /// The producer both topics are written with.
    pub producer: Producer,
    /// The datapoints topic's name.
    pub datapoints_topic: String,
    /// The dead-letter topic's name.
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

impl DatapointSink for KafkaSink {
    async fn accept(&self, batch: Vec<Datapoint>) -> Result<(), SinkError> {
        let records = datapoint_records(&batch)?;
        self.producer
            .send_batch(&self.datapoints_topic, records)
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        Ok(())
    }

    async fn refuse(&self, source: &str, refused: Vec<Refusal>) -> Result<(), SinkError> {
        DeadLetters::new(self.producer.clone(), &self.deadletter_topic, "ingest")
            .send_raw(source, &refused)
            .await
            .map_err(|e| SinkError(e.to_string()))
    }
}
