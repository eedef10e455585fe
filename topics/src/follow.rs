//! A small topic folded in memory by every instance that needs it (the
//! profiles, the mutes): read from offset 0 at start, then followed, so the
//! service keeps no state of its own. [`load`] returns where it stopped;
//! [`follow`] goes on from there.

use std::future::Future;
use std::time::Duration;

use crate::codec::{decode, Event};
use crate::kafka::{partitions, read_to_end, Consumer, Error, KafkaConfig};

/// Where a reader got to: `(topic, partition, next offset)` per partition.
pub type Positions = Vec<(String, i32, i64)>;

/// Reads `topic` from the beginning to the end it had when the load began
/// ([`read_to_end`]; `idle` is the fallback end for a broker that
/// under-reports where a partition ends), handing each event to `apply` in
/// offset order per partition. `reader` names the read in logs.
pub async fn load<E: Event>(
    kafka: &KafkaConfig,
    reader: &str,
    topic: &str,
    idle: Duration,
    mut apply: impl FnMut(E),
) -> Result<Positions, Error> {
    let mut positions: Positions = partitions(kafka, topic)
        .await?
        .iter()
        .map(|(partition, low, _)| (topic.to_owned(), *partition, *low))
        .collect();
    read_to_end(kafka, reader, topic, idle, |records| {
        for record in &records {
            if let Some(event) = decode_logged::<E>(topic, record.payload(), record.offset) {
                apply(event);
            }
            if let Some(pos) = positions.iter_mut().find(|p| p.1 == record.partition) {
                pos.2 = pos.2.max(record.offset + 1);
            }
        }
        std::future::ready(Ok::<(), Error>(()))
    })
    .await?;
    Ok(positions)
}

/// Follows from `positions` until `shutdown`, handing the events of each
/// batch to `on_events`. The consumer commits nothing: the next start
/// [`load`]s again.
pub async fn follow<E, F, Fut>(
    kafka: &KafkaConfig,
    reader: &str,
    positions: &Positions,
    shutdown: impl Future<Output = ()>,
    mut on_events: F,
) -> Result<(), Error>
where
    E: Event,
    F: FnMut(Vec<E>) -> Fut,
    Fut: Future<Output = ()>,
{
    let group = format!("{reader}-{}", uuid::Uuid::now_v7());
    let consumer = Consumer::assigned(kafka, &kafka.group_id(&group), &group, positions)?;
    tokio::pin!(shutdown);
    loop {
        let batch = tokio::select! {
            _ = &mut shutdown => break,
            batch = consumer.next_batch(10_000) => batch,
        };
        let events: Vec<E> = batch
            .iter()
            .filter_map(|r| decode_logged(&r.topic, r.payload(), r.offset))
            .collect();
        on_events(events).await;
    }
    consumer.close().await;
    Ok(())
}

/// Undecodable records are logged and skipped here: the projections
/// consumer dead-letters them once, and these readers re-read the topic on
/// every start.
fn decode_logged<E: Event>(topic: &str, payload: &[u8], offset: i64) -> Option<E> {
    decode::<E>(payload)
        .map_err(|err| tracing::warn!(%topic, offset, %err, "unreadable event skipped"))
        .ok()
}
