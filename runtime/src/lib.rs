//! How a skyline service consumes its topics.
//!
//! A consuming service (the Analyzer, fingerprint, learn, every projection,
//! ingest's Kafka sources) declares what it is — a [`Service`]: its name,
//! the topics it reads and a batch handler — and the [`Runtime`] does the
//! rest the same way for all of them: the group consumer, decoding with dead
//! letters ([`Context::decode`]), retries with backoff, the restore phase
//! before the first batch, periodic ticks, shutdown, and committing what the
//! handler says may be committed ([`Commit`]). Each service picks its commit
//! policy per batch, as a processing strategy does in getsentry's arroyo:
//! after the batch (analyze, fingerprint), held back to the oldest pending
//! item (learn), or stored in the database with the rows (projections).
//!
//! Every service on the runtime is also counted and watched the same way
//! ([`telemetry`]): records and batches handled, handling time, retries,
//! failed commits and dead letters as Prometheus metrics, and its readiness
//! (the broker answers, partitions assigned) for `/health`.
//!
//! Why a crate of its own rather than a module of `topics`: `topics` is the
//! event vocabulary and Kafka plumbing that everything uses — the console,
//! the CLI's one-shot commands, tests — while only long-running services
//! need a consumer loop. Keeping the loop here keeps `topics` small and
//! gives every service one place to start from (as Vector starts every
//! source through one build call with a shared context).

#![deny(missing_docs)]

mod inflight;
pub mod telemetry;
pub use inflight::Inflight;
pub use telemetry::telemetry;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use topics::codec::{decode, CodecError, Event};
use topics::kafka::{
    Batch, Consumer, DeadLetters, Error as KafkaError, KafkaConfig, Producer, Record,
    ResumePositions,
};

/// Why a service stopped, or why handling a batch failed (one type for
/// every service).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Talking to Kafka failed.
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// The state a service keeps beside the log (windows in Redis, a
    /// database, the profiles read model) failed.
    #[error("{0}")]
    State(Box<dyn std::error::Error + Send + Sync>),
    /// An event could not be encoded.
    #[error("encoding an event: {0}")]
    Encode(String),
    /// Work moved off the async executor (CPU-bound judging, features) was
    /// lost, or a lock it needed was poisoned.
    #[error("background task: {0}")]
    Task(String),
    /// The handler kept failing on one batch; nothing of the batch was
    /// committed, so a new run resumes before it.
    #[error("handler failed {attempts} times on a batch of {records} records ({at}): {message}")]
    GaveUp {
        /// Tries made.
        attempts: u32,
        /// Records in the batch.
        records: usize,
        /// Where the batch lies ([`Batch::span`]).
        at: String,
        /// The last try's error.
        message: String,
    },
}

impl ServiceError {
    /// A failure of the state kept beside the log.
    pub fn state(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ServiceError::State(Box::new(e))
    }

    /// A lost background task (or a poisoned lock), described.
    pub fn task(e: impl std::fmt::Display) -> Self {
        ServiceError::Task(e.to_string())
    }
}

impl From<CodecError> for ServiceError {
    fn from(e: CodecError) -> Self {
        ServiceError::Encode(e.to_string())
    }
}

/// What may be committed once a batch (or a tick) was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    /// Everything up to the end of the batch: its effects are durable.
    Batch,
    /// These next offsets per `(topic, partition)`: work read but not yet
    /// done holds its partition back (learn's delayed work). Only offsets
    /// that changed since the last commit are sent.
    UpTo(BTreeMap<(String, i32), i64>),
    /// The offsets were stored with the effects (a projection's rows and
    /// offsets in one transaction); the batch's offsets are committed to
    /// Kafka as well, only as a hint for lag monitoring.
    Stored,
    /// Nothing new to commit.
    Nothing,
}

/// Where each assigned partition starts reading.
#[derive(Debug, Clone)]
pub enum Start {
    /// At the group's committed offset (new groups at the earliest).
    Committed,
    /// At these positions, or at the beginning of a partition without one;
    /// the group's commits are not used. For services that store their
    /// offsets with their effects.
    Resume(ResumePositions),
}

/// How the runtime drives a service.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Most records per batch.
    pub max_batch: usize,
    /// Tries of a failing handler on one batch before giving up (at least 1).
    pub attempts: u32,
    /// First wait between tries; doubles each time, up to 10 s.
    pub backoff: Duration,
    /// How often [`Service::tick`] runs (never when `None`).
    pub tick: Option<Duration>,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            max_batch: 5_000,
            attempts: 5,
            backoff: Duration::from_millis(200),
            tick: None,
        }
    }
}

/// A long-running consumer of skyline topics.
///
/// The runtime calls [`restore`](Service::restore) once, then
/// [`start`](Service::start), then [`handle`](Service::handle) for every
/// batch and [`tick`](Service::tick) on its interval, while
/// [`background`](Service::background) runs beside them until the service
/// stops. A handler's effects must be idempotent: a batch not yet committed
/// is handed over again after a crash or a rebalance.
pub trait Service: Send + Sync {
    /// The consumer's name: its group is [`KafkaConfig::group_id`] of it,
    /// and logs and dead letters name it.
    fn name(&self) -> &str;

    /// The topics read.
    fn topics(&self) -> Vec<String>;

    /// Batch size, retries and tick interval.
    fn settings(&self) -> RunSettings {
        RunSettings::default()
    }

    /// Brings the state the service needs back before any batch is
    /// handled (windows, a read model): folded, never decided on, so that
    /// a restart does not decide twice.
    fn restore(&self, _cx: &Context) -> impl Future<Output = Result<(), ServiceError>> + Send {
        async { Ok(()) }
    }

    /// Where the partitions start.
    fn start(&self, _cx: &Context) -> impl Future<Output = Result<Start, ServiceError>> + Send {
        async { Ok(Start::Committed) }
    }

    /// Handles one batch and says what may be committed.
    fn handle(
        &self,
        cx: &Context,
        batch: &Batch,
    ) -> impl Future<Output = Result<Commit, ServiceError>> + Send;

    /// Periodic work between batches (learn's delayed work). An error is
    /// logged and the next tick tries again.
    fn tick(&self, _cx: &Context) -> impl Future<Output = Result<Commit, ServiceError>> + Send {
        async { Ok(Commit::Nothing) }
    }

    /// Whether what the service needs besides the broker answers (Redis,
    /// a database): the reason when not. Probed with the consumer's own
    /// readiness for `/health`; it must answer within a second or two.
    fn ready(&self) -> impl Future<Output = Result<(), String>> + Send {
        async { Ok(()) }
    }

    /// Work beside the batches from the end of the restore phase until the
    /// service stops (following a read model's topic): it must return once
    /// [`Context::stopped`] resolves.
    fn background(&self, _cx: &Context) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// What a service is given: where Kafka is, its name, its dead letters and
/// the stop signal. Cheap to clone (background tasks keep one).
#[derive(Clone)]
pub struct Context {
    kafka: KafkaConfig,
    name: String,
    dead_letters: Option<DeadLetters>,
    stop: watch::Receiver<bool>,
}

impl Context {
    /// The Kafka the service reads.
    pub fn kafka(&self) -> &KafkaConfig {
        &self.kafka
    }

    /// The service's name (see [`Service::name`]).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The consumer group the service belongs to.
    pub fn group_id(&self) -> String {
        self.kafka.group_id(&self.name)
    }

    /// Where refused records go (none for an offline rebuild).
    pub fn dead_letters(&self) -> Option<&DeadLetters> {
        self.dead_letters.as_ref()
    }

    /// Decodes every record as a `T`; those that do not decode are
    /// dead-lettered together (and awaited), or skipped with a warning
    /// when there is no dead-letter topic, and left out.
    pub async fn decode<'b, T: Event>(
        &self,
        records: &'b [Record],
    ) -> Result<Vec<(&'b Record, T)>, ServiceError> {
        let read = |r: &Record| decode::<T>(r.payload());
        match &self.dead_letters {
            Some(dead) => {
                Ok(dead.decode_batch(records, read).await?)
            }
            None => Ok(records
                .iter()
                .filter_map(|r| match read(r) {
                    Ok(v) => Some((r, v)),
                    Err(e) => {
                        tracing::warn!(service = %self.name, topic = %r.topic, offset = r.offset, error = %e, "undecodable record skipped");
                        None
                    }
                })
                .collect()),
        }
    }

    /// Whether the service was asked to stop.
    pub fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once the service was asked to stop (or its runtime is
    /// gone).
    pub async fn stopped(&self) {
        let mut stop = self.stop.clone();
        let _ = stop.wait_for(|s| *s).await;
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Batches handled.
    pub batches: u64,
    /// Records in them.
    pub records: u64,
    /// Failed tries of a handler that were retried.
    pub retries: u64,
    /// Commits the broker refused (the effects were durable; the batch may
    /// be handed over again, which idempotent handlers absorb).
    pub failed_commits: u64,
}

/// Runs one [`Service`]: restore, then consume until shutdown.
pub struct Runtime<S: Service> {
    service: Arc<S>,
    cx: Context,
    stop: watch::Sender<bool>,
    restored: AtomicBool,
}

impl<S: Service> Runtime<S> {
    /// A runtime for `service` reading from `kafka`; records it cannot
    /// decode go to `dead_letters`.
    pub fn new(service: Arc<S>, kafka: &KafkaConfig, dead_letters: Option<DeadLetters>) -> Self {
        let (stop, rx) = watch::channel(false);
        let cx = Context {
            kafka: kafka.clone(),
            name: service.name().to_owned(),
            dead_letters,
            stop: rx,
        };
        Runtime {
            service,
            cx,
            stop,
            restored: AtomicBool::new(false),
        }
    }

    /// A runtime whose refused records are dead-lettered to `topic`
    /// through `producer`, signed with the service's name.
    pub fn dead_lettering(
        service: Arc<S>,
        kafka: &KafkaConfig,
        producer: Producer,
        topic: impl Into<String>,
    ) -> Self {
        let dead = DeadLetters::new(producer, topic, service.name());
        Runtime::new(service, kafka, Some(dead))
    }

    /// The service's context.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The service.
    pub fn service(&self) -> &Arc<S> {
        &self.service
    }

    /// Runs the restore phase now (rather than at the start of
    /// [`Runtime::run`]), for a caller that must know the state is back
    /// before it starts something else. Runs once.
    pub async fn restore(&self) -> Result<(), ServiceError> {
        if !self.restored.load(Ordering::Acquire) {
            self.service.restore(&self.cx).await?;
            self.restored.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Restores (unless done), then consumes until `shutdown` resolves or a
    /// batch fails every try ([`ServiceError::GaveUp`]). A batch being
    /// handled when `shutdown` resolves is finished and committed first.
    /// The consumer leaves its group when `run` returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RunStats, ServiceError> {
        let stop = self.stop.clone();
        let forward = async move {
            shutdown.await;
            stop.send_replace(true);
            std::future::pending::<Infallible>().await
        };
        tokio::select! {
            outcome = self.restore_then_consume() => outcome,
            never = forward => match never {},
        }
    }

    async fn restore_then_consume(&self) -> Result<RunStats, ServiceError> {
        self.restore().await?;
        let consuming = async {
            let outcome = self.consume().await;
            // The background work stops with the service, whatever ended it.
            self.stop.send_replace(true);
            outcome
        };
        let (outcome, ()) = tokio::join!(consuming, self.service.background(&self.cx));
        outcome
    }

    async fn consume(&self) -> Result<RunStats, ServiceError> {
        let settings = self.service.settings();
        let topics = self.service.topics();
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        let (kafka, name) = (&self.cx.kafka, self.cx.name.as_str());
        let consumer = match self.service.start(&self.cx).await? {
            Start::Committed => Consumer::new(kafka, name, &topics)?,
            Start::Resume(at) => {
                Consumer::resuming(kafka, &kafka.group_id(name), name, &topics, at)?
            }
        };
        let mut stats = RunStats::default();
        let mut committed: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let telemetry = telemetry();
        telemetry.set_ready(name, Err("starting: joining the consumer group".into()));
        let progress = Mutex::new(Progress::default());
        // Readiness is probed beside the loop, not between its batches: a
        // handler waiting on a database that went away must not keep
        // `/health` saying ready.
        let (consumed, mut consuming_done) = watch::channel(false);
        let probing = async {
            if !telemetry::enabled() {
                return;
            }
            let mut health = tokio::time::interval(HEALTH_EVERY);
            health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = health.tick() => {}
                    _ = consuming_done.wait_for(|done| *done) => break,
                }
                let ready = match consumer.readiness(HEALTH_TIMEOUT).await {
                    Ok(lags) => {
                        lock(&progress).probed(name, &lags);
                        self.service.ready().await
                    }
                    Err(e) => Err(e),
                };
                telemetry.set_ready(name, ready);
            }
        };
        let mut tick = settings.tick.map(|every| {
            let mut t = tokio::time::interval(every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        let consuming = async {
            loop {
                let (commit, batch) = tokio::select! {
                    biased;
                    () = self.cx.stopped() => break Ok(stats),
                    () = next_tick(&mut tick) => match self.service.tick(&self.cx).await {
                        Ok(commit) => (commit, None),
                        Err(e) => {
                            tracing::warn!(service = %name, error = %e, "periodic work failed; trying again at the next tick");
                            continue;
                        }
                    },
                    batch = consumer.next_batch(settings.max_batch) => {
                        let started = std::time::Instant::now();
                        let handled = self.handle_with_retries(&batch, &settings, &mut stats).await;
                        let seconds = started.elapsed().as_secs_f64();
                        match handled {
                            Ok(commit) => {
                                telemetry.batch_handled(name, &batch, seconds);
                                (commit, Some(batch))
                            }
                            Err(e) => {
                                telemetry.batch_failed(name, seconds);
                                break Err(e);
                            }
                        }
                    }
                };
                if let Some(batch) = &batch {
                    stats.batches += 1;
                    stats.records += batch.len() as u64;
                    lock(&progress).handled(batch);
                }
                apply(
                    &consumer,
                    name,
                    commit,
                    batch.as_ref(),
                    &mut committed,
                    &mut stats,
                )
                .await;
            }
        };
        // The probe ends with the loop, its last call finished: a probe
        // still asking the broker would keep the consumer alive past its
        // close.
        let (outcome, ()) = tokio::join!(
            async {
                let outcome = consuming.await;
                consumed.send_replace(true);
                outcome
            },
            probing
        );
        consumer.close().await;
        telemetry.set_ready(
            name,
            Err(match &outcome {
                Ok(_) => "stopped".to_owned(),
                Err(e) => format!("stopped: {e}"),
            }),
        );
        outcome
    }

    async fn handle_with_retries(
        &self,
        batch: &Batch,
        settings: &RunSettings,
        stats: &mut RunStats,
    ) -> Result<Commit, ServiceError> {
        let attempts = settings.attempts.max(1);
        let mut backoff = settings.backoff;
        let mut attempt = 1u32;
        loop {
            match self.service.handle(&self.cx, batch).await {
                Ok(commit) => return Ok(commit),
                Err(e) if attempt >= attempts => {
                    tracing::error!(service = %self.cx.name, error = %e, at = %batch.span(), "giving up on a batch; not committed");
                    return Err(if attempts == 1 {
                        e
                    } else {
                        ServiceError::GaveUp {
                            attempts: attempt,
                            records: batch.len(),
                            at: batch.span(),
                            message: e.to_string(),
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(
                        service = %self.cx.name, attempt, records = batch.len(), error = %e,
                        "handler failed; retrying the batch"
                    );
                    stats.retries += 1;
                    telemetry()
                        .retries
                        .with_label_values(&[self.cx.name.as_str()])
                        .inc();
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}

/// How often a consumer's readiness is probed (`/health` follows a broker
/// going away within this plus [`HEALTH_TIMEOUT`]).
const HEALTH_EVERY: Duration = Duration::from_secs(2);

/// How long a readiness probe waits for the broker.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// What a consumer loop knows of its progress, published as the lag gauges
/// and its [`telemetry::ConsumerStatus`] at each readiness probe.
#[derive(Default)]
struct Progress {
    /// The newest broker timestamp of a record handled (unix ms).
    newest_record_ms: Option<i64>,
    /// When the last batch was handled (unix ms).
    last_batch_ms: i64,
    /// Records handled.
    records: u64,
    /// The partitions whose lag gauge is set, to drop those revoked.
    gauged: Vec<(String, String)>,
}

impl Progress {
    fn handled(&mut self, batch: &Batch) {
        let newest = batch.iter().filter_map(|r| r.timestamp_ms).max();
        self.newest_record_ms = self.newest_record_ms.max(newest);
        self.last_batch_ms = topics::clock::now_ms();
        self.records += batch.len() as u64;
    }

    /// Sets the lag gauges of `service` from a probe: per partition, and
    /// in seconds the age of the newest record handled while any
    /// partition is behind.
    fn probed(&mut self, service: &str, lags: &[topics::kafka::PartitionLag]) {
        let t = telemetry();
        let gauged: Vec<(String, String)> = lags
            .iter()
            .map(|l| (l.topic.clone(), l.partition.to_string()))
            .collect();
        for (topic, partition) in &self.gauged {
            if !gauged.contains(&(topic.clone(), partition.clone())) {
                let _ = t
                    .lag_records
                    .remove_label_values(&[service, topic, partition]);
            }
        }
        let mut behind = 0;
        for (l, (topic, partition)) in lags.iter().zip(&gauged) {
            if let Some(lag) = l.lag {
                t.lag_records
                    .with_label_values(&[service, topic, partition])
                    .set(lag);
                behind += lag;
            }
        }
        self.gauged = gauged;
        let seconds = match self.newest_record_ms {
            Some(newest) if behind > 0 => (topics::clock::now_ms() - newest).max(0) as f64 / 1000.0,
            _ => 0.0,
        };
        t.lag_seconds.with_label_values(&[service]).set(seconds);
        t.set_consumer_status(
            service,
            telemetry::ConsumerStatus {
                lag_records: behind,
                lag_seconds: seconds,
                partitions: lags.len(),
                records: self.records,
                last_batch_ms: self.last_batch_ms,
            },
        );
    }
}

/// `mutex`'s guard, even after a panic elsewhere poisoned it (the progress
/// figures stay usable).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits for the next tick, or forever without one.
async fn next_tick(tick: &mut Option<tokio::time::Interval>) {
    match tick {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Commits what `commit` allows.
async fn apply(
    consumer: &Consumer,
    name: &str,
    commit: Commit,
    batch: Option<&Batch>,
    committed: &mut BTreeMap<(String, i32), i64>,
    stats: &mut RunStats,
) {
    match (commit, batch) {
        (Commit::Batch, Some(batch)) => {
            if let Err(e) = consumer.commit(batch).await {
                stats.failed_commits += 1;
                telemetry().failed_commits.with_label_values(&[name]).inc();
                tracing::warn!(service = %name, error = %e, "commit failed");
            }
        }
        (Commit::Stored, Some(batch)) => {
            // Only a hint: the offsets stored with the effects decide.
            if let Err(e) = consumer.commit(batch).await {
                tracing::debug!(service = %name, error = %e, "kafka commit failed");
            }
        }
        (Commit::UpTo(target), _) => {
            let changed: BTreeMap<(String, i32), i64> = target
                .into_iter()
                .filter(|(k, v)| committed.get(k) != Some(v))
                .collect();
            if changed.is_empty() {
                return;
            }
            match consumer.commit_offsets(&changed).await {
                Ok(()) => committed.extend(changed),
                Err(e) => {
                    stats.failed_commits += 1;
                    telemetry().failed_commits.with_label_values(&[name]).inc();
                    tracing::warn!(service = %name, error = %e, "commit failed");
                }
            }
        }
        _ => {}
    }
}
