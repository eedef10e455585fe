//! Judging the long series (`seasonal.md` §8): MIRAGE_ALGORITHMS voted by
//! MIRAGE_CONSENSUS, with the analyze crate's algorithms in their Mirage
//! versions ([`analyze::Variant::Mirage`]) and its Mirage consensus
//! ([`run_mirage_ensemble`]).
//!
//! The algorithms, over values `v`, `tail_avg = mean(v[n-3..])`, σ the sample
//! std unless said otherwise:
//!
//! * `first_hour_average`: `|tail_avg - mean(H)| > 3σ(H)`, `H` the values with
//!   `lo < t < lo + 3600`, `lo = t_last - 86400` (or `t_last - 6·res` on daily
//!   data, `80000 < t_last - t_{n-2} < 90000`);
//! * `mean_subtraction_cumulation`: `|v_last - mean(v[..n-1])| > 3σ(v[..n-1])`
//!   (sample σ, unlike Analyzer's population σ);
//! * `stddev_from_average`: `|tail_avg - mean(v)| > 3σ(v)`;
//! * `stddev_from_moving_average`: `|v_last - EWMA| > 3·EWMSTD` (com 50);
//! * `least_squares`: the mean of the last three residuals of a line fit
//!   beyond 3σ(residuals), neither rounding to 0;
//! * `grubbs`: `(tail_avg - mean)/σ > G(n)` (one-sided);
//! * `histogram_bins`: `tail_avg` in a bin of ≤ 20 points of
//!   `numpy.histogram(v, 15)`;
//! * `median_absolute_deviation`: `|v_last - median| / MAD > 6`;
//! * `ks_test`: KS (`p < 0.05`, `D > 0.5`) then ADF (`p < 0.05`) between
//!   `[now-3600, now-600)` and `[now-600, ∞)` (daily data: `[t_last-90d,
//!   t_last-30d)` and `[t_last-30d, ∞)`), so with 7 days at minutes it never
//!   fires.
//!
//! Consensus: all run; anomalous iff `#False <= len(algorithms) - consensus`
//! (an algorithm that errs is not False).

use std::collections::HashSet;

use analyze::consensus::run_mirage_ensemble;
use analyze::{Algorithm, Series, Vote};

use crate::Point;

/// The seasonal check's judging settings (`seasonal.md` §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirageSettings {
    /// `MIRAGE_ALGORITHMS`: which algorithms vote, in this order.
    pub algorithms: Vec<Algorithm>,
    /// `MIRAGE_CONSENSUS`: how many must not vote False (6).
    pub consensus: usize,
    /// `MIN_TOLERABLE_LENGTH`: a shorter (de-duplicated) series is not
    /// anomalous without voting (100).
    pub min_tolerable_length: usize,
}

/// MIRAGE_ALGORITHMS' default order.
pub const MIRAGE_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::FirstHourAverage,
    Algorithm::MeanSubtractionCumulation,
    Algorithm::StddevFromAverage,
    Algorithm::StddevFromMovingAverage,
    Algorithm::LeastSquares,
    Algorithm::Grubbs,
    Algorithm::HistogramBins,
    Algorithm::MedianAbsoluteDeviation,
    Algorithm::KsTest,
];

impl Default for MirageSettings {
    fn default() -> Self {
        MirageSettings {
            algorithms: MIRAGE_ALGORITHMS.to_vec(),
            consensus: 6,
            min_tolerable_length: 100,
        }
    }
}

/// What the seasonal check concluded about a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirageVerdict {
    /// MIRAGE_CONSENSUS reached.
    pub anomalous: bool,
    /// Each configured algorithm's vote, in settings order; empty when the
    /// series was too short to judge.
    pub votes: Vec<(Algorithm, Vote)>,
    /// The algorithms that voted anomalous (`triggered_algorithms`), in
    /// settings order.
    pub triggered: Vec<Algorithm>,
}

impl MirageVerdict {
    /// The verdict on a series too short to judge: not anomalous, no votes.
    pub fn not_judged() -> MirageVerdict {
        MirageVerdict {
            anomalous: false,
            votes: Vec::new(),
            triggered: Vec::new(),
        }
    }

    /// Whether the algorithms ran (the series was long enough).
    pub fn judged(&self) -> bool {
        !self.votes.is_empty()
    }
}

/// `series` without repeated timestamps: the first point of each timestamp
/// is kept, order unchanged. Borrowed when there is nothing to remove.
pub fn deduplicate(series: &[Point]) -> std::borrow::Cow<'_, [Point]> {
    let mut seen = HashSet::with_capacity(series.len());
    if series.iter().all(|(t, _)| seen.insert(*t)) {
        return std::borrow::Cow::Borrowed(series);
    }
    seen.clear();
    std::borrow::Cow::Owned(
        series
            .iter()
            .copied()
            .filter(|(t, _)| seen.insert(*t))
            .collect(),
    )
}

/// Judges `series` (sorted by timestamp) as Mirage's `run_selected_algorithm`:
/// de-duplicate timestamps; shorter than `min_tolerable_length` → not
/// anomalous, no votes; else every algorithm votes ([`analyze::Variant::Mirage`]) and
/// the series is anomalous iff `#False <= len(algorithms) - consensus`.
/// `now` places ks_test's windows (the wall clock in the reference).
pub fn judge(series: &[Point], now: i64, settings: &MirageSettings) -> MirageVerdict {
    let series = deduplicate(series);
    if series.len() < settings.min_tolerable_length {
        return MirageVerdict::not_judged();
    }
    let mut columns = Series::default();
    columns.extend_from_points(&series);
    let ensemble = run_mirage_ensemble(&columns, &settings.algorithms, settings.consensus, now);
    let votes: Vec<(Algorithm, Vote)> = settings
        .algorithms
        .iter()
        .map(|&a| (a, ensemble.vote(a)))
        .collect();
    let triggered = votes
        .iter()
        .filter(|(_, v)| *v == Vote::Anomalous)
        .map(|(a, _)| *a)
        .collect();
    MirageVerdict {
        anomalous: ensemble.anomalous,
        votes,
        triggered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyze::Variant;

    const T0: i64 = 1_400_000_000;

    /// A week at 600 s of gentle noise around 10.
    fn week() -> Vec<Point> {
        (0..1008)
            .map(|i| (T0 + i * 600, 10.0 + ((i * 7919) % 13) as f64 / 13.0))
            .collect()
    }

    #[test]
    fn quiet_week_is_not_anomalous_and_all_nine_vote() {
        let s = week();
        let v = judge(&s, s.last().unwrap().0, &MirageSettings::default());
        assert!(!v.anomalous, "{v:?}");
        assert_eq!(v.votes.len(), 9);
        assert!(v.votes.iter().all(|(_, vote)| *vote != Vote::Skipped));
        assert_eq!(v.votes[0].0, Algorithm::FirstHourAverage);
    }

    #[test]
    fn spike_at_the_end_is_anomalous() {
        let mut s = week();
        let n = s.len();
        for p in &mut s[n - 3..] {
            p.1 = 100.0;
        }
        let v = judge(&s, s.last().unwrap().0, &MirageSettings::default());
        assert!(v.anomalous, "{v:?}");
        assert!(v.triggered.len() >= 6, "{v:?}");
        assert!(!v.triggered.contains(&Algorithm::KsTest));
    }

    #[test]
    fn duplicates_are_removed_before_the_length_test() {
        // 60 distinct timestamps, each twice: 120 points but 60 after
        // de-duplication → too short.
        let s: Vec<Point> = (0..120).map(|i| (T0 + (i / 2) * 600, i as f64)).collect();
        let v = judge(&s, T0, &MirageSettings::default());
        assert!(!v.anomalous && !v.judged());
        let d = deduplicate(&s);
        assert_eq!(d.len(), 60);
        assert_eq!(
            d[1],
            (T0 + 600, 2.0),
            "the first point of a timestamp is kept"
        );
        assert!(matches!(
            deduplicate(&week()),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn consensus_counts_false_votes_only() {
        let s = week();
        let now = s.last().unwrap().0;
        // With consensus 1 any series is anomalous unless all nine say False.
        let lax = MirageSettings {
            consensus: 1,
            ..MirageSettings::default()
        };
        let v = judge(&s, now, &lax);
        let falses = v
            .votes
            .iter()
            .filter(|(_, x)| *x == Vote::NotAnomalous)
            .count();
        assert_eq!(v.anomalous, falses <= 8);
    }

    #[test]
    fn first_hour_is_a_literal_day_back() {
        // A 7-day series whose first hour of the *last day* is flat at 10
        // and everything else at 50: the tail at 50 is far from that hour
        // (Analyzer with a 7-day full_duration would look at day one, 50).
        let mut s: Vec<Point> = (0..1008)
            .map(|i| (T0 + i * 600, 50.0 + (i % 2) as f64))
            .collect();
        let t_last = s.last().unwrap().0;
        for p in &mut s {
            if p.0 > t_last - 86_400 && p.0 < t_last - 86_400 + 3600 {
                p.1 = 10.0 + (p.0 / 600 % 2) as f64;
            }
        }
        let mut columns = Series::default();
        columns.extend_from_points(&s);
        let mirage = Algorithm::FirstHourAverage.run_as(Variant::Mirage, &columns, t_last, 0);
        assert_eq!(mirage, Vote::Anomalous);
        let analyzer = Algorithm::FirstHourAverage.run(&columns, t_last, 7 * 86_400);
        assert_eq!(analyzer, Vote::NotAnomalous);
    }
}
