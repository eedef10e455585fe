use numeric::EqualWidthBins;

use super::Vote;
use crate::series::tail_avg;

/// Bins holding at most this many points are "rare".
const RARE_BIN_SIZE: u32 = 20;
const BINS: usize = 15;

/// Anomalous when `tail_avg` falls in a rare bin (≤ 20 points) of a 15-bin
/// histogram of the series (NaN values left out).
///
/// Reference semantics kept on purpose: the first bin only counts when
/// `tail_avg <= min` (a value inside it never fires), other bins are
/// half-open `[edge_i, edge_i+1)` so `tail_avg == max` never fires; binning
/// follows Analyzer's numba kernel (see [`EqualWidthBins`]), so a flat
/// series puts everything in the last bin and the first (empty) bin fires —
/// Boring removes such series before this runs.
///
/// Only the (at most two) bins `tail_avg` can be tested against matter, so
/// only their populations are counted: one pass, no scattered increments.
pub fn histogram_bins(values: &[f64]) -> Vote {
    let Some(binning) = EqualWidthBins::spanning(values, BINS) else {
        return Vote::Error;
    };
    let t = tail_avg(values);
    let first = t <= binning.edge(0);
    // Half-open intervals on non-decreasing edges: at most one contains t.
    let inner = (1..BINS).find(|&i| binning.edge(i) <= t && t < binning.edge(i + 1));
    if !first && inner.is_none() {
        return Vote::NotAnomalous;
    }
    let (in_first, in_inner) = binning.populations(values, 0, inner.unwrap_or(0));
    Vote::from_bool(
        (first && in_first <= RARE_BIN_SIZE) || (inner.is_some() && in_inner <= RARE_BIN_SIZE),
    )
}

/// [`histogram_bins`] as Mirage runs it, binned by `numpy.histogram`: edges
/// `linspace(min, max, 16)` (`min ± 0.5` for a flat series), `x` in bin `k`
/// iff `edge_k <= x < edge_k+1` (the last bin closed at `max`). The vote's
/// tests on `tail_avg` are [`histogram_bins`]'. A NaN or infinite value is no
/// vote (numpy raises on a non-finite range).
pub fn histogram_bins_numpy(values: &[f64]) -> Vote {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return Vote::Error;
    }
    let (mut lo, mut hi) = numeric::min_max(values);
    if lo == hi {
        lo -= 0.5;
        hi += 0.5;
    }
    let step = (hi - lo) / BINS as f64;
    let edge = |k: usize| if k >= BINS { hi } else { k as f64 * step + lo };
    let population = |k: usize| {
        let (a, b) = (edge(k), edge(k + 1));
        values
            .iter()
            .filter(|&&x| a <= x && (x < b || (k == BINS - 1 && x <= b)))
            .count() as u32
    };
    let t = tail_avg(values);
    if t <= edge(0) && population(0) <= RARE_BIN_SIZE {
        return Vote::Anomalous;
    }
    let inner = (1..BINS).find(|&i| edge(i) <= t && t < edge(i + 1));
    Vote::from_bool(inner.is_some_and(|i| population(i) <= RARE_BIN_SIZE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 0..=96 then a three-point tail: ~7 points per bin, every bin is rare,
    /// so the vote comes down to where tail_avg lands.
    fn ramp_with_tail(tail: [f64; 3]) -> Vec<f64> {
        let mut v: Vec<f64> = (0..97).map(f64::from).collect();
        v.extend(tail);
        v
    }

    #[test]
    fn tail_in_a_rare_middle_bin_fires() {
        // max 96; tail 50 → bin floor(15·50/96) = 7 = [44.8, 51.2): 7 + 3 points.
        assert_eq!(histogram_bins(&ramp_with_tail([50.0; 3])), Vote::Anomalous);
    }

    #[test]
    fn tail_at_max_never_fires() {
        // max = 99 = edges[15]; the half-open test excludes it.
        assert_eq!(
            histogram_bins(&ramp_with_tail([99.0; 3])),
            Vote::NotAnomalous
        );
    }

    #[test]
    fn first_bin_fires_only_at_min() {
        // min 0: tail 0 fires; tail 1 (inside bin 0, above its left edge) does not.
        assert_eq!(histogram_bins(&ramp_with_tail([0.0; 3])), Vote::Anomalous);
        assert_eq!(
            histogram_bins(&ramp_with_tail([1.0; 3])),
            Vote::NotAnomalous
        );
    }

    #[test]
    fn crowded_bin_does_not_fire() {
        // 200 points at 10, 100 spread over 0..=99: tail 10 sits with > 20 others.
        let mut v = vec![10.0; 200];
        v.extend((0..100).map(f64::from));
        v.extend([10.0; 3]);
        assert_eq!(histogram_bins(&v), Vote::NotAnomalous);
    }

    /// The reference's loop over the full histogram, to check that counting
    /// only the candidate bins decides the same.
    fn full_histogram_vote(values: &[f64]) -> Vote {
        let (counts, edges) = numeric::histogram(values, BINS);
        let t = tail_avg(values);
        let fires = counts.iter().enumerate().any(|(i, &c)| {
            c <= RARE_BIN_SIZE
                && if i == 0 {
                    t <= edges[0]
                } else {
                    edges[i] <= t && t < edges[i + 1]
                }
        });
        Vote::from_bool(fires)
    }

    #[test]
    fn candidate_bins_decide_like_the_full_histogram() {
        // xorshift noise with occasional excursions, many lengths and tails
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut fired = 0;
        for case in 0..2000 {
            let n = 100 + case % 300;
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    let x = next();
                    if x > 0.97 {
                        10.0 * next()
                    } else {
                        (x * 8.0).round() / 8.0
                    }
                })
                .collect();
            let ours = histogram_bins(&v);
            assert_eq!(ours, full_histogram_vote(&v), "case {case}: {v:?}");
            fired += usize::from(ours == Vote::Anomalous);
        }
        assert!(
            fired > 100 && fired < 1900,
            "both outcomes exercised: {fired}"
        );
    }

    #[test]
    fn flat_series_fires_like_numba() {
        assert_eq!(histogram_bins(&[4.0; 120]), Vote::Anomalous);
    }

    #[test]
    fn nan_values_are_left_out_all_nan_is_no_vote() {
        let mut v = ramp_with_tail([50.0; 3]);
        v[3] = f64::NAN;
        assert_eq!(histogram_bins(&v), Vote::Anomalous);
        assert_eq!(histogram_bins(&[f64::NAN; 4]), Vote::Error);
    }

    #[test]
    fn numpy_binning_widens_a_flat_series() {
        // numpy: range [3.5, 4.5], everything in bin 7 (crowded) → False.
        assert_eq!(histogram_bins_numpy(&[4.0; 120]), Vote::NotAnomalous);
        assert_eq!(histogram_bins_numpy(&[4.0; 12]), Vote::Anomalous);
        assert_eq!(histogram_bins_numpy(&[1.0, f64::NAN, 2.0]), Vote::Error);
    }

    #[test]
    fn numpy_binning_agrees_with_numba_on_ramps() {
        for tail in [0.0, 1.0, 50.0, 99.0] {
            let v = ramp_with_tail([tail; 3]);
            assert_eq!(histogram_bins_numpy(&v), histogram_bins(&v), "tail {tail}");
        }
    }
}
