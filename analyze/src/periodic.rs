//! Periodic seasonal checks (the reference's MIRAGE_PERIODIC_CHECK): a
//! seasonal metric matching the periodic namespaces is re-judged over days
//! every `interval` seconds even when the Analyzer finds nothing, so a slow
//! drift that never trips the 24-hour ensemble is still caught.
//!
//! The reference marks a few metrics per run as due, by wall clock and a
//! Redis hash of when each was last checked. Here the schedule is a
//! function of the metric, the interval and the data time alone, so a
//! replay asks for the same checks at the same points (with the same ids):
//! each metric has its own slot offset in `[0, interval)` (from a hash of
//! its name, which spreads the metrics over the interval), and the first
//! judged point at or after each slot boundary is the periodic point.

use topics::ids::derived_id;

use crate::pattern::MetricPattern;

/// Which metrics are checked periodically, and how often.
#[derive(Debug, Clone)]
pub struct PeriodicChecks {
    /// Seconds of data time between two checks of a metric.
    pub interval: i64,
    /// The metrics checked (among those whose first rule is seasonal).
    pub patterns: Vec<MetricPattern>,
}

impl PeriodicChecks {
    /// Whether `metric` is checked periodically.
    pub fn covers(&self, metric: &str) -> bool {
        self.interval > 0 && self.patterns.iter().any(|p| p.matches(metric))
    }
}

/// `metric`'s slot offset in `[0, interval)`: the first 8 bytes of a UUID
/// v5 of its name, modulo the interval (stable across processes and
/// versions, unlike `std`'s hasher).
pub fn slot_offset(metric: &str, interval: i64) -> i64 {
    if interval <= 0 {
        return 0;
    }
    let id = derived_id("periodic-offset", &[metric.as_bytes()]);
    let mut first = [0u8; 8];
    first.copy_from_slice(&id.as_bytes()[..8]);
    (u64::from_be_bytes(first) % interval.unsigned_abs()) as i64
}

/// The slot a timestamp falls in: `⌊(t − offset) / interval⌋`.
fn slot(t: i64, offset: i64, interval: i64) -> i64 {
    t.saturating_sub(offset).div_euclid(interval)
}

/// Whether the judged point at `t`, following the judged point at `prev`,
/// is `metric`'s periodic point: a slot boundary lies in `(prev, t]`. The
/// first point ever judged (`prev` none) is not: a start is no schedule.
pub fn is_periodic_point(metric: &str, interval: i64, prev: Option<i64>, t: i64) -> bool {
    let Some(prev) = prev else {
        return false;
    };
    if interval <= 0 || t <= prev {
        return false;
    }
    let offset = slot_offset(metric, interval);
    slot(t, offset, interval) > slot(prev, offset, interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_per_interval_at_the_metrics_own_offset() {
        let interval = 6 * 3_600;
        let start = 1_700_000_000 / 86_400 * 86_400;
        let points: Vec<i64> = (0..3 * 1_440).map(|i| start + i * 60).collect();
        let due: Vec<i64> = points
            .windows(2)
            .filter(|w| is_periodic_point("office.energy", interval, Some(w[0]), w[1]))
            .map(|w| w[1])
            .collect();
        // Three days of six-hour slots: 12 boundaries, each hit once.
        assert_eq!(due.len(), 12, "{due:?}");
        let offset = slot_offset("office.energy", interval);
        assert!(due.iter().all(|t| (t - offset).rem_euclid(interval) < 60));
        assert!(due.windows(2).all(|w| w[1] - w[0] == interval));
        // Another metric has another offset (the check load is spread).
        assert_ne!(offset, slot_offset("office.gas", interval));
        assert!(!is_periodic_point("m", interval, None, start));
    }

    #[test]
    fn a_gap_over_several_slots_asks_once() {
        let interval = 3_600;
        let o = slot_offset("m", interval);
        assert!(is_periodic_point(
            "m",
            interval,
            Some(o - 10),
            o + 5 * interval
        ));
        assert!(!is_periodic_point("m", interval, Some(o), o + interval - 1));
        assert!(!is_periodic_point("m", interval, Some(o + 10), o + 5));
    }
}

#[cfg(test)]
mod service_tests {
    use crate::alert_rules::AlertRule;
    use crate::pattern::MetricPattern;
    use crate::service::{periodic_decisions_for, Decisions};
    use crate::stream::{judge_batch, MetricState};
    use crate::Settings;

    #[test]
    fn three_days_of_a_seasonal_metric_ask_for_their_periodic_checks() {
        let metric = "office.periodic.small_noise";
        let interval = 6 * 3_600;
        let rules = vec![AlertRule {
            pattern: MetricPattern::new("office").unwrap(),
            alerter: "topic".into(),
            expiration_time: 3_600,
            second_order_resolution_hours: Some(168),
        }];
        let start = 1_396_310_400;
        let points: Vec<(i64, f64)> = (0..864)
            .map(|i| (start + i * 300, 20.0 + (i % 7) as f64 * 0.1))
            .collect();
        let settings = Settings::default();
        let (mut window, mut state) = (Vec::new(), MetricState::default());
        let last = state.last_analyzed;
        let judged = judge_batch(
            metric,
            &mut window,
            &points,
            &mut state,
            &settings,
            &rules,
            0,
            false,
        );
        let mut out = Decisions::default();
        periodic_decisions_for(
            metric, &window, &judged, last, interval, &rules, &settings, &mut out,
        );
        let periodic = out.checks.iter().filter(|c| c.periodic).count();
        assert_eq!(periodic, 12, "{} judged", judged.len());
    }
}
