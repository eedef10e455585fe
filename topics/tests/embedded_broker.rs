//! The embedded broker end to end through rdkafka: 20,000 messages produced
//! and consumed by a group, a restart on the same data directory, and the
//! group's committed offsets and every message still there afterwards.
//!
//! `cargo test -p skyline-topics --features embedded-broker --test embedded_broker -- --nocapture`
//! also prints the throughput seen.

#![cfg(feature = "embedded-broker")]

use std::{
    collections::HashSet,
    future::Future,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use futures::future::join_all;
use rdkafka::{
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    config::ClientConfig,
    consumer::{CommitMode, Consumer, StreamConsumer},
    producer::{FutureProducer, FutureRecord},
    Message, Offset,
};
use topics::embedded::{EmbeddedBroker, EmbeddedBrokerError};
use uuid::Uuid;

const TOPIC: &str = "embedded-broker-test";
const PARTITIONS: i32 = 3;
const BEFORE: usize = 20_000;
const AFTER: usize = 100;
const PHASE: Duration = Duration::from_secs(120);

/// A scratch directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("skyline-embedded-broker-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs one phase of the test, failing it instead of hanging.
async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(PHASE, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within {PHASE:?}"),
    }
}

fn loopback_any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn producer(bootstrap: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .set("message.timeout.ms", "60000")
        .create()
        .expect("producer")
}

fn consumer(bootstrap: &str, group: &str) -> StreamConsumer {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "50")
        .create()
        .expect("consumer");
    consumer.subscribe(&[TOPIC]).expect("subscribe");
    consumer
}

async fn create_topic(bootstrap: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client");
    let topic = NewTopic::new(TOPIC, PARTITIONS, TopicReplication::Fixed(1));
    let results = admin
        .create_topics([&topic], &AdminOptions::new())
        .await
        .expect("create_topics request");
    for result in results {
        result.expect("topic created");
    }
}

/// Produces `keys` and waits for every delivery; returns the elapsed time.
async fn produce(producer: &FutureProducer, keys: &[String]) -> Duration {
    let payload = vec![b'x'; 100];
    let started = Instant::now();
    let mut deliveries = Vec::with_capacity(keys.len());
    for key in keys {
        let record = FutureRecord::to(TOPIC).key(key.as_str()).payload(&payload);
        match producer.send_result(record) {
            Ok(delivery) => deliveries.push(delivery),
            Err((error, _)) => panic!("enqueue {key}: {error}"),
        }
    }
    for (i, outcome) in join_all(deliveries).await.into_iter().enumerate() {
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err((error, _))) => panic!("delivery of message {i}: {error}"),
            Err(_) => panic!("delivery of message {i} cancelled"),
        }
    }
    started.elapsed()
}

/// Receives until `wanted` distinct keys have arrived; returns every key seen
/// (duplicates included, in arrival order).
async fn consume(consumer: &StreamConsumer, wanted: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut distinct = HashSet::new();
    while distinct.len() < wanted {
        let message = consumer.recv().await.expect("receive");
        let key = message
            .key()
            .map(|key| String::from_utf8_lossy(key).into_owned())
            .expect("every test message has a key");
        distinct.insert(key.clone());
        seen.push(key);
    }
    seen
}

fn before_keys() -> Vec<String> {
    (0..BEFORE).map(|i| format!("before-{i}")).collect()
}

fn after_keys() -> Vec<String> {
    (0..AFTER).map(|i| format!("after-{i}")).collect()
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_and_committed_offsets_survive_a_restart() {
    let dir = TempDir::new();
    let data_dir = dir.path().join("broker");

    // First run: create, produce, consume with a group, commit.
    let started = Instant::now();
    let broker = bounded(
        "start",
        EmbeddedBroker::start(&data_dir, loopback_any_port()),
    )
    .await
    .expect("start broker");
    eprintln!(
        "broker up in {:?} on {}",
        started.elapsed(),
        broker.bootstrap_servers()
    );
    let listen = broker.local_addr();
    assert_ne!(listen.port(), 0, "port 0 resolves to a real port");
    let bootstrap = broker.bootstrap_servers();

    bounded("create topic", create_topic(&bootstrap)).await;

    let before = before_keys();
    {
        let producer = producer(&bootstrap);
        let elapsed = bounded("produce", produce(&producer, &before)).await;
        eprintln!(
            "produced {BEFORE} in {elapsed:?} ({:.0} msg/s)",
            rate(BEFORE, elapsed)
        );
    }

    {
        let consumer = consumer(&bootstrap, "group-a");
        let started = Instant::now();
        let seen = bounded("consume", consume(&consumer, BEFORE)).await;
        let elapsed = started.elapsed();
        eprintln!(
            "consumed {} ({} distinct) in {elapsed:?} incl. group join ({:.0} msg/s)",
            seen.len(),
            BEFORE,
            rate(seen.len(), elapsed)
        );
        let distinct: HashSet<_> = seen.iter().collect();
        assert!(before.iter().all(|key| distinct.contains(key)));

        consumer
            .commit_consumer_state(CommitMode::Sync)
            .expect("commit");
        let committed = consumer
            .committed(Duration::from_secs(10))
            .expect("committed offsets");
        let total: i64 = committed
            .elements()
            .iter()
            .map(|element| match element.offset() {
                Offset::Offset(offset) => offset,
                other => panic!(
                    "partition {} has no committed offset: {other:?}",
                    element.partition()
                ),
            })
            .sum();
        assert_eq!(
            total, BEFORE as i64,
            "committed offsets cover every message"
        );
    }

    bounded("stop", broker.stop()).await;

    // Second run on the same data directory and port.
    let started = Instant::now();
    let broker = bounded("restart", EmbeddedBroker::start(&data_dir, listen))
        .await
        .expect("restart broker");
    eprintln!("broker restarted in {:?}", started.elapsed());
    assert_eq!(broker.local_addr(), listen);
    let bootstrap = broker.bootstrap_servers();

    let after = after_keys();
    {
        let producer = producer(&bootstrap);
        bounded("produce after restart", produce(&producer, &after)).await;
    }

    {
        // Same group: resumes from its committed offsets, so it sees only
        // what was produced after the restart.
        let consumer = consumer(&bootstrap, "group-a");
        let started = Instant::now();
        let seen = bounded("consume after restart", consume(&consumer, AFTER)).await;
        eprintln!(
            "group-a resumed and got {} in {:?}",
            seen.len(),
            started.elapsed()
        );
        let stale: Vec<_> = seen
            .iter()
            .filter(|key| key.starts_with("before-"))
            .collect();
        assert!(
            stale.is_empty(),
            "already committed messages came again: {} of them",
            stale.len()
        );
        let distinct: HashSet<_> = seen.iter().collect();
        assert!(after.iter().all(|key| distinct.contains(key)));
    }

    {
        // A new group reads everything from offset 0.
        let consumer = consumer(&bootstrap, "group-b");
        let started = Instant::now();
        let seen = bounded("consume all", consume(&consumer, BEFORE + AFTER)).await;
        let elapsed = started.elapsed();
        eprintln!(
            "group-b read {} from offset 0 in {elapsed:?} ({:.0} msg/s)",
            seen.len(),
            rate(seen.len(), elapsed)
        );
        let distinct: HashSet<_> = seen.iter().collect();
        assert!(before.iter().all(|key| distinct.contains(key)));
        assert!(after.iter().all(|key| distinct.contains(key)));
    }

    bounded("final stop", broker.stop()).await;
}

#[tokio::test]
async fn a_busy_port_is_reported() {
    let dir = TempDir::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("local addr");
    match bounded("start", EmbeddedBroker::start(dir.path(), addr)).await {
        Err(EmbeddedBrokerError::PortInUse { addr: reported, .. }) => assert_eq!(reported, addr),
        other => panic!("expected PortInUse, got {other:?}"),
    }
}

#[tokio::test]
async fn a_data_dir_that_cannot_be_created_is_reported() {
    let dir = TempDir::new();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write");
    match bounded(
        "start",
        EmbeddedBroker::start(&file.join("broker"), loopback_any_port()),
    )
    .await
    {
        Err(EmbeddedBrokerError::CreateDataDir { .. }) => {}
        other => panic!("expected CreateDataDir, got {other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_broker_releases_its_port() {
    let dir = TempDir::new();
    let broker = bounded(
        "start",
        EmbeddedBroker::start(dir.path(), loopback_any_port()),
    )
    .await
    .expect("start");
    let addr = broker.local_addr();
    drop(broker);
    // The aborted task lets go of the listener shortly after.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(_) => break,
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("port {addr} still held: {error}"),
        }
    }
}

/// The embedded broker (tansu on SQLite) keeps the topic configs skyline
/// creates its topics with, across a restart, and answers DescribeConfigs
/// with them: `skyline up` checks its own topics' retention as a service on
/// Kafka does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_configs_survive_a_restart() {
    use topics::kafka::{describe_retention, ensure_topics_with_configs, KafkaConfig};
    use topics::names::TopicNames;
    use topics::retention::{judge, plan, Keep, Need, RetentionSettings, TopicRetention, Verdict};

    let dir = TempDir::new();
    let data_dir = dir.path().join("broker");
    let names = TopicNames::default();
    let planned = plan(
        &names,
        &RetentionSettings::default(),
        Need {
            keep: Keep::Days(32),
            why: "to rebuild the windows".to_owned(),
        },
    );
    let specs: Vec<_> = planned.iter().map(TopicRetention::spec).collect();
    let all = names.all();

    let broker = bounded(
        "start",
        EmbeddedBroker::start(&data_dir, loopback_any_port()),
    )
    .await
    .expect("start broker");
    let listen = broker.local_addr();
    let kafka = KafkaConfig::for_brokers(broker.bootstrap_servers());
    bounded(
        "create topics",
        ensure_topics_with_configs(&kafka, &specs, Some(1)),
    )
    .await
    .expect("creating the topics");
    bounded("stop", broker.stop()).await;

    let broker = bounded("restart", EmbeddedBroker::start(&data_dir, listen))
        .await
        .expect("restart broker");
    let kafka = KafkaConfig::for_brokers(broker.bootstrap_servers());
    let reported = bounded("describe", describe_retention(&kafka, &all))
        .await
        .expect("the embedded broker describes topic configs");
    let labels = reported[names.labels.as_str()].as_ref().unwrap();
    assert_eq!(labels.retention_ms.as_deref(), Some("-1"));
    assert_eq!(labels.retention_bytes.as_deref(), Some("-1"));
    assert_eq!(labels.cleanup_policy.as_deref(), Some("delete"));
    for wanted in &planned {
        let found = reported[wanted.topic.as_str()].as_ref().unwrap();
        assert_eq!(judge(wanted, found), Verdict::Enough, "{}", wanted.topic);
    }
    bounded("final stop", broker.stop()).await;
}
