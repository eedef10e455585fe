//! Backtesting (`skyline backtest`): a static series replayed through the
//! Analyzer point by point, exactly as a live stream would have shown it. At each point `t` the
//! window is every point with `t - FULL_DURATION < timestamp <= t` and "now"
//! is `t`.

use std::io::Write;

use crate::alert_rules::AlertRule;
use crate::boundary::{rules_for, AlerterLimit, BoundaryAlgorithm, BoundaryRule};
use crate::boundary_stream::{judge_points, AlerterSends, BoundaryState};
use crate::exceptions::Exception;
use crate::stream::{judge_batch, Judgement, MetricState};
use crate::{Algorithm, Outcome, Point, Settings, Vote};

/// The CSV header, fixed: timestamp, value, the nine votes, the verdict and
/// whether an alert would have fired.
pub const HEADER: &str = "timestamp,value,histogram_bins,first_hour_average,stddev_from_average,grubbs,ks_test,mean_subtraction_cumulation,median_absolute_deviation,stddev_from_moving_average,least_squares,anomalous,alert";

/// Points judged per step: the window is trimmed and progress reported
/// after each.
pub const CHUNK: usize = 2_000;

/// Counts for the closing summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    /// Points replayed.
    pub points: usize,
    /// Points the ensemble judged.
    pub judged: usize,
    /// Judged anomalous.
    pub anomalous: usize,
    /// Points at which an alert would have fired.
    pub alerts: usize,
    /// Not judged: the window was too short (or empty).
    pub too_short: usize,
    /// Not judged: the window was stale.
    pub stale: usize,
    /// Not judged: the window was boring (too few distinct values).
    pub boring: usize,
    /// Not judged for another reason (MAD skip, not analysed).
    pub not_analysed: usize,
}

/// Replays `points` (sorted by timestamp, one per timestamp) as metric
/// `metric` through the same code the live consumer runs
/// ([`judge_batch`]), [`CHUNK`] points at a time, every point judged, with
/// `alerts` routing them. With `all_algorithms` every algorithm runs (no
/// early exit). `progress` is told how many points each chunk judged.
pub fn backtest(
    points: &[Point],
    metric: &str,
    settings: &Settings,
    alerts: &[AlertRule],
    all_algorithms: bool,
    mut progress: impl FnMut(usize),
) -> Vec<Judgement> {
    let mut settings = settings.clone();
    settings.enable_all_algorithms_run_metrics |= all_algorithms;
    let mut window: Vec<Point> = Vec::new();
    let mut state = MetricState::default();
    let mut judged = Vec::with_capacity(points.len());
    for chunk in points.chunks(CHUNK) {
        judged.extend(judge_batch(
            metric,
            &mut window,
            chunk,
            &mut state,
            &settings,
            alerts,
            0,
            false,
        ));
        // Keep what the next chunk's windows can need.
        let keep_from =
            window.partition_point(|p| p.0 <= chunk[0].0.saturating_sub(settings.full_duration));
        window.drain(..keep_from);
        progress(chunk.len());
    }
    judged
}

/// The Boundary CSV header (`skyline backtest --boundary-out`): one row
/// per rule that fired and alerted.
pub const BOUNDARY_HEADER: &str = "timestamp,value,algorithm,times_seen,alerters";

/// A Boundary rule that fired and alerted at a backtested point.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryRow {
    /// The point's timestamp.
    pub timestamp: i64,
    /// The value judged (of the derivative for counters).
    pub value: f64,
    /// The rule's algorithm.
    pub algorithm: BoundaryAlgorithm,
    /// Anomalous points in a row, this one included.
    pub times_seen: u32,
    /// The alerters alerted.
    pub alerters: Vec<String>,
}

/// Replays the points [`backtest`] judged (`judged`, over the same sorted
/// `points`) through `metric`'s Boundary rules as the live consumer does:
/// each on its window `(t - full_duration, t]`, in order, the expiry and
/// rate-limit state carried from point to point.
pub fn backtest_boundary(
    points: &[Point],
    metric: &str,
    settings: &Settings,
    rules: &[BoundaryRule],
    judged: &[Judgement],
) -> Vec<BoundaryRow> {
    let rules = rules_for(rules, metric);
    let stale_period = settings.stale_period_for(metric);
    let mut state = BoundaryState::default();
    let mut sends = AlerterSends::default();
    let mut out = Vec::new();
    if rules.is_empty() {
        return out;
    }
    for j in judged {
        let start =
            points.partition_point(|p| p.0 <= j.timestamp.saturating_sub(settings.full_duration));
        let end = points.partition_point(|p| p.0 <= j.timestamp);
        let Some(window) = points.get(start..end) else {
            continue;
        };
        let verdict = judge_points(
            window,
            &rules,
            j.derivative,
            stale_period,
            &mut state,
            &mut sends,
            AlerterLimit::reference,
        );
        for (v, f) in verdict
            .iter()
            .flat_map(|v| v.firings.iter().map(move |f| (v, f)))
        {
            out.push(BoundaryRow {
                timestamp: v.timestamp,
                value: v.value,
                algorithm: f.rule.algorithm,
                times_seen: f.times_seen,
                alerters: f.alerters.clone(),
            });
        }
    }
    out
}

/// Writes Boundary rows as CSV under [`BOUNDARY_HEADER`] (alerters
/// separated by `|`).
pub fn write_boundary_csv(rows: &[BoundaryRow], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{BOUNDARY_HEADER}")?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{}",
            r.timestamp,
            r.value,
            r.algorithm.name(),
            r.times_seen,
            r.alerters.join("|")
        )?;
    }
    out.flush()
}

/// Writes the rows as CSV under [`HEADER`].
pub fn write_csv(rows: &[Judgement], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for row in rows {
        write!(out, "{},{}", row.timestamp, row.value)?;
        let ensemble = row.analysis.ensemble();
        for alg in Algorithm::ALL {
            let cell = match ensemble.map(|e| e.vote(alg)) {
                Some(Vote::Anomalous) => "1",
                Some(Vote::NotAnomalous) => "0",
                _ => "",
            };
            write!(out, ",{cell}")?;
        }
        writeln!(
            out,
            ",{},{}",
            u8::from(row.analysis.is_anomalous()),
            u8::from(!row.alerts.is_empty())
        )?;
    }
    out.flush()
}

/// Counts outcomes for the summary line.
pub fn summarise(rows: &[Judgement]) -> Summary {
    let mut s = Summary {
        points: rows.len(),
        ..Summary::default()
    };
    for row in rows {
        match &row.analysis.outcome {
            Outcome::Judged(e) => {
                s.judged += 1;
                s.anomalous += usize::from(e.anomalous);
            }
            Outcome::Exception(Exception::TooShort | Exception::EmptyTimeseries) => {
                s.too_short += 1
            }
            Outcome::Exception(Exception::Stale) => s.stale += 1,
            Outcome::Exception(Exception::Boring) => s.boring += 1,
            Outcome::MadSkipped | Outcome::NotAnalysed => s.not_analysed += 1,
        }
        s.alerts += usize::from(!row.alerts.is_empty());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_backtest_finds_the_cliff_the_consumer_would() {
        // A day of 1-minute values see-sawing around 100 (not a counter),
        // then a drop to 0 held 15 minutes.
        let mut pts: Vec<Point> = (0..1440)
            .map(|i| (1_400_000_000 + i * 60, 100.0 + (i % 2) as f64 * 5.0))
            .collect();
        for p in &mut pts[1425..] {
            p.1 = 0.0;
        }
        let settings = Settings::default();
        let rule = BoundaryRule {
            pattern: crate::pattern::MetricPattern::new("test").unwrap(),
            algorithm: BoundaryAlgorithm::DetectDropOffCliff,
            expiration_time: 300,
            min_average: 0.0,
            min_average_seconds: 0,
            trigger_value: 0.0,
            alert_threshold: 1,
            alerters: "smtp|webhook".to_owned(),
            excludes: Vec::new(),
        };
        let judged = backtest(&pts, "test.metric", &settings, &[], false, |_| {});
        let rows = backtest_boundary(
            &pts,
            "test.metric",
            &settings,
            std::slice::from_ref(&rule),
            &judged,
        );
        // The drop at 1425, and again 300 s later (the expiration) while
        // the last ten points still hold it: four high, six zeros.
        let at: Vec<i64> = rows.iter().map(|r| (r.timestamp - pts[0].0) / 60).collect();
        assert_eq!(at, [1425, 1430]);
        assert_eq!(rows[0].alerters, ["smtp", "webhook"]);
        assert_eq!(rows[0].value, 0.0);
        assert!(backtest_boundary(&pts, "other", &settings, &[rule], &judged).is_empty());
        let mut csv = Vec::new();
        write_boundary_csv(&rows, &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(csv.lines().next(), Some(BOUNDARY_HEADER));
        assert_eq!(
            csv.lines().nth(1),
            Some(format!("{},0,detect_drop_off_cliff,1,smtp|webhook", pts[1425].0).as_str())
        );
    }

    #[test]
    fn a_spike_alerts_once_per_expiration_time() {
        // 1-minute noise for a day, then a tall spike held for 10 minutes.
        let mut pts: Vec<Point> = (0..1440)
            .map(|i| {
                (
                    1_400_000_000 + i * 60,
                    10.0 + ((i * 7919) % 13) as f64 / 13.0,
                )
            })
            .collect();
        for p in &mut pts[1430..] {
            p.1 = 500.0;
        }
        let settings = Settings::default();
        let rules = [AlertRule::catch_all()];
        let rows = backtest(&pts, "test.metric", &settings, &rules, false, |_| {});
        assert_eq!(rows.len(), pts.len());
        let anomalous: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].analysis.is_anomalous())
            .collect();
        let alerts: Vec<usize> = (0..rows.len())
            .filter(|&i| !rows[i].alerts.is_empty())
            .collect();
        assert!(!anomalous.is_empty());
        assert_eq!(alerts, vec![anomalous[0]], "one alert within an hour");
        let mut csv = Vec::new();
        write_csv(&rows, &mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text.lines().next(), Some(HEADER));
        assert_eq!(text.lines().count(), pts.len() + 1);
    }

    #[test]
    fn chunking_does_not_change_the_verdicts() {
        // Windows spanning chunk boundaries must see the points before them.
        let pts: Vec<Point> = (0..5000)
            .map(|i| {
                (
                    1_400_000_000 + i * 60,
                    ((i * 7919) % 101) as f64 + if i % 997 == 0 { 300.0 } else { 0.0 },
                )
            })
            .collect();
        let (settings, rules) = (Settings::default(), [AlertRule::catch_all()]);
        let chunked = backtest(&pts, "m", &settings, &rules, false, |_| {});
        let mut window = Vec::new();
        let whole = judge_batch(
            "m",
            &mut window,
            &pts,
            &mut MetricState::default(),
            &settings,
            &rules,
            0,
            false,
        );
        let verdicts =
            |rows: &[Judgement]| rows.iter().map(|r| r.analysis.clone()).collect::<Vec<_>>();
        assert_eq!(verdicts(&chunked), verdicts(&whole));
    }
}
