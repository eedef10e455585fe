//! Backtesting (`skyline backtest`): a static series replayed through the
//! Analyzer point by point, exactly as a live stream would have shown it. At each point `t` the
//! window is every point with `t - FULL_DURATION < timestamp <= t` and "now"
//! is `t`.

use std::io::Write;

use crate::alert_rules::AlertRule;
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
