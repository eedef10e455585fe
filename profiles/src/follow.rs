//! Keeping a [`ProfileStore`] folded from the profiles topic: every service
//! that matches or learns reads the whole topic at start and then follows
//! it. The topic is small (one event per profile change), and reading it
//! from offset 0 each time is what keeps the services stateless.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use topics::codec::decode;
use topics::kafka::{partitions, read_to_end, Consumer, Error as KafkaError, KafkaConfig};
use topics::ProfileEvent;

use crate::store::{ProfileStore, ProfileView};

/// A store shared between the follower and the threads that match.
pub type SharedProfiles<P> = Arc<RwLock<ProfileStore<P>>>;

/// Where a reader of the profiles topic got to: `(topic, partition, next
/// offset)` per partition.
pub type Positions = Vec<(String, i32, i64)>;

/// Reads the profiles topic from the beginning into a new store, to the end
/// it had when the load began ([`topics::kafka::read_to_end`]; `idle` is the
/// fallback end for a broker that under-reports where a partition ends).
/// The positions returned are where [`follow_profiles`] goes on from.
pub async fn load_profiles<P: ProfileView>(
    kafka: &KafkaConfig,
    topic: &str,
    idle: Duration,
) -> Result<(ProfileStore<P>, Positions), KafkaError> {
    let mut positions: Positions = partitions(kafka, topic)
        .await?
        .iter()
        .map(|(partition, low, _)| (topic.to_owned(), *partition, *low))
        .collect();
    let mut store = ProfileStore::new();
    read_to_end(kafka, "profiles-loader", topic, idle, |records| {
        for record in &records {
            apply_record(&mut store, record.payload(), record.offset);
            if let Some(pos) = positions.iter_mut().find(|p| p.1 == record.partition) {
                pos.2 = pos.2.max(record.offset + 1);
            }
        }
        std::future::ready(Ok::<(), KafkaError>(()))
    })
    .await?;
    Ok((store, positions))
}

/// Follows the profiles topic from `positions` into `store` until
/// `shutdown`, calling `on_events` with the events of each batch after they
/// are applied (e.g. to update the ionosphere-enabled flags).
pub async fn follow_profiles<P, F, Fut>(
    kafka: &KafkaConfig,
    store: SharedProfiles<P>,
    positions: &Positions,
    shutdown: impl std::future::Future<Output = ()>,
    mut on_events: F,
) -> Result<(), KafkaError>
where
    P: ProfileView,
    F: FnMut(Vec<ProfileEvent>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let group = format!("profiles-follower-{}", uuid::Uuid::now_v7());
    let consumer = Consumer::assigned(kafka, &kafka.group_id(&group), &group, positions)?;
    tokio::pin!(shutdown);
    loop {
        let batch = tokio::select! {
            _ = &mut shutdown => break,
            batch = consumer.next_batch(10_000) => batch,
        };
        let events: Vec<ProfileEvent> = batch
            .iter()
            .filter_map(|r| decode_logged(r.payload(), r.offset))
            .collect();
        if let Ok(mut s) = store.write() {
            for e in &events {
                s.apply(e);
            }
        }
        on_events(events).await;
    }
    consumer.close().await;
    Ok(())
}

fn apply_record<P: ProfileView>(store: &mut ProfileStore<P>, payload: &[u8], offset: i64) {
    if let Some(e) = decode_logged(payload, offset) {
        store.apply(&e);
    }
}

/// Undecodable records are logged and skipped here: the projections
/// consumer dead-letters them once, and this reader re-reads the topic on
/// every start.
fn decode_logged(payload: &[u8], offset: i64) -> Option<ProfileEvent> {
    decode::<ProfileEvent>(payload)
        .map_err(|err| tracing::warn!(offset, %err, "unreadable profile event skipped"))
        .ok()
}
