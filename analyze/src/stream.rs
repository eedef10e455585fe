//! Judging a metric's points as they arrive: the one code path shared by
//! the live consumer and `skyline backtest`, so both give the same verdicts.
//!
//! A batch of new points is judged against the metric's window as it stood
//! before them, each point `t` on the points with `t - FULL_DURATION < ts <=
//! t` and with "now" = `t`. The little state that carries from one point to
//! the next — when the metric was last analysed, its derivative
//! classification, when it last alerted — is a [`MetricState`] the caller
//! keeps (in Redis, for the consumer) and passes in.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use topics::ids::{anomaly_id, check_id};
use topics::SourceApp;

use crate::alert_rules::{matching_rules, route, AlertRule, AlertThrottle, Route};
use crate::analysis::{analyze, Analysis, MetricContext, Outcome};
use crate::anomaly_end::{deviation, CurrentAnomalies, EndedAnomaly, OpenAnomaly, Step};
use crate::boundary_stream::BoundaryState;
use crate::derivative::{is_monotonic_counter, non_negative_derivative, DerivativeState};
use crate::pattern::any_matches;
use crate::series::{sort_dedup, Point, Series};
use crate::settings::Settings;
use crate::Algorithm;

/// What carries over between a metric's analyses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricState {
    /// Timestamp of the newest point analysed.
    pub last_analyzed: Option<i64>,
    /// Whether the metric is a monotonic counter, and since when.
    pub derivative: DerivativeState,
    /// When the metric last alerted on each alerter.
    pub alerts: AlertThrottle,
    /// Boundary's successive triggers and expiry keys (absent from states
    /// saved before Boundary ran in the stream).
    #[serde(default)]
    pub boundary: BoundaryState,
    /// The Analyzer's anomalies of the metric not over yet: de-duplication
    /// and ends ([`crate::anomaly_end`]; absent from older states).
    #[serde(default)]
    pub anomalies: CurrentAnomalies,
    /// Boundary's, de-duplicated the same way (Boundary is its own source).
    #[serde(default)]
    pub boundary_anomalies: CurrentAnomalies,
}

/// The verdict on one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The point's timestamp (unix seconds).
    pub timestamp: i64,
    /// The point's raw value.
    pub value: f64,
    /// The analysis of the window ending at this point.
    pub analysis: Analysis,
    /// Where an anomalous metric goes (`Route::Record` when not anomalous).
    pub route: Route,
    /// The alert rules that fired (empty unless anomalous and routed to
    /// alerting, and outside each rule's expiration time).
    pub alerts: Vec<AlertRule>,
    /// The window judged, `window[window.0..=window.1]` of the merged
    /// window (raw points; the derivative is taken inside the analysis).
    pub window: (usize, usize),
    /// Analysed as its derivative (a monotonic counter).
    pub derivative: bool,
    /// When anomalous: whether the point opened an anomaly or extended the
    /// open one (PANORAMA_EXPIRY_TIME), and that anomaly as it now stands.
    pub anomaly: Option<(Step, OpenAnomaly)>,
    /// The anomalies whose end became final at this point.
    pub ended: Vec<EndedAnomaly>,
}

/// Judges `new_points` of `metric`.
///
/// * `window`: the metric's points before this batch; the new points are
///   merged in (sorted, one per timestamp) and it is returned updated so the
///   caller can carry events with the series judged;
/// * `interval`: a point is analysed only if at least this many seconds
///   after the last analysed one (0: every point);
/// * `fingerprint_enabled`: the metric has enabled features profiles.
///
/// Points older than the last analysed one are folded into the window but
/// not judged (a live Analyzer never judges the past).
#[allow(clippy::too_many_arguments)]
pub fn judge_batch(
    metric: &str,
    window: &mut Vec<Point>,
    new_points: &[Point],
    state: &mut MetricState,
    settings: &Settings,
    alerts: &[AlertRule],
    interval: i64,
    fingerprint_enabled: bool,
) -> Vec<Judgement> {
    window.extend_from_slice(new_points);
    sort_dedup(window);
    let mut due: Vec<usize> = Vec::new();
    let mut last = state.last_analyzed;
    let mut judged_ts: Vec<i64> = new_points.iter().map(|p| p.0).collect();
    judged_ts.sort_unstable();
    judged_ts.dedup();
    for t in judged_ts {
        if last.is_none_or(|l| t >= l.saturating_add(interval.max(1))) {
            // index of t in the merged window
            if let Ok(i) = window.binary_search_by_key(&t, |p| p.0) {
                due.push(i);
                last = Some(t);
            }
        }
    }
    if due.is_empty() {
        return Vec::new();
    }
    let fd = settings.full_duration;
    let starts: Vec<usize> = due
        .iter()
        // Saturating: a timestamp near i64::MIN must not wrap to the future.
        .map(|&i| window.partition_point(|p| p.0 <= window[i].0.saturating_sub(fd)))
        .collect();

    // Derivative classification: the monotonic test per window in parallel,
    // then the state machine in order.
    let derivative: Vec<bool> = if any_matches(&settings.non_derivative_monotonic_metrics, metric) {
        vec![false; due.len()]
    } else if any_matches(&settings.monotonic_metric_namespaces, metric) {
        vec![true; due.len()]
    } else {
        let w = &window[..];
        let monotonic: Vec<bool> = due
            .par_iter()
            .zip(&starts)
            .map_init(Vec::new, |values: &mut Vec<f64>, (&i, &s)| {
                values.clear();
                values.extend(w[s..=i].iter().map(|p| p.1));
                is_monotonic_counter(values)
            })
            .collect();
        due.iter()
            .zip(monotonic)
            .map(|(&i, m)| state.derivative.observe(w[i].0, w[i].0, m, fd))
            .collect()
    };

    let high_priority = !matching_rules(alerts, metric).is_empty();
    let w = &window[..];
    let analyses: Vec<Analysis> = (0..due.len())
        .into_par_iter()
        .map_init(Series::default, |scratch, k| {
            let (i, s) = (due[k], starts[k]);
            let ctx = MetricContext {
                metric,
                now: w[i].0,
                high_priority,
                derivative: derivative[k],
            };
            analyze(&w[s..=i], ctx, settings, scratch)
        })
        .collect();

    // Alerting in order: each alert silences the next for its expiration.
    state.last_analyzed = last;
    due.iter()
        .zip(starts)
        .zip(analyses)
        .zip(derivative)
        .map(|(((&i, window_start), analysis), derivative)| {
            let (timestamp, value) = w[i];
            let route = if analysis.is_anomalous() {
                route(alerts, metric, fingerprint_enabled)
            } else {
                Route::Record
            };
            let expiry = settings.panorama_expiry_time;
            let (point_timestamp, point_value) = analysis.last.unwrap_or((timestamp, value));
            // A repeat within the open anomaly's window gets no check of its
            // own: the open anomaly's fingerprint or seasonal check speaks
            // for the whole event, alerts included, so a repeat routed there
            // neither alerts nor spends the rules' expiry. A repeat routed
            // to alerting still alerts when a rule's expiry allows.
            let repeat = analysis.is_anomalous()
                && state
                    .anomalies
                    .extendable(point_timestamp, expiry)
                    .is_some();
            // Fingerprint-routed anomalies carry the alerts that fire
            // unless they are deflected. Seasonal-routed ones carry every
            // matching rule, unthrottled: the seasonal service keeps the
            // expiry (as the reference's `mirage.last_alert` keys), so an
            // anomaly it clears silences nothing.
            let fired = match &route {
                Route::Fingerprint | Route::Seasonal { .. } if repeat => Vec::new(),
                Route::Alert(rules) => rules
                    .iter()
                    .filter(|rule| state.alerts.fire(rule, timestamp))
                    .cloned()
                    .collect(),
                Route::Fingerprint => matching_rules(alerts, metric)
                    .into_iter()
                    .filter(|rule| state.alerts.fire(rule, timestamp))
                    .cloned()
                    .collect(),
                Route::Seasonal { .. } => matching_rules(alerts, metric)
                    .into_iter()
                    .cloned()
                    .collect(),
                Route::Record => Vec::new(),
            };
            let judged = &w[window_start..=i];
            let anomaly = match &analysis.outcome {
                Outcome::Judged(ensemble) if ensemble.anomalous => {
                    let deviation_here = point_deviation(judged, point_value, derivative);
                    let fresh = || {
                        let id = anomaly_id(metric, point_timestamp, SourceApp::Analyzer);
                        OpenAnomaly {
                            id,
                            timestamp: point_timestamp,
                            value: point_value,
                            triggered: ensemble
                                .triggered()
                                .map(Algorithm::name)
                                .map(str::to_owned)
                                .collect(),
                            // The reference records the window from its
                            // second point.
                            from_timestamp: judged
                                .get(1)
                                .or(judged.first())
                                .map_or(point_timestamp, |p| p.0),
                            check_id: route.check_target().map(|t| check_id(id, t)),
                            derivative,
                            count: 1,
                            last_timestamp: point_timestamp,
                            max_deviation: 0.0,
                            end: None,
                        }
                    };
                    Some(
                        state
                            .anomalies
                            .anomalous(point_timestamp, deviation_here, expiry, fresh),
                    )
                }
                Outcome::Judged(_) => {
                    state.anomalies.not_anomalous(point_timestamp);
                    None
                }
                // An exception or a skipped analysis judged nothing: the
                // reference's not-anomalous list holds only metrics the
                // algorithms ran on.
                _ => None,
            };
            let ended = state
                .anomalies
                .settle(point_timestamp, expiry, settings.full_duration);
            Judgement {
                timestamp,
                value,
                analysis,
                route,
                alerts: fired,
                window: (window_start, i),
                derivative,
                anomaly,
                ended,
            }
        })
        .collect()
}

/// The deviation ([`deviation`]) of a point of value `x` from the window
/// `judged` it was judged on: over the window's values, or over its
/// non-negative derivative when the metric was judged as a counter (`x` is
/// then the derivative's value, as the anomaly records it).
pub fn point_deviation(judged: &[Point], x: f64, derivative: bool) -> f64 {
    if derivative {
        let values: Vec<f64> = non_negative_derivative(judged)
            .iter()
            .map(|p| p.1)
            .collect();
        deviation(&values, x)
    } else {
        let values: Vec<f64> = judged.iter().map(|p| p.1).collect();
        deviation(&values, x)
    }
}
