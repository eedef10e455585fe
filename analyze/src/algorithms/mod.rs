//! The nine three-sigma algorithms, one module each, in the reference's
//! order. Each is a plain function over the slices it needs, returning a
//! [`Vote`].

mod first_hour_average;
mod grubbs;
mod histogram_bins;
mod ks_test;
mod least_squares;
mod mean_subtraction_cumulation;
mod median_absolute_deviation;
mod stddev_from_average;
mod stddev_from_moving_average;

pub use first_hour_average::first_hour_average;
pub use grubbs::{grubbs, grubbs_critical_value};
pub use histogram_bins::{histogram_bins, histogram_bins_numpy};
pub use ks_test::{ks_test, ks_test_windows};
pub use least_squares::least_squares;
pub use mean_subtraction_cumulation::mean_subtraction_cumulation;
pub use median_absolute_deviation::median_absolute_deviation;
pub use stddev_from_average::stddev_from_average;
pub use stddev_from_moving_average::stddev_from_moving_average;

use serde::{Deserialize, Serialize};

use crate::series::Series;

/// What one algorithm said about the newest point of a series.
///
/// The reference returns `True`, `False` or `None`; `None` covers both an
/// algorithm that raised ([`Vote::Error`]) and one that the early exit did not
/// run ([`Vote::Skipped`]). CONSENSUS treats both as "not False".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vote {
    /// The algorithm judged the newest point anomalous (`True`).
    Anomalous,
    /// The algorithm judged it not anomalous (`False`).
    NotAnomalous,
    /// The algorithm could not run on this series (raised, `None`).
    Error,
    /// Not run: the early exit had already decided the verdict.
    Skipped,
}

impl Vote {
    /// `Some(true|false)` for a cast vote, `None` for no vote.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            Vote::Anomalous => Some(true),
            Vote::NotAnomalous => Some(false),
            Vote::Error | Vote::Skipped => None,
        }
    }

    pub(crate) fn from_bool(anomalous: bool) -> Vote {
        if anomalous {
            Vote::Anomalous
        } else {
            Vote::NotAnomalous
        }
    }
}

/// Whose version of the algorithms runs: Analyzer's (numba kernels, the
/// window's full duration) or Mirage's (`mirage_algorithms.py`, the pandas
/// versions, for the seasonal re-check). They differ only in:
///
/// * `first_hour_average`: Mirage's hour starts at `t_last - 86400`
///   (literally, whatever the window), or `t_last - 6·res` on daily data;
/// * `mean_subtraction_cumulation`: Mirage takes the sample std (ddof 1);
/// * `histogram_bins`: Mirage bins as `numpy.histogram` does
///   ([`histogram_bins_numpy`]);
/// * `ks_test`: on daily data Mirage's windows are `[t_last-90d,
///   t_last-30d)` and `[t_last-30d, ∞)`; otherwise both use `now`'s.
///
/// "Daily data" is a resolution `t_last - t_{n-2}` strictly between 80000
/// and 90000 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Variant {
    /// Analyzer's algorithms (`analyzer/algorithms.py` with numba).
    #[default]
    Analyzer,
    /// Mirage's algorithms (`mirage/mirage_algorithms.py`, pandas).
    Mirage,
}

const DAY: i64 = 86_400;

/// The daily resolution `t_last - t_{n-2}` when it is strictly between
/// 80000 and 90000 s (Mirage's daily-data cases), else `None`.
pub fn daily_resolution(timestamps: &[i64]) -> Option<i64> {
    match timestamps {
        [.., a, b] => Some(b - a).filter(|r| 80_000 < *r && *r < 90_000),
        _ => None,
    }
}

/// The three-sigma algorithms, declared in `settings.ALGORITHMS` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// [`histogram_bins`](fn@histogram_bins): `tail_avg` in a rare bin of a
    /// 15-bin histogram.
    HistogramBins,
    /// [`first_hour_average`](fn@first_hour_average): `tail_avg` beyond 3σ of
    /// the window's first hour.
    FirstHourAverage,
    /// [`stddev_from_average`](fn@stddev_from_average): `tail_avg` beyond 3σ of
    /// the window's mean.
    StddevFromAverage,
    /// [`grubbs`](fn@grubbs): one-sided Grubbs' test on `tail_avg`.
    Grubbs,
    /// [`ks_test`](fn@ks_test): the last 10 minutes distributed unlike the 50
    /// before (KS, then ADF).
    KsTest,
    /// [`mean_subtraction_cumulation`](fn@mean_subtraction_cumulation): the
    /// last value, less the earlier values' mean, beyond 3σ of them.
    MeanSubtractionCumulation,
    /// [`median_absolute_deviation`](fn@median_absolute_deviation): the last
    /// value more than 6 MADs from the median.
    MedianAbsoluteDeviation,
    /// [`stddev_from_moving_average`](fn@stddev_from_moving_average): the last
    /// value beyond 3 exponentially weighted σ.
    StddevFromMovingAverage,
    /// [`least_squares`](fn@least_squares): the last three residuals of a
    /// straight-line fit beyond 3σ.
    LeastSquares,
}

impl Algorithm {
    /// All nine, in the reference's order.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::HistogramBins,
        Algorithm::FirstHourAverage,
        Algorithm::StddevFromAverage,
        Algorithm::Grubbs,
        Algorithm::KsTest,
        Algorithm::MeanSubtractionCumulation,
        Algorithm::MedianAbsoluteDeviation,
        Algorithm::StddevFromMovingAverage,
        Algorithm::LeastSquares,
    ];

    /// The reference's name (also the backtest CSV column).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HistogramBins => "histogram_bins",
            Algorithm::FirstHourAverage => "first_hour_average",
            Algorithm::StddevFromAverage => "stddev_from_average",
            Algorithm::Grubbs => "grubbs",
            Algorithm::KsTest => "ks_test",
            Algorithm::MeanSubtractionCumulation => "mean_subtraction_cumulation",
            Algorithm::MedianAbsoluteDeviation => "median_absolute_deviation",
            Algorithm::StddevFromMovingAverage => "stddev_from_moving_average",
            Algorithm::LeastSquares => "least_squares",
        }
    }

    /// Runs this algorithm on `series` as Analyzer would at time `now`.
    /// `full_duration` places first_hour_average's hour; `now` places
    /// ks_test's windows (wall-clock in the reference).
    pub fn run(self, series: &Series, now: i64, full_duration: i64) -> Vote {
        self.run_as(Variant::Analyzer, series, now, full_duration)
    }

    /// Runs this algorithm on `series` as `variant` would (see [`Variant`]).
    /// `full_duration` is Analyzer's only: Mirage places first_hour_average's
    /// hour a literal day (or six daily steps) before the last point.
    pub fn run_as(self, variant: Variant, series: &Series, now: i64, full_duration: i64) -> Vote {
        let (ts, vs) = (&series.timestamps[..], &series.values[..]);
        let mirage = variant == Variant::Mirage;
        match self {
            Algorithm::HistogramBins if mirage => histogram_bins_numpy(vs),
            Algorithm::HistogramBins => histogram_bins(vs),
            Algorithm::FirstHourAverage if mirage => {
                let back = daily_resolution(ts).map_or(DAY, |r| 6 * r);
                first_hour_average(ts, vs, back)
            }
            Algorithm::FirstHourAverage => first_hour_average(ts, vs, full_duration),
            Algorithm::StddevFromAverage => stddev_from_average(vs),
            Algorithm::Grubbs => grubbs(vs),
            Algorithm::KsTest => match (mirage, daily_resolution(ts), ts.last()) {
                (true, Some(_), Some(&t_last)) => {
                    ks_test_windows(ts, vs, t_last - 90 * DAY, t_last - 30 * DAY)
                }
                _ => ks_test(ts, vs, now),
            },
            Algorithm::MeanSubtractionCumulation => {
                mean_subtraction_cumulation(vs, usize::from(mirage))
            }
            Algorithm::MedianAbsoluteDeviation => median_absolute_deviation(vs),
            Algorithm::StddevFromMovingAverage => stddev_from_moving_average(vs),
            Algorithm::LeastSquares => least_squares(ts, vs),
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown algorithm {s:?}"))
    }
}
