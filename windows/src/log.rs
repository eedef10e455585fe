//! The pure part of a window: how points are stored, what a reader sees,
//! and how a grown window is compacted and rolled up. Both stores (Redis and
//! memory) run these same functions, so they hold the same windows.
//!
//! A metric's full-resolution window is an append-only log of points, 16
//! bytes each (`i64` timestamp, `f64` value, little-endian). Folding a batch
//! only appends; duplicates and points the window has moved past stay in the
//! log until it is compacted, which happens once it has doubled since the
//! last compaction (so its cost per point is constant). What a reader sees
//! never depends on when compaction ran: readers sort, keep one point per
//! timestamp and cut at the newest point's `full_duration + grace`.
//!
//! Compaction drops the whole buckets that end at or before a cutoff and
//! records their means. The long window
//! a reader sees is those recorded buckets plus the bucket means of what is
//! still in the log — so rolling up costs nothing on the fold's hot path.

use crate::Point;

/// Bytes per stored point.
pub const POINT_BYTES: usize = 16;

/// A log is compacted once it holds this many points and at least twice
/// as many as its last compaction left (amortised O(1) per point).
pub const COMPACT_MIN_POINTS: usize = 256;

/// Appends `points` to `out` in the stored form.
pub fn encode_points(points: &[Point], out: &mut Vec<u8>) {
    out.reserve(points.len() * POINT_BYTES);
    for &(ts, value) in points {
        out.extend_from_slice(&ts.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
}

/// The points of a stored log, in stored order; `None` if its length is not
/// a whole number of points (not written by skyline).
pub fn decode_points(bytes: &[u8]) -> Option<Vec<Point>> {
    if !bytes.len().is_multiple_of(POINT_BYTES) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(POINT_BYTES)
            .map(|c| {
                let (ts, value) = c.split_at(8);
                (
                    i64::from_le_bytes(ts.try_into().unwrap_or_default()),
                    f64::from_le_bytes(value.try_into().unwrap_or_default()),
                )
            })
            .collect(),
    )
}

/// Sorts by `(timestamp, value)` and keeps the first point per timestamp:
/// a timestamp seen with several values counts once, with its smallest.
pub fn sort_dedup(points: &mut Vec<Point>) {
    // Logs are appended in near time order, which the stable sort's run
    // detection makes close to linear.
    points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup_by_key(|p| p.0);
}

/// Removes the points at or before `newest − keep`, `newest` being the last
/// point's timestamp, from a sorted, deduplicated window.
pub fn cut_to_newest(window: &mut Vec<Point>, keep: i64) {
    if let Some(&(newest, _)) = window.last() {
        let start = window.partition_point(|p| p.0 <= newest.saturating_sub(keep));
        window.drain(..start);
    }
}

/// Should a log of `points` points, `base` after its last compaction, be
/// compacted now?
pub fn needs_compaction(points: usize, base: usize) -> bool {
    points >= COMPACT_MIN_POINTS && points >= 2 * base
}

/// The start of the bucket of width `resolution` that `ts` falls in.
pub fn bucket_of(ts: i64, resolution: i64) -> i64 {
    ts.saturating_sub(ts.rem_euclid(resolution.max(1)))
}

/// Mean of each bucket of a sorted, deduplicated window, in bucket order.
/// `mean = Σ values / n`, summed in time order.
pub fn bucket_means(window: &[Point], resolution: i64) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    let mut current: Option<(i64, f64, usize)> = None;
    for &(ts, value) in window {
        let b = bucket_of(ts, resolution);
        match &mut current {
            Some((cb, sum, n)) if *cb == b => {
                *sum += value;
                *n += 1;
            }
            _ => {
                if let Some((cb, sum, n)) = current {
                    out.push((cb, sum / n as f64));
                }
                current = Some((b, value, 1));
            }
        }
    }
    if let Some((cb, sum, n)) = current {
        out.push((cb, sum / n as f64));
    }
    out
}

/// What compacting a log gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Compacted {
    /// The points kept, sorted and deduplicated.
    pub kept: Vec<Point>,
    /// Mean of every bucket dropped: the long window's record of them.
    pub rolled: Vec<Point>,
}

/// Compacts a log: one point per timestamp, and the buckets that end at or
/// before `cutoff` dropped and rolled up. Whole buckets go together, so a
/// bucket is recorded once, from all its points. Everything after `cutoff`
/// is kept.
pub fn compact(mut log: Vec<Point>, cutoff: i64, resolution: i64) -> Compacted {
    sort_dedup(&mut log);
    let resolution = resolution.max(1);
    // Drop bucket b when its last second b + resolution − 1 ≤ cutoff.
    let split = log
        .partition_point(|p| bucket_of(p.0, resolution).saturating_add(resolution - 1) <= cutoff);
    let rolled = bucket_means(&log[..split], resolution);
    log.drain(..split);
    Compacted { kept: log, rolled }
}

/// The cutoff of a compaction that runs while folding a batch whose oldest
/// point (for this metric) is `batch_oldest`: everything any point of the
/// batch could be judged against stays, so a crash that re-folds the batch
/// sees the same windows.
pub fn compaction_cutoff(batch_oldest: i64, newest: i64, keep: i64) -> i64 {
    batch_oldest.min(newest).saturating_sub(keep)
}

/// The long window a reader sees: the recorded buckets, then the means of
/// the buckets of `log_window` (the whole log, sorted and deduplicated) that
/// are not recorded, within `rollup_duration` of the newest point.
pub fn rollup_view(
    recorded: &[Point],
    log_window: &[Point],
    resolution: i64,
    rollup_duration: i64,
) -> Vec<Point> {
    let mut out: Vec<Point> = recorded.to_vec();
    let live = bucket_means(log_window, resolution);
    out.extend(
        live.into_iter()
            .filter(|(b, _)| recorded.binary_search_by_key(b, |r| r.0).is_err()),
    );
    out.sort_by_key(|p| p.0);
    let newest = log_window.last().map(|p| p.0).or(out.last().map(|p| p.0));
    if let Some(newest) = newest {
        out.retain(|(b, _)| *b > newest.saturating_sub(rollup_duration));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_and_bad_lengths_are_refused() {
        let points = vec![
            (1_700_000_000, 12.5),
            (0, -0.1),
            (-5, 1e-300),
            (6, f64::MAX),
        ];
        let mut bytes = Vec::new();
        encode_points(&points, &mut bytes);
        assert_eq!(bytes.len(), 4 * POINT_BYTES);
        assert_eq!(decode_points(&bytes), Some(points));
        assert_eq!(decode_points(&bytes[..17]), None);
        assert_eq!(decode_points(&[]), Some(vec![]));
    }

    #[test]
    fn compaction_keeps_after_cutoff_and_rolls_up_dropped_buckets() {
        // 0..20 minutes, one point a minute, plus a duplicate timestamp
        let mut log: Vec<Point> = (0..20).map(|i| (i * 60, i as f64)).collect();
        log.push((120, -1.0)); // smaller value wins for ts 120
        log.push((600, 99.0)); // larger value loses for ts 600
                               // bucket 0: 0,1,-1,3..9 → (45 - 2 - 1)/10; bucket 600: 10..19 → 14.5
        let c = compact(log.clone(), 1199, 600);
        assert_eq!(c.kept, vec![]);
        assert_eq!(c.rolled, vec![(0, 4.2), (600, 14.5)]);
        // a cutoff inside bucket 600 keeps the whole bucket
        let c = compact(log, 650, 600);
        assert_eq!(c.kept.first(), Some(&(600, 10.0)));
        assert_eq!(c.kept.len(), 10);
        assert_eq!(c.rolled, vec![(0, 4.2)]);
        // nothing dropped → nothing rolled
        assert!(compact(vec![(5, 1.0)], 598, 600).rolled.is_empty());
    }

    #[test]
    fn rollup_view_prefers_recorded_buckets_and_trims_by_newest() {
        let recorded = vec![(0, 1.0), (600, 2.0)];
        let log = vec![(700, 10.0), (1200, 3.0), (1260, 5.0)];
        assert_eq!(
            rollup_view(&recorded, &log, 600, 10_000),
            vec![(0, 1.0), (600, 2.0), (1200, 4.0)]
        );
        assert_eq!(
            rollup_view(&recorded, &log, 600, 1200),
            vec![(600, 2.0), (1200, 4.0)]
        );
    }

    #[test]
    fn compaction_policy_doubles() {
        assert!(!needs_compaction(100, 0));
        assert!(needs_compaction(COMPACT_MIN_POINTS, 0));
        assert!(!needs_compaction(2_000, 1_440));
        assert!(needs_compaction(2_880, 1_440));
        assert_eq!(compaction_cutoff(1_000, 5_000, 100), 900);
        assert_eq!(compaction_cutoff(i64::MIN, 5_000, 100), i64::MIN);
    }
}
