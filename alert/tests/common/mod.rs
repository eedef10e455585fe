//! Shared by the alert crate's tests: the test broker's config and topics
//! of a test's own, an alert, an alerter service run in the test, and
//! reading the deliveries it records.
#![allow(dead_code)]

pub mod smtp_sink;

use std::sync::Arc;
use std::time::Duration;

use alert::config::AlerterConfig;
use alert::{AlertService, Links, Transport};
use runtime::Runtime;
use topics::codec::encode;
use topics::kafka::{ensure_topics, Consumer, KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::{AlertEvent, DeliveryEvent, DeliveryOutcome, SeriesPoint, SourceApp};
use uuid::Uuid;

/// The console address alerts link to in these tests.
pub const CONSOLE: &str = "http://console.test";

pub fn kafka() -> KafkaConfig {
    KafkaConfig {
        partitions: 1,
        session_timeout_ms: 6_000,
        group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
        ..KafkaConfig::for_brokers(topics::testing::broker())
    }
}

pub fn topic_names() -> TopicNames {
    let tag = Uuid::now_v7().simple().to_string();
    TopicNames::default().renamed(|name| format!("{name}.{tag}"))
}

/// An alert of `metric` to `alerter`, decided now, with its window.
pub fn alert(metric: &str, alerter: &str) -> AlertEvent {
    let now_ms = topics::clock::now_ms();
    let t = now_ms / 1000;
    let series: Vec<SeriesPoint> = (0..120)
        .map(|i| SeriesPoint {
            timestamp: t - (120 - i) * 60,
            value: 10.0 + (i % 5) as f64,
        })
        .chain([SeriesPoint {
            timestamp: t,
            value: 95.0,
        }])
        .collect();
    AlertEvent {
        id: Uuid::now_v7(),
        anomaly_id: Uuid::now_v7(),
        metric: metric.to_owned(),
        timestamp: t,
        value: 95.0,
        source: SourceApp::Analyzer,
        alerter: alerter.to_owned(),
        rule: "stats.*".to_owned(),
        triggered_algorithms: vec!["first_hour_average".into(), "grubbs".into()],
        decided_at_ms: now_ms,
        series: Some(series),
        full_duration: Some(86_400),
        expiration_time: Some(3_600),
        boundary: None,
        fingerprinted: false,
        test: false,
    }
}

/// An alerter service running in the test until [`Alerter::stop`].
pub struct Alerter {
    stop: tokio::sync::watch::Sender<bool>,
    run: tokio::task::JoinHandle<()>,
}

impl Alerter {
    /// Runs `config`'s alerter, its alerts linking to [`CONSOLE`].
    pub async fn start(config: &AlerterConfig, kafka: &KafkaConfig, names: &TopicNames) -> Alerter {
        Alerter::linking_to(CONSOLE, config, kafka, names).await
    }

    /// Runs `config`'s alerter, its alerts linking to `console`.
    pub async fn linking_to(
        console: &str,
        config: &AlerterConfig,
        kafka: &KafkaConfig,
        names: &TopicNames,
    ) -> Alerter {
        let transport = Transport::new(config, Links::new(Some(console))).unwrap();
        let producer = Producer::new(kafka).unwrap();
        let service = AlertService::new(transport, producer, names.clone());
        let runtime = Runtime::new(Arc::new(service), kafka, None);
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let run = tokio::spawn(async move {
            runtime
                .run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
                .expect("the alerter runs");
        });
        Alerter { stop, run }
    }

    /// Stops it, as a graceful shutdown does, and waits for it.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        self.run.await.unwrap();
    }
}

/// The test broker, topics of the test's own (created), a producer.
pub async fn setup() -> (KafkaConfig, TopicNames, Producer) {
    let kafka = kafka();
    let names = topic_names();
    ensure_topics(&kafka, &names.all(), Some(1)).await.unwrap();
    let producer = Producer::new(&kafka).unwrap();
    (kafka, names, producer)
}

/// Produces `event` to `topic` under `key`.
pub async fn send<E: topics::codec::Event>(producer: &Producer, topic: &str, key: &str, event: &E) {
    producer
        .send(topic, key.as_bytes(), &encode(event).unwrap())
        .await
        .unwrap();
}

/// Reads `topic` from the start until `done` holds or a minute passes.
pub async fn deliveries_until(
    kafka: &KafkaConfig,
    topic: &str,
    done: impl Fn(&[DeliveryEvent]) -> bool,
) -> Vec<DeliveryEvent> {
    let group = format!("reader-{}", Uuid::now_v7());
    let consumer =
        Consumer::assigned(kafka, &group, &group, &[(topic.to_owned(), 0, 0)]).expect("a reader");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut got = Vec::new();
    while !done(&got) && tokio::time::Instant::now() < deadline {
        if let Ok(batch) =
            tokio::time::timeout(Duration::from_secs(2), consumer.next_batch(1_000)).await
        {
            got.extend(
                batch
                    .iter()
                    .filter_map(|r| topics::codec::decode::<DeliveryEvent>(r.payload()).ok()),
            );
        }
    }
    consumer.close().await;
    got
}

/// The (outcome, attempt) of each recorded attempt at `alert`, in order.
pub fn outcomes(deliveries: &[DeliveryEvent], alert: Uuid) -> Vec<(DeliveryOutcome, i32)> {
    deliveries
        .iter()
        .filter(|d| d.alert_id == alert)
        .map(|d| (d.outcome, d.attempt))
        .collect()
}
