//! The learn service (`skyline learn`, consumer group `learn`).
//!
//! * `skyline.labels` → a Created [`ProfileEvent`] per not-anomalous label
//!   ([`crate::profile_from_label`]) on `skyline.profiles`, keyed by metric,
//!   followed, for a label on a seasonal check, by its echo profile's
//!   ([`crate::profiles_from_label`]).
//!   A label that cannot be decoded or makes an invalid profile goes to the
//!   dead-letter topic; an "anomalous" label makes nothing.
//! * `skyline.matches` → each unmatched verdict (method `none`) on a metric
//!   with an active LEARN profile becomes delayed work: once the anomaly is
//!   `valid_ts_older_than` old, its learn-duration data is compared with the
//!   metric's learnt profiles ([`crate::decide::learn_from_unmatched`]).
//! * `skyline.profiles` (followed into a [`ProfileStore`]) → each active
//!   human profile made with LEARN becomes delayed work too: once its
//!   anomaly is old enough, a generation-1 child at the learn duration
//!   ([`crate::decide::learn_from_human`]).
//!
//! * `skyline.checks` and `skyline.anomalies`, when `[learn.repetitive]`
//!   turns a rule on → learning repetitive patterns without an operator
//!   ([`crate::repetitive`]): each new fingerprint check of a selected
//!   metric is compared at once with the metric's checks of the last
//!   `keep_training_timeseries_for` (the daily rule: where the reference
//!   sweeps hourly for metrics with new checks, this decides on each new
//!   check, on the same checks); each new anomaly long enough to compare
//!   becomes delayed work, done once the metric's long window reaches
//!   `anomaly + find_delay` (data time), with the metric's anomalies of the
//!   30 days before it (the sporadic rule). Checks and anomalies are
//!   remembered in memory ([`RepetitiveMemory`]) and hold back the commit
//!   until forgotten, so a restart folds the same memory again.
//!
//! **The learn-duration data** is the metric's long window
//! ([`Windows::rollup`]: rolled-up buckets, `rollup_resolution` apart,
//! including the bucket means of what is still at full resolution) cut to
//! `(anomaly − full_duration, anomaly]`. The long window alone is used: the
//! learn duration (days) is far longer than the full-resolution window,
//! and mixing resolutions inside one series would change its features.
//!
//! **Delayed work stays stateless.** Pending work is kept in memory only.
//! Work from matches holds back its partition's committed offset: the
//! service commits a partition only up to its oldest pending record, so a
//! restart reads those records again and re-creates the work (a decision
//! has a deterministic id, so deciding twice emits the same event). Work
//! from human profiles needs no offset: the profiles topic is read from
//! offset 0 at every start, and every LEARN profile without its learnt
//! child is pending again.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use topics::clock::now_ms;

use fingerprint::{ProfileStore, SharedProfiles, FEATURES_VERSION};
use profiles::{follow_profiles, load_profiles, Positions};
use runtime::{Commit, Context, RunSettings, Runtime, Service, ServiceError};
use topics::codec::decode;
use topics::ids::learnt_profile_id;
use topics::kafka::{
    Batch, DeadLetters, Error as KafkaError, KafkaConfig, Producer, Record, RefusalReason,
};
use topics::names::TopicNames;
use topics::{
    AnomalyEvent, CheckRequest, Label, LearnSettings, MatchMethod, MatchResult, ProfileAction,
    ProfileEvent,
};
use uuid::Uuid;
use windows::Windows;

use crate::decide::{learn_data, learn_from_human, learn_from_unmatched, learn_series, LearnData};
use crate::label::{profiles_from_label, LabelError};
use crate::repetitive::{
    find_repetitive, learn_repetitive, DailyWork, RepetitiveMemory, SporadicWork,
};
use crate::settings::LearnPolicy;

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LearnStats {
    /// Labels read.
    pub labels: u64,
    /// Profiles created from labels (echo profiles included).
    pub created: u64,
    /// Profiles learnt (repetitive patterns included).
    pub learnt: u64,
    /// Of those, profiles learnt from repetitive patterns.
    pub repetitive: u64,
    /// Records dead-lettered.
    pub dead_letters: u64,
}

/// The learn service.
pub struct Learner {
    /// How each metric learns (the `[learn]` table with its namespaces compiled).
    pub policy: LearnPolicy,
    /// The topic names it reads and writes.
    pub topics: TopicNames,
    /// The windows the long window is read from.
    pub windows: Arc<Windows>,
    /// Where profile events and dead letters are produced.
    pub producer: Producer,
    /// Consumer name (group `<prefix>.<consumer>`).
    pub consumer: String,
    /// How often delayed work is looked at.
    pub poll: Duration,
}

/// Where a record was read: work made from it holds back that
/// partition's commit to it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ReadAt {
    topic: String,
    partition: i32,
    offset: i64,
}

impl ReadAt {
    fn of(record: &Record) -> ReadAt {
        ReadAt {
            topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
        }
    }
}

/// Learning from an unmatched anomaly, waiting for the anomaly to age.
#[derive(Debug, Clone)]
struct MatchWork {
    metric: String,
    timestamp: i64,
    check_id: Uuid,
    /// The record it came from.
    at: ReadAt,
}

/// Learning a human profile's generation-1 child.
#[derive(Debug, Clone, Copy)]
struct HumanWork {
    timestamp: i64,
    settings: LearnSettings,
}

/// The settings `metric` learns with, if it learns at all: those recorded
/// on its oldest active LEARN profile (as the reference keeps them on the
/// metric's row once it exists), else the policy's. `None` when the metric
/// has no active profile made with LEARN.
pub fn metric_settings(
    store: &ProfileStore,
    policy: &LearnPolicy,
    metric: &str,
) -> Option<LearnSettings> {
    let learner = store
        .active_for_metric(metric)
        .find(|p| p.learn && p.parent_id.is_none())?;
    Some(
        learner
            .learn_settings
            .unwrap_or_else(|| policy.for_metric(metric)),
    )
}

/// The human LEARN profiles of `store` still waiting for their learnt
/// child, by id.
fn human_work(
    store: &ProfileStore,
    policy: &LearnPolicy,
    ids: impl Iterator<Item = Uuid>,
) -> Vec<(Uuid, String, HumanWork)> {
    ids.filter_map(|id| {
        let p = store.get(id)?;
        if p.generation != 0 || p.parent_id.is_some() || !p.learn || !store.is_active(id) {
            return None;
        }
        let timestamp = p.anomaly_timestamp?;
        let settings = p
            .learn_settings
            .unwrap_or_else(|| policy.for_metric(&p.metric));
        let child = learnt_profile_id(id, timestamp, settings.full_duration);
        store.get(child).is_none().then(|| {
            (
                id,
                p.metric.clone(),
                HumanWork {
                    timestamp,
                    settings,
                },
            )
        })
    })
    .collect()
}

type HumanQueue = Arc<Mutex<HashMap<Uuid, (String, HumanWork)>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Learner {
    /// Runs until `shutdown` resolves, on the service runtime: loads the
    /// profiles (the restore phase), follows them, consumes labels and
    /// matches (commits held back by pending work) and does the delayed
    /// work every `poll`.
    pub async fn run(
        self: Arc<Self>,
        kafka: &KafkaConfig,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<LearnStats, ServiceError> {
        let (producer, topic) = (self.producer.clone(), self.topics.deadletter.clone());
        let service = Arc::new(LearnService {
            learner: self,
            profiles: Arc::default(),
            humans: HumanQueue::default(),
            positions: Mutex::default(),
            work: tokio::sync::Mutex::default(),
        });
        Runtime::dead_lettering(Arc::clone(&service), kafka, producer, topic)
            .run(shutdown)
            .await?;
        let stats = service.work.lock().await.stats;
        Ok(stats)
    }

    /// Queues the human LEARN profiles among `events`.
    fn queue_humans(
        &self,
        profiles: &SharedProfiles,
        humans: &HumanQueue,
        events: &[ProfileEvent],
    ) {
        let Ok(store) = profiles.read() else { return };
        let created = events
            .iter()
            .filter(|e| e.action == ProfileAction::Created && e.learn)
            .map(|e| e.profile_id);
        let mut q = lock(humans);
        for (id, metric, work) in human_work(&store, &self.policy, created) {
            q.insert(id, (metric, work));
        }
    }

    /// Handles one consumed record.
    async fn take(
        &self,
        record: &Record,
        profiles: &SharedProfiles,
        dead: &DeadLetters,
        pending: &mut Vec<MatchWork>,
        stats: &mut LearnStats,
    ) -> Result<(), ServiceError> {
        if record.topic == self.topics.labels {
            stats.labels += 1;
            let label = match decode::<Label>(record.payload()) {
                Ok(l) => l,
                Err(e) => {
                    stats.dead_letters += 1;
                    return Ok(dead.send(record, RefusalReason::Undecodable, &e).await?);
                }
            };
            let policy = self.policy.clone();
            let made = tokio::task::spawn_blocking(move || {
                profiles_from_label(&label, &policy, FEATURES_VERSION)
            })
            .await
            .map_err(ServiceError::task)?;
            match made {
                Ok(events) => {
                    // The label's profile and its echo profile go out in one
                    // batch, parent first.
                    self.publish(profiles, &events).await?;
                    stats.created += events.len() as u64;
                }
                Err(LabelError::NotNotAnomalous(_)) => {}
                Err(e) => {
                    stats.dead_letters += 1;
                    dead.send(record, RefusalReason::Unusable, &e).await?;
                }
            }
        } else if record.topic == self.topics.matches {
            let m = match decode::<MatchResult>(record.payload()) {
                Ok(m) => m,
                Err(e) => {
                    stats.dead_letters += 1;
                    return Ok(dead.send(record, RefusalReason::Undecodable, &e).await?);
                }
            };
            if self.policy.enabled && !m.matched && m.method == MatchMethod::None {
                pending.push(MatchWork {
                    metric: m.metric,
                    timestamp: m.timestamp,
                    check_id: m.check_id,
                    at: ReadAt::of(record),
                });
            }
        }
        Ok(())
    }

    /// Folds a check or an anomaly into the repetitive rules' memory:
    /// a check returns the daily rule's work, an anomaly queues the
    /// sporadic rule's. Undecodable records are dead-lettered.
    async fn remember(
        &self,
        record: &Record,
        dead: &DeadLetters,
        repetitive: &mut Repetitive,
        stats: &mut LearnStats,
    ) -> Result<Option<DailyWork>, ServiceError> {
        let policy = &self.policy.repetitive;
        if record.topic == self.topics.checks {
            match decode::<CheckRequest>(record.payload()) {
                Ok(check) => Ok(repetitive.memory.check(policy, &check, ReadAt::of(record))),
                Err(e) => {
                    stats.dead_letters += 1;
                    dead.send(record, RefusalReason::Undecodable, &e).await?;
                    Ok(None)
                }
            }
        } else {
            match decode::<AnomalyEvent>(record.payload()) {
                Ok(anomaly) => {
                    let at = ReadAt::of(record);
                    if let Some(work) = repetitive.memory.anomaly(policy, &anomaly, at.clone()) {
                        repetitive.sporadic.push((work, at));
                    }
                }
                Err(e) => {
                    stats.dead_letters += 1;
                    dead.send(record, RefusalReason::Undecodable, &e).await?;
                }
            }
            Ok(None)
        }
    }

    /// The daily rule on one new check (CPU-bound: features of each
    /// remembered check), its profiles published.
    async fn learn_daily(
        &self,
        profiles: &SharedProfiles,
        work: DailyWork,
        stats: &mut LearnStats,
    ) -> Result<(), ServiceError> {
        let settings = self.policy.for_metric(&work.metric);
        let store = Arc::clone(profiles);
        let decided = tokio::task::spawn_blocking(move || {
            let store = store.read().map_err(ServiceError::task)?;
            Ok::<_, ServiceError>(learn_repetitive(
                &work.metric,
                &work.checks,
                work.full_duration,
                &store,
                &settings,
                work.timestamp.saturating_mul(1000),
            ))
        })
        .await
        .map_err(ServiceError::task)??;
        self.published_repetitive(profiles, decided, stats).await
    }

    /// The sporadic work whose metric's long window has reached its due
    /// time: each decided (and done) in order; the rest waits.
    async fn find_sporadic(
        &self,
        profiles: &SharedProfiles,
        repetitive: &mut Repetitive,
        stats: &mut LearnStats,
    ) -> Result<(), ServiceError> {
        let mut waiting = Vec::new();
        // Each metric's long window read once per tick, whatever its work.
        let mut rollups: HashMap<String, Arc<Vec<(i64, f64)>>> = HashMap::new();
        for (work, at) in std::mem::take(&mut repetitive.sporadic) {
            let rollup = match rollups.get(&work.metric) {
                Some(r) => Arc::clone(r),
                None => {
                    let r = Arc::new(
                        self.windows
                            .rollup(&work.metric)
                            .await
                            .map_err(ServiceError::state)?,
                    );
                    rollups.insert(work.metric.clone(), Arc::clone(&r));
                    r
                }
            };
            if rollup.last().is_none_or(|p| p.0 < work.due) {
                waiting.push((work, at));
                continue;
            }
            let anomalies = repetitive.memory.anomalies(&work.metric);
            let settings = self.policy.for_metric(&work.metric);
            let sporadic = self.policy.repetitive.sporadic_settings;
            let store = Arc::clone(profiles);
            let decided = tokio::task::spawn_blocking(move || {
                let store = store.read().map_err(ServiceError::task)?;
                Ok::<_, ServiceError>(find_repetitive(
                    &work.metric,
                    work.timestamp,
                    &anomalies,
                    &rollup,
                    &store,
                    &settings,
                    &sporadic,
                    work.due.saturating_mul(1000),
                ))
            })
            .await
            .map_err(ServiceError::task)??;
            self.published_repetitive(profiles, decided, stats).await?;
        }
        repetitive.sporadic = waiting;
        Ok(())
    }

    /// Publishes what a repetitive rule learnt (or logs why not).
    async fn published_repetitive<E: std::fmt::Display>(
        &self,
        profiles: &SharedProfiles,
        decided: Result<Vec<ProfileEvent>, E>,
        stats: &mut LearnStats,
    ) -> Result<(), ServiceError> {
        match decided {
            Ok(events) => {
                if let Some(first) = events.first() {
                    tracing::info!(
                        metric = %first.metric,
                        profiles = events.len(),
                        first = %first.profile_id,
                        full_duration = first.full_duration,
                        "learnt a repetitive pattern"
                    );
                }
                self.publish(profiles, &events).await?;
                stats.learnt += events.len() as u64;
                stats.repetitive += events.len() as u64;
            }
            Err(skip) => tracing::debug!(%skip, "learn: no repetitive pattern"),
        }
        Ok(())
    }

    /// Produces `events` (keyed by metric) and folds them into the store
    /// at once, so the next decision sees them.
    async fn publish(
        &self,
        profiles: &SharedProfiles,
        events: &[ProfileEvent],
    ) -> Result<(), ServiceError> {
        let records = topics::kafka::keyed_messages(events, |e| &e.metric)?;
        self.producer
            .send_batch(&self.topics.profiles, records)
            .await?;
        for e in events {
            runtime::telemetry().count(
                "skyline_learn_profiles_total",
                "Profile events learn published, by action (created from a label, learnt).",
                &[("action", e.action.as_str())],
                1,
            );
        }
        if let Ok(mut s) = profiles.write() {
            for e in events {
                s.apply(e);
            }
        }
        Ok(())
    }

    /// The learn-duration data of `metric` ending at `timestamp`, with its
    /// features; `None` when the long window does not cover it.
    async fn learn_data(
        &self,
        metric: &str,
        timestamp: i64,
        check_id: Option<Uuid>,
        full_duration: i64,
    ) -> Result<Option<LearnData>, ServiceError> {
        let window = self
            .windows
            .rollup(metric)
            .await
            .map_err(ServiceError::state)?;
        if learn_series(&window, timestamp, full_duration).is_none() {
            tracing::debug!(
                metric,
                timestamp,
                full_duration,
                points = window.len(),
                "learn: insufficient data in the long window; skipped"
            );
            return Ok(None);
        }
        let metric = metric.to_owned();
        tokio::task::spawn_blocking(move || {
            learn_data(&window, &metric, timestamp, check_id, full_duration)
        })
        .await
        .map_err(ServiceError::task)
    }

    /// Does the delayed work that is due. Work that fails on I/O stays
    /// pending; work decided (learnt or not) is done.
    async fn do_delayed(
        &self,
        profiles: &SharedProfiles,
        humans: &HumanQueue,
        pending: &mut Vec<MatchWork>,
        stats: &mut LearnStats,
    ) -> Result<(), ServiceError> {
        let now = now_ms() / 1000;
        if !self.policy.enabled {
            lock(humans).clear();
            pending.clear();
            return Ok(());
        }
        let due_humans: Vec<(Uuid, String, HumanWork)> = lock(humans)
            .iter()
            .filter(|(_, (_, w))| now.saturating_sub(w.timestamp) >= w.settings.valid_ts_older_than)
            .map(|(id, (m, w))| (*id, m.clone(), *w))
            .collect();
        for (id, metric, work) in due_humans {
            let data = self
                .learn_data(&metric, work.timestamp, None, work.settings.full_duration)
                .await?;
            let decided = data.map(|data| {
                let store = profiles.read().map_err(ServiceError::task)?;
                Ok::<_, ServiceError>(learn_from_human(
                    &store,
                    id,
                    &work.settings,
                    &data,
                    now_ms(),
                ))
            });
            match decided.transpose()? {
                Some(Ok(event)) => {
                    tracing::info!(%metric, parent = %id, profile = %event.profile_id, "learnt generation 1");
                    self.publish(profiles, &[event]).await?;
                    stats.learnt += 1;
                }
                Some(Err(skip)) => {
                    tracing::debug!(%metric, human = %id, %skip, "learn: not learnt")
                }
                None => {}
            }
            lock(humans).remove(&id);
        }

        pending.sort_by_key(|w| w.timestamp);
        let mut i = 0;
        while i < pending.len() {
            let work = pending[i].clone();
            let settings = {
                let store = profiles.read().map_err(ServiceError::task)?;
                metric_settings(&store, &self.policy, &work.metric)
            };
            let Some(settings) = settings else {
                pending.remove(i);
                continue;
            };
            if now.saturating_sub(work.timestamp) < settings.valid_ts_older_than {
                i += 1;
                continue;
            }
            let data = self
                .learn_data(
                    &work.metric,
                    work.timestamp,
                    Some(work.check_id),
                    settings.full_duration,
                )
                .await?;
            if let Some(data) = data {
                let decided = {
                    let store = profiles.read().map_err(ServiceError::task)?;
                    learn_from_unmatched(&store, &settings, &data, now_ms())
                };
                match decided {
                    Ok(event) => {
                        tracing::info!(
                            metric = %work.metric, parent = ?event.parent_id,
                            generation = event.generation, profile = %event.profile_id,
                            "learnt from an unmatched anomaly"
                        );
                        self.publish(profiles, &[event]).await?;
                        stats.learnt += 1;
                    }
                    Err(skip) => {
                        tracing::debug!(metric = %work.metric, timestamp = work.timestamp, %skip, "learn: not learnt")
                    }
                }
            }
            pending.remove(i);
        }
        Ok(())
    }
}

/// The learn service's state while it runs: the profiles read model,
/// the work waiting for its anomaly to age, and how far it read.
struct LearnService {
    learner: Arc<Learner>,
    profiles: SharedProfiles,
    humans: HumanQueue,
    /// Where the profiles were read to at start, to follow on from.
    positions: Mutex<Positions>,
    work: tokio::sync::Mutex<Work>,
}

/// The repetitive rules' memory and the sporadic rule's waiting work.
#[derive(Default)]
struct Repetitive {
    memory: RepetitiveMemory<ReadAt>,
    sporadic: Vec<(SporadicWork, ReadAt)>,
}

/// What the batches and ticks share.
#[derive(Default)]
struct Work {
    pending: Vec<MatchWork>,
    repetitive: Repetitive,
    /// Per partition: one past the newest record read.
    read: BTreeMap<(String, i32), i64>,
    stats: LearnStats,
}

impl Work {
    /// What may be committed: what was read, held back by pending work and
    /// by what the repetitive rules remember.
    fn commit(&self) -> Commit {
        let held = self
            .pending
            .iter()
            .map(|w| &w.at)
            .chain(self.repetitive.memory.positions())
            .chain(self.repetitive.sporadic.iter().map(|(_, at)| at));
        Commit::UpTo(commit_target(&self.read, held))
    }
}

impl Service for LearnService {
    fn name(&self) -> &str {
        &self.learner.consumer
    }

    /// Ready when the windows' store answers.
    async fn ready(&self) -> Result<(), String> {
        self.learner.windows.ping().await
    }

    fn topics(&self) -> Vec<String> {
        let t = &self.learner.topics;
        let mut topics = vec![t.labels.clone(), t.matches.clone()];
        let repetitive = &self.learner.policy.repetitive;
        if repetitive.daily {
            topics.push(t.checks.clone());
        }
        if repetitive.sporadic {
            topics.push(t.anomalies.clone());
        }
        topics
    }

    /// One attempt per batch (a failure stops the service, which resumes
    /// at its held-back commits); ticks every `poll`.
    fn settings(&self) -> RunSettings {
        RunSettings {
            max_batch: 1_000,
            attempts: 1,
            tick: Some(self.learner.poll),
            ..RunSettings::default()
        }
    }

    /// Loads the profiles and queues every human LEARN profile still
    /// waiting for its learnt child.
    async fn restore(&self, cx: &Context) -> Result<(), ServiceError> {
        let learner = &self.learner;
        let (store, positions) =
            load_profiles(cx.kafka(), &learner.topics.profiles, Duration::from_secs(2)).await?;
        tracing::info!(profiles = store.len(), "learn: profiles loaded");
        let ids: Vec<Uuid> = store
            .metrics()
            .flat_map(|m| store.for_metric(m).map(|p| p.id()))
            .collect();
        {
            let mut q = lock(&self.humans);
            for (id, metric, work) in human_work(&store, &learner.policy, ids.into_iter()) {
                q.insert(id, (metric, work));
            }
        }
        *self.profiles.write().map_err(ServiceError::task)? = store;
        *lock(&self.positions) = positions;
        Ok(())
    }

    /// Follows the profiles, queueing the new human LEARN profiles.
    async fn background(&self, cx: &Context) {
        let positions = lock(&self.positions).clone();
        let on_events = |events: Vec<ProfileEvent>| {
            self.learner
                .queue_humans(&self.profiles, &self.humans, &events);
            async {}
        };
        let store = Arc::clone(&self.profiles);
        if let Err(e) =
            follow_profiles(cx.kafka(), store, &positions, cx.stopped(), on_events).await
        {
            tracing::error!(error = %e, "learn: following the profiles stopped");
        }
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        let dead = cx
            .dead_letters()
            .ok_or_else(|| ServiceError::task("learn runs with dead letters"))?;
        let mut work = self.work.lock().await;
        let Work {
            pending,
            repetitive,
            read,
            stats,
        } = &mut *work;
        let learner = &self.learner;
        for record in batch.iter() {
            if record.topic == learner.topics.checks || record.topic == learner.topics.anomalies {
                if let Some(daily) = learner.remember(record, dead, repetitive, stats).await? {
                    learner.learn_daily(&self.profiles, daily, stats).await?;
                }
            } else {
                learner
                    .take(record, &self.profiles, dead, pending, stats)
                    .await?;
            }
        }
        for (key, next) in batch.next_offsets() {
            let slot = read.entry(key).or_insert(next);
            *slot = (*slot).max(next);
        }
        Ok(work.commit())
    }

    async fn tick(&self, _cx: &Context) -> Result<Commit, ServiceError> {
        let mut work = self.work.lock().await;
        let Work {
            pending,
            repetitive,
            stats,
            ..
        } = &mut *work;
        self.learner
            .do_delayed(&self.profiles, &self.humans, pending, stats)
            .await?;
        self.learner
            .find_sporadic(&self.profiles, repetitive, stats)
            .await?;
        Ok(work.commit())
    }
}

/// The offsets to commit: per partition read, one past the newest record
/// read, held back to the oldest record still `held` (pending work, what
/// is remembered).
fn commit_target<'a>(
    read: &BTreeMap<(String, i32), i64>,
    held: impl IntoIterator<Item = &'a ReadAt>,
) -> BTreeMap<(String, i32), i64> {
    let mut target = read.clone();
    for at in held {
        if let Some(slot) = target.get_mut(&(at.topic.clone(), at.partition)) {
            *slot = (*slot).min(at.offset);
        }
    }
    target
}

/// `skyline retrain` over the log: every label on `names.labels` and the
/// profiles on `names.profiles` as they are now, each topic read to where
/// it ended when the read began ([`topics::kafka::read_to_end`]; `idle` is
/// the fallback end for a broker that under-reports it), then
/// [`crate::retrain`] at today's [`FEATURES_VERSION`]. Returns how many
/// labels were read and the events to produce. Unreadable labels are
/// skipped with a warning.
pub async fn retrain_from_log(
    kafka: &KafkaConfig,
    names: &TopicNames,
    policy: LearnPolicy,
    idle: Duration,
) -> Result<(usize, Vec<ProfileEvent>), ServiceError> {
    let mut labels: Vec<Label> = Vec::new();
    let reader = format!("retrain-labels-{}", Uuid::now_v7());
    topics::kafka::read_to_end(kafka, &reader, &names.labels, idle, |batch| {
        for r in &batch {
            match decode::<Label>(r.payload()) {
                Ok(l) => labels.push(l),
                Err(e) => tracing::warn!(offset = r.offset, error = %e, "unreadable label skipped"),
            }
        }
        async { Ok::<(), KafkaError>(()) }
    })
    .await?;
    let (store, _) =
        load_profiles::<fingerprint::matching::Profile>(kafka, &names.profiles, idle).await?;
    let read = labels.len();
    let events = tokio::task::spawn_blocking(move || {
        crate::retrain(&labels, &store, &policy, FEATURES_VERSION)
    })
    .await
    .map_err(ServiceError::task)?;
    Ok((read, events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_held_back_by_pending_work() {
        let read: BTreeMap<(String, i32), i64> = [
            (("matches".to_owned(), 0), 10),
            (("matches".to_owned(), 1), 7),
            (("labels".to_owned(), 0), 3),
        ]
        .into();
        let at = |partition, offset| ReadAt {
            topic: "matches".into(),
            partition,
            offset,
        };
        let t = commit_target(&read, &[at(0, 6), at(0, 4)]);
        assert_eq!(t[&("matches".to_owned(), 0)], 4);
        assert_eq!(t[&("matches".to_owned(), 1)], 7);
        assert_eq!(t[&("labels".to_owned(), 0)], 3);
        assert_eq!(commit_target(&read, &[]), read);
    }
}
