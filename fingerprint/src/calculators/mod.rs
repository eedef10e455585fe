//! The feature calculators, one pure function per tsfresh calculator,
//! grouped by family as tsfresh groups them. Booleans are returned as
//! `1.0`/`0.0` and counts as `f64`, the way they land in a features profile.

mod adf_fast;
pub mod ar;
pub mod autocorrelation;
pub mod changes;
pub mod cwt;
pub mod entropy;
pub mod fft;
pub mod peaks;
pub mod stats;

/// `true`/`false` as the features profile stores them.
#[inline]
pub(crate) fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}
