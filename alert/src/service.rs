//! The alerter service: one consumer per alerter (group `alert.<name>`), so
//! each alerter is its own queue and a dead SMTP server never delays a
//! webhook. Each alert read is delivered in the background, every attempt's
//! outcome written to `skyline.deliveries`; the committed offset of a
//! partition stays before its oldest alert not yet finished (delivered,
//! given up or muted), as an arroyo strategy commits only what is done.
//!
//! At-least-once: a graceful stop lets the attempts under way end and be
//! recorded; a crash after sending and before the outcome is written
//! sends that alert again at the next start (receivers de-duplicate on the
//! alert id: the webhook's `Idempotency-Key`, the mail's Message-ID). What
//! was finished before — read back from `skyline.deliveries` in the restore
//! phase — is never sent twice.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use runtime::{Commit, Context, RunSettings, Service, ServiceError};
use tokio::sync::Semaphore;
use topics::codec::encode;
use topics::follow::{self, Positions};
use topics::ids::delivery_id;
use topics::kafka::{Batch, Error as KafkaError, Producer};
use topics::names::TopicNames;
use topics::{AlertEvent, DeliveryEvent, DeliveryOutcome, MuteEvent, SystemEvent};
use uuid::Uuid;

use crate::config::{AlerterConfig, DeliverySettings};
use crate::mutes::MuteBook;
use crate::retry::{self, Attempt, Next};
use crate::send::Transport;
use runtime::Inflight;

/// The consumer name of alerter `name`.
pub fn service_name(alerter: &str) -> String {
    format!("alert.{alerter}")
}

/// Alerts whose delivery finished, from `skyline.deliveries`: those of
/// `alerter` whose outcome is final.
pub fn finished_alerts(deliveries: &[DeliveryEvent], alerter: &str) -> HashSet<Uuid> {
    deliveries
        .iter()
        .filter(|d| d.alerter == alerter && d.outcome != DeliveryOutcome::Failed)
        .map(|d| d.alert_id)
        .collect()
}

/// What an alerter delivers: an alert, or one of skyline's own notices.
#[derive(Debug, Clone)]
pub enum Notice {
    /// An alert from `skyline.alerts`.
    Alert(AlertEvent),
    /// A `skyline.system` event asking for delivery.
    System(SystemEvent),
}

impl Notice {
    /// Its id (what receivers de-duplicate on, what `skyline.deliveries`
    /// calls `alert_id`).
    pub fn id(&self) -> Uuid {
        match self {
            Notice::Alert(a) => a.id,
            Notice::System(e) => e.id,
        }
    }

    /// The metric, or a notice's subject (a check or a metric).
    pub fn subject(&self) -> &str {
        match self {
            Notice::Alert(a) => &a.metric,
            Notice::System(e) => &e.subject,
        }
    }

    /// When it was decided (unix milliseconds): retries stop
    /// `give_up_after` seconds later.
    pub fn decided_at_ms(&self) -> i64 {
        match self {
            Notice::Alert(a) => a.decided_at_ms,
            Notice::System(e) => e.decided_at_ms,
        }
    }

    /// The anomaly alerted on; nil for a notice.
    pub fn anomaly_id(&self) -> Uuid {
        match self {
            Notice::Alert(a) => a.anomaly_id,
            Notice::System(_) => Uuid::nil(),
        }
    }
}

/// One alerter's consumer.
pub struct AlertService {
    inner: Arc<Deliverer>,
}

struct Deliverer {
    name: String,
    transport: Transport,
    delivery: DeliverySettings,
    producer: Producer,
    names: TopicNames,
    mutes: RwLock<MuteBook>,
    mute_positions: Mutex<Positions>,
    finished: Mutex<HashSet<Uuid>>,
    /// Ids being delivered now: a second record of one (a notice said
    /// again by a restarted watchdog) is not delivered beside the first.
    delivering: Mutex<HashSet<Uuid>>,
    inflight: Mutex<Inflight>,
    slots: Semaphore,
    /// Attempts between their start and their recorded outcome: a stop
    /// waits for them ([`Service::background`]).
    sending: AtomicUsize,
}

impl AlertService {
    /// The consumer of `transport`'s alerter, writing outcomes with
    /// `producer` to `names.deliveries`.
    pub fn new(transport: Transport, producer: Producer, names: TopicNames) -> AlertService {
        let config: &AlerterConfig = transport.config();
        let delivery = config.delivery();
        AlertService {
            inner: Arc::new(Deliverer {
                name: service_name(config.name()),
                slots: Semaphore::new(delivery.concurrency.max(1)),
                delivery,
                transport,
                producer,
                names,
                mutes: RwLock::new(MuteBook::default()),
                mute_positions: Mutex::new(Vec::new()),
                finished: Mutex::new(HashSet::new()),
                delivering: Mutex::new(HashSet::new()),
                inflight: Mutex::new(Inflight::default()),
                sending: AtomicUsize::new(0),
            }),
        }
    }

    /// The alerter's name.
    pub fn alerter(&self) -> &str {
        self.inner.transport.config().name()
    }

    /// Alerts being delivered now.
    pub fn pending(&self) -> usize {
        lock(&self.inner.inflight).pending()
    }
}

impl Service for AlertService {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn topics(&self) -> Vec<String> {
        let mut topics = vec![self.inner.names.alerts.clone()];
        if self.inner.transport.config().system() {
            topics.push(self.inner.names.system.clone());
        }
        topics
    }

    fn settings(&self) -> RunSettings {
        RunSettings {
            max_batch: 1_000,
            tick: Some(Duration::from_millis(500)),
            ..RunSettings::default()
        }
    }

    async fn restore(&self, cx: &Context) -> Result<(), ServiceError> {
        let d = &self.inner;
        let idle = Duration::from_secs(2);
        let mut deliveries = Vec::new();
        follow::load(
            cx.kafka(),
            &format!("{}-deliveries", d.name),
            &d.names.deliveries,
            idle,
            |e: DeliveryEvent| deliveries.push(e),
        )
        .await?;
        let finished = finished_alerts(&deliveries, self.alerter());
        let mut book = MuteBook::default();
        let positions = follow::load(
            cx.kafka(),
            &format!("{}-mutes", d.name),
            &d.names.mutes,
            idle,
            |e: MuteEvent| book.apply(&e),
        )
        .await?;
        tracing::info!(service = %d.name, finished = finished.len(), "alert: deliveries and mutes read");
        *lock(&d.finished) = finished;
        *d.mutes.write().map_err(ServiceError::task)? = book;
        *lock(&d.mute_positions) = positions;
        Ok(())
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        let d = &self.inner;
        let (system, alerts): (Vec<_>, Vec<_>) = batch
            .iter()
            .cloned()
            .partition(|r| r.topic == d.names.system);
        let alerts = cx.decode::<AlertEvent>(&alerts).await?;
        let system = cx.decode::<SystemEvent>(&system).await?;
        let notices = alerts
            .into_iter()
            .filter(|(_, a)| a.alerter == self.alerter())
            .map(|(r, a)| (r, Notice::Alert(a)))
            .chain(
                system
                    .into_iter()
                    // Only what the decider asked the alerters for.
                    .filter(|(_, e)| e.alert)
                    .map(|(r, e)| (r, Notice::System(e))),
            );
        let mut inflight = lock(&d.inflight);
        for r in batch.iter() {
            inflight.read(&r.topic, r.partition, r.offset);
        }
        for (record, notice) in notices {
            if lock(&d.finished).contains(&notice.id()) || !lock(&d.delivering).insert(notice.id())
            {
                continue;
            }
            inflight.start(&record.topic, record.partition, record.offset);
            let at = (record.topic.clone(), record.partition, record.offset);
            tokio::spawn(Arc::clone(d).deliver(cx.clone(), notice, at));
        }
        Ok(Commit::UpTo(inflight.commit_target()))
    }

    async fn tick(&self, _cx: &Context) -> Result<Commit, ServiceError> {
        Ok(Commit::UpTo(lock(&self.inner.inflight).commit_target()))
    }

    async fn background(&self, cx: &Context) {
        let d = &self.inner;
        let positions = lock(&d.mute_positions).clone();
        let outcome = follow::follow(
            cx.kafka(),
            &format!("{}-mutes", d.name),
            &positions,
            cx.stopped(),
            |events: Vec<MuteEvent>| {
                if let Ok(mut book) = d.mutes.write() {
                    for e in &events {
                        book.apply(e);
                    }
                }
                async {}
            },
        )
        .await;
        if let Err(e) = outcome {
            tracing::error!(service = %d.name, error = %e, "following the mutes stopped; mutes made from now on are not seen until a restart");
        }
        cx.stopped().await;
        // The service is stopping: let the attempts under way end and be
        // recorded (each bounded by its timeout) before the run returns.
        let grace = d.delivery.timeout() + Duration::from_secs(5);
        let drained = tokio::time::timeout(grace, async {
            while d.sending.load(Ordering::Acquire) > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(service = %d.name, attempts = d.sending.load(Ordering::Acquire), "stopping with attempts still under way: their alerts are sent again at the next start");
        }
    }
}

/// An id in `Deliverer::delivering`, removed when dropped.
struct Delivering<'a>(&'a Mutex<HashSet<Uuid>>, Uuid);

impl Drop for Delivering<'_> {
    fn drop(&mut self) {
        lock(self.0).remove(&self.1);
    }
}

/// One attempt under way, counted in `Deliverer::sending` until dropped.
struct Sending<'a>(&'a AtomicUsize);

impl<'a> Sending<'a> {
    fn start(count: &'a AtomicUsize) -> Sending<'a> {
        count.fetch_add(1, Ordering::AcqRel);
        Sending(count)
    }
}

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Deliverer {
    /// Delivers one alert to the end (or until the service stops), then
    /// marks its offset finished.
    async fn deliver(self: Arc<Self>, cx: Context, alert: Notice, at: (String, i32, i64)) {
        let outcome = self.attempts(&cx, &alert).await;
        // Finished before no longer delivering: a copy read in between is
        // skipped either way.
        let _delivered = Delivering(&self.delivering, alert.id());
        match outcome {
            Ok(true) => {
                lock(&self.finished).insert(alert.id());
                lock(&self.inflight).finish(&at.0, at.1, at.2);
            }
            // Stopped mid-way: the offset stays uncommitted and the next
            // run goes on with it.
            Ok(false) => {}
            Err(e) => {
                tracing::error!(service = %self.name, alert = %alert.id(), error = %e, "a delivery's outcome could not be written; the alert stays uncommitted and is retried at the next start");
            }
        }
    }

    /// The attempts at one alert; `Ok(false)` when the service stopped
    /// before it finished.
    async fn attempts(&self, cx: &Context, alert: &Notice) -> Result<bool, ServiceError> {
        let deadline_ms = alert
            .decided_at_ms()
            .saturating_add((self.delivery.give_up_after as i64).saturating_mul(1000));
        let mut attempt: u32 = 0;
        loop {
            let now = topics::clock::now_ms();
            if let Some(mute) = self.muting(alert, now) {
                self.record(alert, DeliveryOutcome::Muted, attempt, Some(mute))
                    .await?;
                return Ok(true);
            }
            attempt += 1;
            if attempt == 1 && now >= deadline_ms {
                self.record(
                    alert,
                    DeliveryOutcome::GaveUp,
                    attempt,
                    Some("the deadline passed before the first attempt".into()),
                )
                .await?;
                return Ok(true);
            }
            // Waiting for a slot ends with the service; an attempt under
            // way is finished and recorded (it is bounded by the attempt's
            // timeout), so a graceful stop leaves no alert sent but
            // unrecorded — which the next run would send again.
            let sending = Sending::start(&self.sending);
            let result = {
                let _slot = tokio::select! {
                    slot = self.slots.acquire() => slot,
                    () = cx.stopped() => return Ok(false),
                };
                match alert {
                    Notice::Alert(a) => self.transport.attempt(a).await,
                    Notice::System(e) => self.transport.attempt_system(e).await,
                }
            };
            let detail = Some(result.detail().to_owned());
            match retry::next(
                &result,
                attempt,
                topics::clock::now_ms(),
                deadline_ms,
                &self.delivery,
            ) {
                Next::Done(outcome) => {
                    let detail = match (&result, outcome) {
                        (Attempt::Transient(d), DeliveryOutcome::GaveUp) => {
                            Some(format!("deadline reached; last answer: {d}"))
                        }
                        _ => detail,
                    };
                    self.record(alert, outcome, attempt, detail).await?;
                    return Ok(true);
                }
                Next::RetryAfter(wait) => {
                    self.record(alert, DeliveryOutcome::Failed, attempt, detail)
                        .await?;
                    drop(sending);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = cx.stopped() => return Ok(false),
                    }
                }
            }
        }
    }

    /// The mute that holds for the alert when it was decided or now, as
    /// its delivery records it.
    fn muting(&self, alert: &Notice, now_ms: i64) -> Option<String> {
        let book = self.mutes.read().ok()?;
        book.muting(alert.subject(), &[alert.decided_at_ms(), now_ms])
            .map(|m| m.describe())
    }

    /// Writes one attempt's outcome to the deliveries topic, and counts it.
    async fn record(
        &self,
        alert: &Notice,
        outcome: DeliveryOutcome,
        attempt: u32,
        detail: Option<String>,
    ) -> Result<(), ServiceError> {
        let attempt = i32::try_from(attempt).unwrap_or(i32::MAX);
        let alerter = self.transport.config().name();
        let (id, subject) = (alert.id(), alert.subject());
        let event = DeliveryEvent {
            id: delivery_id(id, attempt),
            alert_id: id,
            anomaly_id: alert.anomaly_id(),
            metric: subject.to_owned(),
            alerter: alerter.to_owned(),
            kind: self.transport.config().kind().to_owned(),
            outcome,
            attempt,
            detail,
            at_ms: topics::clock::now_ms(),
        };
        match outcome {
            DeliveryOutcome::Delivered | DeliveryOutcome::Muted => {
                tracing::info!(alerter, metric = %subject, alert = %id, outcome = outcome.as_str(), attempt, "alert delivery")
            }
            _ => {
                tracing::warn!(alerter, metric = %subject, alert = %id, outcome = outcome.as_str(), attempt, detail = ?event.detail, "alert delivery")
            }
        }
        let payload = encode(&event)?;
        self.producer
            .send(&self.names.deliveries, subject.as_bytes(), &payload)
            .await?;
        runtime::telemetry().count(
            "skyline_alert_deliveries_total",
            "Delivery attempts of alerts and system notices, by alerter and outcome (delivered, failed, gave_up, muted).",
            &[("alerter", alerter), ("outcome", outcome.as_str())],
            1,
        );
        Ok(())
    }
}

/// Reads every delivery event on `topic` (for `skyline alert` status and
/// tests).
pub async fn read_deliveries(
    kafka: &topics::kafka::KafkaConfig,
    topic: &str,
    idle: Duration,
) -> Result<Vec<DeliveryEvent>, KafkaError> {
    let mut out = Vec::new();
    follow::load(
        kafka,
        "deliveries-reader",
        topic,
        idle,
        |e: DeliveryEvent| out.push(e),
    )
    .await?;
    Ok(out)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking delivery task cannot leave these half-updated (each
    // update is one call), so a poisoned lock's data is still good.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_means_a_final_outcome_of_this_alerter() {
        let event = |alerter: &str, n: u128, outcome| DeliveryEvent {
            id: Uuid::from_u128(n + 100),
            alert_id: Uuid::from_u128(n),
            anomaly_id: Uuid::nil(),
            metric: "m".into(),
            alerter: alerter.into(),
            kind: "webhook".into(),
            outcome,
            attempt: 1,
            detail: None,
            at_ms: 0,
        };
        let all = [
            event("hook", 1, DeliveryOutcome::Failed),
            event("hook", 2, DeliveryOutcome::Delivered),
            event("hook", 3, DeliveryOutcome::GaveUp),
            event("hook", 4, DeliveryOutcome::Muted),
            event("mail", 5, DeliveryOutcome::Delivered),
        ];
        let f = finished_alerts(&all, "hook");
        assert_eq!(f.len(), 3);
        assert!(!f.contains(&Uuid::from_u128(1)));
        assert!(!f.contains(&Uuid::from_u128(5)));
    }
}
