//! Peaks.

/// `number_peaks(n)`: the number of indices `i` in `[n, len-n)` where
/// `x[i]` is strictly greater than each of its `n` neighbours on both
/// sides, `x[i] > x[i±k]` for `k = 1..=n`.
pub fn number_peaks(x: &[f64], n: usize) -> f64 {
    let len = x.len();
    if len <= 2 * n {
        return 0.0;
    }
    (n..len - n)
        .filter(|&i| (1..=n).all(|k| x[i] > x[i - k] && x[i] > x[i + k]))
        .count() as f64
}

/// `large_number_of_peaks(n)` (fork only; today's tsfresh dropped it):
/// `number_peaks(x, n) > 5`.
pub fn large_number_of_peaks(x: &[f64], n: usize) -> f64 {
    super::flag(number_peaks(x, n) > 5.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        let x = [3.0, 0.0, 0.0, 4.0, 0.0, 0.0, 13.0];
        assert_eq!(number_peaks(&x, 1), 1.0);
        assert_eq!(number_peaks(&x, 2), 1.0);
        assert_eq!(number_peaks(&x, 3), 0.0);
        assert_eq!(number_peaks(&[1.0, 2.0, 2.0, 1.0], 1), 0.0);
    }
}
