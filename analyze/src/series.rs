//! The time series an algorithm judges, and `tail_avg`.

/// One datapoint: unix seconds and value.
pub type Point = (i64, f64);

/// A window of datapoints as two parallel columns, sorted ascending by
/// timestamp. Algorithms read the columns they need as plain slices; keeping
/// them apart lets value-only algorithms run over contiguous `f64`s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Unix seconds, ascending.
    pub timestamps: Vec<i64>,
    /// The value at each timestamp.
    pub values: Vec<f64>,
}

impl Series {
    /// Columns from points that are already sorted by timestamp.
    pub fn from_points(points: &[Point]) -> Self {
        let mut s = Series::with_capacity(points.len());
        s.extend_from_points(points);
        s
    }

    /// Empty columns with room for `n` points.
    pub fn with_capacity(n: usize) -> Self {
        Series {
            timestamps: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
        }
    }

    /// Replaces the contents with `points` (reuses the allocations).
    pub fn extend_from_points(&mut self, points: &[Point]) {
        self.timestamps.clear();
        self.values.clear();
        self.timestamps.extend(points.iter().map(|p| p.0));
        self.values.extend(points.iter().map(|p| p.1));
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The newest point, if any.
    pub fn last(&self) -> Option<Point> {
        Some((*self.timestamps.last()?, *self.values.last()?))
    }
}

/// The mean of the last three values, Skyline's damped "current value":
/// `(v[n-1] + v[n-2] + v[n-3]) / 3`, or `v[n-1]` when there are fewer than
/// three (the reference's IndexError fallback); NaN for an empty series.
pub fn tail_avg(values: &[f64]) -> f64 {
    match values {
        [] => f64::NAN,
        [.., a, b, c] => (c + b + a) / 3.0,
        [.., last] => *last,
    }
}

/// Sorts points by `(timestamp, value)` and keeps the first point of each
/// timestamp, as Roomba does to the Redis series. Returns how many points
/// were dropped as duplicates.
pub fn sort_dedup(points: &mut Vec<Point>) -> usize {
    let before = points.len();
    // The windows keep the same rule; one definition for both.
    windows::sort_dedup(points);
    before - points.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_avg_three_and_fallback() {
        assert_eq!(tail_avg(&[9.0, 1.0, 2.0, 6.0]), 3.0);
        assert_eq!(tail_avg(&[1.0, 5.0]), 5.0);
        assert!(tail_avg(&[]).is_nan());
    }

    #[test]
    fn sort_dedup_keeps_first_of_each_timestamp() {
        let mut pts = vec![(3, 1.0), (1, 9.0), (1, 2.0), (2, 0.0)];
        assert_eq!(sort_dedup(&mut pts), 1);
        assert_eq!(pts, vec![(1, 2.0), (2, 0.0), (3, 1.0)]);
    }
}
