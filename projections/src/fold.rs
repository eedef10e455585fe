//! The folding consumers: one per projection, each applying a batch and the
//! offsets it reaches in one database transaction, and the rebuild from
//! offset 0.
//!
//! A batch is applied as: begin; read (and on MySQL lock) the projection's
//! stored offsets; drop the records below them (already applied: a batch
//! redelivered after a crash or a rebalance); fold the rest; store the
//! batch's next offsets; commit. Each projection is a service on the
//! runtime with the stored-offsets commit policy ([`Commit::Stored`]): the
//! consumer resumes every partition it is assigned at the stored offset
//! ([`topics::kafka::ResumePositions`]), and commits to Kafka only
//! afterwards, as a hint for lag monitoring. A failed transaction (the
//! database gone away, say) is retried with capped exponential backoff, the
//! batch neither skipped nor committed meanwhile.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::FutureExt;
use runtime::{Commit, Context, RunSettings, Runtime, Service, ServiceError, Start};
use topics::kafka::{self, Batch, DeadLetters, KafkaConfig, RefusalReason, ResumePositions};
use topics::names::TopicNames;

use crate::db::{read_offsets, write_offsets, Database};
use crate::{Error, Event, Projection, Topic};

/// How the folding consumers run.
#[derive(Debug, Clone)]
pub struct FoldSettings {
    /// Most records per batch (and so per transaction).
    pub max_batch: usize,
    /// First wait after a failed transaction; it doubles up to
    /// `max_backoff`.
    pub backoff: Duration,
    /// Longest wait between retries (default 5 s).
    pub max_backoff: Duration,
}

impl Default for FoldSettings {
    fn default() -> Self {
        FoldSettings {
            max_batch: 5_000,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// What a fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FoldStats {
    /// Records read from the log.
    pub events: u64,
    /// Rows inserted or updated.
    pub rows: u64,
    /// Records skipped because they were applied before.
    pub skipped: u64,
    /// Records that could not be decoded (dead-lettered when live).
    pub refused: u64,
    /// Transactions that failed and were retried.
    pub retries: u64,
}

impl FoldStats {
    fn add(&mut self, other: FoldStats) {
        self.events += other.events;
        self.rows += other.rows;
        self.skipped += other.skipped;
        self.refused += other.refused;
        self.retries += other.retries;
    }
}

/// The consumer name (and group suffix) of a projection.
pub fn consumer_name(projection: &dyn Projection) -> String {
    format!("projections.{}", projection.name())
}

/// One projection folding into one database.
pub struct Folder<'p> {
    db: Database,
    projection: &'p dyn Projection,
    names: TopicNames,
    dead: Option<DeadLetters>,
    settings: FoldSettings,
    /// Where the live consumer resumes: the stored offsets, advanced after
    /// each transaction.
    resume: ResumePositions,
    /// What the live consumer folded.
    stats: Mutex<FoldStats>,
}

impl<'p> Folder<'p> {
    /// `dead`: where undecodable records go (none: they are logged and
    /// counted, as in a rebuild, whose live consumer dead-lettered them).
    pub fn new(
        db: Database,
        projection: &'p dyn Projection,
        names: TopicNames,
        dead: Option<DeadLetters>,
        settings: FoldSettings,
    ) -> Self {
        Folder {
            db,
            projection,
            names,
            dead,
            settings,
            resume: ResumePositions::default(),
            stats: Mutex::default(),
        }
    }

    fn topic_names(&self) -> Vec<&str> {
        self.projection
            .topics()
            .iter()
            .map(|t| t.name(&self.names))
            .collect()
    }

    /// Folds `batch` exactly once. Returns the next offsets it reached, or
    /// `None` when `stop` resolved while the database was unavailable (the
    /// batch is then not applied).
    pub async fn fold_batch(
        &self,
        batch: &Batch,
        stop: &mut (impl Future<Output = ()> + Unpin),
    ) -> Result<Option<(FoldStats, BTreeMap<(String, i32), i64>)>, Error> {
        let mut stats = FoldStats {
            events: batch.len() as u64,
            ..FoldStats::default()
        };
        let mut decoded: Vec<(&kafka::Record, Event)> = Vec::with_capacity(batch.len());
        for record in batch.iter() {
            let Some(topic) = Topic::of(&record.topic, &self.names) else {
                continue;
            };
            match topic.decode(record.payload()) {
                Ok(event) => decoded.push((record, event)),
                Err(e) => {
                    stats.refused += 1;
                    match &self.dead {
                        Some(dead) => dead.send(record, RefusalReason::Undecodable, &e).await?,
                        None => tracing::warn!(
                            projection = self.projection.name(), topic = %record.topic,
                            partition = record.partition, offset = record.offset, error = %e,
                            "skipping an undecodable record"
                        ),
                    }
                }
            }
        }
        let next = batch.next_offsets();
        let mut backoff = self.settings.backoff;
        loop {
            match self.apply(&decoded, &next).await {
                Ok((rows, skipped)) => {
                    stats.rows = rows;
                    stats.skipped = skipped;
                    let name = self.projection.name();
                    let t = runtime::telemetry();
                    t.count(
                        "skyline_projection_rows_total",
                        "Rows a projection inserted or updated.",
                        &[("projection", name)],
                        rows,
                    );
                    t.count(
                        "skyline_projection_events_total",
                        "Events a projection folded (skipped: applied before; refused: undecodable).",
                        &[("projection", name), ("outcome", "folded")],
                        stats.events.saturating_sub(skipped + stats.refused),
                    );
                    for (outcome, n) in [("skipped", skipped), ("refused", stats.refused)] {
                        if n > 0 {
                            t.count(
                                "skyline_projection_events_total",
                                "",
                                &[("projection", name), ("outcome", outcome)],
                                n,
                            );
                        }
                    }
                    return Ok(Some((stats, next)));
                }
                Err(e) => {
                    stats.retries += 1;
                    runtime::telemetry().count(
                        "skyline_database_errors_total",
                        "Database transactions that failed (and were retried).",
                        &[("projection", self.projection.name())],
                        1,
                    );
                    tracing::warn!(
                        projection = self.projection.name(), database = self.db.url(),
                        records = batch.len(), retry_in_ms = backoff.as_millis() as u64, error = %e,
                        "applying a batch failed; retrying (nothing committed)"
                    );
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = &mut *stop => return Ok(None),
                    }
                    backoff = (backoff * 2).min(self.settings.max_backoff);
                }
            }
        }
    }

    /// One transaction: the fresh records' rows and the offsets.
    async fn apply(
        &self,
        decoded: &[(&kafka::Record, Event)],
        next: &BTreeMap<(String, i32), i64>,
    ) -> Result<(u64, u64), Error> {
        let dialect = self.db.dialect();
        let name = self.projection.name();
        let mut tx = self.db.pool().begin().await?;
        let applied = read_offsets(&mut tx, dialect, name, true).await?;
        let applied_before = |r: &kafka::Record| {
            applied
                .get(&(r.topic.clone(), r.partition))
                .is_some_and(|next| r.offset < *next)
        };
        let fresh: Vec<&Event> = decoded
            .iter()
            .filter(|(r, _)| !applied_before(r))
            .map(|(_, e)| e)
            .collect();
        let skipped = (decoded.len() - fresh.len()) as u64;
        let rows = if fresh.is_empty() {
            0
        } else {
            self.projection.apply(&mut tx, dialect, &fresh).await?
        };
        write_offsets(&mut tx, dialect, name, next).await?;
        tx.commit().await?;
        Ok((rows, skipped))
    }

    /// Runs the projection's consumer (group `projections.<name>`) on the
    /// service runtime until `shutdown` resolves.
    pub async fn run(
        &self,
        kafka: &KafkaConfig,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<FoldStats, Error> {
        let service = FoldService(self, consumer_name(self.projection));
        Runtime::new(Arc::new(service), kafka, self.dead.clone())
            .run(shutdown)
            .await?;
        Ok(*self.stats.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Empties the projection's tables and its stored offsets, in one
    /// transaction.
    pub async fn clear(&self) -> Result<(), Error> {
        let mut tx = self.db.pool().begin().await?;
        for table in self.projection.tables() {
            sqlx::query(&format!("DELETE FROM {}", table.name))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM projection_offsets WHERE projection = ?")
            .bind(self.projection.name().to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Folds the projection's topics from the start of the log to where
    /// they ended when the read began ([`kafka::read_topics_to_end`]; `idle`
    /// is the fallback end for a broker that under-reports it). Not a group
    /// member: reads every partition.
    async fn refold(
        &self,
        kafka: &KafkaConfig,
        idle: Duration,
        read: &AtomicU64,
    ) -> Result<FoldStats, Error> {
        let name = consumer_name(self.projection);
        let topics = self.topic_names();
        let stats = std::cell::RefCell::new(FoldStats::default());
        kafka::read_topics_to_end(kafka, &name, &topics, idle, |records| {
            let batch = Batch::from(records);
            let stats = &stats;
            async move {
                let mut never = Box::pin(futures::future::pending::<()>());
                if let Some((done, _)) = self.fold_batch(&batch, &mut never).await? {
                    read.fetch_add(done.events, Ordering::Relaxed);
                    stats.borrow_mut().add(done);
                }
                Ok::<(), Error>(())
            }
        })
        .await?;
        Ok(stats.into_inner())
    }
}

/// A projection's live consumer as a service: resumes at the stored
/// offsets, applies each batch with its offsets in one transaction.
struct FoldService<'f, 'p>(&'f Folder<'p>, String);

impl Service for FoldService<'_, '_> {
    fn name(&self) -> &str {
        &self.1
    }

    fn topics(&self) -> Vec<String> {
        self.0
            .topic_names()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// One attempt: a failed transaction is retried inside
    /// [`Folder::fold_batch`] until it succeeds or the service stops.
    fn settings(&self) -> RunSettings {
        RunSettings {
            max_batch: self.0.settings.max_batch,
            attempts: 1,
            ..RunSettings::default()
        }
    }

    /// The stored offsets; the database may be down at start too: waits
    /// for it as for a batch.
    async fn start(&self, cx: &Context) -> Result<Start, ServiceError> {
        let folder = self.0;
        let mut backoff = folder.settings.backoff;
        let stored = loop {
            match folder.db.applied_offsets(folder.projection.name()).await {
                Ok(stored) => break stored,
                Err(e) => {
                    tracing::warn!(projection = %cx.name(), error = %e, "reading applied offsets failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = cx.stopped() => break BTreeMap::new(),
                    }
                    backoff = (backoff * 2).min(folder.settings.max_backoff);
                }
            }
        };
        for ((topic, partition), next) in stored {
            folder.resume.advance(&topic, partition, next);
        }
        tracing::debug!(projection = %cx.name(), database = folder.db.url(), "folding");
        Ok(Start::Resume(folder.resume.clone()))
    }

    async fn ready(&self) -> Result<(), String> {
        self.0.db.ping(std::time::Duration::from_secs(1)).await
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        let folder = self.0;
        let mut stop = Box::pin(cx.stopped());
        let folded = folder
            .fold_batch(batch, &mut stop)
            .await
            .map_err(ServiceError::state)?;
        // None: stopped while the database was unavailable; not applied.
        let Some((done, next)) = folded else {
            return Ok(Commit::Nothing);
        };
        folder
            .stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(done);
        for ((topic, partition), offset) in &next {
            folder.resume.advance(topic, *partition, *offset);
        }
        Ok(Commit::Stored)
    }
}

/// Events folded without a broker: each event takes the next offset of its
/// topic (partition 0) and is folded by every projection that reads that
/// topic, in one batch per projection, as the live consumers would. For
/// tools and tests that hold events in memory (the console's tests and
/// benchmark, the projections' own). Offsets go on across calls, and the
/// folds record them as the consumers do.
pub struct InMemoryLog {
    names: TopicNames,
    next: BTreeMap<String, i64>,
}

impl InMemoryLog {
    /// An empty log over the topics named in `names`; offsets start at 0.
    pub fn new(names: TopicNames) -> Self {
        InMemoryLog {
            names,
            next: BTreeMap::new(),
        }
    }

    /// The topic names events are filed under.
    pub fn names(&self) -> &TopicNames {
        &self.names
    }

    /// Folds `events` (a topic and an encoded value each) into `db`.
    pub async fn fold(
        &mut self,
        db: &Database,
        events: &[(Topic, Vec<u8>)],
    ) -> Result<FoldStats, Error> {
        let records: Vec<kafka::Record> = events
            .iter()
            .map(|(topic, value)| {
                let name = topic.name(&self.names).to_owned();
                let offset = self.next.entry(name.clone()).or_insert(0);
                *offset += 1;
                kafka::Record {
                    topic: name,
                    partition: 0,
                    offset: *offset - 1,
                    key: None,
                    value: Some(value.clone()),
                    timestamp_ms: None,
                }
            })
            .collect();
        let mut stats = FoldStats::default();
        let mut never = Box::pin(futures::future::pending::<()>());
        for p in crate::all() {
            let mine: Vec<kafka::Record> = records
                .iter()
                .filter(|r| {
                    Topic::of(&r.topic, &self.names).is_some_and(|t| p.topics().contains(&t))
                })
                .cloned()
                .collect();
            if mine.is_empty() {
                continue;
            }
            let folder = Folder::new(
                db.clone(),
                p.as_ref(),
                self.names.clone(),
                None,
                FoldSettings::default(),
            );
            if let Some((s, _)) = folder.fold_batch(&Batch::from(mine), &mut never).await? {
                stats.add(s);
            }
        }
        Ok(stats)
    }
}

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplaySummary {
    /// What the folds read, wrote and skipped.
    pub stats: FoldStats,
    /// Wall-clock time the rebuild took (seconds).
    pub seconds: f64,
}

/// An estimate of the records a rebuild of `projections` reads (from the
/// brokers' watermarks, which some brokers under-report): for a progress
/// bar only.
pub async fn backlog(
    kafka: &KafkaConfig,
    names: &TopicNames,
    projections: &[Box<dyn Projection>],
) -> u64 {
    let mut total = 0u64;
    for p in projections {
        for topic in p.topics() {
            if let Ok(parts) = kafka::partitions(kafka, topic.name(names)).await {
                total += parts
                    .iter()
                    .map(|(_, low, high)| (high - low).max(0) as u64)
                    .sum::<u64>();
            }
        }
    }
    total
}

/// Rebuilds `projections` from offset 0: empties their tables and stored
/// offsets, then folds their topics until each has been idle for `idle`.
/// `read` counts the records read, for progress. Run it with the
/// projections' live consumers (`skyline project`) stopped.
pub async fn replay(
    db: &Database,
    projections: &[Box<dyn Projection>],
    kafka: &KafkaConfig,
    names: &TopicNames,
    settings: &FoldSettings,
    idle: Duration,
    read: &AtomicU64,
) -> Result<ReplaySummary, Error> {
    let started = Instant::now();
    let folders: Vec<Folder<'_>> = projections
        .iter()
        .map(|p| {
            Folder::new(
                db.clone(),
                p.as_ref(),
                names.clone(),
                None,
                settings.clone(),
            )
        })
        .collect();
    for folder in &folders {
        folder.clear().await?;
    }
    let results =
        futures::future::join_all(folders.iter().map(|f| f.refold(kafka, idle, read))).await;
    let mut stats = FoldStats::default();
    for result in results {
        stats.add(result?);
    }
    Ok(ReplaySummary {
        stats,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The projections service (`skyline project`, and in `skyline up`):
/// every projection in `selected` folded into `db` until `shutdown`, what
/// cannot be folded dead-lettered through `producer`; closes `db` when it
/// ends.
pub async fn serve(
    db: Database,
    selected: &[Box<dyn Projection>],
    kafka: &KafkaConfig,
    names: &TopicNames,
    producer: kafka::Producer,
    settings: &FoldSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<FoldStats, Error> {
    let dead = DeadLetters::new(producer, names.deadletter.clone(), "projections");
    let stats = run_all(&db, selected, kafka, names, Some(dead), settings, shutdown).await;
    db.close().await;
    stats
}

/// Runs every projection in `projections` as its own folding consumer until
/// `shutdown` resolves; returns their stats added up.
pub async fn run_all(
    db: &Database,
    projections: &[Box<dyn Projection>],
    kafka: &KafkaConfig,
    names: &TopicNames,
    dead: Option<DeadLetters>,
    settings: &FoldSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<FoldStats, Error> {
    let shutdown = shutdown.boxed().shared();
    let folders: Vec<Folder<'_>> = projections
        .iter()
        .map(|p| {
            Folder::new(
                db.clone(),
                p.as_ref(),
                names.clone(),
                dead.clone(),
                settings.clone(),
            )
        })
        .collect();
    // The first projection to fail stops them all (the others' open
    // transactions roll back), so the process exits and is restarted
    // rather than running on with a projection silently stopped.
    let results =
        futures::future::try_join_all(folders.iter().map(|f| f.run(kafka, shutdown.clone())))
            .await?;
    let mut stats = FoldStats::default();
    for result in results {
        stats.add(result);
    }
    Ok(stats)
}
