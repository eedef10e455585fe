//! Stall alerts (the reference's Thunder, `spec/operations.md` §4), pure:
//! when one of skyline's own checks has not been fine for its threshold, one
//! alert; while it stays stalled, no other until `expiry` has passed (the
//! reference's `thunder.alert.<app>.<check>` key and its TTL); once it is
//! fine again, one recovery notice saying for how long it was down.
//!
//! Every check is reduced to one fact, *when it was last fine*: ingest's
//! last datapoint received, a service's last heartbeat, the last time the
//! Analyzer's lag was under its limit, a consumer group last had members,
//! Redis or the database last answered. The caller observes each check at
//! its own clock (data time in a replay, wall time live), so a replay
//! raises the same alerts.

use std::collections::BTreeMap;

/// `expiry` of a Thunder alert: 900 s before the same stall alerts again.
pub const STALL_EXPIRY: i64 = 900;

/// The thresholds (seconds) of the stall checks, with the reference's
/// values where it has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallThresholds {
    /// Ingest received nothing for this long (`horizon.worker.
    /// metrics_received`: no count for 299 s).
    pub ingest_silent: i64,
    /// A service's heartbeat is this old (`<app>.up`: the key's TTL, 120 s).
    pub heartbeat: i64,
    /// The Analyzer's lag has been above `analyzer_lag` for this long
    /// (`analyzer.run_time`: 60 s, 5 overruns in a row ≈ 300 s).
    pub analyzer_lag: i64,
    /// A consumer group has had no member, or Redis or the database has
    /// not answered, for this long.
    pub unreachable: i64,
    /// Seconds before a stall still going on alerts again.
    pub expiry: i64,
}

impl Default for StallThresholds {
    fn default() -> Self {
        StallThresholds {
            ingest_silent: 299,
            heartbeat: 120,
            analyzer_lag: 300,
            unreachable: 120,
            expiry: STALL_EXPIRY,
        }
    }
}

/// What the watchdog tells the alerters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StallEvent {
    /// `check` has not been fine since `since` (unix seconds).
    Stalled {
        /// The check, e.g. `ingest.received` or `analyze.heartbeat`.
        check: String,
        /// When it was last fine.
        since: i64,
        /// When the watchdog saw it.
        at: i64,
        /// 0 for the first alert of this stall, then 1, 2, … for each
        /// alert again after `expiry`.
        repeat: u32,
    },
    /// `check` is fine again after `down_for` seconds.
    Recovered {
        /// The check.
        check: String,
        /// Seconds from its last fine observation before the stall to now.
        down_for: i64,
        /// When it was last fine before the stall (the stall's `since`).
        since: i64,
        /// When the watchdog saw it.
        at: i64,
    },
}

/// A stall alerted and not yet recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Raised {
    since: i64,
    alerted_at: i64,
    repeat: u32,
}

/// The stall alerts in force, by check.
#[derive(Debug, Clone, Default)]
pub struct Watchdog {
    raised: BTreeMap<String, Raised>,
    /// When each check was last told about (a stall or a recovery), by
    /// this watchdog or by one before it ([`Watchdog::recall`]).
    told_at: BTreeMap<String, i64>,
}

impl Watchdog {
    /// Observes `check` at `now`, last fine at `fine_at`, stalled once
    /// `now − fine_at ≥ threshold`: an alert when it stalls (and again
    /// every `expiry` while it stays stalled), a recovery when a raised
    /// stall is fine again, nothing otherwise.
    pub fn observe(
        &mut self,
        check: &str,
        now: i64,
        fine_at: i64,
        threshold: i64,
        expiry: i64,
    ) -> Option<StallEvent> {
        let told = self.decide(check, now, fine_at, threshold, expiry);
        if told.is_some() {
            self.told_at.insert(check.to_owned(), now);
        }
        told
    }

    fn decide(
        &mut self,
        check: &str,
        now: i64,
        fine_at: i64,
        threshold: i64,
        expiry: i64,
    ) -> Option<StallEvent> {
        let stalled = now.saturating_sub(fine_at) >= threshold;
        match (self.raised.get(check).copied(), stalled) {
            (None, true) => {
                self.raised.insert(
                    check.to_owned(),
                    Raised {
                        since: fine_at,
                        alerted_at: now,
                        repeat: 0,
                    },
                );
                Some(StallEvent::Stalled {
                    check: check.to_owned(),
                    since: fine_at,
                    at: now,
                    repeat: 0,
                })
            }
            (Some(r), true) if now.saturating_sub(r.alerted_at) >= expiry => {
                self.raised.insert(
                    check.to_owned(),
                    Raised {
                        alerted_at: now,
                        repeat: r.repeat.saturating_add(1),
                        ..r
                    },
                );
                Some(StallEvent::Stalled {
                    check: check.to_owned(),
                    since: r.since,
                    at: now,
                    repeat: r.repeat.saturating_add(1),
                })
            }
            (Some(r), false) => {
                self.raised.remove(check);
                Some(StallEvent::Recovered {
                    check: check.to_owned(),
                    down_for: now.saturating_sub(r.since),
                    since: r.since,
                    at: now,
                })
            }
            _ => None,
        }
    }

    /// The checks stalled now, with when each was last fine.
    pub fn stalled(&self) -> impl Iterator<Item = (&str, i64)> {
        self.raised.iter().map(|(c, r)| (c.as_str(), r.since))
    }

    /// Whether `check` is stalled now.
    pub fn is_stalled(&self, check: &str) -> bool {
        self.raised.contains_key(check)
    }

    /// Takes back what was told before, read back from the log: a stall
    /// in force (with its `since`, when it last alerted and how often) or
    /// over. Only what is newer than the last thing told about the check
    /// is taken, so a watchdog reading back its own notices changes
    /// nothing, while one that restarted learns the stalls still raised —
    /// and tells their recovery when they are fine again.
    pub fn recall(&mut self, told: &StallEvent) {
        let (check, at) = match told {
            StallEvent::Stalled { check, at, .. } | StallEvent::Recovered { check, at, .. } => {
                (check, *at)
            }
        };
        if self.told_at.get(check).is_some_and(|last| *last >= at) {
            return;
        }
        self.told_at.insert(check.clone(), at);
        match told {
            StallEvent::Stalled {
                since, at, repeat, ..
            } => {
                self.raised.insert(
                    check.clone(),
                    Raised {
                        since: *since,
                        alerted_at: *at,
                        repeat: *repeat,
                    },
                );
            }
            StallEvent::Recovered { .. } => {
                self.raised.remove(check);
            }
        }
    }

    /// Drops the stalls of checks not judged at `now` and last fine
    /// `forget_after` ago or more (every instance saying them forgotten,
    /// [`Judging::forget_after`]): a service retired on purpose is not told
    /// as recovered, and no longer held as stalled. A stall recalled after
    /// a restart whose check no heartbeat has said since (a service still
    /// down) is kept until then, so its recovery is told if it returns.
    fn forget(&mut self, judged: &BTreeMap<String, i64>, now: i64, forget_after: i64) {
        let told_at = &mut self.told_at;
        self.raised.retain(|check, r| {
            let kept = judged.contains_key(check) || now.saturating_sub(r.since) < forget_after;
            if !kept {
                told_at.remove(check);
            }
            kept
        });
    }
}

impl StallEvent {
    /// The stall or recovery a watchdog's notice told (see [`notice`]);
    /// `None` for any other event.
    pub fn of_notice(e: &topics::SystemEvent) -> Option<StallEvent> {
        use topics::SystemKind;
        let since = e.since.unwrap_or(e.at);
        match e.kind {
            SystemKind::Stalled => Some(StallEvent::Stalled {
                check: e.subject.clone(),
                since,
                at: e.at,
                repeat: e.figure("repeat").map_or(0, |r| r.max(0.0) as u32),
            }),
            SystemKind::Recovered => Some(StallEvent::Recovered {
                check: e.subject.clone(),
                down_for: e
                    .figure("down_for")
                    .map_or(e.at.saturating_sub(since), |d| d as i64),
                since,
                at: e.at,
            }),
            _ => None,
        }
    }
}

/// The ingest service's name in heartbeats (its `ingest.received` check).
pub const INGEST: &str = "ingest";

/// The Analyzer's consumer name in heartbeats (its `analyze.lag` check).
pub const ANALYZER: &str = "analyze";

/// What the watchdog judges heartbeats with: [`StallThresholds`] and the
/// two figures the thresholds are measured against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judging {
    /// The stall thresholds and the expiry.
    pub thresholds: StallThresholds,
    /// Seconds of lag above which the Analyzer is behind (`analyzer.
    /// run_time` overrunning its 60 s): `analyze.lag` stalls once it has
    /// been behind for `thresholds.analyzer_lag`.
    pub analyzer_lag_limit: f64,
    /// Seconds after its last heartbeat when an instance is forgotten: no
    /// check of it is judged any more (a service retired on purpose stops
    /// alerting after this; its stall alerts until then).
    pub forget_after: i64,
}

impl Default for Judging {
    fn default() -> Self {
        Judging {
            thresholds: StallThresholds::default(),
            analyzer_lag_limit: 60.0,
            forget_after: 86_400,
        }
    }
}

/// What the heartbeats of one instance of a service said, folded.
#[derive(Debug, Clone, PartialEq)]
struct Instance {
    /// Its newest heartbeat's `at`.
    last_beat: i64,
    /// Its first heartbeat's `at` (what "last fine" is before any fact).
    first_beat: i64,
    /// Whether it is a consumer (its heartbeats say how many partitions it
    /// has): only consumers have a group to judge.
    consumer: bool,
    /// Newest `at` with partitions assigned.
    assigned_at: Option<i64>,
    /// Newest `at` with the lag at most the limit.
    lag_fine_at: Option<i64>,
    /// Newest `at` not saying Redis is unreachable.
    redis_fine_at: i64,
    /// Newest `at` not saying the database is unreachable.
    database_fine_at: i64,
    /// Newest `last_received` figure (ingest), unix seconds.
    last_received: Option<i64>,
}

/// The newest facts of every service and instance heard from, folded from
/// their heartbeats (`(service, instance)` → facts).
#[derive(Debug, Clone, Default)]
pub struct HeartbeatBoard {
    instances: BTreeMap<(String, String), Instance>,
}

/// Whether a heartbeat's readiness says `what` (`redis`, `database`) does
/// not answer: not ready, and the reason names it (the services' probes
/// say `redis: …`, `database … unreachable`, `database … did not answer`).
fn says_unreachable(beat: &topics::SystemEvent, what: &str) -> bool {
    beat.ready == Some(false) && beat.reason.to_ascii_lowercase().contains(what)
}

impl HeartbeatBoard {
    /// Folds one heartbeat (other kinds are ignored); heartbeats of an
    /// instance read out of order only add what they know.
    pub fn fold(&mut self, beat: &topics::SystemEvent, judging: &Judging) {
        if beat.kind != topics::SystemKind::Heartbeat {
            return;
        }
        let at = beat.at;
        let i = self
            .instances
            .entry((beat.subject.clone(), beat.instance.clone()))
            .or_insert(Instance {
                last_beat: at,
                first_beat: at,
                consumer: false,
                assigned_at: None,
                lag_fine_at: None,
                redis_fine_at: at,
                database_fine_at: at,
                last_received: None,
            });
        i.last_beat = i.last_beat.max(at);
        i.first_beat = i.first_beat.min(at);
        i.consumer |= beat.figure("partitions").is_some();
        if beat.figure("partitions").is_some_and(|p| p > 0.0) {
            i.assigned_at = Some(i.assigned_at.map_or(at, |a| a.max(at)));
        }
        if beat
            .figure("lag_seconds")
            .is_some_and(|l| l <= judging.analyzer_lag_limit)
        {
            i.lag_fine_at = Some(i.lag_fine_at.map_or(at, |a| a.max(at)));
        }
        if !says_unreachable(beat, "redis") {
            i.redis_fine_at = i.redis_fine_at.max(at);
        }
        if !says_unreachable(beat, "database") {
            i.database_fine_at = i.database_fine_at.max(at);
        }
        if let Some(r) = beat.figure("last_received").filter(|r| *r > 0.0) {
            let r = r as i64;
            i.last_received = Some(i.last_received.map_or(r, |l| l.max(r)));
        }
    }

    /// Every check and when it was last fine, at `now`: instances silent
    /// for `forget_after` are forgotten first. Per service (whatever
    /// instance): `<service>.heartbeat` its newest heartbeat, `<service>.
    /// group` (consumers: beats with a `partitions` figure; not the
    /// console) the newest heartbeat with partitions assigned,
    /// `ingest.received` the newest datapoint received, `analyze.lag` the
    /// oldest "last under the limit" of its live instances; `redis` and
    /// `database` the oldest "last answered" of every live instance. An
    /// instance is live while its heartbeat is younger than the heartbeat
    /// threshold (a dead one is the heartbeat check's business).
    pub fn checks(&mut self, now: i64, judging: &Judging) -> BTreeMap<String, i64> {
        self.instances
            .retain(|_, i| now.saturating_sub(i.last_beat) < judging.forget_after);
        let live = |i: &Instance| now.saturating_sub(i.last_beat) < judging.thresholds.heartbeat;
        let mut out: BTreeMap<String, i64> = BTreeMap::new();
        // Newest of a service's instances: the service is fine if any is.
        let mut newest = |check: String, at: i64| {
            out.entry(check)
                .and_modify(|v| *v = (*v).max(at))
                .or_insert(at);
        };
        for ((service, _), i) in &self.instances {
            newest(format!("{service}.heartbeat"), i.last_beat);
            if service == INGEST {
                newest(
                    format!("{INGEST}.received"),
                    i.last_received.unwrap_or(i.first_beat),
                );
            } else if i.consumer {
                newest(
                    format!("{service}.group"),
                    i.assigned_at.unwrap_or(i.first_beat),
                );
            }
        }
        // Oldest of the live instances: one behind (or cut off) is enough.
        let mut oldest = |check: &str, at: i64| {
            out.entry(check.to_owned())
                .and_modify(|v| *v = (*v).min(at))
                .or_insert(at);
        };
        for ((service, _), i) in self.instances.iter().filter(|(_, i)| live(i)) {
            if service == ANALYZER {
                oldest("analyze.lag", i.lag_fine_at.unwrap_or(i.first_beat));
            }
            oldest("redis", i.redis_fine_at);
            oldest("database", i.database_fine_at);
        }
        out
    }
}

/// The key a notice about `check` is published under: the service whose
/// heartbeats the check is judged from (`ingest` for `ingest.received`,
/// `alert.hook` for `alert.hook.heartbeat`), so the notice lands in the
/// partition of those heartbeats and the watchdog judging them reads it
/// back; `redis` and `database`, judged from every service, are their own
/// key.
pub fn notice_key(check: &str) -> &str {
    [".heartbeat", ".group", ".lag", ".received"]
        .iter()
        .find_map(|suffix| check.strip_suffix(suffix))
        .unwrap_or(check)
}

/// The threshold of `check` (by its name's ending).
pub fn threshold_of(check: &str, t: &StallThresholds) -> i64 {
    if check == "ingest.received" {
        t.ingest_silent
    } else if check.ends_with(".heartbeat") {
        t.heartbeat
    } else if check.ends_with(".lag") {
        t.analyzer_lag
    } else {
        t.unreachable
    }
}

/// Judges every check of `board` at `now`: the stalls and recoveries to
/// tell, in check order. Stalls of checks the board no longer has, last
/// fine `forget_after` ago (their instances forgotten), are dropped untold.
pub fn judge(
    watchdog: &mut Watchdog,
    board: &mut HeartbeatBoard,
    now: i64,
    judging: &Judging,
) -> Vec<StallEvent> {
    let t = &judging.thresholds;
    let checks = board.checks(now, judging);
    watchdog.forget(&checks, now, judging.forget_after);
    checks
        .into_iter()
        .filter_map(|(check, fine_at)| {
            watchdog.observe(&check, now, fine_at, threshold_of(&check, t), t.expiry)
        })
        .collect()
}

/// The `SystemEvent` telling `event` to the alerters (`alert: true`),
/// said by `service`/`instance` at `decided_at_ms`. Its id is
/// `system_event_id(kind, check, since)` — one per stall and one per
/// recovery whatever re-judges them — with `/<repeat>` after the check
/// for a stall alerting again after its expiry.
pub fn notice(
    event: &StallEvent,
    service: &str,
    instance: &str,
    decided_at_ms: i64,
) -> topics::SystemEvent {
    use topics::{SystemEvent, SystemFigure, SystemKind};
    let (kind, check, since, at, reason, figures) = match event {
        StallEvent::Stalled {
            check,
            since,
            at,
            repeat,
        } => (
            SystemKind::Stalled,
            check,
            *since,
            *at,
            format!("{check} not fine since {since} ({} s)", at - since),
            vec![SystemFigure {
                name: "repeat".into(),
                value: f64::from(*repeat),
            }],
        ),
        StallEvent::Recovered {
            check,
            down_for,
            since,
            at,
        } => (
            SystemKind::Recovered,
            check,
            *since,
            *at,
            format!("{check} fine again after {down_for} s"),
            vec![SystemFigure {
                name: "down_for".into(),
                value: *down_for as f64,
            }],
        ),
    };
    let id_subject = match event {
        StallEvent::Stalled { repeat, .. } if *repeat > 0 => format!("{check}/{repeat}"),
        _ => check.clone(),
    };
    SystemEvent {
        id: topics::ids::system_event_id(kind, &id_subject, since),
        kind,
        subject: check.clone(),
        service: service.to_owned(),
        instance: instance.to_owned(),
        at,
        since: Some(since),
        ready: None,
        alert: true,
        reason,
        figures,
        decided_at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_alert_and_one_recovery_for_a_stall() {
        let t = StallThresholds::default();
        let mut w = Watchdog::default();
        let mut events = Vec::new();
        // Ingest receives every 10 s until 1000, then nothing until 1600
        // (twice its threshold), then again; observed every 10 s.
        let mut last = 0;
        for now in (0..=2000).step_by(10) {
            if !(1000..1600).contains(&now) {
                last = now;
            }
            events.extend(w.observe("ingest.received", now, last, t.ingest_silent, t.expiry));
        }
        assert_eq!(
            events,
            vec![
                StallEvent::Stalled {
                    check: "ingest.received".into(),
                    since: 990,
                    at: 1290,
                    repeat: 0,
                },
                StallEvent::Recovered {
                    check: "ingest.received".into(),
                    down_for: 610,
                    since: 990,
                    at: 1600,
                },
            ]
        );
        assert_eq!(w.stalled().count(), 0);
    }

    /// The notice `event` as told, read back as a stall event.
    fn read_back(event: &StallEvent) -> StallEvent {
        StallEvent::of_notice(&notice(event, "watchdog", "h", 0)).unwrap()
    }

    #[test]
    fn a_watchdog_restarted_mid_stall_tells_the_recovery_and_no_second_stall() {
        let (threshold, expiry) = (120, 900);
        let mut before = Watchdog::default();
        let stalled = before.observe("redis", 200, 0, threshold, expiry).unwrap();
        assert_eq!(read_back(&stalled), stalled, "a notice reads back as told");
        // A new watchdog reads the stall back from the log.
        let mut after = Watchdog::default();
        after.recall(&read_back(&stalled));
        assert!(after.is_stalled("redis"));
        // Still stalled within the expiry: nothing more; after it: alerted
        // again as the first watchdog would have.
        assert_eq!(after.observe("redis", 500, 0, threshold, expiry), None);
        assert_eq!(
            after.observe("redis", 1100, 0, threshold, expiry),
            Some(StallEvent::Stalled {
                check: "redis".into(),
                since: 0,
                at: 1100,
                repeat: 1
            })
        );
        // Fine again: one recovery, since the stall's beginning.
        assert_eq!(
            after.observe("redis", 1200, 1190, threshold, expiry),
            Some(StallEvent::Recovered {
                check: "redis".into(),
                down_for: 1200,
                since: 0,
                at: 1200
            })
        );
        assert_eq!(after.observe("redis", 1210, 1205, threshold, expiry), None);
    }

    #[test]
    fn reading_back_its_own_notices_changes_nothing() {
        let mut w = Watchdog::default();
        let stalled = w.observe("redis", 200, 0, 120, 900).unwrap();
        let recovered = w.observe("redis", 300, 290, 120, 900).unwrap();
        // Read back after the recovery was decided, in log order.
        w.recall(&read_back(&stalled));
        assert!(!w.is_stalled("redis"), "an older stall is not taken back");
        w.recall(&read_back(&recovered));
        assert_eq!(w.observe("redis", 310, 305, 120, 900), None);
        // A recovery read back after a restart ends the stall recalled.
        let mut after = Watchdog::default();
        after.recall(&read_back(&stalled));
        after.recall(&read_back(&recovered));
        assert_eq!(after.stalled().count(), 0);
    }

    #[test]
    fn stalls_of_forgotten_instances_are_dropped_untold() {
        let judging = Judging {
            forget_after: 1000,
            ..Judging::default()
        };
        let mut board = HeartbeatBoard::default();
        board.fold(&beat("learn", "h1", 0, &[("partitions", 1.0)]), &judging);
        let mut w = Watchdog::default();
        let told = judge(&mut w, &mut board, 500, &judging);
        assert!(told
            .iter()
            .any(|e| matches!(e, StallEvent::Stalled { check, .. } if check == "learn.heartbeat")));
        assert!(w.is_stalled("learn.heartbeat"));
        assert_eq!(judge(&mut w, &mut board, 1500, &judging), vec![]);
        assert_eq!(w.stalled().count(), 0);

        // After a restart, a stall recalled of a service nothing has heard
        // from since is kept, and recovered when it beats again.
        let mut after = Watchdog::default();
        after.recall(&StallEvent::Stalled {
            check: "learn.heartbeat".into(),
            since: 2000,
            at: 2120,
            repeat: 0,
        });
        let mut empty = HeartbeatBoard::default();
        assert_eq!(judge(&mut after, &mut empty, 2200, &judging), vec![]);
        assert!(after.is_stalled("learn.heartbeat"));
        empty.fold(&beat("learn", "h2", 2300, &[("partitions", 1.0)]), &judging);
        let told = judge(&mut after, &mut empty, 2300, &judging);
        assert!(
            told.contains(&StallEvent::Recovered {
                check: "learn.heartbeat".into(),
                down_for: 300,
                since: 2000,
                at: 2300
            }),
            "{told:?}"
        );
    }

    #[test]
    fn notices_are_keyed_by_the_service_their_heartbeats_come_from() {
        for (check, key) in [
            ("ingest.received", "ingest"),
            ("ingest.heartbeat", "ingest"),
            ("analyze.lag", "analyze"),
            ("alert.hook.heartbeat", "alert.hook"),
            ("learn.group", "learn"),
            ("redis", "redis"),
            ("database", "database"),
        ] {
            assert_eq!(notice_key(check), key, "{check}");
        }
    }

    #[test]
    fn a_long_stall_alerts_again_after_the_expiry() {
        let mut w = Watchdog::default();
        let alerts = (0..=2000)
            .step_by(60)
            .filter_map(|now| w.observe("redis", now, 0, 120, 900))
            .collect::<Vec<_>>();
        let at: Vec<i64> = alerts
            .iter()
            .map(|e| match e {
                StallEvent::Stalled { at, .. } => *at,
                StallEvent::Recovered { .. } => panic!("never recovers"),
            })
            .collect();
        assert_eq!(at, vec![120, 1020, 1920]);
        assert_eq!(w.stalled().collect::<Vec<_>>(), vec![("redis", 0)]);
    }

    #[test]
    fn checks_are_independent_and_fine_ones_say_nothing() {
        let mut w = Watchdog::default();
        assert_eq!(w.observe("analyze.heartbeat", 100, 90, 120, 900), None);
        assert!(w.observe("learn.heartbeat", 300, 100, 120, 900).is_some());
        assert_eq!(w.observe("analyze.heartbeat", 300, 290, 120, 900), None);
        assert!(matches!(
            w.observe("learn.heartbeat", 310, 305, 120, 900),
            Some(StallEvent::Recovered { down_for: 210, .. })
        ));
    }

    fn beat(
        service: &str,
        instance: &str,
        at: i64,
        figures: &[(&str, f64)],
    ) -> topics::SystemEvent {
        topics::SystemEvent {
            id: topics::ids::system_event_id(
                topics::SystemKind::Heartbeat,
                &format!("{service}/{instance}"),
                at,
            ),
            kind: topics::SystemKind::Heartbeat,
            subject: service.into(),
            service: service.into(),
            instance: instance.into(),
            at,
            since: Some(at),
            ready: Some(true),
            alert: false,
            reason: "ok".into(),
            figures: figures
                .iter()
                .map(|(n, v)| topics::SystemFigure {
                    name: (*n).into(),
                    value: *v,
                })
                .collect(),
            decided_at_ms: at * 1000,
        }
    }

    /// Heartbeats every 10 s from ingest (receiving until 1000, then
    /// silent until 1600) and the Analyzer; the watchdog judging every
    /// 10 s: one stall of `ingest.received` and one recovery, nothing else.
    #[test]
    fn a_silent_ingest_stalls_once_and_recovers_once() {
        let judging = Judging::default();
        let (mut w, mut board) = (Watchdog::default(), HeartbeatBoard::default());
        let mut told = Vec::new();
        let mut received = 0;
        for now in (0..=2000).step_by(10) {
            if !(1000..1600).contains(&now) {
                received = now;
            }
            board.fold(
                &beat("ingest", "h1", now, &[("last_received", received as f64)]),
                &judging,
            );
            board.fold(
                &beat(
                    "analyze",
                    "h1",
                    now,
                    &[("partitions", 3.0), ("lag_seconds", 0.0)],
                ),
                &judging,
            );
            told.extend(judge(&mut w, &mut board, now, &judging));
        }
        let checks: Vec<_> = told
            .iter()
            .map(|e| match e {
                StallEvent::Stalled { check, since, .. } => ("stalled", check.as_str(), *since),
                StallEvent::Recovered { check, since, .. } => ("recovered", check.as_str(), *since),
            })
            .collect();
        assert_eq!(
            checks,
            vec![
                ("stalled", "ingest.received", 990),
                ("recovered", "ingest.received", 990)
            ]
        );
        let a = notice(&told[0], "watchdog", "h1", 0);
        let b = notice(&told[1], "watchdog", "h1", 0);
        assert!(a.alert && b.alert);
        assert_eq!(
            (a.kind, b.kind),
            (topics::SystemKind::Stalled, topics::SystemKind::Recovered)
        );
        assert_ne!(a.id, b.id);
        // Judged again (a restart, a replay): the same ids.
        assert_eq!(notice(&told[0], "watchdog", "h2", 5).id, a.id);
        assert_eq!(b.figure("down_for"), Some(610.0));
    }

    #[test]
    fn missed_heartbeats_lag_groups_and_unreachable_stores() {
        let judging = Judging::default();
        let mut board = HeartbeatBoard::default();
        // learn beats until 100 with no partition; analyze is behind from
        // 50 and says Redis is unreachable from 60.
        for at in (0..=100).step_by(10) {
            board.fold(&beat("learn", "a", at, &[("partitions", 0.0)]), &judging);
            let mut b = beat(
                "analyze",
                "a",
                at,
                &[
                    ("partitions", 1.0),
                    ("lag_seconds", if at < 50 { 5.0 } else { 400.0 }),
                ],
            );
            if at >= 60 {
                b.ready = Some(false);
                b.reason = "redis: connection refused".into();
            }
            board.fold(&b, &judging);
        }
        let checks = board.checks(100, &judging);
        assert_eq!(checks["learn.heartbeat"], 100);
        assert_eq!(
            checks["learn.group"], 0,
            "never assigned: since first heard"
        );
        assert_eq!(checks["analyze.group"], 100);
        assert_eq!(checks["analyze.lag"], 40);
        assert_eq!(checks["redis"], 50);
        assert_eq!(checks["database"], 100);
        assert!(!checks.contains_key("ingest.received"));
        // Learn silent, the Analyzer beating on: learn's heartbeat stalls
        // 120 s after its last one; Redis 120 s after it last answered.
        for at in (110..=220).step_by(10) {
            let mut b = beat(
                "analyze",
                "a",
                at,
                &[("partitions", 1.0), ("lag_seconds", 400.0)],
            );
            b.ready = Some(false);
            b.reason = "redis: connection refused".into();
            board.fold(&b, &judging);
        }
        let mut w = Watchdog::default();
        let told = judge(&mut w, &mut board, 220, &judging);
        let stalled: Vec<&str> = told
            .iter()
            .filter_map(|e| match e {
                StallEvent::Stalled { check, .. } => Some(check.as_str()),
                StallEvent::Recovered { .. } => None,
            })
            .collect();
        assert_eq!(stalled, vec!["learn.group", "learn.heartbeat", "redis"]);
        // Forgotten after forget_after: nothing is judged any more.
        assert!(board.checks(220 + 86_400, &judging).is_empty());
    }

    #[test]
    fn the_console_beats_without_a_group_and_says_its_database() {
        let judging = Judging::default();
        let mut board = HeartbeatBoard::default();
        for at in (0..=300).step_by(10) {
            let mut b = beat("console", "c", at, &[]);
            if at >= 100 {
                b.ready = Some(false);
                b.reason = "database: unreachable: connection refused".into();
            }
            board.fold(&b, &judging);
        }
        let checks = board.checks(300, &judging);
        assert_eq!(checks["console.heartbeat"], 300);
        assert!(!checks.contains_key("console.group"), "{checks:?}");
        assert_eq!(checks["database"], 90);
        assert_eq!(checks["redis"], 300);
    }
}
