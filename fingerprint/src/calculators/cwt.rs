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
    if x.is_empty() || width == 0 {
        return Vec::new();
    }
    let kernel = ricker((10 * width).min(x.len()), width as f64);
    (0..x.len())
        .map(|i| convolve_same_at(x, &kernel, i))
        .collect()
}

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

/// scipy's `scoreatpercentile(window, per)` ("fraction" interpolation):
/// `idx = per/100·(len-1)`; `s[i]` if integral, otherwise
/// `(s[i]·(i+1-idx) + s[i+1]·(idx-i)) / ((i+1-idx) + (idx-i))`.
fn score_at_percentile(window: &mut [f64], per: f64) -> f64 {
    let len = window.len();
    if len == 0 {
        return f64::NAN;
    }
    let idx = per / 100.0 * (len - 1) as f64;
    let i = idx as usize;
    let (_, lo, rest) = window.select_nth_unstable_by(i, f64::total_cmp);
    let lo = *lo;
    if i as f64 == idx {
        return lo;
    }
    let hi = rest.iter().copied().fold(f64::INFINITY, f64::min);
    let j = (i + 1) as f64;
    let (w0, w1) = (j - idx, idx - i as f64);
    (lo * w0 + hi * w1) / (w0 + w1)
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
    let n = x.len();
    if n == 0 || max_width == 0 {
        return Vec::new();
    }
    let widths: Vec<usize> = (1..=max_width).collect();
    let cwt: Vec<Vec<f64>> = widths.iter().map(|&w| cwt_row(x, w)).collect();
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
        let prev_cols: Vec<usize> = ridges.iter().map(|r| *r.cols.last().unwrap()).collect();
        for &col in &maxima[row] {
            let mut target = None;
            if !prev_cols.is_empty() {
                // nearest previous column, first on ties (numpy argmin)
                let mut best = 0;
                for (k, &pc) in prev_cols.iter().enumerate() {
                    if pc.abs_diff(col) < prev_cols[best].abs_diff(col) {
                        best = k;
                    }
                }
                if prev_cols[best].abs_diff(col) as f64 <= max_distances[row] {
                    target = Some(best);
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
        // close the lines whose gap got too large (scanning backwards)
        let mut k = ridges.len();
        while k > 0 {
            k -= 1;
            if ridges[k].gap > gap_thresh {
                finished.push(ridges.remove(k));
            }
        }
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
    let row_one = &cwt[0];
    let mut scratch = Vec::with_capacity(window_size + 1);
    let mut peaks: Vec<usize> = lines
        .into_iter()
        .filter(|(rows, cols)| {
            if rows.len() < min_length {
                return false;
            }
            let c = cols[0];
            let start = c.saturating_sub(hf);
            let end = (c + hf + odd).min(n);
            scratch.clear();
            scratch.extend_from_slice(&row_one[start..end]);
            let noise = score_at_percentile(&mut scratch, 10.0);
            let snr = (cwt[rows[0]][c] / noise).abs();
            // NaN SNR passes, as `snr < min_snr` is false in scipy
            snr >= 1.0 || snr.is_nan()
        })
        .map(|(_, cols)| cols[0])
        .collect();
    peaks.sort_unstable();
    peaks
}

/// `number_cwt_peaks(n)`: the number of peaks scipy's `find_peaks_cwt`
/// finds with widths `1..=n` and the Ricker wavelet (see [`find_peaks_cwt`]).
pub fn number_cwt_peaks(x: &[f64], n: usize) -> f64 {
    find_peaks_cwt(x, n).len() as f64
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
    }
}
