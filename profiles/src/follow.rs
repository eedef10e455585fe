//! Keeping a [`ProfileStore`] folded from the profiles topic: every service
//! that matches or learns reads the whole topic at start and then follows
//! it ([`topics::follow`]). The topic is small (one event per profile
//! change), and reading it from offset 0 each time is what keeps the
//! services stateless.

use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use topics::follow::Positions;
use topics::follow::{follow, load};
use topics::kafka::{Error as KafkaError, KafkaConfig};
use topics::ProfileEvent;

use crate::store::{ProfileStore, ProfileView};

/// A store shared between the follower and the threads that match.
pub type SharedProfiles<P> = Arc<RwLock<ProfileStore<P>>>;

/// Reads the profiles topic from the beginning into a new store, to the end
/// it had when the load began (`idle` is the fallback end for a broker that
/// under-reports where a partition ends). The positions returned are where
/// [`follow_profiles`] goes on from.
pub async fn load_profiles<P: ProfileView>(
    kafka: &KafkaConfig,
    topic: &str,
    idle: Duration,
) -> Result<(ProfileStore<P>, Positions), KafkaError> {
    let mut store = ProfileStore::new();
    let positions = load(kafka, "profiles-loader", topic, idle, |e: ProfileEvent| {
        store.apply(&e);
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
    follow(
        kafka,
        "profiles-follower",
        positions,
        shutdown,
        |events: Vec<ProfileEvent>| {
            if let Ok(mut s) = store.write() {
                for e in &events {
                    s.apply(e);
                }
            }
            on_events(events)
        },
    )
    .await
}
