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
    },
    /// `check` is fine again after `down_for` seconds.
    Recovered {
        /// The check.
        check: String,
        /// Seconds from its last fine observation before the stall to now.
        down_for: i64,
        /// When the watchdog saw it.
        at: i64,
    },
}

/// A stall alerted and not yet recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Raised {
    since: i64,
    alerted_at: i64,
}

/// The stall alerts in force, by check.
#[derive(Debug, Clone, Default)]
pub struct Watchdog {
    raised: BTreeMap<String, Raised>,
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
        let stalled = now.saturating_sub(fine_at) >= threshold;
        match (self.raised.get(check).copied(), stalled) {
            (None, true) => {
                self.raised.insert(
                    check.to_owned(),
                    Raised {
                        since: fine_at,
                        alerted_at: now,
                    },
                );
                Some(StallEvent::Stalled {
                    check: check.to_owned(),
                    since: fine_at,
                    at: now,
                })
            }
            (Some(r), true) if now.saturating_sub(r.alerted_at) >= expiry => {
                self.raised.insert(
                    check.to_owned(),
                    Raised {
                        alerted_at: now,
                        ..r
                    },
                );
                Some(StallEvent::Stalled {
                    check: check.to_owned(),
                    since: r.since,
                    at: now,
                })
            }
            (Some(r), false) => {
                self.raised.remove(check);
                Some(StallEvent::Recovered {
                    check: check.to_owned(),
                    down_for: now.saturating_sub(r.since),
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
                },
                StallEvent::Recovered {
                    check: "ingest.received".into(),
                    down_for: 610,
                    at: 1600,
                },
            ]
        );
        assert_eq!(w.stalled().count(), 0);
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
}
