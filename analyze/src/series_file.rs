//! Reading a static series from a file: a CSV of `timestamp,value` rows,
//! with or without a header, timestamps in epoch seconds or
//! `YYYY-MM-DD HH:MM:SS` (UTC; a `T` separator and fractional seconds are
//! accepted too), or Skyline's JSON `{"results": [[ts, value], ...]}`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::NaiveDateTime;
use thiserror::Error;
use topics::MAX_TIMESTAMP;

use crate::Point;

/// Why a series file could not be read.
#[derive(Debug, Error)]
pub enum SeriesFileError {
    /// The file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line could not be read (I/O or not UTF-8).
    #[error("{path}:{line}: cannot read line: {source}")]
    Read {
        /// The file.
        path: String,
        /// The 1-based line number.
        line: usize,
        /// Why.
        source: std::io::Error,
    },
    /// A row is not `timestamp,value` (and bad rows are not skipped).
    #[error("{path}:{line}: {reason}: {excerpt:?}")]
    Row {
        /// The file.
        path: String,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
        /// The row's start, as read.
        excerpt: String,
    },
    /// A JSON series file is not `{"results": [[ts, value], ...]}`.
    #[error("{path}: {reason}")]
    Json {
        /// The file.
        path: String,
        /// What is wrong, and where (`results[3]: ...`).
        reason: String,
    },
}

/// What reading a file gave.
#[derive(Debug, Default)]
pub struct SeriesFile {
    /// The points in file order.
    pub points: Vec<Point>,
    /// Rows refused (only when skipping bad rows): `(line number, reason)`.
    pub bad_rows: Vec<(usize, String)>,
}

/// Reads a series file of either kind, told apart by its first character
/// (`{`: JSON, else CSV). From JSON, points whose value is `null` are
/// dropped, as Skyline drops them, and fractional timestamps are floored.
pub fn read_series(path: &Path) -> Result<Vec<Point>, SeriesFileError> {
    let name = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SeriesFileError::Open {
        path: name(),
        source,
    })?;
    if !text.trim_start().starts_with('{') {
        return Ok(read_series_csv(path, false)?.points);
    }
    let bad = |reason: String| SeriesFileError::Json {
        path: name(),
        reason,
    };
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let Some(results) = doc.get("results").and_then(|r| r.as_array()) else {
        return Err(bad("expected an object with a \"results\" array".to_owned()));
    };
    let mut points = Vec::with_capacity(results.len());
    for (i, item) in results.iter().enumerate() {
        let at = |why: &str| bad(format!("results[{i}]: {why}: {item}"));
        let pair = item
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| at("expected [timestamp, value]"))?;
        let ts = pair[0]
            .as_f64()
            .filter(|t| t.is_finite())
            .ok_or_else(|| at("timestamp is not a number"))?;
        if pair[1].is_null() {
            continue;
        }
        let value = pair[1]
            .as_f64()
            .ok_or_else(|| at("value is not a number"))?;
        points.push((ts.floor() as i64, value));
    }
    Ok(points)
}

/// Reads `path`. A malformed row is an error naming the file and line,
/// unless `skip_bad_rows`, in which case it is recorded and skipped.
pub fn read_series_csv(path: &Path, skip_bad_rows: bool) -> Result<SeriesFile, SeriesFileError> {
    let name = || path.display().to_string();
    let file = File::open(path).map_err(|source| SeriesFileError::Open {
        path: name(),
        source,
    })?;
    let mut out = SeriesFile::default();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line_no = index + 1;
        let line = line.map_err(|source| SeriesFileError::Read {
            path: name(),
            line: line_no,
            source,
        })?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match parse_row(line) {
            Ok(point) => out.points.push(point),
            // A first row that is not data is a header.
            Err(_) if line_no == 1 && is_header(line) => {}
            Err(reason) if skip_bad_rows => out.bad_rows.push((line_no, reason)),
            Err(reason) => {
                return Err(SeriesFileError::Row {
                    path: name(),
                    line: line_no,
                    reason,
                    excerpt: topics::excerpt(line, 100),
                })
            }
        }
    }
    Ok(out)
}

/// Whether a first CSV line is a header: no field of it is a number.
pub fn is_header(line: &str) -> bool {
    line.split(',').all(|f| f.trim().parse::<f64>().is_err())
}

/// Parses one `timestamp,value` row.
pub fn parse_row(line: &str) -> Result<Point, String> {
    let mut fields = line.split(',');
    let (Some(ts), Some(value), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err("expected two columns: timestamp,value".into());
    };
    let t = parse_timestamp(ts.trim())?;
    // The range ingest accepts: anything else is not a time (and near the
    // ends of i64 window arithmetic would overflow).
    if !(0..=MAX_TIMESTAMP).contains(&t) {
        return Err(format!(
            "timestamp {t} is out of range (0..={MAX_TIMESTAMP})"
        ));
    }
    let v: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("value {:?} is not a number", value.trim()))?;
    if !v.is_finite() {
        return Err(format!("value {v} is not finite"));
    }
    Ok((t, v))
}

/// Epoch seconds (a decimal part is truncated towards the past) or a UTC
/// date-time.
pub fn parse_timestamp(s: &str) -> Result<i64, String> {
    if let Ok(t) = s.parse::<i64>() {
        return Ok(t);
    }
    if let Ok(t) = s.parse::<f64>() {
        if t.is_finite() && t.abs() < 1e15 {
            return Ok(t.floor() as i64);
        }
        return Err(format!("timestamp {s:?} is out of range"));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(dt.and_utc().timestamp());
        }
    }
    Err(format!(
        "timestamp {s:?} is neither epoch seconds nor YYYY-MM-DD HH:MM:SS"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `text` in a file of its own under the system's temp directory.
    fn file_with(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("skyline-series-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn json_series_drop_nulls_floor_times_and_name_bad_items() {
        let ok = file_with("ok.json", r#"{"results": [[1.9, 2.5], [3, null], [4, 7]]}"#);
        assert_eq!(read_series(&ok).unwrap(), [(1, 2.5), (4, 7.0)]);
        let bad = file_with("bad.json", r#"{"results": [[1, 2], [3, "x"]]}"#);
        let e = read_series(&bad).unwrap_err().to_string();
        assert!(
            e.contains("bad.json: results[1]: value is not a number"),
            "{e}"
        );
        let shape = file_with("shape.json", r#"{"points": []}"#);
        let e = read_series(&shape).unwrap_err().to_string();
        assert!(e.contains("\"results\" array"), "{e}");
        let csv = file_with("ok.csv", "timestamp,value\n10,1.5\n");
        assert_eq!(read_series(&csv).unwrap(), [(10, 1.5)]);
    }

    /// A CSV field as a file may hold it.
    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            (0..=MAX_TIMESTAMP).prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|x| x.to_string()),
            any::<f64>().prop_map(|x| format!("{x:e}")),
            (0..=MAX_TIMESTAMP).prop_map(|t| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default()
            }),
            Just("9999-12-31 23:59:59.999999999".to_owned()),
            Just("nan".to_owned()),
            any::<String>(),
        ]
    }

    // The bounded fuzz target of the CSV row decoder (`skyline backtest`,
    // `skyline features`): nothing panics, and an accepted row is in range.
    proptest! {
        #[test]
        fn rows_of_arbitrary_text_are_parsed_or_refused(line in any::<String>()) {
            if let Ok((t, v)) = parse_row(&line) {
                prop_assert!((0..=MAX_TIMESTAMP).contains(&t) && v.is_finite(), "{line:?}");
            }
        }

        #[test]
        fn rows_of_hostile_fields_are_parsed_or_refused(
            fields in proptest::collection::vec(field(), 0..4),
        ) {
            let line = fields.join(",");
            if let Ok((t, v)) = parse_row(&line) {
                prop_assert!((0..=MAX_TIMESTAMP).contains(&t) && v.is_finite(), "{line:?}");
            }
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1397088240"), Ok(1_397_088_240));
        assert_eq!(parse_timestamp("1397088240.9"), Ok(1_397_088_240));
        assert_eq!(parse_timestamp("2014-04-10 00:04:00"), Ok(1_397_088_240));
        assert_eq!(parse_timestamp("2014-04-10T00:04:00"), Ok(1_397_088_240));
        assert_eq!(
            parse_timestamp("2014-04-10 00:04:00.000000"),
            Ok(1_397_088_240)
        );
        assert!(parse_timestamp("yesterday").is_err());
        assert!(parse_timestamp("1e300").is_err());
    }

    #[test]
    fn rows() {
        assert_eq!(
            parse_row("2014-04-10 00:04:00,91.958"),
            Ok((1_397_088_240, 91.958))
        );
        assert!(parse_row("1,2,3").unwrap_err().contains("two columns"));
        assert!(parse_row("1").unwrap_err().contains("two columns"));
        assert!(parse_row("1,abc").unwrap_err().contains("not a number"));
        assert!(parse_row("1,NaN").unwrap_err().contains("not finite"));
        assert!(parse_row("1,inf").unwrap_err().contains("not finite"));
        assert!(parse_row("-9223372036854700000,1")
            .unwrap_err()
            .contains("timestamp -9223372036854700000 is out of range"));
        assert!(parse_row("16725225601,1")
            .unwrap_err()
            .contains("out of range"));
        assert_eq!(parse_row("16725225600,1"), Ok((16_725_225_600, 1.0)));
    }
}
