//! High and low priority metrics, and the MAD pre-filter that lets a busy
//! Analyzer skip low-priority metrics that have barely moved.

/// Whether the 3-sigma algorithms can be skipped for a low-priority metric:
/// with `w` the last `k` values, skip when `|v[n-2] - v[n-1]| < mad`, where
/// `mad = mean(|w - mean(w)|)` — the *mean* absolute deviation around the
/// mean, whatever its name suggests. Never skips when `k == 0` or fewer than
/// `k` values are available.
pub fn mad_prefilter_skips(values: &[f64], k: usize) -> bool {
    let n = values.len();
    if k == 0 || n < k || n < 2 {
        return false;
    }
    let w = &values[n - k..];
    let m = w.iter().sum::<f64>() / k as f64;
    let mad = w.iter().map(|v| (v - m).abs()).sum::<f64>() / k as f64;
    (values[n - 2] - values[n - 1]).abs() < mad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_last_change_is_skipped() {
        // w = [0, 2, 0, 2, ..., 0, 2] (k = 10): mean 1, mean abs dev 1.
        let mut v: Vec<f64> = (0..10).map(|i| (i % 2 * 2) as f64).collect();
        assert!(!mad_prefilter_skips(&v, 10), "last change 2 ≥ 1");
        v.push(1.5); // window is now [2,0,...,2,1.5]; change 0.5 < its mad
        assert!(mad_prefilter_skips(&v, 10));
        assert!(!mad_prefilter_skips(&v, 0));
        assert!(!mad_prefilter_skips(&v, 50), "too few values");
    }
}
