//! `skyline backtest`: a static series replayed through the Analyzer point by
//! point, exactly as a live stream would have shown it. At each point `t` the
//! window is every point with `t - FULL_DURATION < timestamp <= t` and "now"
//! is `t`.

use std::io::Write;

use analyze::alert_rules::{matching_rules, route, AlertThrottle, Route};
use analyze::derivative::{is_monotonic_counter, DerivativeState};
use analyze::exceptions::Exception;
use analyze::pattern::any_matches;
use analyze::{analyze, Algorithm, Analysis, MetricContext, Outcome, Point, Series, Vote};
use indicatif::{ParallelProgressIterator, ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::config::Config;

/// The CSV header, fixed: timestamp, value, the nine votes, the verdict and
/// whether an alert would have fired.
pub const HEADER: &str = "timestamp,value,histogram_bins,first_hour_average,stddev_from_average,grubbs,ks_test,mean_subtraction_cumulation,median_absolute_deviation,stddev_from_moving_average,least_squares,anomalous,alert";

/// Inputs longer than this get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_POINTS: usize = 5_000;

/// One output row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub timestamp: i64,
    pub value: f64,
    pub analysis: Analysis,
    pub alert: bool,
}

/// Counts for the closing summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub points: usize,
    pub judged: usize,
    pub anomalous: usize,
    pub alerts: usize,
    pub too_short: usize,
    pub stale: usize,
    pub boring: usize,
    pub not_analysed: usize,
}

/// Replays `points` (sorted by timestamp, one per timestamp) as metric
/// `metric`. With `all_algorithms` every algorithm runs (no early exit).
pub fn backtest(points: &[Point], metric: &str, config: &Config, all_algorithms: bool) -> Vec<Row> {
    let mut settings = config.analyzer.clone();
    settings.enable_all_algorithms_run_metrics |= all_algorithms;
    let starts = window_starts(points, settings.full_duration);
    let derivative = derivative_flags(points, &starts, metric, &settings);
    let high_priority = !matching_rules(&config.alerts, metric).is_empty();

    let progress = if points.len() >= PROGRESS_MIN_POINTS {
        ProgressBar::new(points.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} analysing {pos}/{len} points [{bar:40}] {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let analyses: Vec<Analysis> = (0..points.len())
        .into_par_iter()
        .progress_with(progress.clone())
        .map_init(Series::default, |scratch, i| {
            let ctx = MetricContext {
                metric,
                now: points[i].0,
                high_priority,
                derivative: derivative[i],
            };
            analyze(&points[starts[i]..=i], ctx, &settings, scratch)
        })
        .collect();
    progress.finish_and_clear();

    // Alerting is sequential: each alert silences the next ones for its
    // expiration time.
    let mut throttle = AlertThrottle::default();
    points
        .iter()
        .zip(analyses)
        .map(|(&(timestamp, value), analysis)| {
            let alert = analysis.is_anomalous()
                && match route(&config.alerts, metric, false) {
                    Route::Alert(rules) => rules.iter().fold(false, |fired, rule| {
                        throttle.fire(rule, metric, timestamp) | fired
                    }),
                    Route::Seasonal { .. } | Route::Fingerprint | Route::Record => false,
                };
            Row {
                timestamp,
                value,
                analysis,
                alert,
            }
        })
        .collect()
}

/// For each point `i`, the index of the first point of its window: the first
/// `j` with `timestamp_j > timestamp_i - full_duration`.
fn window_starts(points: &[Point], full_duration: i64) -> Vec<usize> {
    let mut start = 0;
    points
        .iter()
        .map(|&(t, _)| {
            while points[start].0 <= t - full_duration {
                start += 1;
            }
            start
        })
        .collect()
}

/// Whether each analysis sees the metric as a monotonic counter: forced by
/// the namespace settings, or confirmed by the reference's state machine
/// over the windows seen so far.
fn derivative_flags(
    points: &[Point],
    starts: &[usize],
    metric: &str,
    settings: &analyze::Settings,
) -> Vec<bool> {
    if any_matches(&settings.non_derivative_monotonic_metrics, metric) {
        return vec![false; points.len()];
    }
    if any_matches(&settings.monotonic_metric_namespaces, metric) {
        return vec![true; points.len()];
    }
    let monotonic: Vec<bool> = (0..points.len())
        .into_par_iter()
        .map_init(Vec::new, |values: &mut Vec<f64>, i| {
            values.clear();
            values.extend(points[starts[i]..=i].iter().map(|p| p.1));
            is_monotonic_counter(values)
        })
        .collect();
    let mut state = DerivativeState::default();
    points
        .iter()
        .zip(monotonic)
        .map(|(&(t, _), m)| state.observe(t, t, m, settings.full_duration))
        .collect()
}

/// Writes the rows as CSV under [`HEADER`].
pub fn write_csv(rows: &[Row], out: &mut impl Write) -> std::io::Result<()> {
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
            u8::from(row.alert)
        )?;
    }
    out.flush()
}

/// Counts outcomes for the summary line.
pub fn summarise(rows: &[Row]) -> Summary {
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
        s.alerts += usize::from(row.alert);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_exclude_the_point_full_duration_ago() {
        let pts: Vec<Point> = [0, 50, 100, 150, 200].iter().map(|&t| (t, 0.0)).collect();
        // full_duration 100: window of t=100 is (0, 100] → starts at 50
        assert_eq!(window_starts(&pts, 100), vec![0, 0, 1, 2, 3]);
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
        let rows = backtest(&pts, "test.metric", &Config::default(), false);
        let anomalous: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].analysis.is_anomalous())
            .collect();
        let alerts: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].alert).collect();
        assert!(!anomalous.is_empty());
        assert_eq!(alerts, vec![anomalous[0]], "one alert within an hour");
        let mut csv = Vec::new();
        write_csv(&rows, &mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text.lines().next(), Some(HEADER));
        assert_eq!(text.lines().count(), pts.len() + 1);
    }
}
