use super::Vote;
use crate::series::tail_avg;
use crate::stats::histogram;

/// Bins holding at most this many points are "rare".
const RARE_BIN_SIZE: u32 = 20;
const BINS: usize = 15;

/// Anomalous when `tail_avg` falls in a rare bin of a 15-bin histogram of the
/// series (NaN values left out).
///
/// Reference semantics kept on purpose: the first bin only counts when
/// `tail_avg <= min` (a value inside it never fires), other bins are
/// half-open `[edge_i, edge_i+1)` so `tail_avg == max` never fires; binning
/// follows Analyzer's numba kernel (see [`histogram`]), so a flat series puts
/// everything in the last bin and the first (empty) bin fires — Boring
/// removes such series before this runs.
pub fn histogram_bins(values: &[f64]) -> Vote {
    let t = tail_avg(values);
    let finite: Vec<f64>;
    let sample = if values.iter().any(|v| v.is_nan()) {
        finite = values.iter().copied().filter(|v| !v.is_nan()).collect();
        &finite[..]
    } else {
        values
    };
    if sample.is_empty() {
        return Vote::Error;
    }
    let (counts, edges) = histogram(sample, BINS);
    let fires = counts.iter().enumerate().any(|(i, &count)| {
        count <= RARE_BIN_SIZE
            && if i == 0 {
                t <= edges[0]
            } else {
                edges[i] <= t && t < edges[i + 1]
            }
    });
    Vote::from_bool(fires)
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
        assert_eq!(histogram_bins(&ramp_with_tail([99.0; 3])), Vote::NotAnomalous);
    }

    #[test]
    fn first_bin_fires_only_at_min() {
        // min 0: tail 0 fires; tail 1 (inside bin 0, above its left edge) does not.
        assert_eq!(histogram_bins(&ramp_with_tail([0.0; 3])), Vote::Anomalous);
        assert_eq!(histogram_bins(&ramp_with_tail([1.0; 3])), Vote::NotAnomalous);
    }

    #[test]
    fn crowded_bin_does_not_fire() {
        // 200 points at 10, 100 spread over 0..=99: tail 10 sits with > 20 others.
        let mut v = vec![10.0; 200];
        v.extend((0..100).map(f64::from));
        v.extend([10.0; 3]);
        assert_eq!(histogram_bins(&v), Vote::NotAnomalous);
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
}
