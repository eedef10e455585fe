//! Continuous wavelet transform with the Ricker wavelet, and scipy's CWT
//! peak finder.

use std::f64::consts::PI;

/// scipy's `ricker(points, a)` (the Mexican hat): for `t = j - (points-1)/2`,
/// `2/(sqrt(3a)·π^¼) · (1 - t²/a²) · exp(-t²/(2a²))`.
pub fn ricker(points: usize, a: f64) -> Vec<f64> {
    let amp = 2.0 / ((3.0 * a).sqrt() * PI.powf(0.25));
    let wsq = a * a;
    let centre = (points as f64 - 1.0) / 2.0;
    (0..points)
        .map(|j| {
            let v = j as f64 - centre;
            let xsq = v * v;
            amp * (1.0 - xsq / wsq) * (-xsq / (2.0 * wsq)).exp()
        })
        .collect()
}

/// Output `i` of `convolve(x, kernel, mode="same")`: the full convolution
/// at `i + (len(kernel)-1)/2`, i.e. `Σ_j x[j]·kernel[i + c - j]`, summed
/// in ascending `j` as numpy's `correlate` does.
///
/// `find_peaks_cwt` compares neighbouring CWT values with a strict `>`, so
/// where two neighbours are equal in exact arithmetic (mirror-image windows
/// of the data) the last bit decides. numpy's vectorised `exp` (AVX-512)
/// differs from the C library's by an ulp on some Ricker samples, so on
/// long series the peak count can differ from scipy's by one or two in a
/// thousand; see the reference test.
#[inline]
fn convolve_same_at(x: &[f64], kernel: &[f64], i: usize) -> f64 {
    let l = kernel.len();
    let full = i + (l - 1) / 2;
    // j over max(0, full-l+1) ..= min(full, n-1)
    let j_lo = (full + 1).saturating_sub(l);
    let j_hi = full.min(x.len() - 1);
    let mut s = 0.0;
    for j in j_lo..=j_hi {
        s += x[j] * kernel[full - j];
    }
    s
}

/// One row of scipy's `cwt(x, ricker, widths)`: the Ricker wavelet of
/// width `a` sampled on `min(10a, n)` points, convolved with `x` in `same`
/// mode (centred, length `n`).
pub fn cwt_row(x: &[f64], width: usize) -> Vec<f64> {
    let n = x.len();
    if n == 0 || width == 0 {
        return Vec::new();
    }
    let kernel = ricker((10 * width).min(n), width as f64);
    let l = kernel.len();
    let krev: Vec<f64> = kernel.iter().rev().copied().collect();
    let mut out = vec![0.0; n];
    // outputs whose kernel lies wholly inside x: i + (l-1)/2 in [l-1, n-1]
    let first = l - 1 - (l - 1) / 2;
    let last = n - 1 - (l - 1) / 2; // inclusive
    let mut i = 0;
    while i < n {
        if i >= first && i + LANES - 1 <= last {
            // LANES outputs at once, each summed in the same ascending order
            // as the scalar path (so bitwise identical), for throughput
            let a = i + (l - 1) / 2 + 1 - l;
            let mut acc = [0.0f64; LANES];
            for (t, &k) in krev.iter().enumerate() {
                let w = &x[a + t..a + t + LANES];
                for q in 0..LANES {
                    acc[q] += w[q] * k;
                }
            }
            out[i..i + LANES].copy_from_slice(&acc);
            i += LANES;
        } else {
            out[i] = convolve_same_at(x, &kernel, i);
            i += 1;
        }
    }
    out
}

/// Outputs computed together by [`cwt_row`].
const LANES: usize = 8;

/// `cwt_coefficients(widths, coeff, w)` for `coeff = 0..coeffs` and one
/// width `w`: `cwt(x, ricker, widths)[w][coeff]`, the first `coeffs`
/// values of the row for width `w` (each row depends only on its own width,
/// so the other widths need not be computed). NaN for `coeff ≥ n`.
///
/// scipy semantics (tsfresh 0.20.3 and Skyline's pinned fork). Upstream
/// tsfresh ≥ 0.21 uses PyWavelets' `mexh` CWT, which gives other numbers.
pub fn cwt_coefficients(x: &[f64], width: usize, coeffs: usize) -> Vec<f64> {
    if x.is_empty() || width == 0 {
        return vec![f64::NAN; coeffs];
    }
    let kernel = ricker((10 * width).min(x.len()), width as f64);
    (0..coeffs)
        .map(|i| {
            if i < x.len() {
                convolve_same_at(x, &kernel, i)
            } else {
                f64::NAN
            }
        })
        .collect()
}

/// `x[i] > x[i-1] && x[i] > x[i+1]` with the ends clipped (so never at the
/// ends): scipy's `argrelmax(order=1)`.
fn relative_maxima(row: &[f64]) -> Vec<usize> {
    let n = row.len();
    (1..n.saturating_sub(1))
        .filter(|&i| row[i] > row[i - 1] && row[i] > row[i + 1])
        .collect()
}

/// A ridge line: `(rows, cols)` as scipy keeps them, plus its gap counter.
struct Ridge {
    rows: Vec<usize>,
    cols: Vec<usize>,
    gap: usize,
}

/// The peaks of scipy's `find_peaks_cwt(x, widths = 1..=max_width,
/// wavelet = ricker)` with its defaults (`max_distances = widths/4`,
/// `gap_thresh = ceil(widths[0])`, `min_length = ceil(len(widths)/4)`,
/// `min_snr = 1`, `noise_perc = 10`, `window_size = ceil(n/20)`): ridge
/// lines of CWT relative maxima are followed from the widest row down,
/// joining a maximum to the nearest line within `max_distances[row]` and
/// closing lines whose gap exceeds `gap_thresh`; a line is a peak when it
/// spans at least `min_length` rows and the CWT at its lowest row is at
/// least `min_snr` times the 10th percentile of the width-1 row around it.
/// Returns the peak columns, sorted.
pub fn find_peaks_cwt(x: &[f64], max_width: usize) -> Vec<usize> {
    let rows: Vec<Vec<f64>> = (1..=max_width).map(|w| cwt_row(x, w)).collect();
    find_peaks_in_cwt(x.len(), &rows)
}

/// [`find_peaks_cwt`] given the CWT rows for widths `1..=rows.len()`, so
/// that several `max_width`s can share them.
pub(crate) fn find_peaks_in_cwt(n: usize, cwt: &[Vec<f64>]) -> Vec<usize> {
    if n == 0 || cwt.is_empty() {
        return Vec::new();
    }
    let widths: Vec<usize> = (1..=cwt.len()).collect();
    let max_distances: Vec<f64> = widths.iter().map(|&w| w as f64 / 4.0).collect();
    let gap_thresh = widths[0];
    let maxima: Vec<Vec<usize>> = cwt.iter().map(|row| relative_maxima(row)).collect();

    // identify ridge lines, top row (widest) first
    let Some(start_row) = (0..widths.len()).rev().find(|&r| !maxima[r].is_empty()) else {
        return Vec::new();
    };
    let mut ridges: Vec<Ridge> = maxima[start_row]
        .iter()
        .map(|&c| Ridge {
            rows: vec![start_row],
            cols: vec![c],
            gap: 0,
        })
        .collect();
    let mut finished: Vec<Ridge> = Vec::new();
    for row in (0..start_row).rev() {
        for r in &mut ridges {
            r.gap += 1;
        }
        // the last column of each line before this row, sorted by (column,
        // line index) so the nearest line (first index on ties, as numpy's
        // argmin) is a binary search away
        let mut prev: Vec<(usize, usize)> = ridges
            .iter()
            .enumerate()
            .map(|(k, r)| (*r.cols.last().unwrap(), k))
            .collect();
        prev.sort_unstable();
        for &col in &maxima[row] {
            let mut target = None;
            if !prev.is_empty() {
                let at = prev.partition_point(|&(c, _)| c < col);
                // nearest on the left: the first entry of the group with the
                // largest column below `col`
                let left = (at > 0).then(|| {
                    let c = prev[at - 1].0;
                    prev[prev.partition_point(|&(pc, _)| pc < c)]
                });
                // nearest on the right (or equal): first entry of its group
                let right = prev.get(at).copied();
                let best = match (left, right) {
                    (Some(l), Some(r)) => {
                        let (dl, dr) = (col - l.0, r.0 - col);
                        if dl < dr || (dl == dr && l.1 < r.1) {
                            l
                        } else {
                            r
                        }
                    }
                    (Some(l), None) => l,
                    (None, Some(r)) => r,
                    (None, None) => unreachable!("prev is not empty"),
                };
                if best.0.abs_diff(col) as f64 <= max_distances[row] {
                    target = Some(best.1);
                }
            }
            match target {
                Some(k) => {
                    let r = &mut ridges[k];
                    r.cols.push(col);
                    r.rows.push(row);
                    r.gap = 0;
                }
                None => ridges.push(Ridge {
                    rows: vec![row],
                    cols: vec![col],
                    gap: 0,
                }),
            }
        }
        // close the lines whose gap got too large (order kept: it decides
        // ties above)
        let (closed, open): (Vec<Ridge>, Vec<Ridge>) =
            ridges.into_iter().partition(|r| r.gap > gap_thresh);
        finished.extend(closed);
        ridges = open;
    }
    finished.extend(ridges);

    // scipy reorders each line with `rows[argsort(rows)] = rows` (a scatter
    // through the sort permutation); only the first entry is used below
    let lines: Vec<(Vec<usize>, Vec<usize>)> = finished
        .into_iter()
        .map(|r| {
            let mut order: Vec<usize> = (0..r.rows.len()).collect();
            order.sort_by_key(|&i| r.rows[i]);
            let mut rows = vec![0; r.rows.len()];
            let mut cols = vec![0; r.rows.len()];
            for (k, &o) in order.iter().enumerate() {
                rows[o] = r.rows[k];
                cols[o] = r.cols[k];
            }
            (rows, cols)
        })
        .collect();

    // filter by length and signal-to-noise ratio
    let min_length = widths.len().div_ceil(4);
    let window_size = n.div_ceil(20);
    let (hf, odd) = (window_size / 2, window_size % 2);
    let candidates: Vec<(Vec<usize>, Vec<usize>)> = lines
        .into_iter()
        .filter(|(rows, _)| rows.len() >= min_length)
        .collect();
    let mut needed: Vec<usize> = candidates.iter().map(|(_, cols)| cols[0]).collect();
    needed.sort_unstable();
    needed.dedup();
    let noise = SlidingPercentile::new(&cwt[0]).at(&needed, hf, odd, 10.0);
    let mut peaks: Vec<usize> = candidates
        .into_iter()
        .filter(|(rows, cols)| {
            let c = cols[0];
            let k = needed
                .binary_search(&c)
                .expect("noise computed for every column");
            let snr = (cwt[rows[0]][c] / noise[k]).abs();
            // a NaN SNR passes: scipy tests `snr < min_snr`
            snr >= 1.0 || snr.is_nan()
        })
        .map(|(_, cols)| cols[0])
        .collect();
    peaks.sort_unstable();
    peaks
}

/// scipy's `scoreatpercentile` of the windows `row[c-hf .. c+hf+odd]`
/// (clipped to the row) for increasing columns `c`, with the window's
/// values kept in a Fenwick tree over their ranks: O(log n) per value
/// entering or leaving and per order statistic, instead of sorting every
/// window.
struct SlidingPercentile<'a> {
    row: &'a [f64],
    /// rank of each row value in the sorted row (ties broken by index)
    rank: Vec<usize>,
    /// row values in rank order
    by_rank: Vec<f64>,
    tree: Vec<u32>,
}

impl<'a> SlidingPercentile<'a> {
    fn new(row: &'a [f64]) -> Self {
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_unstable_by(|&a, &b| row[a].total_cmp(&row[b]).then(a.cmp(&b)));
        let mut rank = vec![0; row.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r;
        }
        let by_rank = order.iter().map(|&i| row[i]).collect();
        SlidingPercentile {
            row,
            rank,
            by_rank,
            tree: vec![0; row.len() + 1],
        }
    }

    fn add(&mut self, i: usize, delta: i32) {
        let mut k = self.rank[i] + 1;
        while k < self.tree.len() {
            self.tree[k] = (self.tree[k] as i32 + delta) as u32;
            k += k & k.wrapping_neg();
        }
    }

    /// The `k`-th smallest (0-based) value in the window.
    fn kth(&self, k: usize) -> f64 {
        let mut pos = 0;
        let mut remaining = k as u32 + 1;
        let mut step = (self.tree.len()).next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && self.tree[next] < remaining {
                pos = next;
                remaining -= self.tree[next];
            }
            step /= 2;
        }
        self.by_rank[pos]
    }

    fn at(mut self, cols: &[usize], hf: usize, odd: usize, per: f64) -> Vec<f64> {
        let n = self.row.len();
        let (mut lo, mut hi) = (0usize, 0usize); // current window [lo, hi)
        cols.iter()
            .map(|&c| {
                let start = c.saturating_sub(hf);
                let end = (c + hf + odd).min(n);
                while hi < end {
                    self.add(hi, 1);
                    hi += 1;
                }
                while lo < start {
                    if lo < hi {
                        self.add(lo, -1);
                    }
                    lo += 1;
                }
                hi = hi.max(lo);
                let len = end.saturating_sub(start);
                if len == 0 {
                    return f64::NAN;
                }
                // "fraction" interpolation between order statistics
                let idx = per / 100.0 * (len - 1) as f64;
                let i = idx as usize;
                let low = self.kth(i);
                if i as f64 == idx {
                    return low;
                }
                let high = self.kth(i + 1);
                let j = (i + 1) as f64;
                let (w0, w1) = (j - idx, idx - i as f64);
                (low * w0 + high * w1) / (w0 + w1)
            })
            .collect()
    }
}

/// `number_cwt_peaks(n)`: the number of peaks scipy's `find_peaks_cwt`
/// finds with widths `1..=n` and the Ricker wavelet (see [`find_peaks_cwt`]).
pub fn number_cwt_peaks(x: &[f64], n: usize) -> f64 {
    find_peaks_cwt(x, n).len() as f64
}

/// [`number_cwt_peaks`] for several `n`, computing each CWT row once.
pub fn number_cwt_peaks_many(x: &[f64], ns: &[usize]) -> Vec<f64> {
    let max = ns.iter().copied().max().unwrap_or(0);
    let rows: Vec<Vec<f64>> = (1..=max).map(|w| cwt_row(x, w)).collect();
    ns.iter()
        .map(|&k| find_peaks_in_cwt(x.len(), &rows[..k]).len() as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ricker_is_symmetric_and_peaks_at_the_centre() {
        let w = ricker(11, 2.0);
        for j in 0..11 {
            assert_eq!(w[j], w[10 - j]);
        }
        let amp = 2.0 / ((6.0f64).sqrt() * PI.powf(0.25));
        assert!((w[5] - amp).abs() < 1e-15);
    }

    #[test]
    fn same_mode_convolution_by_hand() {
        // kernel [1, 2, 3] (length 3, offset 1): same[i] = full[i+1]
        let x = [1.0, 0.0, 0.0, 2.0];
        let k = [1.0, 2.0, 3.0];
        let got: Vec<f64> = (0..4).map(|i| convolve_same_at(&x, &k, i)).collect();
        // full = [1, 2, 3, 2, 4, 6]
        assert_eq!(got, vec![2.0, 3.0, 2.0, 4.0]);
    }

    #[test]
    fn one_clear_peak() {
        let x: Vec<f64> = (0..100)
            .map(|i| (-((i as f64 - 50.0) / 4.0).powi(2)).exp())
            .collect();
        // scipy reports 51 for this peak too (the CWT maximum of the widest
        // rows sits one column right of centre)
        assert_eq!(find_peaks_cwt(&x, 5), vec![51]);
        // the blocked row equals the scalar convolution bit for bit
        let y: Vec<f64> = (0..200).map(|i| ((i * 31 % 17) as f64).sqrt()).collect();
        for w in 1..=5 {
            let row = cwt_row(&y, w);
            let k = ricker((10 * w).min(200), w as f64);
            for (i, v) in row.iter().enumerate() {
                assert_eq!(v.to_bits(), convolve_same_at(&y, &k, i).to_bits());
            }
        }
    }
}
