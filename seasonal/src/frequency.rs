//! A series' resolution, the reference's `determine_data_frequency`.

use std::collections::HashMap;

/// Only the last this many timestamps are looked at.
const SAMPLE: usize = 101;
/// Steps that are kept as they are although within the snap range.
const KEPT_SUB_MINUTE: [i64; 10] = [1, 2, 3, 5, 6, 10, 12, 15, 20, 30];
/// Steps up to this (from 1) snap to 60 s, unless kept.
const SNAP_MAX: i64 = 68;

/// The resolution (seconds) of a series with these timestamps, or `None`
/// with fewer than two.
///
/// Looks at the last 101 timestamps (the reference takes all of them when
/// there are 94 or fewer, which is the same thing) in the order given, and
/// takes the most common difference between consecutive ones; among equally
/// common differences, the smallest. A result other than 60 that is between
/// 1 and 68 and not one of 1, 2, 3, 5, 6, 10, 12, 15, 20, 30 s is snapped
/// to 60: the jitter of a real-time minutely stream.
pub fn data_frequency(timestamps: &[i64]) -> Option<i64> {
    let sample = &timestamps[timestamps.len().saturating_sub(SAMPLE)..];
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for w in sample.windows(2) {
        *counts.entry(w[1] - w[0]).or_default() += 1;
    }
    let (r, _) = counts
        .into_iter()
        .max_by(|(d1, c1), (d2, c2)| c1.cmp(c2).then(d2.cmp(d1)))?;
    if r != 60 && !KEPT_SUB_MINUTE.contains(&r) && (1..=SNAP_MAX).contains(&r) {
        Some(60)
    } else {
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regular(start: i64, step: i64, n: usize) -> Vec<i64> {
        (0..n as i64).map(|i| start + i * step).collect()
    }

    #[test]
    fn fewer_than_two_timestamps_have_no_frequency() {
        assert_eq!(data_frequency(&[]), None);
        assert_eq!(data_frequency(&[1_600_000_000]), None);
    }

    #[test]
    fn regular_series() {
        assert_eq!(data_frequency(&regular(0, 60, 2)), Some(60));
        assert_eq!(data_frequency(&regular(1000, 300, 500)), Some(300));
        assert_eq!(data_frequency(&regular(1000, 3600, 50)), Some(3600));
        assert_eq!(data_frequency(&regular(0, 86_400, 200)), Some(86_400));
    }

    #[test]
    fn most_common_step_wins() {
        // 600 x 3, 300 x 2
        assert_eq!(data_frequency(&[0, 600, 1200, 1500, 1800, 2400]), Some(600));
    }

    #[test]
    fn ties_go_to_the_smallest_step() {
        // 600 x 2, 300 x 2 (600 seen first)
        assert_eq!(data_frequency(&[0, 600, 1200, 1500, 1800]), Some(300));
        // every step once
        assert_eq!(data_frequency(&[0, 900, 1500, 1800]), Some(300));
        // several counts, the largest shared
        assert_eq!(
            data_frequency(&[0, 120, 240, 540, 840, 1440, 3240]),
            Some(120)
        );
    }

    #[test]
    fn only_the_last_101_timestamps_count() {
        // 200 steps of 300 s, then 100 steps of 600 s: only the latter count
        let mut ts = regular(0, 300, 201);
        let last = *ts.last().unwrap();
        ts.extend((1..=100).map(|i| last + i * 600));
        assert_eq!(data_frequency(&ts), Some(600));
        // with one more 300 s step in the sample it is still 600 (99 vs 1)
        let mut ts = regular(0, 300, 203);
        let last = *ts.last().unwrap();
        ts.extend((1..=99).map(|i| last + i * 600));
        assert_eq!(data_frequency(&ts), Some(600));
        // 51 steps of 300 in the last 100 beat 49 of 600
        let mut ts = regular(0, 600, 100);
        let last = *ts.last().unwrap();
        ts.extend((1..=51).map(|i| last + i * 300));
        assert_eq!(data_frequency(&ts), Some(300));
    }

    #[test]
    fn irregular_gaps_of_a_minutely_stream() {
        // jitter around 60: 58, 61, 59, 62, ... snapped
        let mut t = 0;
        let mut ts = vec![t];
        for i in 0..150 {
            t += [58, 61, 59, 62, 61][i % 5];
            ts.push(t);
        }
        assert_eq!(data_frequency(&ts), Some(60));
        // a gap does not change the step
        let mut ts = regular(0, 60, 50);
        ts.extend(regular(10_000, 60, 50));
        assert_eq!(data_frequency(&ts), Some(60));
    }

    #[test]
    fn the_snap_to_60_rule() {
        for r in [1, 2, 3, 5, 6, 10, 12, 15, 20, 30, 60] {
            assert_eq!(data_frequency(&regular(0, r, 120)), Some(r), "{r}");
        }
        for r in [4, 7, 9, 25, 45, 51, 59, 61, 68] {
            assert_eq!(data_frequency(&regular(0, r, 120)), Some(60), "{r}");
        }
        for r in [69, 90, 120] {
            assert_eq!(data_frequency(&regular(0, r, 120)), Some(r), "{r}");
        }
    }

    #[test]
    fn duplicate_and_unsorted_timestamps_are_taken_as_given() {
        assert_eq!(data_frequency(&[5, 5, 5, 5]), Some(0));
        assert_eq!(data_frequency(&[300, 0]), Some(-300));
    }
}
