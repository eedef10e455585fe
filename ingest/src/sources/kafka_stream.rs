//! An operator's existing Kafka topic of metric lines (Graphite plaintext or
//! JSON, one or more lines per message), re-published as Datapoint events.
//! Input offsets are committed only after the datapoints are on the log;
//! a line that does not parse is dead-lettered with its reason.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use runtime::{Commit, Context, RunStats, Runtime, Service, ServiceError};
use serde::{Deserialize, Serialize};
use topics::excerpt;
use topics::kafka::{Batch, DeadLetters, KafkaConfig};

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
    /// The consumer's name: `name` if set, else `ingest.<topic>`.
    pub fn consumer_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("ingest.{}", self.topic))
    }
}

/// Most bytes of a refused line quoted in its dead letter's reason (the
/// letter carries the whole message already).
const QUOTED_LINE: usize = 200;
/// Longest wait before reading again after a batch failed.
const MAX_PAUSE: Duration = Duration::from_secs(60);

/// Reads `source` until `shutdown` resolves, on the service runtime; fails
/// only when its consumer cannot be made (a configuration error).
///
/// A batch that cannot be handled (its datapoints or dead letters cannot be
/// produced, even after the runtime's retries) is not committed and not
/// skipped: it is logged as an ERROR naming the topic and offsets, and the
/// source reads again from its last commit after a pause (1 s, doubling up
/// to a minute). It keeps trying rather than stopping because the only
/// failures left once every dead letter fits are the log's own (a broker
/// down or refusing writes), which end by themselves; and a source that
/// stopped would read nothing more until the process restarts, with no sign
/// but one log line.
pub async fn run(
    kafka: &KafkaConfig,
    source: &KafkaSourceConfig,
    sink: KafkaSink,
    stats: Arc<SourceStats>,
    shutdown: impl Future<Output = ()>,
) -> Result<RunStats, ServiceError> {
    let name = source.consumer_name();
    let dead = DeadLetters::new(
        sink.producer.clone(),
        sink.deadletter_topic.clone(),
        name.clone(),
    );
    let service = Arc::new(KafkaSource {
        name: name.clone(),
        topic: source.topic.clone(),
        format: source.format,
        sink,
        stats,
    });
    let shutdown = shutdown.fuse();
    futures::pin_mut!(shutdown);
    let mut total = RunStats::default();
    let mut pause = Duration::from_secs(1);
    loop {
        let runtime = Runtime::new(Arc::clone(&service), kafka, Some(dead.clone()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = runtime.run(async {
            let _ = stopped.await;
        });
        futures::pin_mut!(running);
        let outcome = tokio::select! {
            outcome = &mut running => outcome,
            () = &mut shutdown => {
                let _ = stop.send(());
                running.await
            }
        };
        match outcome {
            Ok(run) => {
                return Ok(RunStats {
                    batches: total.batches + run.batches,
                    records: total.records + run.records,
                    retries: total.retries + run.retries,
                    failed_commits: total.failed_commits + run.failed_commits,
                })
            }
            // Only making the consumer fails this way (a handler's failures
            // end in GaveUp): a configuration error.
            Err(e @ ServiceError::Kafka(_)) => return Err(e),
            Err(e) => {
                tracing::error!(
                    topic = %source.topic, consumer = %name, error = %e,
                    "kafka source: a batch could not be handled and is not committed; \
                     reading again from the last commit in {pause:?}"
                );
                // Every failed try of the batch counts as a retry.
                total.retries += match e {
                    ServiceError::GaveUp { attempts, .. } => u64::from(attempts),
                    _ => 1,
                };
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = &mut shutdown => return Ok(total),
                }
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}

/// One input topic as a service: each batch's lines re-published as
/// datapoints, the lines that do not parse dead-lettered.
struct KafkaSource {
    name: String,
    topic: String,
    format: LineFormat,
    sink: KafkaSink,
    stats: Arc<SourceStats>,
}

impl Service for KafkaSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn topics(&self) -> Vec<String> {
        vec![self.topic.clone()]
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        let dead = cx
            .dead_letters()
            .ok_or_else(|| ServiceError::task("a kafka source runs with dead letters"))?;
        republish(batch, self.format, &self.sink, dead, &self.stats).await?;
        Ok(Commit::Batch)
    }
}

async fn republish(
    batch: &Batch,
    format: LineFormat,
    sink: &KafkaSink,
    dead: &DeadLetters,
    stats: &SourceStats,
) -> Result<(), ServiceError> {
    let mut points = Vec::with_capacity(batch.len());
    let mut refused = Vec::new();
    let mut refused_lines = 0;
    for record in batch.iter() {
        let mut reasons = Vec::new();
        let mut first_reason = None;
        for line in record.payload().split(|&b| b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_line(format, line) {
                Ok(d) => points.push(d),
                Err(e) => {
                    first_reason.get_or_insert(e.reason());
                    reasons.push(format!(
                        "{e}: {:?}",
                        excerpt(&String::from_utf8_lossy(line), QUOTED_LINE)
                    ))
                }
            }
        }
        // A record is one letter: counted by its first refused line's reason.
        if let Some(reason) = first_reason {
            refused_lines += reasons.len();
            refused.push((record, reason, reasons.join("; ")));
        }
    }
    dead.send_all(&refused).await?;
    let accepted = points.len();
    sink.accept(points).await.map_err(ServiceError::state)?;
    stats.add(accepted, refused_lines);
    Ok(())
}
