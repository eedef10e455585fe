//! The metrics sweep's judgements (`spec/operations.md` §2–§3), pure: a
//! metric's resolution inferred from its timestamps, its data sparsity over
//! FULL_DURATION, how that changed since the last sweep, the four aggregate
//! figures the reference publishes, and whether a metric is stale, about to
//! go stale or recovered at a sweep's `now`.
//!
//! The sweep itself (which metrics, when, what it publishes) is not here:
//! these functions take a metric's timestamps and the sweep's clock, so a
//! replay sweeping at data time decides as a live sweep at wall time.

use std::collections::HashMap;

use crate::exceptions::about_to_go_stale;
use crate::pattern::MetricPattern;

/// `FULLY_POPULATED_PERCENTAGE`: a metric at least this sparse (percent of
/// the points expected) is fully populated.
pub const FULLY_POPULATED_PERCENTAGE: f64 = 94.0;

/// `SPARSELY_POPULATED_PERCENTAGE`: below this a metric is too sparse for
/// the stale sweep to judge.
pub const SPARSELY_POPULATED_PERCENTAGE: f64 = 40.0;

/// Points whose gaps the resolution is inferred from (the last 101).
const RESOLUTION_POINTS: usize = 101;

/// Resolutions kept as inferred below 68 s; any other gap in `1..=68`
/// counts as 60 (the reference's list).
const KEPT_RESOLUTIONS: [i64; 10] = [1, 2, 3, 5, 6, 10, 12, 15, 20, 30];

/// `SKIP_CHECK_DATA_SPARSITY_NAMESPACES`: the reference's default.
pub const SKIP_CHECK_DATA_SPARSITY_NAMESPACES: [&str; 3] = [
    "otel.traces",
    "skyline.ionosphere.feature_calculation_time",
    "skyline.mirage.run_time",
];

/// A metric's resolution (seconds) from its sorted `timestamps`
/// (`determine_data_frequency`): of the gaps between the last 101 points
/// (all points when there are at most 94), the most common, the smallest
/// of equally common ones; a gap in `1..=68` that is not 60 nor one of
/// [`KEPT_RESOLUTIONS`] counts as 60. `None` below two points.
pub fn resolution(timestamps: &[i64]) -> Option<i64> {
    // The reference compares the count with FULLY_POPULATED_PERCENTAGE
    // (94) to choose between the last 101 points and all of them.
    let tail = if timestamps.len() as f64 > FULLY_POPULATED_PERCENTAGE {
        &timestamps[timestamps.len().saturating_sub(RESOLUTION_POINTS)..]
    } else {
        timestamps
    };
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for w in tail.windows(2) {
        *counts.entry(w[1] - w[0]).or_default() += 1;
    }
    let most = counts.values().copied().max()?;
    let res = counts
        .iter()
        .filter(|(_, &c)| c == most)
        .map(|(&gap, _)| gap)
        .min()?;
    let snapped = res != 60 && !KEPT_RESOLUTIONS.contains(&res) && (1..=68).contains(&res);
    Some(if snapped { 60 } else { res })
}

/// The data sparsity of a metric with `points` points over
/// `full_duration` at `resolution` (`determine_data_sparsity`):
/// `round(points / (full_duration / resolution) × 100, 2)` percent. Can
/// exceed 100 (a window keeps a little more than FULL_DURATION). `None`
/// for a resolution or duration that is not positive.
pub fn sparsity(points: usize, full_duration: i64, resolution: i64) -> Option<f64> {
    if resolution <= 0 || full_duration <= 0 {
        return None;
    }
    let expected = full_duration as f64 / resolution as f64;
    Some((points as f64 / expected * 100.0 * 100.0).round() / 100.0)
}

/// How a metric's sparsity compares with the last sweep's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparsityTrend {
    /// At least [`FULLY_POPULATED_PERCENTAGE`].
    FullyPopulated,
    /// Getting denser (the reference's "sparsity decreasing": previous <
    /// current).
    Decreasing,
    /// Getting sparser (previous > current).
    Increasing,
    /// Unchanged, or no previous value.
    Unchanged,
}

/// The trend of `current` after `previous` (§2's classification).
pub fn trend(previous: Option<f64>, current: f64) -> SparsityTrend {
    if current >= FULLY_POPULATED_PERCENTAGE {
        return SparsityTrend::FullyPopulated;
    }
    match previous {
        Some(p) if p < current => SparsityTrend::Decreasing,
        Some(p) if p > current => SparsityTrend::Increasing,
        _ => SparsityTrend::Unchanged,
    }
}

/// The four figures a sweep publishes (`metrics_sparsity.*`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SparsitySummary {
    /// Metrics fully populated.
    pub fully_populated: usize,
    /// Metrics getting denser.
    pub decreasing: usize,
    /// Metrics getting sparser.
    pub increasing: usize,
    /// The mean sparsity of every metric checked (`None`: none checked).
    pub avg_sparsity: Option<f64>,
}

/// The summary of one sweep's `(previous, current)` sparsities.
pub fn summarise(sparsities: &[(Option<f64>, f64)]) -> SparsitySummary {
    let mut s = SparsitySummary::default();
    for &(previous, current) in sparsities {
        match trend(previous, current) {
            SparsityTrend::FullyPopulated => s.fully_populated += 1,
            SparsityTrend::Decreasing => s.decreasing += 1,
            SparsityTrend::Increasing => s.increasing += 1,
            SparsityTrend::Unchanged => {}
        }
    }
    if !sparsities.is_empty() {
        let total: f64 = sparsities.iter().map(|(_, c)| c).sum();
        s.avg_sparsity = Some(total / sparsities.len() as f64);
    }
    s
}

/// Whether the sweep skips `metric`'s sparsity (matched as alert rules
/// match, against `skip`).
pub fn skips_sparsity(metric: &str, skip: &[MetricPattern]) -> bool {
    skip.iter().any(|p| p.matches(metric))
}

/// A metric's state at a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Sending.
    Fresh,
    /// About to go stale (the Analyzer's stale digest window).
    AboutToGoStale,
    /// No datapoint for more than its stale period, and not yet reported.
    Stale,
    /// Still stale, already reported: not listed again until it recovers.
    StillStale,
    /// Reported stale before, sending again.
    Recovered,
}

/// The stale sweep's verdict on a metric whose newest point is `last` at
/// the sweep's `now` (§3.2): stale when older than `stale_period`
/// (`CUSTOM_STALE_PERIOD` or `STALE_PERIOD`), about to go stale in the
/// window [`about_to_go_stale`] defines, recovered when it was `reported`
/// stale and is newer than the period again.
pub fn staleness(
    last: i64,
    now: i64,
    stale_period: i64,
    default_stale_period: i64,
    alert_on_stale_period: i64,
    reported: bool,
) -> Staleness {
    let age = now.saturating_sub(last);
    let stale = age > stale_period;
    match (reported, stale) {
        (true, true) => Staleness::StillStale,
        (true, false) => Staleness::Recovered,
        (false, true) => Staleness::Stale,
        (false, false)
            if about_to_go_stale(
                age,
                stale_period,
                default_stale_period,
                alert_on_stale_period,
            ) =>
        {
            Staleness::AboutToGoStale
        }
        (false, false) => Staleness::Fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize, step: i64) -> Vec<i64> {
        (0..n as i64).map(|i| 1_700_000_000 + i * step).collect()
    }

    #[test]
    fn resolution_by_hand() {
        assert_eq!(resolution(&grid(200, 60)), Some(60));
        assert_eq!(resolution(&grid(50, 300)), Some(300));
        assert_eq!(resolution(&grid(50, 10)), Some(10));
        // 45 s is not a kept resolution: it counts as 60; 90 s is kept.
        assert_eq!(resolution(&grid(50, 45)), Some(60));
        assert_eq!(resolution(&grid(50, 90)), Some(90));
        // Ties: the smallest of the most common gaps (two 60s, two 120s).
        assert_eq!(resolution(&[0, 60, 120, 240, 360]), Some(60));
        // Only the last 101 points count once there are more than 94: 300
        // points at 10 s, then 101 at 300 s.
        let mut t = grid(300, 10);
        let last = *t.last().unwrap();
        t.extend((1..=101).map(|i| last + i * 300));
        assert_eq!(resolution(&t), Some(300));
        assert_eq!(resolution(&[5]), None);
        assert_eq!(resolution(&[]), None);
    }

    #[test]
    fn sparsity_by_hand() {
        assert_eq!(sparsity(1440, 86_400, 60), Some(100.0));
        assert_eq!(sparsity(720, 86_400, 60), Some(50.0));
        // 1000 of 1440: 69.444… → 69.44.
        assert_eq!(sparsity(1000, 86_400, 60), Some(69.44));
        assert_eq!(sparsity(1450, 86_400, 60), Some(100.69));
        assert_eq!(sparsity(10, 86_400, 0), None);
    }

    /// A real day with 10 % of its points removed reads ≈ 90 %.
    #[test]
    fn a_nab_day_with_a_tenth_removed_is_90_percent_populated() {
        let nab = numeric::reference::read_nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
        let day: Vec<i64> = nab[1000..1288].iter().map(|p| p.0).collect();
        assert_eq!(resolution(&day), Some(300));
        let full = sparsity(day.len(), 86_400, 300).unwrap();
        assert!((full - 100.0).abs() < 1.0, "{full}");
        // Every tenth point removed: the gaps are still mostly 300 s.
        let thinned: Vec<i64> = day
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 10 != 9)
            .map(|(_, t)| *t)
            .collect();
        let res = resolution(&thinned).unwrap();
        assert_eq!(res, 300);
        let s = sparsity(thinned.len(), 86_400, res).unwrap();
        assert!((s - 90.0).abs() < 1.0, "{s}");
        assert_eq!(trend(Some(full), s), SparsityTrend::Increasing);
    }

    #[test]
    fn trends_and_the_summary() {
        assert_eq!(trend(None, 94.0), SparsityTrend::FullyPopulated);
        assert_eq!(trend(Some(50.0), 60.0), SparsityTrend::Decreasing);
        assert_eq!(trend(Some(60.0), 50.0), SparsityTrend::Increasing);
        assert_eq!(trend(Some(60.0), 60.0), SparsityTrend::Unchanged);
        assert_eq!(trend(None, 60.0), SparsityTrend::Unchanged);
        let s = summarise(&[
            (None, 100.0),
            (Some(50.0), 60.0),
            (Some(80.0), 70.0),
            (None, 10.0),
        ]);
        assert_eq!((s.fully_populated, s.decreasing, s.increasing), (1, 1, 1));
        assert_eq!(s.avg_sparsity, Some(60.0));
        assert_eq!(summarise(&[]).avg_sparsity, None);
    }

    #[test]
    fn sparsity_skip_namespaces() {
        let skip: Vec<MetricPattern> = SKIP_CHECK_DATA_SPARSITY_NAMESPACES
            .iter()
            .map(|p| MetricPattern::new(p).unwrap())
            .collect();
        assert!(skips_sparsity("otel.traces.span_count", &skip));
        assert!(skips_sparsity("skyline.mirage.run_time", &skip));
        assert!(!skips_sparsity("stats.web01.cpu", &skip));
    }

    #[test]
    fn stale_sweep_verdicts() {
        let now = 10_000;
        // STALE_PERIOD 500, ALERT_ON_STALE_PERIOD 300.
        assert_eq!(
            staleness(now - 100, now, 500, 500, 300, false),
            Staleness::Fresh
        );
        assert_eq!(
            staleness(now - 300, now, 500, 500, 300, false),
            Staleness::AboutToGoStale
        );
        // Exactly the period old: not yet stale, and past the digest window.
        assert_eq!(
            staleness(now - 500, now, 500, 500, 300, false),
            Staleness::Fresh
        );
        assert_eq!(
            staleness(now - 499, now, 500, 500, 300, false),
            Staleness::AboutToGoStale
        );
        assert_eq!(
            staleness(now - 501, now, 500, 500, 300, false),
            Staleness::Stale
        );
        assert_eq!(
            staleness(now - 501, now, 500, 500, 300, true),
            Staleness::StillStale
        );
        assert_eq!(
            staleness(now - 10, now, 500, 500, 300, true),
            Staleness::Recovered
        );
        // A custom period of an hour.
        assert_eq!(
            staleness(now - 3_000, now, 3_600, 500, 300, false),
            Staleness::AboutToGoStale
        );
        assert_eq!(
            staleness(now - 3_601, now, 3_600, 500, 300, false),
            Staleness::Stale
        );
    }
}
