//! The Analyzer's equal-width histogram (Skyline's numba kernel, which
//! differs from `np.histogram` only for a constant input).

use crate::order::min_max_skip_nan;

/// Equal-width binning as Skyline's numba histogram kernel does it: `bins`
/// bins on `[lo, hi]`, `edge(k) = lo + k·(hi-lo)/bins`, `edge(bins) = hi`;
/// `x` falls in bin `floor(bins·(x-lo)/(hi-lo))`, and `x == hi` in the last.
/// When `hi == lo` every value lands in the last bin (numpy instead widens
/// the range by ±0.5; the reference Analyzer uses the numba rule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EqualWidthBins {
    lo: f64,
    hi: f64,
    bins: usize,
}

impl EqualWidthBins {
    /// Bins spanning the non-NaN values of `xs`; `None` when there are none
    /// or `bins == 0`.
    pub fn spanning(xs: &[f64], bins: usize) -> Option<Self> {
        let (lo, hi) = min_max_skip_nan(xs);
        (bins > 0 && lo <= hi).then_some(EqualWidthBins { lo, hi, bins })
    }

    /// Where `x` sits in bin units: `bins·(x-lo)/(hi-lo)`, the quantity
    /// whose floor is the bin (NaN for NaN).
    #[inline]
    fn position(&self, x: f64) -> f64 {
        self.bins as f64 * (x - self.lo) / (self.hi - self.lo)
    }

    /// The bin `x` falls in (`x` within `[lo, hi]`, not NaN).
    #[inline]
    pub fn index(&self, x: f64) -> usize {
        if self.hi == self.lo {
            return self.bins - 1;
        }
        (self.position(x) as usize).min(self.bins - 1)
    }

    /// How many non-NaN values of `xs` fall in bin `a` and in bin `b`.
    /// Tests `k <= position < k+1` (the last bin: `position >= k`) in
    /// floating point, which is `index(x) == k` without a float-to-integer
    /// conversion, so the loop vectorises.
    pub fn populations(&self, xs: &[f64], a: usize, b: usize) -> (u32, u32) {
        if self.hi == self.lo {
            let n = xs.iter().filter(|x| !x.is_nan()).count() as u32;
            let last = self.bins - 1;
            return (if a == last { n } else { 0 }, if b == last { n } else { 0 });
        }
        let range = |k: usize| {
            let upper = if k + 1 >= self.bins {
                f64::INFINITY
            } else {
                (k + 1) as f64
            };
            (k as f64, upper)
        };
        let ((a_lo, a_hi), (b_lo, b_hi)) = (range(a), range(b));
        let (mut in_a, mut in_b) = (0u32, 0u32);
        for &x in xs {
            let q = self.position(x);
            in_a += u32::from(q >= a_lo && q < a_hi);
            in_b += u32::from(q >= b_lo && q < b_hi);
        }
        (in_a, in_b)
    }

    /// Left edge of bin `k`; `edge(bins)` is the right edge of the last.
    pub fn edge(&self, k: usize) -> f64 {
        if k >= self.bins {
            self.hi
        } else {
            self.lo + k as f64 * ((self.hi - self.lo) / self.bins as f64)
        }
    }

    /// How many bins.
    pub fn bins(&self) -> usize {
        self.bins
    }
}

/// Histogram of the non-NaN values of `xs` with [`EqualWidthBins`]:
/// `(counts, edges)`; empty input gives all-zero counts and NaN edges.
#[inline]
pub fn histogram(xs: &[f64], bins: usize) -> (Vec<u32>, Vec<f64>) {
    let mut counts = vec![0u32; bins];
    let Some(binning) = EqualWidthBins::spanning(xs, bins) else {
        return (counts, vec![f64::NAN; bins + 1]);
    };
    for &x in xs.iter().filter(|x| !x.is_nan()) {
        counts[binning.index(x)] += 1;
    }
    let edges = (0..=bins).map(|k| binning.edge(k)).collect();
    (counts, edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_numba_rule() {
        // 0..=15 over 15 bins of width 1: 15 (== max) joins bin 14.
        let xs: Vec<f64> = (0..=15).map(f64::from).collect();
        let (counts, edges) = histogram(&xs, 15);
        assert_eq!(counts[14], 2);
        assert!(counts[..14].iter().all(|&c| c == 1));
        assert_eq!(edges[0], 0.0);
        assert_eq!(edges[15], 15.0);
        let (flat, _) = histogram(&[3.0; 5], 15);
        assert_eq!(flat[14], 5);
    }

    #[test]
    fn populations_agree_with_index() {
        let xs: Vec<f64> = (0..100).map(|i| ((i * 37) % 101) as f64 / 7.0).collect();
        let bins = EqualWidthBins::spanning(&xs, 15).unwrap();
        for (a, b) in [(0, 14), (3, 7), (14, 14)] {
            let count = |k| xs.iter().filter(|&&x| bins.index(x) == k).count() as u32;
            assert_eq!(bins.populations(&xs, a, b), (count(a), count(b)));
        }
        assert!(EqualWidthBins::spanning(&[f64::NAN], 15).is_none());
    }
}
