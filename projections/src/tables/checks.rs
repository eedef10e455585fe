//! `checks`: every request to re-judge an anomaly, with the series it was
//! judged on, so an operator can label the check later and the console can
//! draw it without going back to the log.
//!
//! The series is stored as JSON text `[[ts,value],…]` in the check's own
//! row rather than a row per point (as `profile_series` does): it is only
//! ever read whole, a check has up to thousands of points and there are
//! many more checks than profiles, and one row per check keeps the fold a
//! single multi-row insert. serde_json writes the shortest representation
//! that parses back to the same `f64` and the workspace enables its
//! `float_roundtrip` parser, so values come back exact to the bit. A
//! seasonal check's echo series (its last 24 h at full resolution) is kept
//! the same way, in `echo_series` (migration 0007).

use topics::{CheckTarget, SeriesPoint};

use super::EventTable;
use crate::db::{Kind, Value};
use crate::{csv, metric_id, Event, Table, Topic};

/// The `checks` projection: one row per event.
pub const PROJECTION: EventTable = EventTable {
    name: "checks",
    topics: &[Topic::Checks],
    table: &[&CHECKS],
    row,
};

/// `checks`: one row per check, with the series it was judged on.
pub static CHECKS: Table = Table {
    name: "checks",
    key: &["id"],
    columns: &[
        ("id", Kind::Text),
        ("anomaly_id", Kind::Text),
        ("target", Kind::Text),
        ("metric_id", Kind::Text),
        ("check_timestamp", Kind::Int),
        ("value", Kind::Real),
        ("triggered_algorithms", Kind::Text),
        ("second_order_resolution_hours", Kind::Int),
        ("series_points", Kind::Int),
        ("series_from", Kind::Int),
        ("series_until", Kind::Int),
        ("decided_at_ms", Kind::Int),
        ("metric", Kind::Text),
        ("full_duration", Kind::Int),
        ("series", Kind::Text),
        ("echo_points", Kind::Int),
        ("alerts", Kind::Text),
        ("echo_series", Kind::Text),
    ],
};

fn row(event: &Event) -> Option<Vec<Value>> {
    let Event::Check(c) = event else {
        return None;
    };
    Some(vec![
        c.id.into(),
        c.anomaly_id.into(),
        match c.target {
            CheckTarget::Seasonal => "seasonal",
            CheckTarget::Fingerprint => "fingerprint",
        }
        .into(),
        metric_id(&c.metric).into(),
        c.timestamp.into(),
        c.value.into(),
        csv(&c.triggered_algorithms).into(),
        c.second_order_resolution_hours.map(i64::from).into(),
        (c.series.len() as i64).into(),
        c.series.iter().map(|p| p.timestamp).min().into(),
        c.series.iter().map(|p| p.timestamp).max().into(),
        c.decided_at_ms.into(),
        c.metric.as_str().into(),
        c.full_duration.into(),
        series_json(&c.series).into(),
        c.echo_series.as_ref().map(|s| s.len() as i64).into(),
        // The routes as JSON: rule patterns may hold any character.
        serde_json::to_string(&c.alerts).ok().into(),
        // A seasonal check's last 24 h, kept so its label can carry them
        // (the echo profile is made from them).
        c.echo_series.as_deref().map(series_json).into(),
    ])
}

/// A series as JSON `[[ts,value],…]`. JSON has no NaN or infinity: those
/// are written as `null` and read back as NaN by [`parse_series`].
pub(crate) fn series_json(series: &[SeriesPoint]) -> String {
    let points: Vec<(i64, Option<f64>)> = series
        .iter()
        .map(|p| (p.timestamp, Some(p.value).filter(|v| v.is_finite())))
        .collect();
    // A Vec of (integer, number-or-null) always serialises.
    serde_json::to_string(&points).unwrap_or_else(|_| "[]".to_owned())
}

/// Reads back what [`series_json`] wrote.
pub(crate) fn parse_series(json: &str) -> Result<Vec<(i64, f64)>, serde_json::Error> {
    let points: Vec<(i64, Option<f64>)> = serde_json::from_str(json)?;
    Ok(points
        .into_iter()
        .map(|(t, v)| (t, v.unwrap_or(f64::NAN)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_round_trip_exactly() {
        let values = [
            0.1 + 0.2,
            1e-310,
            -123_456.789_012_345_67,
            f64::MAX,
            f64::MIN_POSITIVE,
            -0.0,
            std::f64::consts::PI,
        ];
        let series: Vec<SeriesPoint> = values
            .iter()
            .enumerate()
            .map(|(i, v)| SeriesPoint {
                timestamp: 1_700_000_000 + i as i64 * 60,
                value: *v,
            })
            .collect();
        let back = parse_series(&series_json(&series)).unwrap();
        for (p, (t, v)) in series.iter().zip(&back) {
            assert_eq!((p.timestamp, p.value.to_bits()), (*t, v.to_bits()));
        }
    }

    #[test]
    fn non_finite_values_come_back_as_nan_and_junk_is_an_error() {
        let series = [
            SeriesPoint {
                timestamp: 1,
                value: f64::NAN,
            },
            SeriesPoint {
                timestamp: 2,
                value: f64::INFINITY,
            },
        ];
        let back = parse_series(&series_json(&series)).unwrap();
        assert!(back.iter().all(|(_, v)| v.is_nan()));
        assert!(parse_series("not json").is_err());
        assert!(parse_series(r#"[[1,"x"]]"#).is_err());
    }
}
