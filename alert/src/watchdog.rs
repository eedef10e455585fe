//! The watchdog (the reference's Thunder) as a service: it consumes the
//! heartbeats on `skyline.system`, folds the newest facts of every service
//! and instance ([`HeartbeatBoard`]) and, every `tick`, judges the stall
//! checks with [`crate::stall`] at its clock, publishing each stall and
//! each recovery back to `skyline.system` as a `SystemEvent` with
//! `alert = true`, which the alerters deliver ([`crate::service`]).
//!
//! The clock is the wall clock: the watchdog judges what is happening now.
//! Its decisions are still functions of the log and of that clock — the
//! ids come from the check and when it was last fine, both read from the
//! heartbeats — so judging the same heartbeats again (a restart) says the
//! same stall under the same id, which every alerter delivers once. A
//! replay of `skyline.system` judging at the heartbeats' own `at` (data
//! time) would raise the same stalls; nothing runs one today.
//!
//! It judges only while its consumer has caught up with the topic (lag 0,
//! or the newest heartbeat read at most [`CAUGHT_UP`] s old), so heartbeats read in a burst after a restart are not taken for
//! silence. One watchdog runs per `skyline alert` process (and in
//! `skyline up`), all in one consumer group: heartbeats are keyed by
//! service, so each service's heartbeats are judged by one of them, and
//! its notices are keyed the same way ([`stall::notice_key`]), so the one
//! judging a service reads back what it told about it. `redis` and
//! `database`, judged from every service's heartbeats, are judged by each
//! watchdog on the part of the fleet it reads.
//!
//! It also reads back the stalls and recoveries it told (they are on the
//! same topic) and commits no further than the notice of a stall still in
//! force, so a watchdog that restarts reads that notice again, knows the
//! stall is raised — no second alert for it within the expiry — and tells
//! its recovery once it is fine, even when it ended while the watchdog was
//! down.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use runtime::{Commit, Context, Inflight, RunSettings, Service, ServiceError};
use serde::{Deserialize, Serialize};
use topics::kafka::{Batch, Producer};
use topics::names::TopicNames;
use topics::SystemEvent;

use crate::stall::{self, HeartbeatBoard, Judging, StallEvent, StallThresholds, Watchdog};

/// Seconds behind the newest heartbeat within which the watchdog counts as
/// caught up (see `WatchdogService::caught_up`).
pub const CAUGHT_UP: f64 = 10.0;

/// The consumer's name (and the `service` of what it says).
pub const WATCHDOG: &str = "watchdog";

/// The `[watchdog]` table: the stall thresholds (seconds, the reference's
/// defaults) and how often they are judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchdogSettings {
    /// Whether the watchdog runs beside the alerters (`skyline alert`,
    /// `skyline up`).
    pub enabled: bool,
    /// Seconds between two judgements.
    pub tick: u64,
    /// Ingest received nothing for this long: `ingest.received` stalls
    /// (the reference: no count for 299 s).
    pub ingest_silent: i64,
    /// A service's newest heartbeat is this old: `<service>.heartbeat`
    /// stalls (the reference's `<app>.up` key TTL, 120 s).
    pub heartbeat: i64,
    /// The Analyzer's lag has been above `analyzer_lag_limit` for this
    /// long: `analyze.lag` stalls (the reference: 60 s run time overrun 5
    /// times ≈ 300 s).
    pub analyzer_lag: i64,
    /// Seconds of lag above which the Analyzer is behind (the reference's
    /// 60 s run time).
    pub analyzer_lag_limit: f64,
    /// A consumer group has had no partition assigned, or a service has
    /// said Redis or the database does not answer, for this long:
    /// `<service>.group`, `redis`, `database` stall.
    pub unreachable: i64,
    /// Seconds before a stall still going on alerts again (the reference's
    /// Thunder expiry, 900 s).
    pub expiry: i64,
    /// Seconds after its last heartbeat when an instance is forgotten (a
    /// service retired on purpose stops alerting).
    pub forget_after: i64,
}

impl Default for WatchdogSettings {
    fn default() -> Self {
        let t = StallThresholds::default();
        let j = Judging::default();
        WatchdogSettings {
            enabled: true,
            tick: 5,
            ingest_silent: t.ingest_silent,
            heartbeat: t.heartbeat,
            analyzer_lag: t.analyzer_lag,
            analyzer_lag_limit: j.analyzer_lag_limit,
            unreachable: t.unreachable,
            expiry: t.expiry,
            forget_after: j.forget_after,
        }
    }
}

impl WatchdogSettings {
    /// What the pure judging takes.
    pub fn judging(&self) -> Judging {
        Judging {
            thresholds: StallThresholds {
                ingest_silent: self.ingest_silent,
                heartbeat: self.heartbeat,
                analyzer_lag: self.analyzer_lag,
                unreachable: self.unreachable,
                expiry: self.expiry,
            },
            analyzer_lag_limit: self.analyzer_lag_limit,
            forget_after: self.forget_after,
        }
    }
}

/// The watchdog's consumer.
pub struct WatchdogService {
    settings: WatchdogSettings,
    judging: Judging,
    names: TopicNames,
    producer: Producer,
    instance: String,
    state: Mutex<State>,
    /// Notices judged but not yet on the topic (the broker refused): sent
    /// again at the next tick, before anything newer.
    unsent: Mutex<Vec<SystemEvent>>,
}

/// What the watchdog has folded, and how far it may commit.
#[derive(Default)]
struct State {
    watchdog: Watchdog,
    board: HeartbeatBoard,
    /// What was read; the notice of each stall still in force is work not
    /// finished, which commits stop before.
    inflight: Inflight,
    /// Where the newest stall notice of each check held back was read.
    stall_notices: BTreeMap<String, (String, i32, i64)>,
}

impl State {
    /// Holds `check`'s stall notice read at `at` (or, `None`, none), the
    /// one held before released.
    fn hold(&mut self, check: String, at: Option<(String, i32, i64)>) {
        let before = match at {
            Some(at) => {
                self.inflight.start(&at.0, at.1, at.2);
                self.stall_notices.insert(check, at)
            }
            None => self.stall_notices.remove(&check),
        };
        if let Some((topic, partition, offset)) = before {
            self.inflight.finish(&topic, partition, offset);
        }
    }

    /// Releases the notices of stalls no longer in force whose recovery,
    /// if any, is on the topic (not among `unsent`).
    fn release_settled(&mut self, unsent: &[SystemEvent]) {
        let settled: Vec<String> = self
            .stall_notices
            .keys()
            .filter(|c| !self.watchdog.is_stalled(c) && !unsent.iter().any(|n| &n.subject == *c))
            .cloned()
            .collect();
        for check in settled {
            self.hold(check, None);
        }
    }
}

impl WatchdogService {
    /// A watchdog judging with `settings`, publishing with `producer` to
    /// `names.system`; `instance` names this process in what it says.
    pub fn new(
        settings: WatchdogSettings,
        names: TopicNames,
        producer: Producer,
        instance: String,
    ) -> WatchdogService {
        WatchdogService {
            judging: settings.judging(),
            settings,
            names,
            producer,
            instance,
            state: Mutex::new(State::default()),
            unsent: Mutex::new(Vec::new()),
        }
    }

    /// Whether its consumer has caught up with `skyline.system` (as the
    /// consumer loop last probed it): partitions assigned, and nothing
    /// behind or the newest heartbeat handled at most [`CAUGHT_UP`]
    /// seconds old — live heartbeats keep a few records in flight at any
    /// probe, while a backlog read after a restart is older than that.
    fn caught_up(&self) -> bool {
        runtime::telemetry()
            .consumer_statuses()
            .get(WATCHDOG)
            .is_some_and(|c| c.partitions > 0 && (c.lag_records == 0 || c.lag_seconds <= CAUGHT_UP))
    }
}

impl Service for WatchdogService {
    fn name(&self) -> &str {
        WATCHDOG
    }

    fn topics(&self) -> Vec<String> {
        vec![self.names.system.clone()]
    }

    fn settings(&self) -> RunSettings {
        RunSettings {
            tick: Some(Duration::from_secs(self.settings.tick.max(1))),
            ..RunSettings::default()
        }
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        let events = cx.decode::<SystemEvent>(batch).await?;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for r in batch.iter() {
            state.inflight.read(&r.topic, r.partition, r.offset);
        }
        for (r, e) in &events {
            state.board.fold(e, &self.judging);
            if e.service != WATCHDOG {
                continue;
            }
            if let Some(told) = StallEvent::of_notice(e) {
                state.watchdog.recall(&told);
                match told {
                    StallEvent::Stalled { check, .. } => {
                        let at = (r.topic.clone(), r.partition, r.offset);
                        state.hold(check, Some(at));
                    }
                    StallEvent::Recovered { check, .. } => state.hold(check, None),
                }
            }
        }
        // Heartbeats are snapshots: once folded they are done with. The
        // notice of a stall in force is read again after a restart.
        let unsent = self.unsent.lock().unwrap_or_else(|p| p.into_inner());
        state.release_settled(&unsent);
        Ok(Commit::UpTo(state.inflight.commit_target()))
    }

    async fn tick(&self, _cx: &Context) -> Result<Commit, ServiceError> {
        let now_ms = topics::clock::now_ms();
        let told: Vec<StallEvent> = if !self.caught_up() {
            Vec::new()
        } else {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let State {
                watchdog, board, ..
            } = &mut *state;
            stall::judge(watchdog, board, now_ms / 1000, &self.judging)
        };
        let notices: Vec<SystemEvent> = told
            .iter()
            .map(|e| stall::notice(e, WATCHDOG, &self.instance, now_ms))
            .collect();
        for n in &notices {
            tracing::warn!(kind = n.kind.as_str(), check = %n.subject, since = ?n.since, reason = %n.reason, "watchdog");
            runtime::telemetry().count(
                "skyline_watchdog_notices_total",
                "Stalls and recoveries the watchdog told, by kind.",
                &[("kind", n.kind.as_str())],
                1,
            );
        }
        let unsent: Vec<SystemEvent> = {
            let mut unsent = self.unsent.lock().unwrap_or_else(|p| p.into_inner());
            unsent.extend(notices);
            std::mem::take(&mut *unsent)
        };
        if unsent.is_empty() {
            return Ok(Commit::Nothing);
        }
        // Beside the heartbeats of the service the check is about: the
        // watchdog judging them reads the notice back.
        let records =
            topics::kafka::keyed_messages(unsent.iter(), |e| stall::notice_key(&e.subject))?;
        if let Err(e) = self.producer.send_batch(&self.names.system, records).await {
            tracing::warn!(error = %e, notices = unsent.len(), "the watchdog's notices not published; trying again at the next tick");
            let mut pending = self.unsent.lock().unwrap_or_else(|p| p.into_inner());
            let newer = std::mem::replace(&mut *pending, unsent);
            pending.extend(newer);
        }
        Ok(Commit::Nothing)
    }
}
