//! The learn service against the real broker and Redis: a label becomes a
//! profile, a LEARN profile learns generation 1 from the long window, and
//! unmatched anomalies learn generation 2, 3, … up to max_generations; a
//! label on a seasonal check also makes its echo profile. The
//! long window is a real series (NAB `ec2_cpu_utilization_825cc2`, two
//! weeks of 5-minute points) folded into Redis windows.

mod common;

use std::sync::Arc;
use std::time::Duration;

use learn::service::Learner;
use learn::LearnConfig;
use topics::codec::encode;
use topics::kafka::{ensure_topics, Producer};
use topics::{
    Datapoint, DeadLetter, Label, MatchMethod, MatchResult, ProfileAction, ProfileEvent,
    SeriesPoint,
};
use uuid::Uuid;
use windows::{MemoryWindows, RedisWindows, WindowSettings, Windows};

const DAY: i64 = 86_400;

fn unmatched(metric: &str, timestamp: i64) -> MatchResult {
    MatchResult {
        id: Uuid::now_v7(),
        check_id: Uuid::now_v7(),
        anomaly_id: Uuid::now_v7(),
        metric: metric.to_owned(),
        timestamp,
        matched: false,
        method: MatchMethod::None,
        profile_id: None,
        layer_id: None,
        percent_different: None,
        distance: None,
        decided_at_ms: 0,
        echo: false,
        profiles_checked: 1,
        features_sum: None,
        common_features: None,
        approx_close: false,
        motif: None,
    }
}

fn learnt(events: &[ProfileEvent]) -> Vec<&ProfileEvent> {
    events
        .iter()
        .filter(|e| e.action == ProfileAction::Learnt)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_become_profiles_and_profiles_learn_generations() {
    let kafka = common::kafka();
    let topics = common::topic_names();
    ensure_topics(&kafka, &topics.all(), None).await.unwrap();
    let metric = format!("nab.ec2_cpu.{}", Uuid::now_v7().simple());

    // The long window: the whole real series folded into Redis.
    let series = common::nab_series();
    let windows = Windows::Redis(
        RedisWindows::connect(
            &topics::testing::service("SKYLINE_TEST_REDIS"),
            WindowSettings {
                key_prefix: format!("learn-test-{}", Uuid::now_v7().simple()),
                ..WindowSettings::default()
            },
        )
        .await
        .unwrap(),
    );
    let points: Vec<Datapoint> = series
        .iter()
        .map(|&(timestamp, value)| Datapoint {
            metric: metric.clone(),
            timestamp,
            value,
        })
        .collect();
    windows.fold(&points).await.unwrap();
    let windows = Arc::new(windows);

    let config = LearnConfig {
        learn_full_duration_days: 7,
        valid_ts_older_than: 1,
        max_generations: 4,
        ..LearnConfig::default()
    };
    let producer = Producer::new(&kafka).unwrap();
    let learner = Arc::new(Learner {
        policy: config.policy().unwrap(),
        topics: topics.clone(),
        windows: windows.clone(),
        producer: producer.clone(),
        consumer: "learn".into(),
        poll: Duration::from_millis(300),
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = {
        let kafka = kafka.clone();
        tokio::spawn(async move {
            learner
                .run(&kafka, async {
                    let _ = stopped.await;
                })
                .await
        })
    };

    // A not-anomalous LEARN label on the day before t0, plus a record that
    // is not a label at all.
    let t0 = series[0].0 + 8 * DAY;
    let label = Label {
        id: Uuid::now_v7(),
        metric: metric.clone(),
        anomaly_id: Some(Uuid::now_v7()),
        training_id: None,
        timestamp: t0,
        not_anomalous: true,
        learn: true,
        layers_json: None,
        operator: "ops".into(),
        labelled_at_ms: 1,
        check_id: Some(Uuid::now_v7()),
        full_duration: Some(DAY),
        series: Some(
            series
                .iter()
                .filter(|p| p.0 > t0 - DAY && p.0 <= t0)
                .map(|&(timestamp, value)| SeriesPoint { timestamp, value })
                .collect(),
        ),
        description: Some("normal day".into()),
        echo_series: None,
    };
    producer
        .send(&topics.labels, metric.as_bytes(), b"not avro")
        .await
        .unwrap();
    producer
        .send(&topics.labels, metric.as_bytes(), &encode(&label).unwrap())
        .await
        .unwrap();

    let wait = Duration::from_secs(90);
    let events: Vec<ProfileEvent> =
        common::read_until(&kafka, &topics.profiles, wait, |e: &[ProfileEvent]| {
            !learnt(e).is_empty()
        })
        .await;
    let created = events
        .iter()
        .find(|e| e.action == ProfileAction::Created)
        .expect("a Created profile event");
    assert_eq!(created.label_id, Some(label.id));
    assert_eq!((created.generation, created.parent_id), (0, None));
    assert_eq!(created.full_duration, DAY);
    assert!(created.learn && created.validated);
    let g1 = learnt(&events)[0].clone();
    assert_eq!(g1.generation, 1);
    assert_eq!(g1.parent_id, Some(created.profile_id));
    assert_eq!(g1.full_duration, 7 * DAY);
    assert!(g1.validated);
    assert_eq!(g1.anomaly_timestamp, Some(t0));

    // Similar anomalies nothing matched, two hours apart.
    for k in 1..=3 {
        let m = unmatched(&metric, t0 + k * 7200);
        producer
            .send(&topics.matches, metric.as_bytes(), &encode(&m).unwrap())
            .await
            .unwrap();
    }
    let events: Vec<ProfileEvent> =
        common::read_until(&kafka, &topics.profiles, wait, |e: &[ProfileEvent]| {
            learnt(e).len() >= 3
        })
        .await;
    let l = learnt(&events);
    assert_eq!(l.len(), 3, "generations 1, 2 and 3");
    assert_eq!((l[1].generation, l[1].parent_id), (2, Some(g1.profile_id)));
    assert_eq!(
        (l[2].generation, l[2].parent_id),
        (3, Some(l[1].profile_id))
    );
    assert!(!l[1].validated && !l[2].validated);
    // The third anomaly would make generation 4 = max_generations: nothing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let events: Vec<ProfileEvent> = common::read_until(
        &kafka,
        &topics.profiles,
        Duration::from_secs(5),
        |_: &[ProfileEvent]| false,
    )
    .await;
    assert_eq!(learnt(&events).len(), 3, "nothing at max_generations");
    assert!(learnt(&events).iter().all(|e| e.generation < 4));

    // The unreadable label went to the dead letters.
    let dead: Vec<DeadLetter> =
        common::read_until(&kafka, &topics.deadletter, wait, |d: &[DeadLetter]| {
            !d.is_empty()
        })
        .await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].source_topic, topics.labels);
    assert_eq!(dead[0].payload, b"not avro");

    let _ = stop.send(());
    let stats = service.await.unwrap().unwrap();
    assert_eq!(stats.created, 1);
    assert_eq!(stats.learnt, 3);
    assert_eq!(stats.dead_letters, 1);

    // Retraining over this log reads the one label (not the record that is
    // not one) and finds its profile already made at today's features.
    let (read, events) = learn::service::retrain_from_log(
        &kafka,
        &topics,
        config.policy().unwrap(),
        Duration::from_secs(3),
    )
    .await
    .unwrap();
    assert_eq!((read, events.len()), (1, 0));
    windows.clear().await.unwrap();
}

/// Delayed work survives a restart: the first learner reads the label and
/// an unmatched anomaly but stops before looking at its delayed work (its
/// poll is an hour); its commit on the matches topic is held back, so the
/// second learner (same group) reads the anomaly again, and learns both the
/// generation-1 profile (from the profiles topic, re-read from offset 0)
/// and generation 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_work_survives_a_restart() {
    let kafka = common::kafka();
    let topics = common::topic_names();
    ensure_topics(&kafka, &topics.all(), None).await.unwrap();
    let metric = format!("nab.ec2_cpu.{}", Uuid::now_v7().simple());
    let series = common::nab_series();
    let windows = Windows::Redis(
        RedisWindows::connect(
            &topics::testing::service("SKYLINE_TEST_REDIS"),
            WindowSettings {
                key_prefix: format!("learn-test-{}", Uuid::now_v7().simple()),
                ..WindowSettings::default()
            },
        )
        .await
        .unwrap(),
    );
    let points: Vec<Datapoint> = series
        .iter()
        .map(|&(timestamp, value)| Datapoint {
            metric: metric.clone(),
            timestamp,
            value,
        })
        .collect();
    windows.fold(&points).await.unwrap();
    let windows = Arc::new(windows);
    let config = LearnConfig {
        learn_full_duration_days: 7,
        valid_ts_older_than: 1,
        ..LearnConfig::default()
    };
    let producer = Producer::new(&kafka).unwrap();
    let learner = |poll| {
        Arc::new(Learner {
            policy: config.policy().unwrap(),
            topics: topics.clone(),
            windows: windows.clone(),
            producer: producer.clone(),
            consumer: "learn".into(),
            poll,
        })
    };
    let t0 = series[0].0 + 8 * DAY;
    let label = Label {
        id: Uuid::now_v7(),
        metric: metric.clone(),
        anomaly_id: None,
        training_id: None,
        timestamp: t0,
        not_anomalous: true,
        learn: true,
        layers_json: None,
        operator: "ops".into(),
        labelled_at_ms: 1,
        check_id: None,
        full_duration: Some(DAY),
        series: Some(
            series
                .iter()
                .filter(|p| p.0 > t0 - DAY && p.0 <= t0)
                .map(|&(timestamp, value)| SeriesPoint { timestamp, value })
                .collect(),
        ),
        description: None,
        echo_series: None,
    };
    producer
        .send(&topics.labels, metric.as_bytes(), &encode(&label).unwrap())
        .await
        .unwrap();
    let m = unmatched(&metric, t0 + 7200);
    producer
        .send(&topics.matches, metric.as_bytes(), &encode(&m).unwrap())
        .await
        .unwrap();

    // First run: only the Created event; then stop.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let first = {
        let (kafka, l) = (kafka.clone(), learner(Duration::from_secs(3600)));
        tokio::spawn(async move {
            l.run(&kafka, async {
                let _ = stopped.await;
            })
            .await
        })
    };
    let wait = Duration::from_secs(90);
    let events: Vec<ProfileEvent> =
        common::read_until(&kafka, &topics.profiles, wait, |e: &[ProfileEvent]| {
            !e.is_empty()
        })
        .await;
    assert_eq!(events.len(), 1);
    // Let it read the match too before stopping it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop.send(());
    let stats = first.await.unwrap().unwrap();
    assert_eq!((stats.created, stats.learnt), (1, 0));

    // Second run, same group: the delayed work is done.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = {
        let (kafka, l) = (kafka.clone(), learner(Duration::from_millis(300)));
        tokio::spawn(async move {
            l.run(&kafka, async {
                let _ = stopped.await;
            })
            .await
        })
    };
    let events: Vec<ProfileEvent> =
        common::read_until(&kafka, &topics.profiles, wait, |e: &[ProfileEvent]| {
            learnt(e).len() >= 2
        })
        .await;
    let l = learnt(&events);
    assert_eq!(l.len(), 2, "{events:?}");
    assert_eq!(l[0].generation, 1);
    assert_eq!(
        (l[1].generation, l[1].parent_id),
        (2, Some(l[0].profile_id))
    );
    assert_eq!(l[1].check_id, Some(m.check_id));
    let _ = stop.send(());
    let stats = second.await.unwrap().unwrap();
    assert_eq!(stats.learnt, 2);
    windows.clear().await.unwrap();
}

/// A label on a seasonal check (7 days at 600 s, its last 24 h as echo
/// series) becomes its profile and the echo profile, in that order, on the
/// profiles topic; a seasonal label whose echo series is too short for
/// features makes its own profile only. Retraining over the log finds all
/// three already made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seasonal_label_makes_its_echo_profile() {
    let kafka = common::kafka();
    let topics = common::topic_names();
    ensure_topics(&kafka, &topics.all(), None).await.unwrap();
    let metric = format!("nab.ec2_cpu.{}", Uuid::now_v7().simple());
    let series = common::nab_series();
    let t0 = series[0].0 + 8 * DAY;
    let label = common::seasonal_label(&series, Uuid::now_v7(), &metric, t0);
    let mut short = common::seasonal_label(&series, Uuid::now_v7(), &metric, t0 + DAY);
    // Six hours: far from covering FULL_DURATION.
    short.echo_series = short.echo_series.map(|s| s[s.len() - 72..].to_vec());
    for l in [&label, &short] {
        producer_send(&kafka, &topics.labels, &metric, &encode(l).unwrap()).await;
    }

    // Nothing here learns from the long window: an empty one will do.
    let windows = Arc::new(Windows::Memory(MemoryWindows::new(
        WindowSettings::default(),
    )));
    let config = LearnConfig::default();
    let learner = Arc::new(Learner {
        policy: config.policy().unwrap(),
        topics: topics.clone(),
        windows,
        producer: Producer::new(&kafka).unwrap(),
        consumer: "learn".into(),
        poll: Duration::from_millis(300),
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = {
        let kafka = kafka.clone();
        tokio::spawn(async move {
            learner
                .run(&kafka, async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    let events: Vec<ProfileEvent> = common::read_until(
        &kafka,
        &topics.profiles,
        Duration::from_secs(90),
        |e: &[ProfileEvent]| e.len() >= 3,
    )
    .await;
    assert_eq!(events.len(), 3, "{events:#?}");
    let (own, echo, short_own) = (&events[0], &events[1], &events[2]);
    assert_eq!(own.label_id, Some(label.id));
    assert_eq!((own.generation, own.full_duration), (0, 7 * DAY));
    assert_eq!(own.description.as_deref(), Some("weekly batch"));
    assert_eq!(echo.action, ProfileAction::Created);
    assert_eq!(
        echo.profile_id,
        topics::ids::echo_profile_id(own.profile_id)
    );
    assert_eq!(echo.parent_id, Some(own.profile_id));
    assert_eq!((echo.generation, echo.full_duration), (1, DAY));
    assert!(echo.validated && !echo.learn);
    assert_eq!(echo.description.as_deref(), Some("echo"));
    assert_eq!(Some(&echo.series), label.echo_series.as_ref());
    assert_eq!(echo.label_id, Some(label.id));
    // The too-short one: its own profile, no echo profile.
    assert_eq!(short_own.label_id, Some(short.id));
    assert_eq!(short_own.full_duration, 7 * DAY);

    let _ = stop.send(());
    let stats = service.await.unwrap().unwrap();
    assert_eq!((stats.labels, stats.created, stats.dead_letters), (2, 3, 0));

    let (read, again) = learn::service::retrain_from_log(
        &kafka,
        &topics,
        config.policy().unwrap(),
        Duration::from_secs(3),
    )
    .await
    .unwrap();
    assert_eq!((read, again.len()), (2, 0), "{again:#?}");
}

async fn producer_send(kafka: &topics::kafka::KafkaConfig, topic: &str, key: &str, bytes: &[u8]) {
    Producer::new(kafka)
        .unwrap()
        .send(topic, key.as_bytes(), bytes)
        .await
        .unwrap();
}
