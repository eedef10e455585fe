//! Dead letters: what a consumer or a source refuses goes to the
//! dead-letter topic with the reason, rather than stopping it or vanishing,
//! and is counted by reason in `skyline_dead_letters_total{service,reason}`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts};
use uuid::Uuid;

use crate::clock::now_ms;
use crate::events::{excerpt, DeadLetter};
use crate::kafka::{Error, Producer, Record};

/// Why something was refused, in few enough words to count by: the
/// `reason` label of `skyline_dead_letters_total`. The letter's `error`
/// says the rest, in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefusalReason {
    /// A record that is not its topic's event (Avro that does not decode,
    /// or not Avro).
    Undecodable,
    /// A line, element or body of a source that does not parse as its
    /// format (field count, not UTF-8, invalid JSON, too long).
    Unparsable,
    /// A metric name refused: empty, too long, or with whitespace or
    /// control characters.
    MetricName,
    /// A value that is not a number, or not finite.
    Value,
    /// A timestamp that is not unix seconds, or out of range.
    Timestamp,
    /// An event that decodes but that the service cannot act on (a label
    /// whose series cannot make a profile).
    Unusable,
}

impl RefusalReason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::Undecodable => "undecodable",
            RefusalReason::Unparsable => "unparsable",
            RefusalReason::MetricName => "metric_name",
            RefusalReason::Value => "value",
            RefusalReason::Timestamp => "timestamp",
            RefusalReason::Unusable => "unusable",
        }
    }
}

/// `skyline_dead_letters_total{service,reason}`, counted where the letters
/// are made so that every refusal (a service's decoding, its own checks,
/// ingest's sources) is counted the same way. The process's telemetry
/// registers it (see `runtime::telemetry`).
static DEAD_LETTERED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "skyline_dead_letters_total",
            "Records, lines, elements or bodies dead-lettered, by the service that refused them and why.",
        ),
        &["service", "reason"],
    )
    .unwrap_or_else(|e| unreachable!("a valid metric definition: {e}"))
});

/// The dead letters counted in this process (a handle on the one counter
/// family, for a registry to export).
pub fn dead_lettered() -> IntCounterVec {
    DEAD_LETTERED.clone()
}

/// The sink for records a consumer cannot use: each becomes a
/// [`DeadLetter`] on the dead-letter topic (key: the source topic) with the
/// raw key and value, where it came from, why it was refused and who refused
/// it, so a consumer neither crashes on a poison message nor drops it
/// silently. Cheap to clone.
#[derive(Clone)]
pub struct DeadLetters {
    producer: Producer,
    topic: String,
    consumer: String,
}

impl DeadLetters {
    /// Dead letters of `consumer`, produced to `topic` (normally
    /// `skyline.deadletter`).
    pub fn new(producer: Producer, topic: impl Into<String>, consumer: impl Into<String>) -> Self {
        DeadLetters {
            producer,
            topic: topic.into(),
            consumer: consumer.into(),
        }
    }

    /// The dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Logs `record` as refused for `reason` (`error` in full) and produces
    /// its dead letter, returning once the broker has it (so the record's
    /// offset may then be committed).
    pub async fn send(
        &self,
        record: &Record,
        reason: RefusalReason,
        error: &(dyn std::fmt::Display + Sync),
    ) -> Result<(), Error> {
        self.send_all(&[(record, reason, error.to_string())]).await
    }

    /// Dead-letters every `(record, reason, error)` of `refused` in one
    /// pipelined produce (one round trip for the lot rather than one per
    /// record), returning once the broker has them all. One WARN names how
    /// many, the first one's place and its error.
    pub async fn send_all(
        &self,
        refused: &[(&Record, RefusalReason, String)],
    ) -> Result<(), Error> {
        let Some((first, _, error)) = refused.first() else {
            return Ok(());
        };
        tracing::warn!(
            consumer = %self.consumer, topic = %first.topic, partition = first.partition,
            offset = first.offset, count = refused.len(), error = %excerpt(error, 500),
            "dead-lettering records"
        );
        let letters = refused.iter().map(|(record, reason, error)| {
            let letter = self.letter(&record.topic, record.payload(), error);
            let letter = DeadLetter {
                partition: Some(record.partition),
                offset: Some(record.offset),
                key: record.key.clone(),
                ..letter
            };
            (*reason, letter)
        });
        self.produce(letters).await
    }

    /// Dead-letters what a source outside Kafka refused (a Graphite line, an
    /// HTTP body or element): each `(raw bytes, reason, error)` of
    /// `refused`, with `source` (`"http"`, `"graphite-tcp:<peer>"`) as the
    /// source topic and no partition or offset, in one pipelined produce.
    pub async fn send_raw(
        &self,
        source: &str,
        refused: &[(Vec<u8>, RefusalReason, String)],
    ) -> Result<(), Error> {
        let Some((_, _, error)) = refused.first() else {
            return Ok(());
        };
        tracing::debug!(
            consumer = %self.consumer, source, count = refused.len(), error = %excerpt(error, 500),
            "dead-lettering refused input"
        );
        let letters = refused
            .iter()
            .map(|(raw, reason, error)| (*reason, self.letter(source, raw, error)));
        self.produce(letters).await
    }

    /// A fitted letter for `payload` refused for `error`, read from
    /// `source_topic` (no partition, offset or key yet).
    fn letter(&self, source_topic: &str, payload: &[u8], error: &str) -> DeadLetter {
        // Copy no more than a fitted letter keeps; length and hash are the
        // whole value's.
        let head = &payload[..payload.len().min(DeadLetter::MAX_PAYLOAD)];
        DeadLetter {
            id: Uuid::now_v7(),
            source_topic: source_topic.to_owned(),
            partition: None,
            offset: None,
            key: None,
            payload: head.to_vec(),
            error: excerpt(error, DeadLetter::MAX_ERROR),
            consumer: self.consumer.clone(),
            at_ms: now_ms(),
            payload_length: Some(payload.len() as i64),
            payload_sha256: Some(crate::events::sha256_hex(payload)),
            key_length: None,
        }
    }

    /// Produces `letters` and, once the broker has them all, counts them by
    /// reason.
    async fn produce(
        &self,
        letters: impl Iterator<Item = (RefusalReason, DeadLetter)>,
    ) -> Result<(), Error> {
        let mut messages = Vec::new();
        let mut by_reason: BTreeMap<RefusalReason, u64> = BTreeMap::new();
        for (reason, letter) in letters {
            let letter = letter.fitted();
            let bytes = crate::codec::encode(&letter).map_err(|e| Error::Encode(e.to_string()))?;
            messages.push((letter.source_topic.into_bytes(), bytes));
            *by_reason.entry(reason).or_default() += 1;
        }
        self.producer.send_batch(&self.topic, messages).await?;
        for (reason, n) in by_reason {
            DEAD_LETTERED
                .with_label_values(&[self.consumer.as_str(), reason.as_str()])
                .inc_by(n);
        }
        Ok(())
    }

    /// Decodes every record of `records` with `decode`; those it refuses
    /// are dead-lettered together (and awaited) as
    /// [`RefusalReason::Undecodable`] and left out. Returns the records that
    /// decoded, with their values, in order.
    pub async fn decode_batch<'b, T, E, D>(
        &self,
        records: &'b [Record],
        mut decode: D,
    ) -> Result<Vec<(&'b Record, T)>, Error>
    where
        D: FnMut(&Record) -> Result<T, E>,
        E: std::fmt::Display,
    {
        let mut good = Vec::with_capacity(records.len());
        let mut refused = Vec::new();
        for record in records {
            match decode(record) {
                Ok(value) => good.push((record, value)),
                // Rendered at once: the error type need not be Send.
                Err(e) => refused.push((record, RefusalReason::Undecodable, e.to_string())),
            }
        }
        self.send_all(&refused).await?;
        Ok(good)
    }
}
