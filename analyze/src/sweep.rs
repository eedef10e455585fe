//! The metrics sweep's judgements (`spec/operations.md` §2–§3), pure: a
//! metric's resolution inferred from its timestamps, its data sparsity over
//! FULL_DURATION, how that changed since the last sweep, the four aggregate
//! figures the reference publishes, and whether a metric is stale, about to
//! go stale or recovered at a sweep's `now`.
//!
//! Also pure, the sweep's schedule ([`crossed`], [`data_sweeps`]: when a
//! clock reaches the next multiple of the interval) and its plan for one
//! sweep ([`plan`]: what it says about each metric, the sparsities and the
//! summary). The Analyzer service (`service.rs`) reads the windows, runs
//! the plan at the instants the schedule gives and publishes it: these
//! functions take a metric's timestamps and the sweep's clock, so a replay
//! sweeping at data time decides as a live sweep at wall time.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use topics::SystemKind;

use crate::exceptions::about_to_go_stale;
use crate::pattern::MetricPattern;
use crate::Settings;

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

/// How the sweep tells time (`[analyzer.sweep] clock`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepClock {
    /// The wall clock, checked every second up to every 10 s: live.
    #[default]
    Wall,
    /// Data time: the newest datapoint timestamp the Analyzer has
    /// consumed. A replay of the same log sweeps at the same instants and
    /// sees the same points, so it says the same things with the same ids.
    Data,
}

/// The metrics sweep (the `[analyzer.sweep]` table): stale metrics and
/// data sparsity, every `interval` seconds of its clock. The stale periods
/// and ALERT_ON_STALE_METRICS are the `[analyzer]` ones (`stale_period`,
/// `custom_stale_period`, `alert_on_stale_metrics`,
/// `alert_on_stale_period`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepSettings {
    /// Seconds between sweeps, by `clock` (the reference's 300); 0: no sweep.
    /// A sweep runs at each multiple of it the clock reaches.
    pub interval: i64,
    /// `"wall"` (live) or `"data"` (the newest datapoint's timestamp:
    /// replays and backfills decide as the live sweep did).
    pub clock: SweepClock,
    /// `DO_NOT_ALERT_ON_STALE_METRICS`: metrics whose stale events are
    /// published without asking for an alert.
    pub do_not_alert_on_stale_metrics: Vec<MetricPattern>,
    /// `SKIP_CHECK_DATA_SPARSITY_NAMESPACES`: metrics left out of the
    /// sparsity figures.
    pub skip_check_data_sparsity_namespaces: Vec<MetricPattern>,
}

impl Default for SweepSettings {
    fn default() -> Self {
        SweepSettings {
            interval: 300,
            clock: SweepClock::Wall,
            do_not_alert_on_stale_metrics: Vec::new(),
            skip_check_data_sparsity_namespaces: SKIP_CHECK_DATA_SPARSITY_NAMESPACES
                .iter()
                .filter_map(|p| MetricPattern::new(p).ok())
                .collect(),
        }
    }
}

/// The sweep instant a clock moving from `before` to `now` reaches: the
/// newest multiple of `interval` in `(before, now]`. `None` when it
/// reaches none, or `interval` is not positive. Several instants reached
/// at once are one sweep at the newest: what is stale at an older one is
/// stale at the newer (a metric's age only grows until it sends).
pub fn crossed(before: i64, now: i64, interval: i64) -> Option<i64> {
    if interval <= 0 {
        return None;
    }
    let instant = now.div_euclid(interval).saturating_mul(interval);
    (instant > before).then_some(instant)
}

/// The sweep's data clock, one per partition of the datapoints topic:
/// the partition's newest timestamp consumed. A metric's points are keyed
/// to one partition and arrive there in time order, but partitions are
/// consumed at their own pace (a replay may read one far ahead of another,
/// or see one only later), so a clock over all of them would depend on the
/// interleaving. Each partition's clock depends only on that partition's
/// log: a sweep of the partition's metrics at each instant its clock
/// reaches, over their points before it, sees the same points in any
/// interleaving and any batching.
///
/// A partition that receives nothing does not sweep: in data time, a
/// metric alone on its partition that stops is not reported (live, the
/// wall clock reports it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataClock {
    /// Each partition's newest timestamp consumed.
    pub newest: std::collections::BTreeMap<i32, i64>,
}

impl DataClock {
    /// Folds a point of `partition` at `timestamp` in; returns the sweep
    /// instant the partition's clock reaches, if any ([`crossed`]; none at
    /// a partition's first point: its clock was not known).
    pub fn advance(&mut self, partition: i32, timestamp: i64, interval: i64) -> Option<i64> {
        match self.newest.get_mut(&partition) {
            None => {
                self.newest.insert(partition, timestamp);
                None
            }
            Some(newest) if timestamp > *newest => {
                let before = std::mem::replace(newest, timestamp);
                crossed(before, timestamp, interval)
            }
            Some(_) => None,
        }
    }
}

/// The data clock's sweeps over points consumed in log order, each
/// `(partition, timestamp)`: each `(index, partition, instant)` is a sweep
/// of the partition's metrics at `instant`, to run after the points before
/// `index` are folded and before the point at `index` (the one that moved
/// the partition's clock to it), over the points older than `instant`
/// ([`DataClock`]).
pub fn data_sweeps(
    clock: &mut DataClock,
    points: &[(i32, i64)],
    interval: i64,
) -> Vec<(usize, i32, i64)> {
    points
        .iter()
        .enumerate()
        .filter_map(|(i, &(partition, t))| {
            Some((i, partition, clock.advance(partition, t, interval)?))
        })
        .collect()
}

/// What the sweep remembers of a metric between sweeps (kept beside its
/// window): the last datapoint timestamp it reported the metric stale,
/// and about to go stale, for. A notice's id is of its kind, metric and
/// that timestamp, so forgetting this (a new deployment, windows kept in
/// memory restarted) only says the same notice again under the same id;
/// remembering it is what keeps a sweep from saying it twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reported {
    /// Reported stale with this last datapoint.
    pub stale: Option<i64>,
    /// Reported about to go stale with this last datapoint.
    pub about_to_go_stale: Option<i64>,
}

/// One thing a sweep says about a metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The metric.
    pub metric: String,
    /// Stale, about to go stale, or fresh again after being stale.
    pub kind: SystemKind,
    /// Stale, about to go stale: the metric's last datapoint; fresh: the
    /// last datapoint before it went quiet (the one reported stale).
    pub since: i64,
    /// The metric's stale period (seconds).
    pub stale_period: i64,
    /// Whether it asks the alerters to deliver it: ALERT_ON_STALE_METRICS
    /// and not DO_NOT_ALERT_ON_STALE_METRICS.
    pub alert: bool,
}

/// A metric as a sweep sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricView {
    /// The metric.
    pub metric: String,
    /// Its window's timestamps before the sweep's instant, sorted.
    pub timestamps: Vec<i64>,
    /// What earlier sweeps reported.
    pub reported: Reported,
    /// Its sparsity at the previous sweep, if known.
    pub previous_sparsity: Option<f64>,
}

/// What one sweep decides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepPlan {
    /// What it says, in metric order.
    pub notices: Vec<Notice>,
    /// The metrics whose [`Reported`] changed, with the new one.
    pub reported: Vec<(String, Reported)>,
    /// Each checked metric's sparsity (percent).
    pub sparsities: Vec<(String, f64)>,
    /// The four aggregate figures over the checked metrics.
    pub summary: SparsitySummary,
    /// The metrics stale at this sweep (newly or still).
    pub stale: Vec<String>,
}

/// A metric's data sparsity at a sweep's `now` from its sorted window
/// `timestamps`: the points in `(now − full_duration, now]` (the service
/// gives it those before `now`) at the
/// resolution inferred from them. `None` for a metric with less than
/// `full_duration` of history (its oldest point after `now −
/// full_duration`: the reference leaves new metrics out) or too few
/// points to infer a resolution.
pub fn sparsity_at(timestamps: &[i64], now: i64, full_duration: i64) -> Option<f64> {
    let from = now.saturating_sub(full_duration);
    if *timestamps.first()? > from {
        return None;
    }
    let start = timestamps.partition_point(|&t| t <= from);
    let end = timestamps.partition_point(|&t| t <= now);
    let recent = &timestamps[start..end];
    sparsity(recent.len(), full_duration, resolution(recent)?)
}

/// One metric's staleness notices at a sweep's `now` after `reported`,
/// with what to remember. A metric reported stale whose last point has
/// moved on sent again: it is fresh (said once, about the point it was
/// stale with) and judged anew. Then [`staleness`]: stale is said once
/// per last point, about to go stale once per last point.
#[allow(clippy::too_many_arguments)]
pub fn stale_notices(
    metric: &str,
    last: i64,
    now: i64,
    stale_period: i64,
    settings: &Settings,
    alert: bool,
    mut reported: Reported,
    out: &mut Vec<Notice>,
) -> (Staleness, Reported) {
    let notice = |kind, since| Notice {
        metric: metric.to_owned(),
        kind,
        since,
        stale_period,
        alert,
    };
    if let Some(since) = reported.stale.filter(|&s| s != last) {
        out.push(notice(SystemKind::Fresh, since));
        reported.stale = None;
    }
    let verdict = staleness(
        last,
        now,
        stale_period,
        settings.stale_period,
        settings.alert_on_stale_period,
        reported.stale.is_some(),
    );
    match verdict {
        Staleness::Stale => {
            out.push(notice(SystemKind::Stale, last));
            reported.stale = Some(last);
        }
        Staleness::Recovered => {
            // Reported stale with this very point, and no longer older
            // than its period (the period was lengthened): fresh again.
            if let Some(since) = reported.stale.take() {
                out.push(notice(SystemKind::Fresh, since));
            }
        }
        Staleness::AboutToGoStale if reported.about_to_go_stale != Some(last) => {
            out.push(notice(SystemKind::AboutToGoStale, last));
            reported.about_to_go_stale = Some(last);
        }
        Staleness::AboutToGoStale | Staleness::StillStale => {}
        Staleness::Fresh => reported.about_to_go_stale = None,
    }
    (verdict, reported)
}

/// One sweep at `now` over `metrics` (§2–§3.2): each metric's data
/// sparsity (unless [`SweepSettings::skip_check_data_sparsity_namespaces`]
/// skips it) and the summary, and its staleness by its stale period
/// ([`Settings::stale_period_for`]). As the reference, a metric known to
/// be sparsely populated (below [`SPARSELY_POPULATED_PERCENTAGE`]) is not
/// judged stale; unlike it, a metric whose sparsity is not known (newer
/// than FULL_DURATION) is judged, so a new metric that stops is reported.
/// A metric with no point before `now` says nothing.
pub fn plan(
    now: i64,
    settings: &Settings,
    sweep: &SweepSettings,
    metrics: &[MetricView],
) -> SweepPlan {
    let mut plan = SweepPlan::default();
    let mut trends = Vec::new();
    for m in metrics {
        let Some(&last) = m.timestamps.last() else {
            continue;
        };
        let sparsity = sparsity_at(&m.timestamps, now, settings.full_duration);
        if let Some(current) = sparsity {
            if !skips_sparsity(&m.metric, &sweep.skip_check_data_sparsity_namespaces) {
                plan.sparsities.push((m.metric.clone(), current));
                trends.push((m.previous_sparsity, current));
            }
        }
        let alert = settings.alert_on_stale_metrics
            && !sweep
                .do_not_alert_on_stale_metrics
                .iter()
                .any(|p| p.matches(&m.metric));
        let period = settings.stale_period_for(&m.metric);
        let sparse = sparsity.is_some_and(|s| s < SPARSELY_POPULATED_PERCENTAGE);
        let (verdict, reported) = if sparse {
            // Not judged; a metric reported stale that sends again is
            // still said to be fresh.
            let mut reported = m.reported;
            if let Some(since) = reported.stale.filter(|&s| s != last) {
                plan.notices.push(Notice {
                    metric: m.metric.clone(),
                    kind: SystemKind::Fresh,
                    since,
                    stale_period: period,
                    alert,
                });
                reported.stale = None;
            }
            (Staleness::Fresh, reported)
        } else {
            stale_notices(
                &m.metric,
                last,
                now,
                period,
                settings,
                alert,
                m.reported,
                &mut plan.notices,
            )
        };
        if matches!(verdict, Staleness::Stale | Staleness::StillStale) {
            plan.stale.push(m.metric.clone());
        }
        if reported != m.reported {
            plan.reported.push((m.metric.clone(), reported));
        }
    }
    plan.summary = summarise(&trends);
    plan
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

    #[test]
    fn a_clock_crossing_instants() {
        // Multiples of 60: from 100 to 130 crosses 120; to 119 none.
        assert_eq!(crossed(100, 130, 60), Some(120));
        assert_eq!(crossed(100, 119, 60), None);
        // Landing on an instant reaches it; starting on one does not again.
        assert_eq!(crossed(100, 120, 60), Some(120));
        assert_eq!(crossed(120, 179, 60), None);
        // Several at once: one sweep, at the newest.
        assert_eq!(crossed(100, 400, 60), Some(360));
        assert_eq!(crossed(100, 400, 0), None);
        // Before the epoch as after (div_euclid).
        assert_eq!(crossed(-130, -100, 60), Some(-120));
    }

    #[test]
    fn the_data_clock_sweeps_at_the_same_instants_in_any_batching() {
        // One partition, one point late.
        let ts = [0, 0, 30, 30, 60, 45, 60, 90, 90, 120, 120, 250, 10, 260];
        let points: Vec<(i32, i64)> = ts.iter().map(|&t| (0, t)).collect();
        let mut clock = DataClock::default();
        let all = data_sweeps(&mut clock, &points, 60);
        // The first point only sets the clock; 60 is reached at index 4,
        // 120 at 9, 240 at 11 (one sweep for 180 and 240); the late 10 and
        // the 260 after 250 reach nothing.
        assert_eq!(all, vec![(4, 0, 60), (9, 0, 120), (11, 0, 240)]);
        assert_eq!(clock.newest[&0], 260);
        // The same points in batches of every size: the same sweeps at the
        // same places in the log.
        for size in 1..points.len() {
            let mut clock = DataClock::default();
            let mut sweeps = Vec::new();
            for (b, batch) in points.chunks(size).enumerate() {
                let s = data_sweeps(&mut clock, batch, 60);
                sweeps.extend(s.into_iter().map(|(i, p, at)| (b * size + i, p, at)));
            }
            assert_eq!(sweeps, all, "batches of {size}");
        }
    }

    #[test]
    fn each_partition_sweeps_by_its_own_clock_in_any_interleaving() {
        let p0: Vec<(i32, i64)> = (0..=10).map(|i| (0, i * 60)).collect();
        let p1: Vec<(i32, i64)> = (0..=10).map(|i| (1, i * 60 + 5)).collect();
        // Of one interleaving, each partition's sweeps, as the points of
        // that partition (their position in the partition) they precede.
        let per_partition = |log: &[(i32, i64)]| {
            let mut clock = DataClock::default();
            let mut seen = std::collections::BTreeMap::<i32, usize>::new();
            let mut out = Vec::new();
            let sweeps = data_sweeps(&mut clock, log, 60);
            for (i, &(p, _)) in log.iter().enumerate() {
                let n = seen.entry(p).or_default();
                out.extend(sweeps.iter().filter(|s| s.0 == i).map(|s| (p, *n, s.2)));
                *n += 1;
            }
            out.sort_unstable();
            out
        };
        // Partition 0 read whole before partition 1 (a replay catching
        // up), the other way round, and interleaved: the same sweeps.
        let mut one_then_other = p0.clone();
        one_then_other.extend(&p1);
        let mut other_then_one = p1.clone();
        other_then_one.extend(&p0);
        let interleaved: Vec<(i32, i64)> = p0.iter().zip(&p1).flat_map(|(a, b)| [*a, *b]).collect();
        let expected = per_partition(&one_then_other);
        assert_eq!(expected.len(), 20);
        assert_eq!(per_partition(&other_then_one), expected);
        assert_eq!(per_partition(&interleaved), expected);
        // A partition with nothing new does not sweep.
        let mut clock = DataClock::default();
        data_sweeps(&mut clock, &[(0, 0), (1, 0)], 60);
        let s = data_sweeps(&mut clock, &[(0, 600), (0, 1200)], 60);
        assert!(s.iter().all(|x| x.1 == 0), "{s:?}");
    }

    fn settings() -> Settings {
        Settings {
            stale_period: 500,
            alert_on_stale_period: 300,
            ..Settings::default()
        }
    }

    #[test]
    fn stale_is_said_once_per_last_point_and_fresh_once_it_sends() {
        let s = settings();
        let mut out = Vec::new();
        let last = 10_000;
        let mut reported = Reported::default();
        let mut kinds = Vec::new();
        // Sweeps every 60 s after its last point at 10 000.
        for now in (last..last + 1_200).step_by(60) {
            let (_, r) = stale_notices("m", last, now, 500, &s, true, reported, &mut out);
            reported = r;
            kinds.extend(out.drain(..).map(|n| (n.kind, n.since, now)));
        }
        assert_eq!(
            kinds,
            vec![
                // [300, 500) of age: about to go stale, once.
                (SystemKind::AboutToGoStale, last, last + 300),
                // Past 500: stale, once.
                (SystemKind::Stale, last, last + 540),
            ]
        );
        assert_eq!(reported.stale, Some(last));
        // It sends again at 11 500: fresh, about the point it was stale with.
        let (v, r) = stale_notices("m", 11_500, 11_520, 500, &s, true, reported, &mut out);
        assert_eq!(v, Staleness::Fresh);
        assert_eq!(r, Reported::default());
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].kind, out[0].since), (SystemKind::Fresh, last));
        out.clear();
        // Sent once and stopped again before any sweep saw it fresh: fresh
        // about the old point, stale about the new one, in one sweep.
        let r = Reported {
            stale: Some(last),
            about_to_go_stale: None,
        };
        let (v, r) = stale_notices("m", 10_600, 12_000, 500, &s, false, r, &mut out);
        assert_eq!(v, Staleness::Stale);
        assert_eq!(r.stale, Some(10_600));
        let said: Vec<_> = out.iter().map(|n| (n.kind, n.since, n.alert)).collect();
        assert_eq!(
            said,
            vec![
                (SystemKind::Fresh, last, false),
                (SystemKind::Stale, 10_600, false)
            ]
        );
    }

    #[test]
    fn a_sweep_plan() {
        let mut s = settings();
        s.full_duration = 3_600;
        let sweep = SweepSettings {
            do_not_alert_on_stale_metrics: vec![MetricPattern::new("quiet").unwrap()],
            ..SweepSettings::default()
        };
        let now = 100_000;
        let every = |from: i64, to: i64, step: i64| {
            (from..=to).step_by(step as usize).collect::<Vec<i64>>()
        };
        let view = |metric: &str, timestamps: Vec<i64>| MetricView {
            metric: metric.to_owned(),
            timestamps,
            reported: Reported::default(),
            previous_sparsity: None,
        };
        let metrics = vec![
            // Sending every 60 s for two hours: fully populated, fresh.
            view("a.full", every(now - 7_200, now, 60)),
            // Stopped 600 s ago: 50 of the hour's 60 points, stale.
            view("b.stopped", every(now - 7_200, now - 600, 60)),
            // The same, but not to be alerted on.
            view("c.quiet", every(now - 7_200, now - 600, 60)),
            // A new metric (20 minutes old) that stopped: no sparsity, stale.
            view("d.new", every(now - 1_200, now - 900, 60)),
            // Stopped 3 000 s ago: 10 of the hour's 60 points, sparsely
            // populated, not judged.
            view("e.sparse", every(now - 7_200, now - 3_000, 60)),
            // Left out of the sparsity figures, still judged fresh.
            view("otel.traces.x", every(now - 7_200, now, 60)),
            view("f.empty", Vec::new()),
        ];
        let p = plan(now, &s, &sweep, &metrics);
        let said: Vec<_> = p
            .notices
            .iter()
            .map(|n| (n.metric.as_str(), n.kind, n.since, n.alert))
            .collect();
        assert_eq!(
            said,
            vec![
                ("b.stopped", SystemKind::Stale, now - 600, true),
                ("c.quiet", SystemKind::Stale, now - 600, false),
                ("d.new", SystemKind::Stale, now - 900, true),
            ]
        );
        assert_eq!(p.stale, ["b.stopped", "c.quiet", "d.new"]);
        let sparsities: Vec<_> = p.sparsities.iter().map(|(m, s)| (m.as_str(), *s)).collect();
        assert_eq!(
            sparsities,
            vec![
                ("a.full", 100.0),
                ("b.stopped", 83.33),
                ("c.quiet", 83.33),
                ("e.sparse", 16.67)
            ]
        );
        assert_eq!(p.summary.fully_populated, 1);
        assert_eq!(
            p.summary.avg_sparsity,
            Some((100.0 + 83.33 + 83.33 + 16.67) / 4.0)
        );
        assert_eq!(p.reported.len(), 3);
        // The next sweep, with what this one remembered: nothing again.
        let again: Vec<MetricView> = metrics
            .iter()
            .map(|m| MetricView {
                reported: p
                    .reported
                    .iter()
                    .find(|(n, _)| *n == m.metric)
                    .map_or(m.reported, |(_, r)| *r),
                ..m.clone()
            })
            .collect();
        let next = plan(now + 60, &s, &sweep, &again);
        assert!(next.notices.is_empty(), "{:?}", next.notices);
        assert_eq!(next.stale.len(), 3);
    }

    #[test]
    fn sparsity_over_the_last_full_duration() {
        let ts: Vec<i64> = (0..=7_200).step_by(60).collect();
        assert_eq!(sparsity_at(&ts, 7_200, 3_600), Some(100.0));
        // Newer than the duration: not known.
        assert_eq!(sparsity_at(&ts, 7_200, 10_000), None);
        // Points after `now` are not counted (a replay's sweep sees only
        // what was consumed before it).
        assert_eq!(sparsity_at(&ts, 3_600, 3_600), Some(100.0));
        assert_eq!(sparsity_at(&[], 0, 3_600), None);
    }
}
