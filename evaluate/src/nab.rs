//! The NAB scorer: how well a detector's alerts on one series match that
//! series' labelled anomaly windows, as the Numenta Anomaly Benchmark scores
//! detectors.
//!
//! Followed: NAB v1.1's published scoring, `nab/sweeper.py` (the scaled
//! sigmoid, the probationary period, the per-row weights, one best detection
//! per window) and `nab/runner.py`'s normalisation against the null and
//! perfect detectors, with the cost profiles of NAB's `config/profiles.json`;
//! and the paper, Lavin & Ahmad (2015), "Evaluating Real-time Anomaly
//! Detection Algorithms – the Numenta Anomaly Benchmark".
//!
//! In short, for a series of `n` rows:
//!
//! * rows before the probationary length `min(⌊0.15 n⌋, 750)` are ignored;
//! * a detection at row `i` inside a window of rows `[L, R]`, width
//!   `W = R - L + 1`, is worth `σ(-(R - i + 1)/W) · tp / σ(-1)` (exactly `tp`
//!   at `L`, falling towards 0 at `R`), and only a window's best detection
//!   counts; a window without one costs `-fn`;
//! * a detection outside every window costs `σ(|R_p - i|/(W_p - 1)) · fp`
//!   after a window `[L_p, R_p]` of width `W_p`, and `-fp` before any window;
//! * `σ(x) = 2/(1 + e^{5x}) - 1`, and `-1` from `x = 3` on.
//!
//! Two deliberate differences from the Python, where it would fail: window
//! bounds need not be row timestamps (a window takes the rows it covers), and
//! a one-row window followed by a false positive does not divide by zero.

use std::ops::{Add, AddAssign};

use crate::windows_file::Window;

/// The weights of a true positive, a false positive and a missed window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostProfile {
    /// NAB's name of the profile.
    pub name: &'static str,
    /// Weight of a detection at a window's first row.
    pub tp: f64,
    /// Weight of a false positive far from any window.
    pub fp: f64,
    /// Cost of a window without a detection.
    pub fn_weight: f64,
}

/// NAB's standard profile.
pub const STANDARD: CostProfile = CostProfile {
    name: "standard",
    tp: 1.0,
    fp: 0.11,
    fn_weight: 1.0,
};

/// NAB's profile that doubles the cost of a false positive.
pub const LOW_FP: CostProfile = CostProfile {
    name: "reward_low_FP_rate",
    tp: 1.0,
    fp: 0.22,
    fn_weight: 1.0,
};

/// NAB's profile that doubles the cost of a missed window.
pub const LOW_FN: CostProfile = CostProfile {
    name: "reward_low_FN_rate",
    tp: 1.0,
    fp: 0.11,
    fn_weight: 2.0,
};

/// The three NAB profiles, in NAB's order.
pub const PROFILES: [CostProfile; 3] = [STANDARD, LOW_FP, LOW_FN];

/// The NAB profile of that name (`standard`, `reward_low_FP_rate`,
/// `reward_low_FN_rate`), if any.
pub fn profile(name: &str) -> Option<CostProfile> {
    PROFILES.into_iter().find(|profile| profile.name == name)
}

/// NAB's scaled sigmoid of a position relative to a window's right edge:
/// `2/(1 + e^{5x}) - 1` (that is `2·sigmoid(-5x) - 1`), and exactly `-1` from
/// `x = 3` on, where the curve has all but reached it.
///
/// Positions in `[-1, 0)` lie inside a window (`σ(-1) ≈ 0.98661`,
/// `σ(0) = 0`); positive positions lie after it (`σ(1) ≈ -0.98661`).
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x >= 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// The probationary length of a series of `rows` rows: `min(⌊0.15 rows⌋,
/// 0.15 · 5000 = 750)`. Rows with a smaller index are not scored, as a
/// detector is still learning there.
pub fn probationary_length(rows: usize) -> usize {
    const CAP: usize = 750;
    if rows >= 5000 {
        return CAP;
    }
    // Integer arithmetic gives ⌊15 rows / 100⌋ exactly; rows < 5000 so no
    // overflow.
    (rows * 15 / 100).min(CAP)
}

/// One series' (or a corpus') NAB score: the detector's raw score beside those
/// of the null detector (never fires) and the perfect detector (fires at every
/// scorable window's first row).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct NabScore {
    /// The detector's raw score.
    pub raw: f64,
    /// The null detector's: `-fn` per scorable window.
    pub null: f64,
    /// The perfect detector's: `tp` per scorable window.
    pub perfect: f64,
}

impl NabScore {
    /// The normalised score, `100 · (raw - null) / (perfect - null)`: 0 for
    /// the null detector, 100 for the perfect one, negative when worse than
    /// never firing. `None` when there is nothing to detect
    /// (`perfect == null`), as no scale exists then.
    pub fn normalised(&self) -> Option<f64> {
        let span = self.perfect - self.null;
        if span == 0.0 || !span.is_finite() {
            return None;
        }
        Some(100.0 * (self.raw - self.null) / span)
    }
}

impl AddAssign for NabScore {
    /// Corpus totals add raw, null and perfect separately, and normalise the
    /// sums, as NAB does.
    fn add_assign(&mut self, other: NabScore) {
        self.raw += other.raw;
        self.null += other.null;
        self.perfect += other.perfect;
    }
}

impl Add for NabScore {
    type Output = NabScore;

    fn add(mut self, other: NabScore) -> NabScore {
        self += other;
        self
    }
}

/// A window as the series' rows it covers, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RowWindow {
    left: usize,
    right: usize,
}

impl RowWindow {
    fn width(&self) -> usize {
        self.right - self.left + 1
    }
}

/// Where a detection falls and what it is worth.
enum Placement {
    /// Inside the window of that index, with its weighted true-positive score.
    Inside(usize, f64),
    /// Outside every window, with its weighted (negative) score.
    Outside(f64),
}

/// The windows as row ranges, in order: from the first row at or after the
/// start to the last row at or before the end. Windows covering no row are
/// dropped. Overlapping windows (NAB's never do) are merged, so every row
/// belongs to at most one window and one detection cannot count twice.
fn row_windows(timestamps: &[i64], windows: &[Window]) -> Vec<RowWindow> {
    let mut sorted = windows.to_vec();
    sorted.sort_by_key(|window| (window.start, window.end));
    let mut rows: Vec<RowWindow> = Vec::with_capacity(sorted.len());
    for window in sorted {
        let left = timestamps.partition_point(|&t| t < window.start);
        let past_end = timestamps.partition_point(|&t| t <= window.end);
        if past_end <= left {
            continue;
        }
        let right = past_end - 1;
        match rows.last_mut() {
            Some(previous) if left <= previous.right => {
                previous.right = previous.right.max(right);
            }
            _ => rows.push(RowWindow { left, right }),
        }
    }
    rows
}

/// NAB's weight of a detection at row `row`.
fn place(row: usize, windows: &[RowWindow], profile: &CostProfile) -> Placement {
    // The last window starting at or before the row, if any.
    let starting_before = windows.partition_point(|window| window.left <= row);
    let Some(index) = starting_before.checked_sub(1) else {
        // Before any window: as far from one as the sigmoid measures.
        return Placement::Outside(scaled_sigmoid(3.0) * profile.fp);
    };
    let window = windows[index];
    if row <= window.right {
        // Position in [-1, 0): -1 at the first row, -1/W at the last.
        let position = -((window.right - row + 1) as f64) / window.width() as f64;
        let score = scaled_sigmoid(position) * profile.tp / scaled_sigmoid(-1.0);
        return Placement::Inside(index, score);
    }
    let score = if window.width() == 1 {
        // NAB divides the distance by W - 1, which is zero here (the Python
        // raises). As W - 1 shrinks the position grows without bound, so the
        // limit, a far false positive, is the consistent value.
        scaled_sigmoid(3.0)
    } else {
        scaled_sigmoid((row - window.right) as f64 / (window.width() - 1) as f64)
    };
    Placement::Outside(score * profile.fp)
}

/// Scores one series.
///
/// `timestamps`: the series' rows, sorted ascending; `windows`: its labelled
/// windows (any order); `detections`: timestamps of rows where the detector
/// fired, in any order, duplicates and timestamps not in the series ignored.
///
/// The raw score is, over scorable windows (those with a row past the
/// probationary period), the best weighted score of a detection in the window
/// past probation, or `-fn` without one; plus the weighted (negative) scores
/// of detections past probation outside every window.
pub fn score(
    timestamps: &[i64],
    windows: &[Window],
    detections: &[i64],
    profile: &CostProfile,
) -> NabScore {
    let probation = probationary_length(timestamps.len());
    let windows = row_windows(timestamps, windows);

    let mut rows: Vec<usize> = detections
        .iter()
        .filter_map(|&detection| {
            let row = timestamps.partition_point(|&t| t < detection);
            (timestamps.get(row) == Some(&detection)).then_some(row)
        })
        .filter(|&row| row >= probation)
        .collect();
    rows.sort_unstable();
    rows.dedup();

    // NAB starts every window at -fn and keeps the maximum, so a window's
    // best detection replaces the miss and further ones add nothing.
    let mut window_scores = vec![-profile.fn_weight; windows.len()];
    let mut false_positives = 0.0;
    for row in rows {
        match place(row, &windows, profile) {
            Placement::Inside(index, weighted) => {
                window_scores[index] = window_scores[index].max(weighted);
            }
            Placement::Outside(weighted) => false_positives += weighted,
        }
    }

    let mut raw = false_positives;
    let mut scorable = 0usize;
    for (window, window_score) in windows.iter().zip(&window_scores) {
        // A window wholly inside probation is not scored at all; a detection
        // in it was dropped above, as its rows all precede `probation`.
        if window.right >= probation {
            scorable += 1;
            raw += window_score;
        }
    }
    NabScore {
        raw,
        null: -profile.fn_weight * scorable as f64,
        perfect: profile.tp * scorable as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tolerance for the hand arithmetic, carried to 1e-9 below.
    const CLOSE: f64 = 1e-9;

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < CLOSE,
            "expected {expected}, got {actual}"
        );
    }

    /// A series of `n` rows a minute apart, from t = 0.
    fn minutes(n: usize) -> Vec<i64> {
        (0..n as i64).map(|row| row * 60).collect()
    }

    /// The window covering rows `left..=right` of [`minutes`].
    fn rows(left: i64, right: i64) -> Window {
        Window {
            start: left * 60,
            end: right * 60,
        }
    }

    /// Detections at these rows of [`minutes`].
    fn at(rows: &[i64]) -> Vec<i64> {
        rows.iter().map(|row| row * 60).collect()
    }

    // The identity behind the numbers: 2/(1 + e^{5x}) - 1 = -tanh(2.5 x).
    // tanh(2.5) = 0.986614298151430, tanh(1.25) = 0.848283639957513,
    // tanh(0.25) = 0.244918662403709, tanh(2.5/9) = 0.2708471185...,
    // tanh(5) = 0.999909204262595.

    #[test]
    fn scaled_sigmoid_matches_nab_points() {
        assert!((scaled_sigmoid(-1.0) - 0.98661).abs() < 1e-5);
        assert!((scaled_sigmoid(-0.5) - 0.84828).abs() < 1e-5);
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(1.0) + 0.98661).abs() < 1e-5);
        // The cut-off: exactly -1 from 3 on, just above -1 before it.
        assert_eq!(scaled_sigmoid(3.0), -1.0);
        assert_eq!(scaled_sigmoid(100.0), -1.0);
        assert!(scaled_sigmoid(2.99) > -1.0);
    }

    #[test]
    fn probationary_length_is_fifteen_percent_capped_at_750() {
        assert_eq!(probationary_length(0), 0);
        assert_eq!(probationary_length(6), 0); // ⌊0.9⌋
        assert_eq!(probationary_length(7), 1); // ⌊1.05⌋
        assert_eq!(probationary_length(100), 15);
        assert_eq!(probationary_length(4999), 749); // ⌊749.85⌋
        assert_eq!(probationary_length(5000), 750);
        assert_eq!(probationary_length(4032), 604); // ⌊604.8⌋, a NAB AWS series
        assert_eq!(probationary_length(usize::MAX), 750);
    }

    #[test]
    fn profiles_by_name() {
        assert_eq!(profile("standard"), Some(STANDARD));
        assert_eq!(profile("reward_low_FP_rate"), Some(LOW_FP));
        assert_eq!(profile("reward_low_FN_rate"), Some(LOW_FN));
        assert_eq!(profile("lenient"), None);
    }

    // The common fixture: 100 rows (probation 15), one window on rows 40..=49
    // (W = 10).

    #[test]
    fn detection_at_the_first_row_is_worth_tp_exactly() {
        // -(49 - 40 + 1)/10 = -1, so σ(-1)·tp/σ(-1) = tp.
        let result = score(&minutes(100), &[rows(40, 49)], &at(&[40]), &STANDARD);
        assert_close(result.raw, 1.0);
        assert_close(result.null, -1.0);
        assert_close(result.perfect, 1.0);
        assert_close(result.normalised().expect("a window"), 100.0);
    }

    #[test]
    fn detection_at_the_last_row_is_worth_little() {
        // -(49 - 49 + 1)/10 = -0.1; σ(-0.1) = tanh(0.25) = 0.244918662403709;
        // / σ(-1) = 0.244918662403709 / 0.986614298151430 = 0.2482415498...
        let result = score(&minutes(100), &[rows(40, 49)], &at(&[49]), &STANDARD);
        assert_close(result.raw, 0.244918662403709 / 0.986614298151430);
        // Normalised: 100·(0.2482415498 + 1)/2 = 62.4120775...
        assert_close(
            result.normalised().expect("a window"),
            50.0 * (1.0 + 0.244918662403709 / 0.986614298151430),
        );
    }

    #[test]
    fn detection_one_row_after_a_window_is_a_small_false_positive() {
        // Window missed: -1. Row 50: |49 - 50|/(10 - 1) = 1/9;
        // σ(1/9) = -tanh(2.5/9) = -0.2708471185..., × fp 0.11 = -0.0297931830...
        let result = score(&minutes(100), &[rows(40, 49)], &at(&[50]), &STANDARD);
        let tanh = (2.5f64 / 9.0).tanh();
        assert!((tanh - 0.2708471185).abs() < 1e-9);
        assert_close(result.raw, -1.0 - 0.11 * tanh);
    }

    #[test]
    fn a_false_positive_before_any_window_costs_fp() {
        // Row 20 precedes the only window: σ(3) · fp = -0.11; window missed: -1.
        let result = score(&minutes(100), &[rows(40, 49)], &at(&[20]), &STANDARD);
        assert_close(result.raw, -1.11);
        // The same under the low-FP profile costs twice as much: -1 - 0.22.
        let result = score(&minutes(100), &[rows(40, 49)], &at(&[20]), &LOW_FP);
        assert_close(result.raw, -1.22);
        // Far after a window: |49 - 90|/9 = 4.56 >= 3, so -fp too.
        let result = score(&minutes(100), &[rows(40, 49)], &at(&[40, 90]), &STANDARD);
        assert_close(result.raw, 1.0 - 0.11);
    }

    #[test]
    fn only_a_windows_best_detection_counts() {
        // Rows 40 (worth 1) and 45 (-(49-45+1)/10 = -0.5, worth
        // 0.848283639957513/0.986614298151430 = 0.8597926...): max is 1.
        let result = score(&minutes(100), &[rows(40, 49)], &at(&[45, 40]), &STANDARD);
        assert_close(result.raw, 1.0);
        let later_only = score(&minutes(100), &[rows(40, 49)], &at(&[45]), &STANDARD);
        assert_close(later_only.raw, 0.848283639957513 / 0.986614298151430);
    }

    #[test]
    fn a_missed_window_costs_fn() {
        let result = score(&minutes(100), &[rows(40, 49)], &[], &STANDARD);
        assert_close(result.raw, -1.0);
        let result = score(&minutes(100), &[rows(40, 49)], &[], &LOW_FN);
        assert_close(result.raw, -2.0);
        assert_close(result.null, -2.0);
        assert_close(result.perfect, 1.0);
    }

    #[test]
    fn detections_in_probation_are_ignored() {
        // Row 10 < 15: neither a false positive nor anything else.
        let result = score(&minutes(100), &[rows(40, 49)], &at(&[10]), &STANDARD);
        assert_close(result.raw, -1.0);
        // A window straddling the probation edge, rows 10..=19: scorable, but
        // only rows 15..=19 can detect it. Row 12 is ignored, row 15 is worth
        // σ(-(19-15+1)/10)/σ(-1) = σ(-0.5)/σ(-1) = 0.8597926...
        let straddling = [rows(10, 19)];
        let early = score(&minutes(100), &straddling, &at(&[12]), &STANDARD);
        assert_close(early.raw, -1.0);
        assert_close(early.perfect, 1.0);
        let result = score(&minutes(100), &straddling, &at(&[12, 15]), &STANDARD);
        assert_close(result.raw, 0.848283639957513 / 0.986614298151430);
    }

    #[test]
    fn a_window_within_probation_is_not_counted() {
        // Rows 5..=10, all before row 15: no window to score.
        let inside = [rows(5, 10)];
        let result = score(&minutes(100), &inside, &at(&[7]), &STANDARD);
        assert_eq!(result, NabScore::default());
        assert_eq!(result.normalised(), None);
        // It still is the window a later false positive is measured from, as
        // in NAB: row 20, |10 - 20|/(6 - 1) = 2, σ(2) = -tanh(5), × 0.11.
        let result = score(&minutes(100), &inside, &at(&[20]), &STANDARD);
        assert_close(result.raw, -0.11 * 0.999909204262595);
        assert_close(result.null, 0.0);
    }

    #[test]
    fn after_a_one_row_window_a_false_positive_is_far() {
        // W_p = 1 would divide by zero; the limit is σ(≥3) = -1, so -fp.
        let result = score(&minutes(100), &[rows(40, 40)], &at(&[40, 41]), &STANDARD);
        // Row 40: -(40 - 40 + 1)/1 = -1, worth tp = 1.
        assert_close(result.raw, 1.0 - 0.11);
    }

    #[test]
    fn windows_take_the_rows_they_cover() {
        // From 39.5 to 49.5 minutes: rows 40..=49, as the aligned window.
        let loose = Window {
            start: 39 * 60 + 30,
            end: 49 * 60 + 30,
        };
        let result = score(&minutes(100), &[loose], &at(&[40]), &STANDARD);
        assert_close(result.raw, 1.0);
        // Between two rows: no rows, so no window at all.
        let between = Window {
            start: 40 * 60 + 10,
            end: 40 * 60 + 50,
        };
        let result = score(&minutes(100), &[between], &at(&[40]), &STANDARD);
        // Row 40 is then before any window: -0.11.
        assert_close(result.raw, -0.11);
        assert_close(result.perfect, 0.0);
        // Past the end of the series: none either.
        let result = score(&minutes(100), &[rows(200, 210)], &[], &STANDARD);
        assert_eq!(result, NabScore::default());
    }

    #[test]
    fn duplicate_and_foreign_detections_are_ignored() {
        // Row 40 twice and a timestamp between rows 60 and 61: still just 1.
        let detections = [40 * 60, 40 * 60, 60 * 60 + 1];
        let result = score(&minutes(100), &[rows(40, 49)], &detections, &STANDARD);
        assert_close(result.raw, 1.0);
    }

    #[test]
    fn overlapping_windows_merge() {
        // Rows 40..=49 and 45..=59 become one window 40..=59 (W = 20); row 50
        // is worth σ(-(59-50+1)/20)/σ(-1) = σ(-0.5)/σ(-1) in it.
        let result = score(
            &minutes(100),
            &[rows(45, 59), rows(40, 49)],
            &at(&[50]),
            &STANDARD,
        );
        assert_close(result.raw, 0.848283639957513 / 0.986614298151430);
        assert_close(result.perfect, 1.0);
    }

    #[test]
    fn false_positives_measure_from_the_preceding_window() {
        // Windows 40..=49 and 70..=79, both detected at their first rows (+2).
        // Row 60 lies after the first: |49 - 60|/9 = 1.222..., σ = -tanh(27.5/9).
        // Row 81 lies after the second: |79 - 81|/9, σ = -tanh(5/9).
        let windows = [rows(70, 79), rows(40, 49)];
        let result = score(&minutes(100), &windows, &at(&[40, 60, 70, 81]), &STANDARD);
        let expected = 2.0 - 0.11 * (27.5f64 / 9.0).tanh() - 0.11 * (5.0f64 / 9.0).tanh();
        assert_close(result.raw, expected);
        assert_close(result.null, -2.0);
        assert_close(result.perfect, 2.0);
    }

    #[test]
    fn null_and_perfect_detectors_normalise_to_0_and_100() {
        let windows = [rows(20, 29), rows(60, 69)];
        let null = score(&minutes(100), &windows, &[], &LOW_FN);
        assert_close(null.normalised().expect("windows"), 0.0);
        let perfect = score(&minutes(100), &windows, &at(&[20, 60]), &LOW_FN);
        assert_close(perfect.normalised().expect("windows"), 100.0);
        // No windows at all: nothing to normalise against.
        let quiet = score(&minutes(100), &[], &at(&[50]), &STANDARD);
        assert_close(quiet.raw, -0.11);
        assert_eq!(quiet.normalised(), None);
    }

    #[test]
    fn totals_add_the_parts_and_normalise_the_sums() {
        // Series A: window detected at its first row: raw 1, null -1, perfect 1.
        let a = score(&minutes(100), &[rows(40, 49)], &at(&[40]), &STANDARD);
        // Series B: window missed and a far false positive: raw -1.11.
        let b = score(&minutes(100), &[rows(40, 49)], &at(&[20]), &STANDARD);
        let total = a + b;
        assert_close(total.raw, -0.11);
        assert_close(total.null, -2.0);
        assert_close(total.perfect, 2.0);
        // 100·(-0.11 + 2)/(2 + 2) = 47.25, not the mean of 100 and -5.5.
        assert_close(total.normalised().expect("windows"), 47.25);
        let mut summed = NabScore::default();
        summed += a;
        summed += b;
        assert_eq!(summed, total);
    }
}
