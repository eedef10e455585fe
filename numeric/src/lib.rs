//! # skyline-numeric
//!
//! The numerical building blocks the Analyzer (`analyze`) and the features
//! fingerprint (`fingerprint`) are made of, as plain functions over slices:
//! sums in numpy's order, moments, order statistics and quantiles, the
//! Analyzer's histogram, a least-squares line, Student's t quantile,
//! statsmodels' ADF test and scipy's two-sample KS test. Each function names
//! the numpy/scipy/pandas/statsmodels call it reproduces, because votes and
//! features must equal the reference's; `tests/` compares them against the
//! Python references in `pyref/`.
//!
//! It is a crate of its own because both `analyze` and `fingerprint` need
//! it: neither has to compile the other's source files or pull in the
//! other's dependencies (Kafka, Redis). Everything here is pure and
//! I/O-free, and nothing panics on outside input; what cannot be computed is
//! a [`StatsError`] or NaN, as each item says.
//!
//! The small kernels are `#[inline]`: without LTO a non-generic function is
//! not inlined into another crate, and the Analyzer's hot loops slowed by
//! 13% (`stddev_from_moving_average`) when these moved here out of
//! `analyze`.
//!
//! * [`summation`]: numpy's pairwise sum ([`sum`], [`sum_map`]).
//! * [`moments`]: mean, variance and standard deviation, the EWM moments.
//! * [`order`]: min/max (NaN-propagating or NaN-skipping), sorting, median,
//!   numpy's `lerp` and linear quantile.
//! * [`mod@histogram`]: equal-width bins with the reference's numba rule.
//! * [`regression`]: the least-squares line.
//! * [`student_t`]: Student's t inverse survival function.
//! * [`adf`]: augmented Dickey–Fuller (statsmodels `adfuller`).
//! * [`ks`]: two-sample Kolmogorov–Smirnov (scipy `ks_2samp`).
//! * `reference` (feature `reference`, for tests): the real series and the
//!   Python references every crate's numerical tests compare against.
#![deny(missing_docs)]

pub mod adf;
pub mod histogram;
pub mod ks;
pub mod moments;
pub mod order;
#[cfg(feature = "reference")]
pub mod reference;
pub mod regression;
pub mod student_t;
pub mod summation;

pub use histogram::{histogram, EqualWidthBins};
pub use moments::{ewm_mean_std, mean, mean_std, sample_std, std, var_with_mean};
pub use order::{
    lerp, median, median_in_place, min_max, min_max_skip_nan, quantile_sorted, sorted,
};
pub use regression::linear_fit;
pub use student_t::student_t_isf;
pub use summation::{sum, sum_map};

use thiserror::Error;

/// Why a statistic could not be computed. A caller that meets one of these
/// treats it as the reference's exception or `None` (an Analyzer algorithm
/// casts no vote, a feature is NaN); nothing here panics instead.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// Fewer observations than the statistic needs.
    #[error("{what} needs at least {needed} values, got {got}")]
    TooFew {
        /// The statistic.
        what: &'static str,
        /// The fewest values it needs.
        needed: usize,
        /// How many it was given.
        got: usize,
    },
    /// The reference raises for these arguments (message says why).
    #[error("{0}")]
    Invalid(String),
    /// A linear system had no unique solution.
    #[error("singular matrix in {0}")]
    Singular(&'static str),
}
