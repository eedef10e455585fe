//! One anomaly per event, and when it is over (spec operations.md §7–§8,
//! analyzer.md §11).
//!
//! * **De-duplication** (the reference's `panorama.last_check.<app>.<metric>`
//!   key, PANORAMA_EXPIRY_TIME): the first anomalous point of a metric opens
//!   an anomaly; a later anomalous point with `timestamp < opened_at +
//!   expiry` extends it (count, last point, largest deviation) instead of
//!   opening another. The window is not moved by repeats (the reference
//!   sets the key only when it records), so the first point at or after
//!   `opened_at + expiry` opens a new anomaly. An expiry of 0 makes every
//!   anomalous point its own anomaly.
//! * **End** (the reference's `current.anomalies` set): an anomaly ends at
//!   the newest timestamp (`t_last`) of the first analysis after its *last*
//!   anomalous point that found the metric not anomalous; an extension
//!   after such an analysis re-opens it and the end moves. The end is
//!   final, and published, once the anomaly can no longer be extended (data
//!   time `>= opened_at + expiry`). Anomalies older than `full_duration`
//!   are dropped unended, as the reference drops them.
//!
//! Everything is a function of the judged points in data time, kept in the
//! metric's state beside its window, so a replay or a restore rebuilds it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An anomaly that may still be extended or end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenAnomaly {
    /// The anomaly's id (of its first point).
    pub id: Uuid,
    /// Its first anomalous point's timestamp (unix seconds): where its
    /// de-duplication window starts.
    pub timestamp: i64,
    /// Its first anomalous point's value.
    pub value: f64,
    /// The algorithms that voted anomalous at its first point.
    pub triggered: Vec<String>,
    /// The first point's judged window's first timestamp.
    pub from_timestamp: i64,
    /// The check its first point was handed on with, if any.
    pub check_id: Option<Uuid>,
    /// Whether the metric was judged as its derivative at the first point.
    pub derivative: bool,
    /// Anomalous points folded into it.
    pub count: i32,
    /// Its newest anomalous point's timestamp.
    pub last_timestamp: i64,
    /// The largest deviation of its points ([`deviation`]).
    pub max_deviation: f64,
    /// `t_last` of the first not-anomalous analysis after `last_timestamp`,
    /// once there has been one.
    pub end: Option<i64>,
}

/// An anomaly that is over.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedAnomaly {
    /// The anomaly's id.
    pub id: Uuid,
    /// Its first anomalous point's timestamp (unix seconds).
    pub timestamp: i64,
    /// The newest timestamp of the first later analysis that was not
    /// anomalous (unix seconds).
    pub end_timestamp: i64,
    /// Anomalous points it folded.
    pub count: i32,
}

/// What an anomalous point did to the metric's anomalies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It opened a new anomaly.
    Opened,
    /// It extended the open anomaly.
    Extended,
}

/// One metric's anomalies of one source that are not over yet, oldest
/// first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CurrentAnomalies {
    /// The anomalies, oldest first.
    pub open: Vec<OpenAnomaly>,
}

impl CurrentAnomalies {
    /// The anomaly an anomalous point at `timestamp` extends: the newest,
    /// when `opened_at <= timestamp < opened_at + expiry` (only the newest
    /// can be: a new one opens only past the previous one's window).
    pub fn extendable(&self, timestamp: i64, expiry: i64) -> Option<&OpenAnomaly> {
        self.open
            .last()
            .filter(|a| a.timestamp <= timestamp && timestamp < a.timestamp.saturating_add(expiry))
    }

    /// Folds an anomalous point: extends the open anomaly it falls in
    /// ([`Self::extendable`]) or opens `fresh`. Returns what it did and the
    /// anomaly as it now stands.
    pub fn anomalous(
        &mut self,
        timestamp: i64,
        deviation: f64,
        expiry: i64,
        fresh: impl FnOnce() -> OpenAnomaly,
    ) -> (Step, OpenAnomaly) {
        if self.extendable(timestamp, expiry).is_some() {
            if let Some(open) = self.open.last_mut() {
                open.count = open.count.saturating_add(1);
                open.last_timestamp = open.last_timestamp.max(timestamp);
                open.max_deviation = open.max_deviation.max(deviation);
                // Anomalous again: whatever end was found is not the end.
                open.end = None;
                return (Step::Extended, open.clone());
            }
        }
        let mut open = fresh();
        open.max_deviation = open.max_deviation.max(deviation);
        self.open.push(open.clone());
        (Step::Opened, open)
    }

    /// Folds a not-anomalous analysis whose newest point is `t_last`: every
    /// anomaly whose last anomalous point is before `t_last`, and that has
    /// no end yet, ends there.
    pub fn not_anomalous(&mut self, t_last: i64) {
        for a in &mut self.open {
            if a.end.is_none() && a.last_timestamp < t_last {
                a.end = Some(t_last);
            }
        }
    }

    /// At data time `now`: takes out the anomalies whose end is final (they
    /// have one and `now >= opened_at + expiry`, so no later point can
    /// extend them), and drops, unended, those opened before `now -
    /// full_duration`.
    pub fn settle(&mut self, now: i64, expiry: i64, full_duration: i64) -> Vec<EndedAnomaly> {
        let mut ended = Vec::new();
        let cutoff = now.saturating_sub(full_duration);
        self.open.retain(|a| {
            let closed = now >= a.timestamp.saturating_add(expiry);
            match a.end {
                Some(end) if closed => {
                    ended.push(EndedAnomaly {
                        id: a.id,
                        timestamp: a.timestamp,
                        end_timestamp: end,
                        count: a.count,
                    });
                    false
                }
                _ => a.timestamp >= cutoff,
            }
        });
        ended
    }
}

/// How far `x` lies from the mean of `values`, in (population) standard
/// deviations: `|x − μ| / σ` with `μ = Σv / n` and `σ = sqrt(Σ(v − μ)² / n)`;
/// 0 when σ is 0 (or not finite) or `values` is empty.
pub fn deviation(values: &[f64], x: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let sigma = variance.sqrt();
    if sigma > 0.0 && sigma.is_finite() {
        let d = (x - mean).abs() / sigma;
        if d.is_finite() {
            return d;
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPIRY: i64 = 900;
    const FULL: i64 = 86_400;

    fn fresh(timestamp: i64) -> impl FnOnce() -> OpenAnomaly {
        move || OpenAnomaly {
            id: Uuid::from_u128(timestamp as u128),
            timestamp,
            value: 1.0,
            triggered: vec!["grubbs".into()],
            from_timestamp: timestamp - FULL,
            check_id: None,
            derivative: false,
            count: 1,
            last_timestamp: timestamp,
            max_deviation: 0.0,
            end: None,
        }
    }

    /// Folds a judged point as the Analyzer does: anomalous or not, then
    /// settles at its time.
    fn point(c: &mut CurrentAnomalies, t: i64, anomalous: bool) -> Vec<EndedAnomaly> {
        if anomalous {
            c.anomalous(t, 3.0, EXPIRY, fresh(t));
        } else {
            c.not_anomalous(t);
        }
        c.settle(t, EXPIRY, FULL)
    }

    #[test]
    fn ends_at_the_first_later_not_anomalous_analysis() {
        let mut c = CurrentAnomalies::default();
        assert!(point(&mut c, 1000, true).is_empty());
        assert!(point(&mut c, 1060, false).is_empty(), "not final yet");
        assert!(point(&mut c, 1120, false).is_empty());
        let ended = point(&mut c, 1900, false);
        assert_eq!(ended.len(), 1);
        assert_eq!(
            (ended[0].timestamp, ended[0].end_timestamp, ended[0].count),
            (1000, 1060, 1)
        );
    }

    #[test]
    fn an_analysis_not_after_the_last_point_does_not_end_it() {
        let mut c = CurrentAnomalies::default();
        c.anomalous(1000, 3.0, EXPIRY, fresh(1000));
        // Same time as the anomaly (a re-judged point) and before it.
        c.not_anomalous(1000);
        c.not_anomalous(990);
        assert_eq!(c.open[0].end, None);
        c.not_anomalous(1001);
        assert_eq!(c.open[0].end, Some(1001));
    }

    #[test]
    fn an_extension_after_a_not_anomalous_analysis_keeps_it_open_and_moves_the_end() {
        let mut c = CurrentAnomalies::default();
        point(&mut c, 1000, true);
        point(&mut c, 1060, false);
        assert_eq!(c.open[0].end, Some(1060));
        point(&mut c, 1120, true);
        assert_eq!((c.open.len(), c.open[0].count, c.open[0].end), (1, 2, None));
        assert!(point(&mut c, 1180, true).is_empty());
        assert!(point(&mut c, 1240, false).is_empty());
        let ended = point(&mut c, 1900, true);
        assert_eq!(
            ended.len(),
            1,
            "the first one ends; the point opens a second"
        );
        assert_eq!((ended[0].end_timestamp, ended[0].count), (1240, 3));
        assert_eq!(c.open.len(), 1);
        assert_eq!(c.open[0].timestamp, 1900);
    }

    #[test]
    fn older_than_full_duration_is_dropped_unended() {
        let mut c = CurrentAnomalies::default();
        point(&mut c, 1000, true);
        // Anomalous on and on past its window: a second anomaly opens, the
        // first never gets a not-anomalous analysis.
        point(&mut c, 1900, true);
        assert_eq!(c.open.len(), 2);
        assert!(point(&mut c, 1000 + FULL - 1, true).is_empty());
        assert_eq!(c.open.len(), 3, "still held a second before full_duration");
        assert!(point(&mut c, 1000 + FULL + 1, true).is_empty());
        assert_eq!(
            c.open.iter().map(|a| a.timestamp).collect::<Vec<_>>(),
            [1900, 1000 + FULL - 1],
            "the first dropped, unended (the last point extended the third)"
        );
    }

    #[test]
    fn per_metric_states_are_independent() {
        // The Analyzer keeps one CurrentAnomalies per metric (in its
        // MetricState): one metric's analyses end nothing of another's.
        let mut a = CurrentAnomalies::default();
        let mut b = CurrentAnomalies::default();
        point(&mut a, 1000, true);
        point(&mut b, 1000, true);
        point(&mut b, 1060, false);
        assert_eq!(a.open[0].end, None);
        assert_eq!(b.open[0].end, Some(1060));
        assert!(point(&mut a, 2000, true).is_empty());
        assert_eq!(point(&mut b, 2000, false).len(), 1);
    }

    #[test]
    fn emitted_once_only_after_the_expiry_window() {
        let mut c = CurrentAnomalies::default();
        point(&mut c, 1000, true);
        for t in (1060..1900).step_by(60) {
            assert!(
                point(&mut c, t, false).is_empty(),
                "at {t}: still extendable"
            );
        }
        assert_eq!(point(&mut c, 1900, false).len(), 1, "at opened_at + expiry");
        assert!(point(&mut c, 1960, false).is_empty(), "once");
        assert!(c.open.is_empty());
    }

    #[test]
    fn the_window_ends_exactly_at_opened_at_plus_expiry() {
        let mut c = CurrentAnomalies::default();
        assert_eq!(c.anomalous(1000, 1.0, EXPIRY, fresh(1000)).0, Step::Opened);
        assert_eq!(
            c.anomalous(1899, 1.0, EXPIRY, fresh(1899)).0,
            Step::Extended
        );
        let (step, open) = c.anomalous(1900, 1.0, EXPIRY, fresh(1900));
        assert_eq!((step, open.timestamp), (Step::Opened, 1900));
        assert_eq!(c.open[0].count, 2);
    }

    #[test]
    fn repeats_do_not_extend_the_window() {
        let mut c = CurrentAnomalies::default();
        c.anomalous(1000, 1.0, EXPIRY, fresh(1000));
        for t in (1060..1900).step_by(60) {
            assert_eq!(c.anomalous(t, 1.0, EXPIRY, fresh(t)).0, Step::Extended);
        }
        // A repeat every minute, yet the window still closes at 1900.
        let (step, _) = c.anomalous(1900, 1.0, EXPIRY, fresh(1900));
        assert_eq!(step, Step::Opened);
        assert_eq!((c.open[0].count, c.open[0].last_timestamp), (15, 1840));
    }

    #[test]
    fn extensions_keep_the_largest_deviation() {
        let mut c = CurrentAnomalies::default();
        c.anomalous(1000, 4.0, EXPIRY, fresh(1000));
        c.anomalous(1060, 7.5, EXPIRY, fresh(1060));
        let (_, open) = c.anomalous(1120, 5.0, EXPIRY, fresh(1120));
        assert_eq!(open.max_deviation, 7.5);
    }

    #[test]
    fn expiry_zero_makes_every_point_its_own_anomaly() {
        let mut c = CurrentAnomalies::default();
        assert_eq!(c.anomalous(1000, 1.0, 0, fresh(1000)).0, Step::Opened);
        assert_eq!(c.anomalous(1060, 1.0, 0, fresh(1060)).0, Step::Opened);
        c.not_anomalous(1120);
        let ended = c.settle(1120, 0, FULL);
        assert_eq!(
            ended
                .iter()
                .map(|e| (e.timestamp, e.end_timestamp))
                .collect::<Vec<_>>(),
            [(1000, 1120), (1060, 1120)]
        );
    }

    #[test]
    fn deviation_is_distance_from_the_mean_in_standard_deviations() {
        // mean 2, population σ = sqrt(2/3)
        let d = deviation(&[1.0, 2.0, 3.0], 4.0);
        assert!((d - 2.0 / (2.0f64 / 3.0).sqrt()).abs() < 1e-12, "{d}");
        assert_eq!(deviation(&[5.0, 5.0], 9.0), 0.0, "σ = 0");
        assert_eq!(deviation(&[], 9.0), 0.0);
    }
}
