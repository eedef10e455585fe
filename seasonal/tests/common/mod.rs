//! Shared by the seasonal reference tests: series as the references read
//! them, and windows of them.
#![allow(dead_code)]

use numeric::reference::num;
use seasonal::Point;
use serde_json::{json, Value};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A series as JSON `[[t, v], …]`, the references' input.
pub fn to_json(series: &[Point]) -> Value {
    Value::Array(series.iter().map(|&(t, v)| json!([t, v])).collect())
}

/// The points with `end - span < t <= end`.
pub fn window(series: &[Point], end: i64, span: i64) -> Vec<Point> {
    series
        .iter()
        .copied()
        .filter(|&(t, _)| end - span < t && t <= end)
        .collect()
}

/// A reference's series `[[t, v], …]` back as points.
pub fn points(v: &Value) -> Vec<Point> {
    v.as_array()
        .expect("a series")
        .iter()
        .map(|p| (p[0].as_i64().expect("an integer timestamp"), num(&p[1])))
        .collect()
}
