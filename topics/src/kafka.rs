//! Kafka plumbing: configuration, an idempotent producer, topic creation,
//! a group consumer that commits only when told to, bounded readers of the
//! log ([`read_to_end`], [`read_range`]) and the dead-letter sink.
//!
//! The loop every long-running service consumes with (retries, commit
//! policies, shutdown) is the `runtime` crate's; this module is what it and
//! the one-shot commands are built from.
//!
//! Delivery is at least once: a crash between a handler's effects and the
//! commit replays the batch, which is why every event carries an id and every
//! fold is idempotent (see `DESIGN.md`).
//!
//! Nothing here relies on a partition's high watermark to decide that a
//! consumer has caught up: the tansu broker used in tests under-reports it.

use crate::clock::now_ms;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{FuturesOrdered, StreamExt};
use futures::FutureExt;
use rdkafka::admin::{
    AdminClient, AdminOptions, NewTopic, OwnedResourceSpecifier, ResourceSpecifier,
    TopicReplication,
};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer as _, ConsumerContext, RebalanceProtocol, StreamConsumer,
};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message as _};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer as _};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::dead_letters::{DeadLetters, RefusalReason};
use crate::retention::Reported;

/// How skyline reaches Kafka. The `[kafka]` section of the configuration
/// file; every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list of brokers to bootstrap from
    /// (librdkafka's `bootstrap.servers`).
    pub bootstrap_servers: String,
    /// The `client.id` every connection reports, visible in broker logs.
    pub client_id: String,
    /// Prefix of every consumer group id: a consumer named `analyze` joins
    /// group `<prefix>.analyze`. Two deployments on one cluster use two
    /// prefixes. Empty means the consumer's name is the group id.
    pub group_id_prefix: String,
    /// Partitions given to a topic that skyline creates. Parallelism of one
    /// service is bounded by this.
    pub partitions: i32,
    /// Replicas of each partition of a topic that skyline creates (1 for a
    /// single broker, typically 3 in production).
    pub replication_factor: i32,
    /// Longest time (ms) a broker holds a fetch open waiting for data
    /// (`fetch.wait.max.ms`). With a broker that always waits this long, as
    /// tansu does, it is roughly the latency from produce to consume.
    pub fetch_wait_max_ms: u32,
    /// How long (ms) a consumer may go silent before the group coordinator
    /// drops it and hands its partitions to others (`session.timeout.ms`;
    /// heartbeats go every third of it, at most every 3 s). Brokers accept
    /// 6,000 to 300,000 by default. Joining a group on tansu takes about half
    /// of it, so tests use the smallest.
    pub session_timeout_ms: u32,
    /// How long (ms) a service waits at start for any broker to answer
    /// before it stops with "cannot reach Kafka at …" instead of retrying
    /// in silence.
    pub reach_timeout_ms: u32,
    /// Raw librdkafka properties applied to every client after skyline's own,
    /// so they win (for example `security.protocol`, `sasl.*`,
    /// `compression.type`, `delivery.timeout.ms`).
    pub extra: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            bootstrap_servers: "127.0.0.1:9092".to_owned(),
            client_id: "skyline".to_owned(),
            group_id_prefix: "skyline".to_owned(),
            partitions: 6,
            replication_factor: 1,
            fetch_wait_max_ms: 50,
            session_timeout_ms: 10_000,
            reach_timeout_ms: 5_000,
            extra: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// A configuration for the brokers at `bootstrap_servers`, otherwise the
    /// defaults.
    pub fn for_brokers(bootstrap_servers: impl Into<String>) -> Self {
        KafkaConfig {
            bootstrap_servers: bootstrap_servers.into(),
            ..KafkaConfig::default()
        }
    }

    /// The consumer group id of the consumer called `consumer`.
    pub fn group_id(&self, consumer: &str) -> String {
        if self.group_id_prefix.is_empty() {
            consumer.to_owned()
        } else {
            format!("{}.{}", self.group_id_prefix, consumer)
        }
    }

    /// The properties every client shares, with `overrides` applied after
    /// skyline's own and before [`KafkaConfig::extra`].
    fn client_config(&self, overrides: &[(&str, &str)]) -> ClientConfig {
        let mut cc = ClientConfig::new();
        cc.set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", &self.client_id);
        for (k, v) in overrides {
            cc.set(*k, *v);
        }
        for (k, v) in &self.extra {
            cc.set(k, v);
        }
        cc
    }
}

/// What can go wrong talking to Kafka.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// librdkafka refused a configuration, a request, or the broker answered
    /// with an error.
    #[error("kafka: {0}")]
    Client(#[from] RdKafkaError),
    /// A message was not acknowledged by the broker.
    #[error("delivering to {topic}: {source}")]
    Delivery {
        /// The topic produced to.
        topic: String,
        /// librdkafka's error.
        #[source]
        source: RdKafkaError,
    },
    /// The broker refused to create a topic (other than because it exists).
    #[error("creating topic {topic}: {code}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// The broker's error code.
        code: RDKafkaErrorCode,
    },
    /// No broker answered at start (wrong address, broker down, a
    /// firewall): `step` is what skyline was about to do.
    #[error("cannot reach Kafka at {servers} ({step}): {reason}")]
    Unreachable {
        /// The bootstrap servers tried.
        servers: String,
        /// What skyline was about to do.
        step: String,
        /// librdkafka's explanation.
        reason: String,
    },
    /// A topic was created but did not show up in the metadata in time.
    #[error("topic {topic} not visible in the broker's metadata after {waited:?}")]
    TopicNotVisible {
        /// The topic created.
        topic: String,
        /// How long skyline waited.
        waited: Duration,
    },
    /// A topic name librdkafka cannot take (it contains a NUL byte, or is
    /// empty).
    #[error("invalid topic name {0:?}")]
    InvalidTopic(String),
    /// A dead letter could not be encoded.
    #[error("encoding a dead letter: {0}")]
    Encode(String),
    /// A blocking librdkafka call running on tokio's blocking pool was lost.
    #[error("background task: {0}")]
    Task(String),
}

fn check_topic(topic: &str) -> Result<(), Error> {
    if topic.is_empty() || topic.contains('\0') {
        Err(Error::InvalidTopic(topic.to_owned()))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Client logs

/// Logs librdkafka's global errors by what they mean to an operator. Losing
/// every broker connection (`AllBrokersDown`, a transport failure) happens
/// whenever a broker restarts, and at shutdown when the embedded broker
/// stops before the last client; librdkafka reconnects by itself, so these
/// are warnings. Anything else is an error.
fn log_client_error(client: &str, error: &RdKafkaError, reason: &str) {
    let transient = matches!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::AllBrokersDown | RDKafkaErrorCode::BrokerTransportFailure)
    );
    if transient {
        tracing::warn!(client, error = %error, "{reason}");
    } else {
        tracing::error!(client, error = %error, "{reason}");
    }
}

/// The context of skyline's producers, admin clients and metadata readers:
/// librdkafka's log lines as rdkafka forwards them, its global errors
/// through [`log_client_error`].
#[derive(Clone, Copy, Default)]
pub struct LoggingContext;

impl ClientContext for LoggingContext {
    fn error(&self, error: RdKafkaError, reason: &str) {
        log_client_error("client", &error, reason);
    }
}

/// A context that keeps the last global error instead of logging it, for
/// [`ensure_reachable`] to report in its one line.
#[derive(Default)]
struct ProbeContext {
    last_error: Mutex<Option<String>>,
}

impl ClientContext for ProbeContext {
    fn error(&self, error: RdKafkaError, reason: &str) {
        let mut slot = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        // librdkafka's reason names the broker and the cause ("Connect to
        // ipv4#127.0.0.1:1 failed: Connection refused"); the error code only
        // says that all brokers are down.
        let text = if reason.is_empty() {
            error.to_string()
        } else {
            reason.to_owned()
        };
        if slot.is_none()
            || !matches!(
                error.rdkafka_error_code(),
                Some(RDKafkaErrorCode::AllBrokersDown)
            )
        {
            *slot = Some(text);
        }
    }

    fn log(&self, _level: rdkafka::config::RDKafkaLogLevel, _fac: &str, _message: &str) {}
}

impl ConsumerContext for ProbeContext {}
impl ConsumerContext for LoggingContext {}

/// Checks that a broker at [`KafkaConfig::bootstrap_servers`] answers a
/// metadata request within [`KafkaConfig::reach_timeout_ms`]. `step` says
/// what skyline was about to do; it is part of the [`Error::Unreachable`]
/// line, with the address and librdkafka's reason. Services call this
/// first, so a wrong address is one clear line within seconds rather than
/// a minute of retries ending in a timeout.
pub async fn ensure_reachable(config: &KafkaConfig, step: &str) -> Result<(), Error> {
    let timeout = Duration::from_millis(u64::from(config.reach_timeout_ms.max(100)));
    let probe: BaseConsumer<ProbeContext> = config
        .client_config(&[("reconnect.backoff.max.ms", "1000")])
        .create_with_context(ProbeContext::default())?;
    let answered = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let outcome = probe.fetch_metadata(None, timeout).map(|_| ());
        let waited = started.elapsed();
        if outcome.is_err() {
            // Global errors reach the context only when the client is
            // polled: collect the one that says why.
            let _ = probe.poll(Duration::from_millis(200));
        }
        let last = probe
            .context()
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        (outcome, last, waited)
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?;
    match answered {
        (Ok(()), _, _) => Ok(()),
        (Err(e), last, waited) => {
            let mut reason = last.unwrap_or_else(|| e.to_string());
            if waited >= timeout {
                reason.push_str(&format!(" (no answer within {timeout:?})"));
            }
            Err(Error::Unreachable {
                servers: config.bootstrap_servers.clone(),
                step: step.to_owned(),
                reason,
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Producer

/// Where the broker stored a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// The partition written to.
    pub partition: i32,
    /// The message's offset in that partition.
    pub offset: i64,
}

/// An idempotent producer: `enable.idempotence=true` (so `acks=all` and
/// retries never duplicate or reorder a partition), zstd compression and a
/// 5 ms linger. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct Producer {
    inner: FutureProducer<LoggingContext>,
}

/// How many messages [`Producer::send_batch`] keeps waiting for delivery at
/// once before it waits for the oldest.
const MAX_IN_FLIGHT: usize = 100_000;

impl Producer {
    /// Connects a producer (lazily: the first send opens the connection).
    pub fn new(config: &KafkaConfig) -> Result<Self, Error> {
        let cc = config.client_config(&[
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("compression.type", "zstd"),
            ("linger.ms", "5"),
            ("batch.num.messages", "10000"),
            ("queue.buffering.max.messages", "1000000"),
            ("queue.buffering.max.kbytes", "1048576"),
        ]);
        Ok(Producer {
            inner: cc.create_with_context(LoggingContext)?,
        })
    }

    /// Sends one message and returns once the broker has acknowledged it
    /// (all in-sync replicas have it).
    pub async fn send(&self, topic: &str, key: &[u8], payload: &[u8]) -> Result<Delivered, Error> {
        check_topic(topic)?;
        let record = FutureRecord::to(topic).key(key).payload(payload);
        match self.inner.send(record, Timeout::Never).await {
            Ok(d) => Ok(Delivered {
                partition: d.partition,
                offset: d.offset,
            }),
            Err((source, _)) => Err(Error::Delivery {
                topic: topic.to_owned(),
                source,
            }),
        }
    }

    /// Sends many `(key, payload)` messages, keeping many in flight at once
    /// (pipelined), and returns the number sent once every one of them has
    /// been acknowledged. Order is kept per partition. On the first failed
    /// delivery it returns that error; messages already handed over may still
    /// arrive, so a caller that retries the batch must tolerate duplicates
    /// (skyline's events are idempotent by id).
    pub async fn send_batch<I, K, P>(&self, topic: &str, records: I) -> Result<usize, Error>
    where
        I: IntoIterator<Item = (K, P)>,
        K: AsRef<[u8]>,
        P: AsRef<[u8]>,
    {
        check_topic(topic)?;
        let mut in_flight: FuturesOrdered<DeliveryFuture> = FuturesOrdered::new();
        let mut sent = 0usize;
        for (key, payload) in records {
            let (key, payload) = (key.as_ref(), payload.as_ref());
            loop {
                if in_flight.len() >= MAX_IN_FLIGHT {
                    Self::settle_one(topic, &mut in_flight).await?;
                    sent += 1;
                }
                let record = FutureRecord::to(topic).key(key).payload(payload);
                match self.inner.send_result(record) {
                    Ok(delivery) => {
                        in_flight.push_back(delivery);
                        break;
                    }
                    Err((RdKafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        // librdkafka's queue is full: make room by waiting for
                        // the oldest delivery, or briefly if none is ours.
                        if in_flight.is_empty() {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        } else {
                            Self::settle_one(topic, &mut in_flight).await?;
                            sent += 1;
                        }
                    }
                    Err((source, _)) => {
                        return Err(Error::Delivery {
                            topic: topic.to_owned(),
                            source,
                        })
                    }
                }
            }
        }
        while !in_flight.is_empty() {
            Self::settle_one(topic, &mut in_flight).await?;
            sent += 1;
        }
        Ok(sent)
    }

    async fn settle_one(
        topic: &str,
        in_flight: &mut FuturesOrdered<DeliveryFuture>,
    ) -> Result<(), Error> {
        let failed = |source| Error::Delivery {
            topic: topic.to_owned(),
            source,
        };
        match in_flight.next().await {
            Some(Ok(Ok(_))) | None => Ok(()),
            Some(Ok(Err((source, _)))) => Err(failed(source)),
            // The delivery callback was dropped: librdkafka shut down.
            Some(Err(_canceled)) => Err(failed(RdKafkaError::Canceled)),
        }
    }

    /// Waits (up to `timeout`) until every queued message is delivered.
    pub async fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.flush(timeout))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Topics

/// Creates the named topics with `partitions` partitions (the config's
/// `partitions` when `None`) and the config's replication factor, unless
/// they exist; then waits until every one is in the broker's metadata.
/// Idempotent: an existing topic is left as it is (its partition count is
/// not changed). They are created with the broker's default topic configs:
/// [`ensure_topics_with_configs`] gives each its own.
pub async fn ensure_topics(
    config: &KafkaConfig,
    names: &[&str],
    partitions: Option<i32>,
) -> Result<(), Error> {
    let specs: Vec<TopicSpec<'_>> = names.iter().map(|name| TopicSpec::new(name)).collect();
    ensure_topics_with_configs(config, &specs, partitions).await
}

/// A topic to create, with the topic configs it is created with
/// (`retention.ms`, `cleanup.policy`, ...; none: the broker's defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec<'a> {
    /// The topic's name.
    pub name: &'a str,
    /// Its topic configs, sent in the CreateTopics request.
    pub configs: Vec<(&'static str, String)>,
}

impl<'a> TopicSpec<'a> {
    /// A topic with the broker's default configs.
    pub fn new(name: &'a str) -> Self {
        TopicSpec {
            name,
            configs: Vec::new(),
        }
    }
}

/// [`ensure_topics`], each topic created with its own topic configs. A topic
/// that exists is left as it is, configs included: an operator's changes
/// are never overwritten (a start-up check reads them instead, see
/// [`describe_retention`]).
pub async fn ensure_topics_with_configs(
    config: &KafkaConfig,
    topics: &[TopicSpec<'_>],
    partitions: Option<i32>,
) -> Result<(), Error> {
    for topic in topics {
        check_topic(topic.name)?;
    }
    if topics.is_empty() {
        return Ok(());
    }
    let partitions = partitions.unwrap_or(config.partitions).max(1);
    let admin: AdminClient<LoggingContext> = config
        .client_config(&[])
        .create_with_context(LoggingContext)?;
    // Ask only for the topics not there yet: some brokers (tansu) log every
    // refused creation of an existing topic as an error.
    let existing = existing_topics(config).await?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .filter(|t| !existing.contains(t.name))
        .map(|t| {
            let topic = NewTopic::new(
                t.name,
                partitions,
                TopicReplication::Fixed(config.replication_factor.max(1)),
            );
            t.configs
                .iter()
                .fold(topic, |topic, (key, value)| topic.set(key, value))
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let created = if new.is_empty() {
        Vec::new()
    } else {
        admin.create_topics(&new, &options).await?
    };
    let mut made = Vec::new();
    for result in created {
        match result {
            Ok(topic) => made.push(topic),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(Error::CreateTopic { topic, code }),
        }
    }
    if !made.is_empty() {
        tracing::info!(topics = %made.join(", "), partitions, "created topics");
    }

    // Creation is asynchronous on some brokers: wait until the metadata shows
    // every topic with its partitions, so a consumer subscribing next finds
    // them.
    let names: Vec<String> = topics.iter().map(|t| t.name.to_owned()).collect();
    let limit = Duration::from_secs(30);
    tokio::task::spawn_blocking(move || -> Result<(), Error> {
        let start = Instant::now();
        for name in names {
            loop {
                let visible = match admin
                    .inner()
                    .fetch_metadata(Some(&name), Duration::from_secs(5))
                {
                    Ok(md) => md.topics().iter().any(|t| {
                        t.name() == name && t.error().is_none() && !t.partitions().is_empty()
                    }),
                    Err(e) => {
                        tracing::debug!(topic = %name, error = %e, "metadata not yet available");
                        false
                    }
                };
                if visible {
                    break;
                }
                if start.elapsed() > limit {
                    return Err(Error::TopicNotVisible {
                        topic: name,
                        waited: limit,
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

/// What the broker reports of each topic's retention configs
/// (`retention.ms`, `retention.bytes`, `cleanup.policy`), asked with one
/// DescribeConfigs request. The outer error is the request's (a broker
/// that does not implement DescribeConfigs answers with one); an inner one
/// is the broker's error code for that topic.
///
/// A broker reports what it keeps differently: Kafka reports every config
/// of a topic, its defaults included, while tansu (the test and embedded
/// broker, 0.6) reports only the configs the topic was created with, and a
/// topic it does not know as having none. A key missing from the answer is
/// `None` in [`Reported`].
pub async fn describe_retention(
    config: &KafkaConfig,
    topics: &[&str],
) -> Result<BTreeMap<String, Result<Reported, String>>, Error> {
    for topic in topics {
        check_topic(topic)?;
    }
    if topics.is_empty() {
        return Ok(BTreeMap::new());
    }
    let admin: AdminClient<LoggingContext> = config
        .client_config(&[])
        .create_with_context(LoggingContext)?;
    let resources: Vec<ResourceSpecifier<'_>> =
        topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(15)));
    let answers = admin.describe_configs(&resources, &options).await?;
    let mut reported = BTreeMap::new();
    for (topic, answer) in topics.iter().zip(answers) {
        // Answers come in the order asked; one that names its topic is
        // filed under that name all the same.
        let mut topic = (*topic).to_owned();
        let entry = match answer {
            Ok(resource) => {
                if let OwnedResourceSpecifier::Topic(name) = &resource.specifier {
                    topic.clone_from(name);
                }
                let value = |key: &str| {
                    (resource.entries.iter())
                        .find(|e| e.name == key)
                        .and_then(|e| e.value.clone())
                };
                Ok(Reported {
                    retention_ms: value("retention.ms"),
                    retention_bytes: value("retention.bytes"),
                    cleanup_policy: value("cleanup.policy"),
                })
            }
            Err(code) => Err(code.to_string()),
        };
        reported.insert(topic, entry);
    }
    Ok(reported)
}

/// The topics the cluster has (with at least one partition).
async fn existing_topics(config: &KafkaConfig) -> Result<BTreeSet<String>, Error> {
    let consumer: BaseConsumer<LoggingContext> = config
        .client_config(&[])
        .create_with_context(LoggingContext)?;
    tokio::task::spawn_blocking(move || -> Result<BTreeSet<String>, Error> {
        let metadata = consumer.fetch_metadata(None, Duration::from_secs(10))?;
        Ok(metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none() && !t.partitions().is_empty())
            .map(|t| t.name().to_owned())
            .collect())
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

/// The partitions of `topic` and their low and high watermarks, as
/// `(partition, low, high)`. The high watermark is a hint only (some
/// brokers under-report it): use it for progress, not to decide that a
/// reader has caught up.
pub async fn partitions(config: &KafkaConfig, topic: &str) -> Result<Vec<(i32, i64, i64)>, Error> {
    check_topic(topic)?;
    let consumer: BaseConsumer<LoggingContext> = config
        .client_config(&[])
        .create_with_context(LoggingContext)?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || -> Result<Vec<(i32, i64, i64)>, Error> {
        let timeout = Duration::from_secs(10);
        let metadata = consumer.fetch_metadata(Some(&topic), timeout)?;
        let mut out = Vec::new();
        for t in metadata.topics() {
            // A topic that does not exist (yet) has no partitions to read.
            if t.error().is_some() {
                continue;
            }
            for p in t.partitions() {
                let (low, high) = consumer
                    .fetch_watermarks(&topic, p.id(), timeout)
                    .unwrap_or((0, 0));
                out.push((p.id(), low, high));
            }
        }
        out.sort_unstable();
        Ok(out)
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

/// The next offsets consumer group `group_id` has committed on each
/// partition of `topic` (partitions without a commit are left out). Reads
/// them without joining the group, so it does not disturb its members.
pub async fn committed_offsets(
    config: &KafkaConfig,
    group_id: &str,
    topic: &str,
) -> Result<BTreeMap<i32, i64>, Error> {
    check_topic(topic)?;
    let consumer: BaseConsumer<LoggingContext> = config
        .client_config(&[("group.id", group_id), ("enable.auto.commit", "false")])
        .create_with_context(LoggingContext)?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || -> Result<BTreeMap<i32, i64>, Error> {
        let timeout = Duration::from_secs(10);
        let metadata = consumer.fetch_metadata(Some(&topic), timeout)?;
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics().iter().filter(|t| t.error().is_none()) {
            for p in t.partitions() {
                tpl.add_partition(&topic, p.id());
            }
        }
        if tpl.count() == 0 {
            return Ok(BTreeMap::new());
        }
        let committed = consumer.committed_offsets(tpl, timeout)?;
        Ok(committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.partition(), o)),
                _ => None,
            })
            .collect())
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

/// One partition's part of [`read_range`]: the records from `from` up to,
/// not including, `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionRange {
    /// The partition.
    pub partition: i32,
    /// First offset to read.
    pub from: i64,
    /// Offset to stop before (exclusive).
    pub to: i64,
}

/// Reads the records of `topic` within `ranges` (a consumer outside any
/// group's membership, named `name` in logs) and hands them to `on_batch`
/// in offset order per partition; returns how many it handed over. It ends
/// when every partition reached its `to` — a known offset, such as a
/// group's commit, so it never relies on the broker's high watermark. A
/// partition whose records stop coming for `idle` before its `to` (offsets
/// removed by retention or compaction, transaction markers) ends there,
/// with a warning.
pub async fn read_range<F, Fut, E>(
    config: &KafkaConfig,
    name: &str,
    topic: &str,
    ranges: &[PartitionRange],
    idle: Duration,
    on_batch: F,
) -> Result<u64, E>
where
    F: FnMut(Vec<Record>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: From<Error>,
{
    // Per partition: the next offset to read and where to stop.
    let mut left: BTreeMap<i32, (i64, i64)> = ranges
        .iter()
        .filter(|r| r.from < r.to)
        .map(|r| (r.partition, (r.from, r.to)))
        .collect();
    let start: Vec<(String, i32, i64)> = left
        .iter()
        .map(|(p, (from, _))| (topic.to_owned(), *p, *from))
        .collect();
    let keep = |batch: &Batch| {
        let mut records = Vec::with_capacity(batch.len());
        for record in batch.iter() {
            let Some((next, to)) = left.get_mut(&record.partition) else {
                continue;
            };
            if record.offset < *to {
                *next = record.offset + 1;
                records.push(record.clone());
            }
            if *next >= *to || record.offset + 1 >= *to {
                left.remove(&record.partition);
            }
        }
        Kept {
            records,
            done: left.is_empty(),
        }
    };
    let (handed, idled) = read_bounded(config, name, &start, idle, keep, on_batch).await?;
    if idled {
        tracing::warn!(
            reader = name, %topic, partitions = ?left,
            "no record for {idle:?} before the end of the range; reading stops here"
        );
    }
    Ok(handed)
}

/// Reads every record of `topic` that was on the log when it started and
/// hands them to `on_batch` in offset order per partition; returns how
/// many. [`read_topics_to_end`] of one topic.
pub async fn read_to_end<F, Fut, E>(
    config: &KafkaConfig,
    name: &str,
    topic: &str,
    idle: Duration,
    on_batch: F,
) -> Result<u64, E>
where
    F: FnMut(Vec<Record>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: From<Error>,
{
    read_topics_to_end(config, name, &[topic], idle, on_batch).await
}

/// Reads every record of `topics` that was on the log when it started and
/// hands them to `on_batch` in offset order per partition; returns how
/// many. Each partition ends at the high watermark reported at start, so a
/// topic still being written to (ingest running) is read to a fixed end,
/// not until it goes quiet. Every replay, rematch and load-at-start path
/// reads the log this way.
///
/// Some brokers under-report the high watermark (tansu reports 1 for a
/// partition of thousands of records). A record beyond the reported end
/// whose timestamp is not after the start shows it: that partition then
/// ends at its first record stamped after the start, or after `idle`
/// without a record of its own — the documented fallback.
pub async fn read_topics_to_end<F, Fut, E>(
    config: &KafkaConfig,
    name: &str,
    topics: &[&str],
    idle: Duration,
    on_batch: F,
) -> Result<u64, E>
where
    F: FnMut(Vec<Record>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: From<Error>,
{
    /// Where a partition's read ends.
    enum End {
        /// At this offset, as the broker reported it.
        At(i64),
        /// At the first record stamped after the start, or when idle.
        AfterStart,
    }
    type Part = (String, i32);
    let started_ms = now_ms();
    let mut left: BTreeMap<Part, End> = BTreeMap::new();
    let mut start: Vec<(String, i32, i64)> = Vec::new();
    for topic in topics {
        for (p, low, high) in partitions(config, topic).await? {
            if high > low {
                left.insert(((*topic).to_owned(), p), End::At(high));
                start.push(((*topic).to_owned(), p, low));
            }
        }
    }
    let mut last_record: BTreeMap<Part, Instant> = BTreeMap::new();
    let keep = |batch: &Batch| {
        // A partition that reaches its reported end is done only once the
        // whole batch is seen: a record beyond the end may be in it.
        let mut finished: BTreeSet<Part> = BTreeSet::new();
        let mut next: BTreeMap<Part, i64> = BTreeMap::new();
        let mut records = Vec::with_capacity(batch.len());
        for record in batch.iter() {
            let p = (record.topic.clone(), record.partition);
            if finished.contains(&p) {
                continue;
            }
            let Some(end) = left.get_mut(&p) else {
                continue;
            };
            let after_start = record.timestamp_ms.is_some_and(|t| t > started_ms);
            match end {
                End::At(to) if record.offset < *to => {}
                // Beyond the reported end yet already there at the start:
                // the broker under-reported.
                End::At(_) | End::AfterStart if !after_start => *end = End::AfterStart,
                End::At(_) | End::AfterStart => {
                    finished.insert(p);
                    continue;
                }
            }
            next.insert(p, record.offset + 1);
            records.push(record.clone());
        }
        for p in next.keys() {
            last_record.insert(p.clone(), Instant::now());
        }
        left.retain(|p, end| {
            let reached = match end {
                End::At(to) => next.get(p).is_some_and(|n| n >= to),
                // Other partitions may be busy while this one is quiet.
                End::AfterStart => last_record.get(p).is_some_and(|t| t.elapsed() >= idle),
            };
            !finished.contains(p) && !reached
        });
        Kept {
            records,
            done: left.is_empty(),
        }
    };
    let (handed, idled) = read_bounded(config, name, &start, idle, keep, on_batch).await?;
    if idled && left.values().any(|e| matches!(e, End::At(_))) {
        tracing::warn!(
            reader = name,
            ?topics,
            "no record for {idle:?} before the reported end; reading stops here"
        );
    }
    Ok(handed)
}

/// What a bounded reader keeps of a batch, and whether it has all it wants.
struct Kept {
    records: Vec<Record>,
    done: bool,
}

/// The loop of [`read_range`] and [`read_to_end`]: reads the partitions
/// from `start` (a consumer outside any group), hands what `keep` keeps of
/// each batch to `on_batch`, and ends when `keep` says it is done or after
/// `idle` without a record. Returns the records handed over and whether
/// it ended idle.
async fn read_bounded<K, F, Fut, E>(
    config: &KafkaConfig,
    name: &str,
    start: &[(String, i32, i64)],
    idle: Duration,
    mut keep: K,
    mut on_batch: F,
) -> Result<(u64, bool), E>
where
    K: FnMut(&Batch) -> Kept,
    F: FnMut(Vec<Record>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: From<Error>,
{
    if start.is_empty() {
        return Ok((0, false));
    }
    let group = format!("{name}-{}", Uuid::now_v7());
    let consumer = Consumer::assigned(config, &config.group_id(&group), name, start)?;
    let mut handed = 0u64;
    let outcome = loop {
        let Ok(batch) = tokio::time::timeout(idle, consumer.next_batch(10_000)).await else {
            break Ok((handed, true));
        };
        let Kept { records, done } = keep(&batch);
        handed += records.len() as u64;
        if !records.is_empty() {
            if let Err(e) = on_batch(records).await {
                break Err(e);
            }
        }
        if done {
            break Ok((handed, false));
        }
    };
    consumer.close().await;
    outcome
}

// ---------------------------------------------------------------------------
// Consumer

/// How far a consumer is behind on one partition it is assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Records between the consumer's position and the high watermark;
    /// `None` before its first fetch there.
    pub lag: Option<i64>,
}

/// One consumed message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The topic it was read from.
    pub topic: String,
    /// The partition it was read from.
    pub partition: i32,
    /// Its offset in that partition.
    pub offset: i64,
    /// `None` for a message without key.
    pub key: Option<Vec<u8>>,
    /// `None` for a message without value (a tombstone).
    pub value: Option<Vec<u8>>,
    /// The message's timestamp (unix milliseconds), when it has one.
    pub timestamp_ms: Option<i64>,
}

impl Record {
    fn from_message(m: &BorrowedMessage<'_>) -> Self {
        Record {
            topic: m.topic().to_owned(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec),
            timestamp_ms: m.timestamp().to_millis(),
        }
    }

    /// The value's bytes (empty for a tombstone).
    pub fn payload(&self) -> &[u8] {
        self.value.as_deref().unwrap_or_default()
    }

    /// The key's bytes (empty when there is no key).
    pub fn key_bytes(&self) -> &[u8] {
        self.key.as_deref().unwrap_or_default()
    }
}

/// A batch of consumed records, in the order received (in offset order
/// within each partition). Cheap to clone, so a handler that failed can be
/// handed the same batch again.
#[derive(Debug, Clone)]
pub struct Batch(Arc<[Record]>);

impl Deref for Batch {
    type Target = [Record];
    fn deref(&self) -> &[Record] {
        &self.0
    }
}

impl From<Vec<Record>> for Batch {
    /// A batch of records read some other way (a test, a benchmark, a
    /// file), in order.
    fn from(records: Vec<Record>) -> Self {
        Batch(records.into())
    }
}

impl Batch {
    /// Where the batch lies, for logs and errors: `topic[partition]
    /// offsets first..=last` per partition, comma-separated.
    pub fn span(&self) -> String {
        let mut spans: BTreeMap<(&str, i32), (i64, i64)> = BTreeMap::new();
        for r in self.0.iter() {
            let span = spans
                .entry((r.topic.as_str(), r.partition))
                .or_insert((r.offset, r.offset));
            span.0 = span.0.min(r.offset);
            span.1 = span.1.max(r.offset);
        }
        spans
            .iter()
            .map(|((topic, partition), (first, last))| {
                format!("{topic}[{partition}] offsets {first}..={last}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The offsets to commit once this batch is done: per topic and
    /// partition, one past the highest offset seen.
    pub fn next_offsets(&self) -> BTreeMap<(String, i32), i64> {
        let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for r in self.0.iter() {
            let slot = next
                .entry((r.topic.clone(), r.partition))
                .or_insert(r.offset + 1);
            *slot = (*slot).max(r.offset + 1);
        }
        next
    }
}

/// Where a consumer resumes each partition it is assigned, kept by the
/// consumer's owner rather than by the broker: a fold that stores its
/// applied offsets in its own database (in the same transaction as its
/// rows) records them here after each commit, and on every assignment (at
/// start and after each rebalance) the consumer seeks to them. A partition
/// without a position starts at the beginning of the log, whatever the
/// group committed, so an emptied database is refilled from offset 0.
/// Cheap to clone; clones share the positions.
#[derive(Debug, Clone, Default)]
pub struct ResumePositions(Arc<Mutex<BTreeMap<(String, i32), i64>>>);

impl ResumePositions {
    /// Positions from `(topic, partition) -> next offset` pairs.
    pub fn from_map(next: BTreeMap<(String, i32), i64>) -> Self {
        ResumePositions(Arc::new(Mutex::new(next)))
    }

    /// Records that everything before `next` of `(topic, partition)` is
    /// applied. Positions only move forward.
    pub fn advance(&self, topic: &str, partition: i32, next: i64) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let slot = map.entry((topic.to_owned(), partition)).or_insert(next);
        *slot = (*slot).max(next);
    }

    /// Where `(topic, partition)` resumes, if known.
    pub fn get(&self, topic: &str, partition: i32) -> Option<i64> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&(topic.to_owned(), partition)).copied()
    }
}

/// The consumer's librdkafka context: logs rebalances and, for a consumer
/// with [`ResumePositions`], rewrites each assignment to start where the
/// owner's store says.
pub struct GroupContext {
    name: String,
    resume: Option<ResumePositions>,
}

impl ClientContext for GroupContext {
    fn error(&self, error: RdKafkaError, reason: &str) {
        log_client_error(&self.name, &error, reason);
    }
}

impl ConsumerContext for GroupContext {
    // Replaces rdkafka's default rebalance (which calls assign/unassign with
    // the list as given) so the offsets can be set before assigning.
    fn rebalance(
        &self,
        base_consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            base_consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let outcome = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if let Some(resume) = &self.resume {
                    let assigned: Vec<(String, i32)> = tpl
                        .elements()
                        .iter()
                        .map(|e| (e.topic().to_owned(), e.partition()))
                        .collect();
                    for (topic, partition) in assigned {
                        let offset = match resume.get(&topic, partition) {
                            Some(next) => Offset::Offset(next),
                            None => Offset::Beginning,
                        };
                        if let Err(e) = tpl.set_partition_offset(&topic, partition, offset) {
                            tracing::warn!(consumer = %self.name, %topic, partition, error = %e, "cannot set a resume offset");
                        }
                    }
                }
                tracing::debug!(consumer = %self.name, partitions = tpl.count(), "partitions assigned");
                if cooperative {
                    base_consumer.incremental_assign(tpl)
                } else {
                    base_consumer.assign(tpl)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::debug!(consumer = %self.name, partitions = tpl.count(), "partitions revoked");
                if cooperative {
                    base_consumer.incremental_unassign(tpl)
                } else {
                    base_consumer.unassign()
                }
            }
            other => {
                let code: RDKafkaErrorCode = other.into();
                tracing::warn!(consumer = %self.name, error = %code, "rebalance error");
                base_consumer.unassign()
            }
        };
        if let Err(e) = outcome {
            tracing::warn!(consumer = %self.name, error = %e, "applying a rebalance failed");
        }
    }
}

/// A member of a consumer group that stores no offset by itself: offsets are
/// committed explicitly ([`Consumer::commit`]), by its owner once the
/// effects are durable. New groups start at the earliest offset.
pub struct Consumer {
    inner: Arc<StreamConsumer<GroupContext>>,
    name: String,
}

impl Consumer {
    /// Joins group [`KafkaConfig::group_id`]`(name)` and subscribes to
    /// `topics`. `name` identifies the consumer in logs and dead letters.
    pub fn new(config: &KafkaConfig, name: &str, topics: &[&str]) -> Result<Self, Error> {
        Self::with_group(config, &config.group_id(name), name, topics)
    }

    /// As [`Consumer::new`], with an explicit group id.
    pub fn with_group(
        config: &KafkaConfig,
        group_id: &str,
        name: &str,
        topics: &[&str],
    ) -> Result<Self, Error> {
        Self::build(config, group_id, name, topics, None)
    }

    /// As [`Consumer::with_group`], but every partition assigned (at start
    /// and after each rebalance) starts at its position in `resume`, or at
    /// the beginning when it has none: the group's committed offsets are
    /// not used. For consumers that keep their offsets with their effects.
    pub fn resuming(
        config: &KafkaConfig,
        group_id: &str,
        name: &str,
        topics: &[&str],
        resume: ResumePositions,
    ) -> Result<Self, Error> {
        Self::build(config, group_id, name, topics, Some(resume))
    }

    /// A consumer outside any group's membership that reads exactly the
    /// given `(topic, partition, next offset)` list (no rebalancing). Its
    /// commits, if any, go to `group_id`.
    pub fn assigned(
        config: &KafkaConfig,
        group_id: &str,
        name: &str,
        start: &[(String, i32, i64)],
    ) -> Result<Self, Error> {
        let consumer = Self::build(config, group_id, name, &[], None)?;
        let mut tpl = TopicPartitionList::new();
        for (topic, partition, offset) in start {
            check_topic(topic)?;
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        consumer.inner.assign(&tpl)?;
        Ok(consumer)
    }

    fn build(
        config: &KafkaConfig,
        group_id: &str,
        name: &str,
        topics: &[&str],
        resume: Option<ResumePositions>,
    ) -> Result<Self, Error> {
        for t in topics {
            check_topic(t)?;
        }
        let wait = config.fetch_wait_max_ms.to_string();
        let session = config.session_timeout_ms.max(1);
        let heartbeat = (session / 3).clamp(1, 3_000).to_string();
        let session = session.to_string();
        let cc = config.client_config(&[
            ("group.id", group_id),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("enable.partition.eof", "false"),
            ("fetch.wait.max.ms", &wait),
            ("session.timeout.ms", &session),
            ("heartbeat.interval.ms", &heartbeat),
            // librdkafka's default (1000 ms) backs fetching off for a whole
            // second whenever its local queue is full; 10 ms lifts consumption
            // from ~230k to 1.5M+ messages/s.
            ("fetch.queue.backoff.ms", "10"),
        ]);
        let context = GroupContext {
            name: name.to_owned(),
            resume,
        };
        let inner: StreamConsumer<GroupContext> = cc.create_with_context(context)?;
        if !topics.is_empty() {
            inner.subscribe(topics)?;
        }
        Ok(Consumer {
            inner: Arc::new(inner),
            name: name.to_owned(),
        })
    }

    /// The consumer's name (as in logs and dead letters).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits for the next records: up to `max` of those ready once the
    /// first has arrived. Never empty. Errors the client reports while
    /// fetching (a broker gone away, say) are logged and waited out: they
    /// are librdkafka's to recover from.
    pub async fn next_batch(&self, max: usize) -> Batch {
        let mut stream = self.inner.stream();
        let mut records = Vec::new();
        while records.is_empty() {
            match stream.next().await {
                Some(Ok(m)) => records.push(Record::from_message(&m)),
                Some(Err(e)) => {
                    tracing::warn!(consumer = %self.name, error = %e, "consumer error");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                None => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        while records.len() < max.max(1) {
            match stream.next().now_or_never() {
                Some(Some(Ok(m))) => records.push(Record::from_message(&m)),
                Some(Some(Err(e))) => {
                    tracing::warn!(consumer = %self.name, error = %e, "consumer error");
                    break;
                }
                _ => break,
            }
        }
        Batch(records.into())
    }

    /// Whether this consumer can work: the group has assigned it
    /// partitions (read locally), and a broker answers a metadata request
    /// for one of their topics within `timeout` (one topic, not the whole
    /// cluster's). When it can, each assigned partition's lag: its high
    /// watermark less this consumer's position (`None` before the first
    /// message is fetched there). The reason when not, for `/health`.
    pub async fn readiness(&self, timeout: Duration) -> Result<Vec<PartitionLag>, String> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let assignment = inner
                .assignment()
                .map_err(|e| format!("reading the assignment: {e}"))?;
            let Some(topic) = assignment.elements().first().map(|e| e.topic().to_owned()) else {
                return Err("no partition assigned (joining the consumer group)".to_owned());
            };
            inner
                .fetch_metadata(Some(&topic), timeout)
                .map_err(|e| format!("broker unreachable: {e}"))?;
            let positions = inner
                .position()
                .map_err(|e| format!("reading the positions: {e}"))?;
            let mut lags = Vec::with_capacity(positions.count());
            for e in positions.elements() {
                let position = match e.offset() {
                    Offset::Offset(p) => Some(p),
                    _ => None,
                };
                let lag = match position {
                    Some(p) => inner
                        .fetch_watermarks(e.topic(), e.partition(), timeout)
                        .map(|(_, high)| Some((high - p).max(0)))
                        .map_err(|e| format!("broker unreachable: {e}"))?,
                    None => None,
                };
                lags.push(PartitionLag {
                    topic: e.topic().to_owned(),
                    partition: e.partition(),
                    lag,
                });
            }
            Ok(lags)
        })
        .await
        .map_err(|e| format!("probing the broker: {e}"))?
    }

    /// Commits, synchronously with the broker, the offsets that follow
    /// `batch`, so that the group resumes after it.
    pub async fn commit(&self, batch: &Batch) -> Result<(), Error> {
        self.commit_offsets(&batch.next_offsets()).await
    }

    /// Commits the given next offsets per `(topic, partition)`.
    pub async fn commit_offsets(&self, next: &BTreeMap<(String, i32), i64>) -> Result<(), Error> {
        if next.is_empty() {
            return Ok(());
        }
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            check_topic(topic)?;
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
        }
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        Ok(())
    }

    /// The group's committed offsets for the partitions this consumer is
    /// assigned, as `(topic, partition) -> next offset` (partitions without
    /// a commit are left out).
    pub async fn committed(&self) -> Result<BTreeMap<(String, i32), i64>, Error> {
        let inner = Arc::clone(&self.inner);
        let tpl = tokio::task::spawn_blocking(move || inner.committed(Duration::from_secs(10)))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        Ok(tpl
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some(((e.topic().to_owned(), e.partition()), o)),
                _ => None,
            })
            .collect())
    }

    /// Leaves the group (librdkafka's close, which blocks while it hands the
    /// partitions back) off the async runtime's threads.
    pub async fn close(self) {
        let inner = self.inner;
        let _ = tokio::task::spawn_blocking(move || drop(inner)).await;
    }
}

/// A message ready to produce: key bytes and value bytes.
pub type KeyedMessage = (Vec<u8>, Vec<u8>);

/// Encodes `events` as messages keyed by `key(event)` (every skyline topic
/// but the dead letters is keyed by metric), ready for
/// [`Producer::send_batch`]. Fails on the first event that cannot be
/// encoded.
pub fn keyed_messages<'e, E: crate::codec::Event + 'e>(
    events: impl IntoIterator<Item = &'e E>,
    key: impl Fn(&E) -> &str,
) -> Result<Vec<KeyedMessage>, crate::codec::CodecError> {
    events
        .into_iter()
        .map(|e| Ok((key(e).as_bytes().to_vec(), crate::codec::encode(e)?)))
        .collect()
}
