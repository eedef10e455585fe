//! One metric's analysis, end to end: skip list, derivative, pre-checks,
//! priority, MAD pre-filter, the ensemble. Pure: the caller owns the state
//! (derivative classification, alert throttling) and passes its verdicts in.

use crate::consensus::{run_ensemble, Ensemble};
use crate::derivative::non_negative_derivative;
use crate::exceptions::{self, Exception};
use crate::pattern::any_matches;
use crate::priority::mad_prefilter_skips;
use crate::series::{Point, Series};
use crate::settings::Settings;

/// What the analysis of one metric at one time concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The ensemble ran (possibly with an early exit).
    Judged(Ensemble),
    /// A pre-check kept the series from being analysed.
    Exception(Exception),
    /// A low-priority metric whose last change was below its mean absolute
    /// deviation (algorithms_run = ['mad']): not anomalous.
    MadSkipped,
    /// The metric is in the skip list, or is low priority while low-priority
    /// metrics are not analysed.
    NotAnalysed,
}

/// The result of [`analyze`].
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// What was concluded.
    pub outcome: Outcome,
    /// The newest point of the analysed series (the derivative's when the
    /// metric is a counter): the anomaly's timestamp and value.
    pub last: Option<Point>,
    /// Not stale yet, but within the stale-alert window.
    pub about_to_go_stale: bool,
}

impl Outcome {
    /// What the outcome is called where analyses are counted: `anomalous`,
    /// `not_anomalous`, the exception's reference name (`TooShort`,
    /// `Stale`, `Boring`, `EmptyTimeseries`), `mad_skipped`,
    /// `not_analysed`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Judged(e) if e.anomalous => "anomalous",
            Outcome::Judged(_) => "not_anomalous",
            Outcome::Exception(x) => x.name(),
            Outcome::MadSkipped => "mad_skipped",
            Outcome::NotAnalysed => "not_analysed",
        }
    }
}

impl Analysis {
    /// Whether the ensemble ran and CONSENSUS found the point anomalous.
    pub fn is_anomalous(&self) -> bool {
        matches!(&self.outcome, Outcome::Judged(e) if e.anomalous)
    }

    /// The ensemble's votes, when it ran.
    pub fn ensemble(&self) -> Option<&Ensemble> {
        match &self.outcome {
            Outcome::Judged(e) => Some(e),
            _ => None,
        }
    }
}

/// The facts about a metric that come from outside the window.
#[derive(Debug, Clone, Copy)]
pub struct MetricContext<'a> {
    /// The metric's name.
    pub metric: &'a str,
    /// The analysis time ("now"; the wall clock in a live run, the newest
    /// timestamp in a backtest).
    pub now: i64,
    /// Matches at least one alert rule.
    pub high_priority: bool,
    /// Classified as a monotonic counter (see
    /// [`DerivativeState`](crate::derivative::DerivativeState)).
    pub derivative: bool,
}

/// Analyses `points` (sorted by timestamp, one point per timestamp).
/// `scratch` is reused between calls to avoid reallocating the columns.
pub fn analyze(
    points: &[Point],
    ctx: MetricContext<'_>,
    settings: &Settings,
    scratch: &mut Series,
) -> Analysis {
    let mut analysis = Analysis {
        outcome: Outcome::NotAnalysed,
        last: points.last().copied(),
        about_to_go_stale: false,
    };
    if any_matches(&settings.skip, ctx.metric)
        || (!ctx.high_priority && !settings.analyze_low_priority_metrics)
    {
        return analysis;
    }
    if ctx.derivative && points.len() > 3 {
        scratch.extend_from_points(&non_negative_derivative(points));
    } else {
        scratch.extend_from_points(points);
    }
    analysis.last = scratch.last();
    let stale_period = settings.stale_period_for(ctx.metric);
    if let Some(exception) = exceptions::check(
        scratch,
        ctx.now,
        settings.min_tolerable_length,
        stale_period,
        settings.max_tolerable_boredom,
        settings.boredom_set_size,
    ) {
        analysis.outcome = Outcome::Exception(exception);
        return analysis;
    }
    if settings.alert_on_stale_metrics {
        if let Some((t_last, _)) = scratch.last() {
            analysis.about_to_go_stale = exceptions::about_to_go_stale(
                ctx.now.saturating_sub(t_last),
                stale_period,
                settings.stale_period,
                settings.alert_on_stale_period,
            );
        }
    }
    if !ctx.high_priority && mad_prefilter_skips(&scratch.values, settings.mad_low_priority_metrics)
    {
        analysis.outcome = Outcome::MadSkipped;
        return analysis;
    }
    analysis.outcome = Outcome::Judged(run_ensemble(
        scratch,
        &settings.algorithms,
        settings.consensus,
        settings.early_exit(),
        ctx.now,
        settings.full_duration,
    ));
    analysis
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::MetricPattern;

    fn ctx(now: i64) -> MetricContext<'static> {
        MetricContext {
            metric: "stats.cpu",
            now,
            high_priority: true,
            derivative: false,
        }
    }

    fn noisy_day_with_spike() -> Vec<Point> {
        let mut pts: Vec<Point> = (0..1440)
            .map(|i| {
                (
                    1_400_000_000 + i * 60,
                    10.0 + ((i * 7919) % 13) as f64 / 13.0,
                )
            })
            .collect();
        let n = pts.len();
        for p in &mut pts[n - 3..] {
            p.1 = 100.0;
        }
        pts
    }

    #[test]
    fn spike_is_anomalous_and_skip_list_wins() {
        let pts = noisy_day_with_spike();
        let now = pts.last().unwrap().0;
        let mut scratch = Series::default();
        let settings = Settings::default();
        let a = analyze(&pts, ctx(now), &settings, &mut scratch);
        assert!(a.is_anomalous(), "{a:?}");
        let skipping = Settings {
            skip: vec![MetricPattern::new("stats").unwrap()],
            ..Settings::default()
        };
        assert_eq!(
            analyze(&pts, ctx(now), &skipping, &mut scratch).outcome,
            Outcome::NotAnalysed
        );
    }

    #[test]
    fn stale_and_low_priority() {
        let pts = noisy_day_with_spike();
        let now = pts.last().unwrap().0;
        let mut scratch = Series::default();
        let settings = Settings::default();
        let stale = analyze(&pts, ctx(now + 501), &settings, &mut scratch);
        assert_eq!(stale.outcome, Outcome::Exception(Exception::Stale));
        let soon = analyze(&pts, ctx(now + 300), &settings, &mut scratch);
        assert!(soon.about_to_go_stale);
        let low = MetricContext {
            high_priority: false,
            ..ctx(now)
        };
        let no_low = Settings {
            analyze_low_priority_metrics: false,
            ..Settings::default()
        };
        assert_eq!(
            analyze(&pts, low, &no_low, &mut scratch).outcome,
            Outcome::NotAnalysed
        );
    }

    #[test]
    fn counter_is_analysed_as_its_derivative() {
        // A counter climbing 5 per minute: its derivative is flat 5 → Boring.
        let pts: Vec<Point> = (0..300)
            .map(|i| (1_400_000_000 + i * 60, 5.0 * i as f64))
            .collect();
        let now = pts.last().unwrap().0;
        let mut scratch = Series::default();
        let c = MetricContext {
            derivative: true,
            ..ctx(now)
        };
        let a = analyze(&pts, c, &Settings::default(), &mut scratch);
        assert_eq!(a.outcome, Outcome::Exception(Exception::Boring));
        assert_eq!(a.last, Some((now, 5.0)));
    }
}
