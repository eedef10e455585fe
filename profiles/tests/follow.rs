//! Loading and following the profiles topic against a real Kafka-protocol
//! broker (the one named by `SKYLINE_TEST_KAFKA`, else the one
//! `scripts/services` starts), on a fresh topic: `load_profiles` folds what
//! is there, `follow_profiles` goes on from where it stopped.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use profiles::{follow_profiles, load_profiles, ProfileStore, ProfileView, SharedProfiles};
use topics::codec::encode;
use topics::kafka::{ensure_topics, KafkaConfig, Producer};
use topics::{ProfileAction, ProfileEvent};
use uuid::Uuid;

fn kafka() -> KafkaConfig {
    KafkaConfig {
        group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
        ..topics::testing::config()
    }
}

/// A view of a test's own: the id and duration, and the description it was
/// made from (to see that the view is made from the creation event).
#[derive(Debug)]
struct View {
    id: Uuid,
    full_duration: i64,
    description: Option<String>,
}

impl ProfileView for View {
    fn from_event(e: &ProfileEvent) -> Self {
        View {
            id: e.profile_id,
            full_duration: e.full_duration,
            description: e.description.clone(),
        }
    }

    fn id(&self) -> Uuid {
        self.id
    }

    fn full_duration(&self) -> i64 {
        self.full_duration
    }
}

fn event(profile: u128, action: ProfileAction, parent: Option<u128>) -> ProfileEvent {
    ProfileEvent {
        action,
        parent_id: parent.map(Uuid::from_u128),
        generation: u32::from(parent.is_some()),
        full_duration: if parent.is_some() { 2 * 86_400 } else { 86_400 },
        description: Some(format!("profile {profile}")),
        ..topics::testing::profile_event(Uuid::from_u128(profile), "follow.m")
    }
}

async fn produce(producer: &Producer, topic: &str, events: &[ProfileEvent]) {
    let records: Vec<(Vec<u8>, Vec<u8>)> = events
        .iter()
        .map(|e| (e.metric.as_bytes().to_vec(), encode(e).expect("encode")))
        .collect();
    producer
        .send_batch(topic, records)
        .await
        .expect("send_batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_folds_the_topic_and_follow_goes_on() {
    topics::testing::in_time(load_then_follow()).await;
}

async fn load_then_follow() {
    let kafka = kafka();
    let topic = topics::testing::unique("profiles");
    ensure_topics(&kafka, &[&topic], Some(1))
        .await
        .expect("ensure_topics");
    let producer = Producer::new(&kafka).expect("producer");
    produce(
        &producer,
        &topic,
        &[
            event(1, ProfileAction::Created, None),
            event(2, ProfileAction::Created, None),
            // A repeat changes nothing; the validation and disable fold.
            event(1, ProfileAction::Created, None),
            event(1, ProfileAction::Validated, None),
            event(2, ProfileAction::Disabled, None),
        ],
    )
    .await;

    let (store, positions): (ProfileStore<View>, _) =
        load_profiles(&kafka, &topic, Duration::from_secs(3))
            .await
            .expect("load_profiles");
    assert_eq!(store.len(), 2);
    let one = store.get(Uuid::from_u128(1)).expect("profile 1");
    assert!(one.validated && one.enabled);
    assert_eq!(one.profile.description.as_deref(), Some("profile 1"));
    assert!(store.is_active(Uuid::from_u128(1)));
    assert!(!store.is_active(Uuid::from_u128(2)));
    let active: Vec<Uuid> = store
        .active_for_metric("follow.m")
        .map(|p| p.id())
        .collect();
    assert_eq!(active, [Uuid::from_u128(1)]);
    assert_eq!(positions, [(topic.clone(), 0, 5)]);

    // Following from there sees a profile learnt later, and only that.
    let shared: SharedProfiles<View> = Arc::new(RwLock::new(store));
    let seen: Arc<Mutex<Vec<ProfileEvent>>> = Arc::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let follower = {
        let (kafka, shared, seen) = (kafka.clone(), Arc::clone(&shared), Arc::clone(&seen));
        tokio::spawn(async move {
            follow_profiles(
                &kafka,
                shared,
                &positions,
                async move {
                    let _ = stopped.await;
                },
                |events| {
                    seen.lock().expect("seen").extend(events);
                    async {}
                },
            )
            .await
        })
    };
    produce(
        &producer,
        &topic,
        &[event(3, ProfileAction::Learnt, Some(1))],
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.read().expect("store").len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the follower never saw profile 3"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(());
    follower
        .await
        .expect("follower task")
        .expect("follow_profiles");

    let store = shared.read().expect("store");
    let three = store.get(Uuid::from_u128(3)).expect("profile 3");
    assert_eq!(three.parent_id, Some(Uuid::from_u128(1)));
    assert_eq!(three.full_duration(), 2 * 86_400);
    assert!(store.is_active(Uuid::from_u128(3)));
    assert_eq!(store.descendants(Uuid::from_u128(1)), [Uuid::from_u128(3)]);
    let seen: Vec<Uuid> = seen
        .lock()
        .expect("seen")
        .iter()
        .map(|e| e.profile_id)
        .collect();
    assert_eq!(seen, [Uuid::from_u128(3)]);
}
