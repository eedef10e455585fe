//! Statistical building blocks the algorithms are made of, as plain functions
//! over slices. Each one states the numpy/scipy/pandas/statsmodels call it
//! reproduces, because the votes must equal the reference's.

pub mod adf;
pub mod ks;

use thiserror::Error;

/// Why a statistic could not be computed. An algorithm that meets one of
/// these casts no vote (the reference's `None`), it never panics.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// Fewer observations than the statistic needs.
    #[error("{what} needs at least {needed} values, got {got}")]
    TooFew {
        what: &'static str,
        needed: usize,
        got: usize,
    },
    /// The reference raises for these arguments (message says why).
    #[error("{0}")]
    Invalid(String),
    /// A linear system had no unique solution.
    #[error("singular matrix in {0}")]
    Singular(&'static str),
}

/// Blocks at most this long are summed with eight running accumulators;
/// longer slices are halved first (numpy's pairwise-summation block size).
const PAIRWISE_BLOCK: usize = 128;

/// Sum of `xs` by pairwise summation, the scheme numpy's `add.reduce` uses:
/// eight interleaved accumulators within a block of at most 128 values,
/// recursive halving (at multiples of eight) above that. The error grows
/// with `log n` instead of `n`, and the independent accumulators let the CPU
/// overlap additions (a plain left-to-right sum is latency bound).
pub fn sum(xs: &[f64]) -> f64 {
    sum_map(xs, |x| x)
}

/// `Σ f(x)` with the same pairwise scheme as [`sum`].
pub fn sum_map(xs: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    let n = xs.len();
    if n < 8 {
        return xs.iter().fold(0.0, |acc, &x| acc + f(x));
    }
    if n <= PAIRWISE_BLOCK {
        let mut r = [0.0f64; 8];
        for (ri, &x) in r.iter_mut().zip(&xs[..8]) {
            *ri = f(x);
        }
        let body = n - n % 8;
        for chunk in xs[8..body].chunks_exact(8) {
            for (ri, &x) in r.iter_mut().zip(chunk) {
                *ri += f(x);
            }
        }
        let mut total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &xs[body..] {
            total += f(x);
        }
        return total;
    }
    let mut half = n / 2;
    half -= half % 8;
    sum_map(&xs[..half], f) + sum_map(&xs[half..], f)
}

/// `(min, max)` of `xs` ignoring nothing (NaN handling is the caller's);
/// `(inf, -inf)` for an empty slice. Four lanes for instruction-level
/// parallelism.
pub fn min_max(xs: &[f64]) -> (f64, f64) {
    let mut lo = [f64::INFINITY; 4];
    let mut hi = [f64::NEG_INFINITY; 4];
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k]);
        }
    }
    let mut l = lo[0].min(lo[1]).min(lo[2].min(lo[3]));
    let mut h = hi[0].max(hi[1]).max(hi[2].max(hi[3]));
    for &x in rest {
        l = l.min(x);
        h = h.max(x);
    }
    (l, h)
}

/// Arithmetic mean; NaN for an empty slice (numpy's `mean([])`).
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    sum(xs) / xs.len() as f64
}

/// Standard deviation with `ddof` delta degrees of freedom:
/// `sqrt(Σ(x-mean)² / (n-ddof))`, NaN when `n <= ddof` (pandas/numpy).
/// Two-pass for accuracy on large offsets (epoch-sized values).
pub fn std(xs: &[f64], ddof: usize) -> f64 {
    mean_std(xs, ddof).1
}

/// [`mean`] and [`std`] together, reading the mean once.
pub fn mean_std(xs: &[f64], ddof: usize) -> (f64, f64) {
    let n = xs.len();
    let m = mean(xs);
    if n <= ddof {
        return (m, f64::NAN);
    }
    let ss = sum_map(xs, |x| (x - m) * (x - m));
    (m, (ss / (n - ddof) as f64).sqrt())
}

/// Sample standard deviation (ddof = 1), as pandas' `Series.std()`.
pub fn sample_std(xs: &[f64]) -> f64 {
    std(xs, 1)
}

/// Median with numpy's convention (mean of the two middle values when `n` is
/// even); NaN for an empty slice. Works on a scratch copy: O(n) selection.
pub fn median(xs: &[f64]) -> f64 {
    let mut scratch = xs.to_vec();
    median_in_place(&mut scratch)
}

/// [`median`] reordering `xs` instead of copying it. NaN values sort last
/// (`total_cmp`), which matches numpy only for NaN-free input; callers filter.
pub fn median_in_place(xs: &mut [f64]) -> f64 {
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (lower, upper, _) = xs.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        upper
    } else {
        // the largest of the lower half is the other middle value
        let lower_max = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower_max + upper) / 2.0
    }
}

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
        let (lo, hi) = min_max(xs); // f64::min/max skip NaN
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

    pub fn bins(&self) -> usize {
        self.bins
    }
}

/// Histogram of the non-NaN values of `xs` with [`EqualWidthBins`]:
/// `(counts, edges)`; empty input gives all-zero counts and NaN edges.
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

/// Ordinary least squares line `y = m·x + c` (numpy `lstsq` on `[x, 1]`).
/// Solved on centred `x` so epoch-second abscissae lose no precision.
/// Returns `(m, c)`; `Err` when fewer than 2 points or all `x` equal.
pub fn linear_fit(x: &[f64], y: &[f64]) -> Result<(f64, f64), StatsError> {
    let n = x.len().min(y.len());
    if n < 2 {
        return Err(StatsError::TooFew {
            what: "linear_fit",
            needed: 2,
            got: n,
        });
    }
    let (x, y) = (&x[..n], &y[..n]);
    let mx = mean(x);
    let my = mean(y);
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (xi, yi) in x.iter().zip(y) {
        let dx = xi - mx;
        sxy += dx * (yi - my);
        sxx += dx * dx;
    }
    if sxx == 0.0 {
        return Err(StatsError::Singular("linear_fit"));
    }
    let m = sxy / sxx;
    Ok((m, my - m * mx))
}

/// Exponentially weighted mean and bias-corrected standard deviation at the
/// last index, as pandas' `ewm(com=com, adjust=True, ignore_na=False,
/// min_periods=0)` `.mean()` / `.std(bias=False)` on NaN-free input.
///
/// With `α = 1/(1+com)` and weights `w_i = (1-α)^(n-1-i)`:
/// `μ = Σw·x / Σw`, `σ² = [Σw·(x-μ)² / Σw] · (Σw)² / ((Σw)² - Σw²)`;
/// σ is NaN when that denominator is not positive (a single point).
pub fn ewm_mean_std(xs: &[f64], com: f64) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let decay = 1.0 - 1.0 / (1.0 + com);
    // Walk backwards so the newest point has weight 1; accumulate moments.
    let (mut w, mut sw, mut sw2, mut swx) = (1.0f64, 0.0, 0.0, 0.0);
    for &x in xs.iter().rev() {
        sw += w;
        sw2 += w * w;
        swx += w * x;
        w *= decay;
    }
    let mu = swx / sw;
    let mut w = 1.0f64;
    let mut swd = 0.0;
    for &x in xs.iter().rev() {
        swd += w * (x - mu) * (x - mu);
        w *= decay;
    }
    let denom = sw * sw - sw2;
    let sigma = if denom > 0.0 {
        ((swd / sw) * sw * sw / denom).sqrt()
    } else {
        f64::NAN
    };
    (mu, sigma)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_is_exact_on_integers_and_accurate_on_fractions() {
        for n in [0, 1, 7, 8, 9, 127, 128, 129, 1000, 1440, 8640] {
            let xs: Vec<f64> = (1..=n).map(|i| i as f64).collect();
            assert_eq!(sum(&xs), (n * (n + 1) / 2) as f64, "n = {n}");
        }
        // 0.1 ten thousand times: naive summation drifts by ~1e-12 relative
        let tenths = vec![0.1; 10_000];
        assert!((sum(&tenths) - 1000.0).abs() < 1e-12);
        assert_eq!(min_max(&[3.0, -1.0, 7.0, 2.0, 5.0]), (-1.0, 7.0));
    }

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn std_ddof() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(std(&xs, 0), 2.0);
        assert!((sample_std(&xs) - (32.0f64 / 7.0).sqrt()).abs() < 1e-15);
        assert!(sample_std(&[1.0]).is_nan());
    }

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
    fn linear_fit_exact_line() {
        let x = [1.4e9, 1.4e9 + 60.0, 1.4e9 + 120.0];
        let y = [1.0, 3.0, 5.0];
        let (m, c) = linear_fit(&x, &y).unwrap();
        assert!((m - 2.0 / 60.0).abs() < 1e-12);
        assert!((m * x[2] + c - 5.0).abs() < 1e-6);
        assert!(linear_fit(&[1.0, 1.0], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn ewm_two_points_by_hand() {
        // com 1: alpha 1/2, weights [0.5, 1]; mean = (0.5·0 + 1·2)/1.5 = 4/3.
        let (mu, sigma) = ewm_mean_std(&[0.0, 2.0], 1.0);
        assert!((mu - 4.0 / 3.0).abs() < 1e-15);
        // biased var = (0.5·16/9 + 1·4/9)/1.5 = 8/9; factor 2.25/(2.25-1.25) = 2.25
        assert!((sigma - (2.0f64).sqrt()).abs() < 1e-12);
        assert!(ewm_mean_std(&[5.0], 50.0).1.is_nan());
    }
}
