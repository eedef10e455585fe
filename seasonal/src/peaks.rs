//! Peak finding as `scipy.signal.find_peaks(x, distance=d)` (no other
//! condition), used by the daily-peak override (`seasonal.md` §8.2).
//!
//! Two steps, as scipy's `_local_maxima_1d` and `_select_by_peak_distance`:
//!
//! 1. **Local maxima**: every `i` in `1..n-1` with `x[i-1] < x[i]` where the
//!    run of values equal to `x[i]` starting at `i` ends before the last
//!    sample and is followed by a smaller value. A flat top (plateau) gives
//!    one peak, its middle `(left + right) / 2` (rounded down). The first and
//!    last samples are never peaks; a plateau running into the end is none.
//!    Comparisons with NaN are false, so NaN neither is nor bounds a peak.
//! 2. **Distance**: the maxima are visited from the highest to the lowest;
//!    each one still kept removes every other maximum less than `distance`
//!    samples away on either side (scipy rounds a fractional distance up,
//!    `ceil(distance)`; here it is an integer already).
//!
//! Ties in height: scipy visits the maxima in `np.argsort(heights)` order
//! (numpy's default, unstable sort), so the order among equal heights is
//! numpy's and may depend on the CPU (x86-simd-sort on AVX-512). Here the
//! sort is stable: among equal heights the later maximum is visited first,
//! which is what numpy's small-array (insertion) sort gives.

use std::cmp::Ordering;

/// The indices of the local maxima of `x` (step 1 above), ascending.
pub fn local_maxima(x: &[f64]) -> Vec<usize> {
    let mut peaks = Vec::new();
    if x.len() < 3 {
        return peaks;
    }
    let i_max = x.len() - 1;
    let mut i = 1;
    while i < i_max {
        if x[i - 1] < x[i] {
            // The end of the run equal to x[i], stopping at the last sample.
            let mut ahead = i + 1;
            while ahead < i_max && x[ahead] == x[i] {
                ahead += 1;
            }
            if x[ahead] < x[i] {
                peaks.push((i + ahead - 1) / 2);
                i = ahead;
            }
        }
        i += 1;
    }
    peaks
}

/// Of the ascending `peaks` (indices into `x`), those kept when the higher
/// ones remove their neighbours closer than `distance` samples (step 2
/// above), ascending. A `distance` of 0 or 1 keeps them all.
pub fn select_by_distance(x: &[f64], peaks: &[usize], distance: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..peaks.len()).collect();
    // Stable: equal heights stay in position order, so the later one is
    // visited first below. Heights of maxima are never NaN.
    order.sort_by(|&a, &b| {
        x[peaks[a]]
            .partial_cmp(&x[peaks[b]])
            .unwrap_or(Ordering::Equal)
    });
    let mut keep = vec![true; peaks.len()];
    for &j in order.iter().rev() {
        if !keep[j] {
            continue;
        }
        for k in (0..j).rev() {
            if peaks[j] - peaks[k] >= distance {
                break;
            }
            keep[k] = false;
        }
        for k in j + 1..peaks.len() {
            if peaks[k] - peaks[j] >= distance {
                break;
            }
            keep[k] = false;
        }
    }
    peaks
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(&p, _)| p)
        .collect()
}

/// `scipy.signal.find_peaks(x, distance=distance)[0]`: the local maxima of
/// `x` at least `distance` samples apart, the higher ones winning (see the
/// module documentation).
pub fn find_peaks(x: &[f64], distance: usize) -> Vec<usize> {
    select_by_distance(x, &local_maxima(x), distance)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxima_plateaus_and_edges() {
        // edges are never peaks
        assert_eq!(local_maxima(&[5.0, 1.0, 5.0]), Vec::<usize>::new());
        assert_eq!(local_maxima(&[0.0, 1.0, 0.0]), vec![1]);
        // a plateau of 2 → its left middle; of 3 → its middle
        assert_eq!(local_maxima(&[0.0, 2.0, 2.0, 0.0]), vec![1]);
        assert_eq!(local_maxima(&[0.0, 2.0, 2.0, 2.0, 0.0]), vec![2]);
        // a plateau running into the end, or rising on, is no peak
        assert_eq!(local_maxima(&[0.0, 2.0, 2.0, 2.0]), Vec::<usize>::new());
        assert_eq!(local_maxima(&[0.0, 2.0, 2.0, 3.0, 1.0]), vec![3]);
        // a step up then down after the plateau
        assert_eq!(
            local_maxima(&[1.0, 3.0, 1.0, 2.0, 2.0, 1.0, 4.0, 0.0]),
            vec![1, 3, 6]
        );
        // NaN compares false either way
        assert_eq!(local_maxima(&[0.0, f64::NAN, 0.0, 1.0, 0.0]), vec![3]);
        assert_eq!(local_maxima(&[]), Vec::<usize>::new());
        assert_eq!(local_maxima(&[1.0, 2.0]), Vec::<usize>::new());
    }

    #[test]
    fn distance_keeps_the_higher() {
        let x = [0.0, 1.0, 0.0, 3.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        assert_eq!(local_maxima(&x), vec![1, 3, 5, 9]);
        assert_eq!(find_peaks(&x, 1), vec![1, 3, 5, 9]);
        // 2 apart is allowed at distance 2
        assert_eq!(find_peaks(&x, 2), vec![1, 3, 5, 9]);
        // 3: the 3.0 at 3 removes 1 and 5
        assert_eq!(find_peaks(&x, 3), vec![3, 9]);
        // 7: 9 is 6 from 3 → removed
        assert_eq!(find_peaks(&x, 7), vec![3]);
        // a removed peak removes nothing: 5 (2.0) would remove 9 at distance 5,
        // but 3 removes 5 first
        assert_eq!(find_peaks(&x, 5), vec![3, 9]);
    }

    #[test]
    fn ties_the_later_wins() {
        let x = [0.0, 2.0, 0.0, 2.0, 0.0, 2.0, 0.0];
        assert_eq!(find_peaks(&x, 3), vec![1, 5]);
        assert_eq!(find_peaks(&x, 5), vec![5]);
    }
}
