use numeric::{linear_fit, sample_std};

use super::Vote;

/// Anomalous when the mean of the last three residuals from a straight-line
/// fit over the whole window is beyond three sample standard deviations of
/// the residuals, and neither rounds to zero:
///
/// fit `v = m·t + c` (numpy `lstsq`, raw epoch seconds as `t`),
/// `e = v - (m·t + c)`, `s = std(e, ddof=1)`, `r = (e[n-1]+e[n-2]+e[n-3])/3`,
/// anomalous iff `|r| > 3s` and `round(s) != 0` and `round(r) != 0`, with
/// Python's half-to-even `round` (so `round(x) == 0` iff `|x| <= 0.5`).
/// Fewer than three points: False. All timestamps equal (impossible for a
/// de-duplicated window): no vote.
pub fn least_squares(timestamps: &[i64], values: &[f64]) -> Vote {
    let n = values.len();
    if n < 3 {
        return Vote::NotAnomalous;
    }
    let x: Vec<f64> = timestamps.iter().map(|&t| t as f64).collect();
    let Ok((m, c)) = linear_fit(&x, values) else {
        return Vote::Error;
    };
    let errors: Vec<f64> = x
        .iter()
        .zip(values)
        .map(|(xi, v)| v - (m * xi + c))
        .collect();
    let s = sample_std(&errors);
    let r = (errors[n - 1] + errors[n - 2] + errors[n - 3]) / 3.0;
    Vote::from_bool(r.abs() > 3.0 * s && s.round_ties_even() != 0.0 && r.round_ties_even() != 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: i64, amplitude: f64) -> (Vec<i64>, Vec<f64>) {
        let ts: Vec<i64> = (0..n).map(|i| 1_400_000_000 + i * 60).collect();
        // a line plus a ±amplitude zig-zag
        let vs = (0..n)
            .map(|i| 0.5 * i as f64 + if i % 2 == 0 { amplitude } else { -amplitude })
            .collect();
        (ts, vs)
    }

    #[test]
    fn tail_off_the_line_fires() {
        let (ts, mut vs) = ramp(200, 2.0);
        let n = vs.len();
        for v in &mut vs[n - 3..] {
            *v += 40.0;
        }
        assert_eq!(least_squares(&ts, &vs), Vote::Anomalous);
    }

    #[test]
    fn on_the_line_does_not_fire() {
        let (ts, vs) = ramp(200, 2.0);
        assert_eq!(least_squares(&ts, &vs), Vote::NotAnomalous);
    }

    #[test]
    fn residuals_rounding_to_zero_do_not_fire() {
        // zig-zag of ±0.1 and a tail 2.0 off the line: |r| ≈ 2 > 3s, r
        // rounds to 2, but s ≈ 0.26 rounds to 0, which alone stops it.
        let (ts, mut vs) = ramp(200, 0.1);
        let n = vs.len();
        for v in &mut vs[n - 3..] {
            *v += 2.0;
        }
        assert_eq!(least_squares(&ts, &vs), Vote::NotAnomalous);
    }

    #[test]
    fn fewer_than_three_points_is_false() {
        assert_eq!(least_squares(&[1, 2], &[1.0, 9.0]), Vote::NotAnomalous);
    }
}
