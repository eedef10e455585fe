//! The learn service (`skyline learn`, consumer group `learn`).
//!
//! * `skyline.labels` → a Created [`ProfileEvent`] per not-anomalous label
//!   ([`crate::profile_from_label`]) on `skyline.profiles`, keyed by metric.
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
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fingerprint::matching::profile_features;
use fingerprint::SharedProfiles;
use fingerprint::{ProfileStore, FEATURES_VERSION};
use profiles::{follow_profiles, load_profiles};
use topics::codec::decode;
use topics::ids::learnt_profile_id;
use topics::kafka::{Consumer, DeadLetters, Error as KafkaError, KafkaConfig, Producer, Record};
use topics::names::TopicNames;
use topics::{Label, LearnSettings, MatchMethod, MatchResult, ProfileAction, ProfileEvent};
use uuid::Uuid;
use windows::{WindowError, Windows};

use crate::decide::{learn_from_human, learn_from_unmatched, learn_series, LearnData};
use crate::label::{profile_from_label, LabelError};
use crate::settings::LearnPolicy;

/// Why the service stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Windows(#[from] WindowError),
    #[error("encoding an event: {0}")]
    Encode(String),
    #[error("features task: {0}")]
    Task(String),
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LearnStats {
    /// Labels read.
    pub labels: u64,
    /// Profiles created from labels.
    pub created: u64,
    /// Profiles learnt.
    pub learnt: u64,
    /// Records dead-lettered.
    pub dead_letters: u64,
}

/// The learn service.
pub struct Learner {
    pub policy: LearnPolicy,
    pub topics: TopicNames,
    /// The windows the long window is read from.
    pub windows: Arc<Windows>,
    pub producer: Producer,
    /// Consumer name (group `<prefix>.<consumer>`).
    pub consumer: String,
    /// How often delayed work is looked at.
    pub poll: Duration,
}

/// Learning from an unmatched anomaly, waiting for the anomaly to age.
#[derive(Debug, Clone)]
struct MatchWork {
    metric: String,
    timestamp: i64,
    check_id: Uuid,
    /// The record it came from (holds back that partition's commit).
    topic: String,
    partition: i32,
    offset: i64,
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

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
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
    /// Runs until `shutdown` resolves: loads the profiles, follows them,
    /// consumes labels and matches and does the delayed work.
    pub async fn run(
        self: Arc<Self>,
        kafka: &KafkaConfig,
        shutdown: impl Future<Output = ()>,
    ) -> Result<LearnStats, ServiceError> {
        let (store, positions) = load_profiles::<fingerprint::matching::Profile>(
            kafka,
            &self.topics.profiles,
            Duration::from_secs(2),
        )
        .await?;
        tracing::info!(profiles = store.len(), "learn: profiles loaded");
        let humans: HumanQueue = Arc::new(Mutex::new(HashMap::new()));
        {
            let ids: Vec<Uuid> = store
                .metrics()
                .flat_map(|m| store.for_metric(m).map(|p| p.id()))
                .collect();
            let mut q = lock(&humans);
            for (id, metric, work) in human_work(&store, &self.policy, ids.into_iter()) {
                q.insert(id, (metric, work));
            }
        }
        let profiles: SharedProfiles = Arc::new(RwLock::new(store));

        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let follower = {
            let (kafka, profiles, humans, me) = (
                kafka.clone(),
                profiles.clone(),
                humans.clone(),
                self.clone(),
            );
            tokio::spawn(async move {
                let stop = async move {
                    let _ = stop_rx.wait_for(|s| *s).await;
                };
                let on_events = |events: Vec<ProfileEvent>| {
                    me.queue_humans(&profiles, &humans, &events);
                    async {}
                };
                if let Err(e) =
                    follow_profiles(&kafka, profiles.clone(), &positions, stop, on_events).await
                {
                    tracing::error!(error = %e, "learn: following the profiles stopped");
                }
            })
        };

        let result = self.consume(kafka, &profiles, &humans, shutdown).await;
        let _ = stop_tx.send(true);
        let _ = follower.await;
        result
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

    async fn consume(
        &self,
        kafka: &KafkaConfig,
        profiles: &SharedProfiles,
        humans: &HumanQueue,
        shutdown: impl Future<Output = ()>,
    ) -> Result<LearnStats, ServiceError> {
        let consumer = Consumer::new(
            kafka,
            &self.consumer,
            &[self.topics.labels.as_str(), self.topics.matches.as_str()],
        )?;
        let dead = DeadLetters::new(
            self.producer.clone(),
            self.topics.deadletter.clone(),
            self.consumer.clone(),
        );
        let mut stats = LearnStats::default();
        let mut pending: Vec<MatchWork> = Vec::new();
        // Per partition: one past the newest record read, and what was
        // last committed.
        let mut read: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut committed: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut tick = tokio::time::interval(self.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        futures::pin_mut!(shutdown);
        let outcome = loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break Ok(stats),
                _ = tick.tick() => {
                    if let Err(e) = self.do_delayed(profiles, humans, &mut pending, &mut stats).await {
                        tracing::warn!(error = %e, "learn: delayed work failed; retrying later");
                    }
                }
                batch = consumer.next_batch(1_000) => {
                    for record in batch.iter() {
                        self.take(record, profiles, &dead, &mut pending, &mut stats).await?;
                    }
                    for (key, next) in batch.next_offsets() {
                        let slot = read.entry(key).or_insert(next);
                        *slot = (*slot).max(next);
                    }
                }
            }
            let target = commit_target(&read, &pending);
            let changed: BTreeMap<(String, i32), i64> = target
                .into_iter()
                .filter(|(k, v)| committed.get(k) != Some(v))
                .collect();
            if !changed.is_empty() {
                match consumer.commit_offsets(&changed).await {
                    Ok(()) => committed.extend(changed),
                    Err(e) => tracing::warn!(error = %e, "learn: commit failed"),
                }
            }
        };
        consumer.close().await;
        outcome
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
                    return Ok(dead.send(record, &e).await?);
                }
            };
            let settings = self.policy.for_metric(&label.metric);
            let made = tokio::task::spawn_blocking(move || {
                profile_from_label(&label, &settings, FEATURES_VERSION)
            })
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?;
            match made {
                Ok(event) => {
                    self.publish(profiles, &[event]).await?;
                    stats.created += 1;
                }
                Err(LabelError::NotNotAnomalous(_)) => {}
                Err(e) => {
                    stats.dead_letters += 1;
                    dead.send(record, &e).await?;
                }
            }
        } else if record.topic == self.topics.matches {
            let m = match decode::<MatchResult>(record.payload()) {
                Ok(m) => m,
                Err(e) => {
                    stats.dead_letters += 1;
                    return Ok(dead.send(record, &e).await?);
                }
            };
            if self.policy.enabled && !m.matched && m.method == MatchMethod::None {
                pending.push(MatchWork {
                    metric: m.metric,
                    timestamp: m.timestamp,
                    check_id: m.check_id,
                    topic: record.topic.clone(),
                    partition: record.partition,
                    offset: record.offset,
                });
            }
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
        let records = topics::kafka::keyed_messages(events, |e| &e.metric)
            .map_err(|x| ServiceError::Encode(x.to_string()))?;
        self.producer
            .send_batch(&self.topics.profiles, records)
            .await?;
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
        let window = self.windows.rollup(metric).await?;
        let Some(series) = learn_series(&window, timestamp, full_duration) else {
            tracing::debug!(
                metric,
                timestamp,
                full_duration,
                points = window.len(),
                "learn: insufficient data in the long window; skipped"
            );
            return Ok(None);
        };
        let metric = metric.to_owned();
        tokio::task::spawn_blocking(move || {
            let values: Vec<f64> = series.iter().map(|p| p.1).collect();
            let (features, features_sum) = profile_features(&values);
            Some(LearnData {
                metric,
                anomaly_timestamp: timestamp,
                check_id,
                series,
                features,
                features_sum,
            })
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))
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
                let store = profiles
                    .read()
                    .map_err(|e| ServiceError::Task(e.to_string()))?;
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
                let store = profiles
                    .read()
                    .map_err(|e| ServiceError::Task(e.to_string()))?;
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
                    let store = profiles
                        .read()
                        .map_err(|e| ServiceError::Task(e.to_string()))?;
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

/// The offsets to commit: per partition read, one past the newest record
/// read, held back to the oldest record with pending work.
fn commit_target(
    read: &BTreeMap<(String, i32), i64>,
    pending: &[MatchWork],
) -> BTreeMap<(String, i32), i64> {
    let mut target = read.clone();
    for w in pending {
        if let Some(slot) = target.get_mut(&(w.topic.clone(), w.partition)) {
            *slot = (*slot).min(w.offset);
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
    .map_err(|e| ServiceError::Task(e.to_string()))?;
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
        let work = |partition, offset| MatchWork {
            metric: "m".into(),
            timestamp: 0,
            check_id: Uuid::nil(),
            topic: "matches".into(),
            partition,
            offset,
        };
        let t = commit_target(&read, &[work(0, 6), work(0, 4)]);
        assert_eq!(t[&("matches".to_owned(), 0)], 4);
        assert_eq!(t[&("matches".to_owned(), 1)], 7);
        assert_eq!(t[&("labels".to_owned(), 0)], 3);
        assert_eq!(commit_target(&read, &[]), read);
    }
}
