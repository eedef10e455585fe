//! An operator's existing Kafka topic of metric lines (Graphite plaintext or
//! JSON, one or more lines per message), re-published as Datapoint events.
//! Input offsets are committed only after the datapoints are on the log;
//! a line that does not parse is dead-lettered with its reason.

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use topics::kafka::{Batch, Consumer, DeadLetters, Error, KafkaConfig, RunStats};

use crate::line::{parse_line, LineFormat};
use crate::sink::KafkaSink;
use crate::sources::{DatapointSink, SourceStats};

/// One input stream (a `[[ingest.kafka_sources]]` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSourceConfig {
    /// The topic to read.
    pub topic: String,
    /// How its lines are written.
    #[serde(default)]
    pub format: LineFormat,
    /// Consumer name (the group is `<group_id_prefix>.<name>`); defaults to
    /// `ingest.<topic>`.
    #[serde(default)]
    pub name: Option<String>,
}

impl KafkaSourceConfig {
    pub fn consumer_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("ingest.{}", self.topic))
    }
}

/// Reads `source` until `shutdown` resolves.
pub async fn run(
    kafka: &KafkaConfig,
    source: &KafkaSourceConfig,
    sink: KafkaSink,
    stats: Arc<SourceStats>,
    shutdown: impl Future<Output = ()>,
) -> Result<RunStats, Error> {
    let name = source.consumer_name();
    let consumer = Consumer::new(kafka, &name, &[source.topic.as_str()])?;
    let dead = DeadLetters::new(sink.producer.clone(), sink.deadletter_topic.clone(), name);
    let format = source.format;
    consumer
        .run(shutdown, |batch: Batch| {
            let (sink, dead, stats) = (sink.clone(), dead.clone(), stats.clone());
            async move { republish(&batch, format, &sink, &dead, &stats).await }
        })
        .await
}

async fn republish(
    batch: &Batch,
    format: LineFormat,
    sink: &KafkaSink,
    dead: &DeadLetters,
    stats: &SourceStats,
) -> Result<(), Error> {
    let mut points = Vec::with_capacity(batch.len());
    for record in batch.iter() {
        let mut refusal = None;
        for line in record.payload().split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_line(format, line) {
                Ok(d) => points.push(d),
                Err(e) => {
                    refusal
                        .get_or_insert_with(Vec::new)
                        .push(format!("{e}: {:?}", String::from_utf8_lossy(line)));
                }
            }
        }
        if let Some(reasons) = refusal {
            stats.add(0, reasons.len());
            dead.send(record, &reasons.join("; ")).await?;
        }
    }
    let accepted = points.len();
    sink.accept(points).await.map_err(|e| Error::Handler {
        attempts: 1,
        records: batch.len(),
        message: e.to_string(),
    })?;
    stats.add(accepted, 0);
    Ok(())
}
