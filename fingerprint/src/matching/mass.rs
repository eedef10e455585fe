//! MASS (Mueen's Algorithm for Similarity Search) z-normalised distance
//! profiles, as `mass-ts` computes them for Skyline's motif inference
//! (`spec/ionosphere.md` §7).
//!
//! For a query `q` and a window `w` of a series, both of length `m`, with
//! population means `μ` and standard deviations `σ`:
//!
//! ```text
//! d(q, w) = sqrt(2 (m − Σ (w_t − μ_w)(q_t − μ_q) / (σ_q σ_w)))
//!         = sqrt(2 m (1 − corr(q, w)))
//! ```
//!
//! (mass-ts writes the numerator `Σ q_t w_t − m μ_q μ_w`; the centred form
//! is the same number without the cancellation between two large terms.)
//! It ranges from 0 (same shape) to `2√m` (mirror image). A window or query
//! that is constant (σ = 0) has no shape: its distance is NaN, as numpy's
//! division by zero makes it, and the motif search drops it. A slightly
//! negative `d²` from rounding gives 0 (mass-ts takes the real part of a
//! complex square root, which is ≈ 0 there).
//!
//! Two profiles:
//!
//! * [`distance_profile`]: every window (`mass2`/`mass3`'s full sliding
//!   profile), with the dot products of all windows from one FFT
//!   correlation of size `next_pow2(n)` (a circular correlation of that size
//!   is exact for the windows wholly inside the series). mass3 cuts the
//!   series in pieces to bound the FFT size; one FFT of a 1 440–10 080 point
//!   series is cheaper than several, and gives the same distances.
//! * [`block_distances`] / [`mass2_batch`]: the non-overlapping aligned
//!   windows `x[j·m .. (j+1)·m]`, one distance each, as `mass2_batch` with
//!   `batch_size == len(query)` yields; computed as direct dot products (one
//!   window each, cheaper than an FFT).

use std::cell::RefCell;
use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Mean, population standard deviation, minimum and maximum of windows of
/// one length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowStats {
    /// Each window's mean.
    pub mean: Vec<f64>,
    /// Each window's population standard deviation (ddof 0).
    pub std: Vec<f64>,
    /// Each window's smallest value.
    pub min: Vec<f64>,
    /// Each window's largest value.
    pub max: Vec<f64>,
}

impl WindowStats {
    /// Number of windows.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether there is no window.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }
}

/// Statistics of the windows `x[s .. s+m]` for `s = 0, step, 2·step, …`
/// while the window fits. Two passes per window (mean, then squared
/// deviations), as numpy's `std`: exact enough even where a window's spread
/// is tiny next to the series' level. `O(windows · m)`; profiles keep the
/// result in their cache.
pub fn window_stats(x: &[f64], m: usize, step: usize) -> WindowStats {
    let mut out = WindowStats::default();
    if m == 0 || step == 0 || x.len() < m {
        return out;
    }
    let count = (x.len() - m) / step + 1;
    out.mean.reserve_exact(count);
    out.std.reserve_exact(count);
    out.min.reserve_exact(count);
    out.max.reserve_exact(count);
    for s in (0..count).map(|j| j * step) {
        let w = &x[s..s + m];
        let (mut sum, mut lo, mut hi) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
        for &v in w {
            sum += v;
            lo = lo.min(v);
            hi = hi.max(v);
        }
        let mean = sum / m as f64;
        let ss: f64 = w.iter().map(|v| (v - mean) * (v - mean)).sum();
        out.mean.push(mean);
        out.std.push((ss / m as f64).sqrt());
        out.min.push(lo);
        out.max.push(hi);
    }
    out
}

/// A query: its values and their statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The query's values, oldest first.
    pub values: Vec<f64>,
    /// `q_t − μ_q`.
    pub centred: Vec<f64>,
    /// `μ_q`, the mean.
    pub mean: f64,
    /// `σ_q`, the population standard deviation.
    pub std: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Query {
    /// `None` for an empty query.
    pub fn new(values: &[f64]) -> Option<Query> {
        let s = window_stats(values, values.len(), 1);
        let (&mean, &std, &min, &max) = (
            s.mean.first()?,
            s.std.first()?,
            s.min.first()?,
            s.max.first()?,
        );
        Some(Query {
            values: values.to_vec(),
            centred: values.iter().map(|v| v - mean).collect(),
            mean,
            std,
            min,
            max,
        })
    }

    /// Length `m`.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the query is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A constant query has no shape: every distance is NaN.
    pub fn is_constant(&self) -> bool {
        self.min == self.max
    }
}

/// The z-normalised distance from the centred dot product
/// `num = Σ (w_t − μ_w)(q_t − μ_q)`: `sqrt(2(m − num/(σ_q σ_w)))`. NaN when
/// either side is constant (`min == max`, checked exactly rather than
/// trusting a computed σ of ~1e-16) or the result is not finite.
#[inline]
pub fn z_distance(num: f64, m: usize, std_q: f64, std_w: f64, constant: bool) -> f64 {
    if constant || std_q == 0.0 || std_w == 0.0 {
        return f64::NAN;
    }
    let d2 = 2.0 * (m as f64 - num / (std_q * std_w));
    if d2.is_finite() {
        d2.max(0.0).sqrt()
    } else {
        f64::NAN
    }
}

thread_local! {
    /// rustfft plans (and their twiddles) are reused across calls on a
    /// thread: planning a size costs more than running it once.
    static PLANNER: RefCell<FftPlanner<f64>> = RefCell::new(FftPlanner::new());
}

/// Forward and inverse FFTs of one size with a scratch buffer.
pub struct FftPair {
    /// The transform length.
    pub len: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl std::fmt::Debug for FftPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FftPair").field("len", &self.len).finish()
    }
}

impl FftPair {
    /// Plans for size `len` (from the thread's planner).
    pub fn new(len: usize) -> FftPair {
        let (forward, inverse) = PLANNER.with(|p| {
            let mut p = p.borrow_mut();
            (p.plan_fft_forward(len), p.plan_fft_inverse(len))
        });
        let scratch_len = forward
            .get_inplace_scratch_len()
            .max(inverse.get_inplace_scratch_len());
        FftPair {
            len,
            forward,
            inverse,
            scratch: vec![Complex::default(); scratch_len],
        }
    }

    /// The FFT size for a series of `n` points: the next power of two (a
    /// circular correlation of at least `n` points is exact for every window
    /// inside the series).
    pub fn size_for(n: usize) -> usize {
        n.max(1).next_power_of_two()
    }

    /// The spectrum of `x − shift`, zero-padded to `len`. Shifting by the
    /// series' mean keeps the FFT's rounding relative to the series'
    /// variation rather than its level; the correlation with a centred
    /// query does not change (the centred query sums to 0).
    pub fn series_spectrum(&mut self, x: &[f64], shift: f64) -> Vec<Complex<f64>> {
        let mut buf = vec![Complex::default(); self.len];
        for (b, &v) in buf.iter_mut().zip(x) {
            b.re = v - shift;
        }
        self.forward
            .process_with_scratch(&mut buf, &mut self.scratch);
        buf
    }

    /// The spectrum of the reversed centred query, zero-padded to `len`.
    pub fn query_spectrum(&mut self, q: &Query) -> Vec<Complex<f64>> {
        let mut buf = vec![Complex::default(); self.len];
        for (b, &v) in buf.iter_mut().zip(q.centred.iter().rev()) {
            b.re = v;
        }
        self.forward
            .process_with_scratch(&mut buf, &mut self.scratch);
        buf
    }

    /// The centred dot products of every window of a series of `n` points
    /// with the query (`m` points): `out[j] = Σ_t x[j+t] (q_t − μ_q)`, from
    /// the product of the two spectra (`buf` is a reused work buffer). The
    /// inverse FFT is unnormalised, hence `/ len`.
    pub fn sliding_dots(
        &mut self,
        series_spectrum: &[Complex<f64>],
        query_spectrum: &[Complex<f64>],
        n: usize,
        m: usize,
        buf: &mut Vec<Complex<f64>>,
        out: &mut Vec<f64>,
    ) {
        out.clear();
        if m == 0 || n < m || series_spectrum.len() != self.len || query_spectrum.len() != self.len
        {
            return;
        }
        buf.clear();
        buf.extend(
            series_spectrum
                .iter()
                .zip(query_spectrum)
                .map(|(a, b)| a * b),
        );
        self.inverse.process_with_scratch(buf, &mut self.scratch);
        let scale = 1.0 / self.len as f64;
        out.extend(buf[m - 1..n].iter().map(|c| c.re * scale));
    }
}

/// The full sliding distance profile of `query` over `series`: entry `j`
/// is the distance to the window starting at `j`, for `j = 0 ..= n − m`
/// (mass2's profile; mass3's pieces give the same values). Empty when the
/// query is empty or longer than the series.
pub fn distance_profile(series: &[f64], query: &[f64]) -> Vec<f64> {
    let (n, m) = (series.len(), query.len());
    let Some(q) = Query::new(query) else {
        return Vec::new();
    };
    if n < m {
        return Vec::new();
    }
    let stats = window_stats(series, m, 1);
    let shift = series.iter().sum::<f64>() / n as f64;
    let mut fft = FftPair::new(FftPair::size_for(n));
    let xs = fft.series_spectrum(series, shift);
    let qs = fft.query_spectrum(&q);
    let (mut buf, mut dots) = (Vec::new(), Vec::new());
    fft.sliding_dots(&xs, &qs, n, m, &mut buf, &mut dots);
    dots.iter()
        .enumerate()
        .map(|(j, &num)| {
            let constant = q.is_constant() || stats.min[j] == stats.max[j];
            z_distance(num, m, q.std, stats.std[j], constant)
        })
        .collect()
}

/// The distance to the window `w` (same length as the query) by a direct
/// centred dot product.
pub fn window_distance(q: &Query, w: &[f64], mean_w: f64, std_w: f64, constant_w: bool) -> f64 {
    let num: f64 = w
        .iter()
        .zip(&q.centred)
        .map(|(x, c)| (x - mean_w) * c)
        .sum();
    z_distance(num, q.len(), q.std, std_w, constant_w || q.is_constant())
}

/// One distance per non-overlapping aligned window `series[j·m .. (j+1)·m]`
/// (`m = len(query)`, `j = 0 .. floor(n/m)`), as `mass2_batch` computes
/// them before choosing its top matches.
pub fn block_distances(series: &[f64], query: &[f64]) -> Vec<f64> {
    let Some(q) = Query::new(query) else {
        return Vec::new();
    };
    let m = q.len();
    let stats = window_stats(series, m, m);
    (0..stats.len())
        .map(|j| {
            let w = &series[j * m..(j + 1) * m];
            window_distance(
                &q,
                w,
                stats.mean[j],
                stats.std[j],
                stats.min[j] == stats.max[j],
            )
        })
        .collect()
}

/// The `k` smallest distances with their indices, smallest first (NaN
/// last, as numpy's partition orders them). mass2_batch returns the same
/// set unsorted (`argpartition`); ties may pick different indices.
pub fn k_smallest(distances: &[f64], k: usize) -> Vec<(usize, f64)> {
    let mut all: Vec<(usize, f64)> = distances.iter().copied().enumerate().collect();
    all.sort_by(|a, b| nan_last(a.1, b.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

/// Orders distances ascending with NaN after every number.
pub fn nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (false, false) => a.total_cmp(&b),
        (a_nan, b_nan) => a_nan.cmp(&b_nan),
    }
}

/// mass-ts `mass2_batch(series, query, batch_size = len(query), k)`: the
/// `k` best non-overlapping aligned windows as `(start index, distance)`,
/// smallest first.
pub fn mass2_batch(series: &[f64], query: &[f64], top_matches: usize) -> Vec<(usize, f64)> {
    let m = query.len();
    k_smallest(&block_distances(series, query), top_matches)
        .into_iter()
        .map(|(j, d)| (j * m, d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition, window by window.
    fn naive(series: &[f64], query: &[f64]) -> Vec<f64> {
        let m = query.len();
        let q = Query::new(query).unwrap();
        (0..=series.len() - m)
            .map(|j| {
                let w = &series[j..j + m];
                let s = window_stats(w, m, 1);
                window_distance(&q, w, s.mean[0], s.std[0], s.min[0] == s.max[0])
            })
            .collect()
    }

    #[test]
    fn fft_profile_equals_direct_dot_products() {
        let x: Vec<f64> = (0..300)
            .map(|i| 1000.0 + (i as f64 * 0.37).sin() * 10.0 + ((i * 7919) % 13) as f64)
            .collect();
        let q: Vec<f64> = x[120..170].iter().map(|v| v * 1.01 + 3.0).collect();
        let fast = distance_profile(&x, &q);
        let slow = naive(&x, &q);
        assert_eq!(fast.len(), 251);
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        // the scaled copy of window 120 is at distance 0
        assert!(fast[120] < 1e-6);
        let best = k_smallest(&fast, 1)[0];
        assert_eq!(best.0, 120);
    }

    #[test]
    fn constant_windows_and_short_inputs() {
        let mut x = vec![5.0; 40];
        x.extend((0..40).map(|i| i as f64));
        let q: Vec<f64> = (0..10).map(|i| (i * i) as f64).collect();
        let d = distance_profile(&x, &q);
        assert!(d[0].is_nan() && d[30].is_nan());
        assert!(d[45].is_finite());
        assert!(distance_profile(&x[..5], &q).is_empty());
        assert!(distance_profile(&x, &[]).is_empty());
        assert!(distance_profile(&x, &[1.0; 10]).iter().all(|v| v.is_nan()));
        let b = block_distances(&x, &q);
        assert_eq!(b.len(), 8);
        assert!(b[0].is_nan() && b[5].is_finite());
        let top = mass2_batch(&x, &q, 3);
        assert_eq!(top.len(), 3);
        assert!(top.iter().all(|(i, d)| i % 10 == 0 && d.is_finite()));
    }
}
