//! History files for `skyline import`: a metric's past, read whole into
//! [`Datapoint`]s before anything is produced, so a refused file produces
//! nothing.
//!
//! The format is told by content, not by extension (exports are often
//! saved as `.txt` or without one): after optional whitespace and a UTF-8
//! byte-order mark,
//!
//! - `[` — Graphite's render JSON, `[{"target": "name", "datapoints":
//!   [[value, ts], ...]}, ...]`; each target is a metric, named by its
//!   target unless `--metric` names the file's one target;
//! - `{` — Skyline's `{"results": [[ts, value], ...]}`;
//! - anything else — CSV of `timestamp,value` rows, read as `skyline
//!   backtest` reads them (header line optional; unix seconds or
//!   `YYYY-MM-DD HH:MM:SS` UTC).
//!
//! A `null` value (Graphite's and Skyline's "no data here") is skipped and
//! counted, not refused. A bad row — a value that is not a finite number, a
//! timestamp that is not one or out of range, the wrong number of columns —
//! refuses the file, naming it and where (`file.csv:7: …`, `file.json:
//! datapoints[17]: …`), unless bad rows are skipped, when they are counted.
//! Metric names obey the rules every source's lines do
//! ([`validate_metric_name`]).

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use thiserror::Error;
use topics::{excerpt, Datapoint, MAX_TIMESTAMP};

use crate::line::{validate_metric_name, LineError};

/// Most bytes of a bad row (or JSON point) quoted in its reason.
const QUOTED: usize = 80;

/// How a history file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFormat {
    /// `timestamp,value` rows.
    Csv,
    /// Graphite's render API JSON (`format=json`).
    GraphiteJson,
    /// Skyline's `{"results": [[ts, value], ...]}`.
    SkylineJson,
}

impl fmt::Display for HistoryFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HistoryFormat::Csv => "CSV",
            HistoryFormat::GraphiteJson => "Graphite JSON",
            HistoryFormat::SkylineJson => "Skyline JSON",
        })
    }
}

/// Where in a file a row is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A CSV line, 1-based.
    Line(usize),
    /// A point of a JSON file: the index of its Graphite target (only when
    /// the file holds several), the array it is in, and its 0-based index
    /// there, as a JSON path would name it.
    Point {
        /// The Graphite target's index, when there are several.
        target: Option<usize>,
        /// `datapoints` (Graphite) or `results` (Skyline).
        array: &'static str,
        /// The point's index in that array.
        index: usize,
    },
}

impl fmt::Display for Location {
    /// What follows the file name: `:7` for a line (as compilers and
    /// `skyline backtest` name them), `: datapoints[17]` for a JSON point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, ":{line}"),
            Location::Point {
                target: Some(t),
                array,
                index,
            } => write!(f, ": [{t}].{array}[{index}]"),
            Location::Point {
                target: None,
                array,
                index,
            } => write!(f, ": {array}[{index}]"),
        }
    }
}

/// A row that is not a datapoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// Where it is.
    pub at: Location,
    /// What is wrong with it (quoting it).
    pub reason: String,
}

/// Why a history file was refused. Every message names the file.
#[derive(Debug, Error)]
pub enum HistoryError {
    /// The file could not be read (or is not UTF-8).
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A bad row, and bad rows are not skipped: the first, and how many
    /// there are in all.
    #[error("{file}{}: {}{}", first.at, first.reason, more(*count))]
    BadRows {
        /// The file.
        file: String,
        /// The first bad row.
        first: BadRow,
        /// Bad rows in the whole file.
        count: usize,
    },
    /// A JSON file that does not parse, or is not the shape its first
    /// character announces.
    #[error("{file}: not {format}: {reason}")]
    Shape {
        /// The file.
        file: String,
        /// The format its first character announced.
        format: HistoryFormat,
        /// What is wrong (the JSON parser's message, with line and column).
        reason: String,
    },
    /// The metric name (given, a Graphite target or the file's stem) is not
    /// one ingest accepts.
    #[error("{file}: metric name {name:?} is refused: {source}{}", hint(*from_stem))]
    MetricName {
        /// The file.
        file: String,
        /// The name refused (quoted, shortened).
        name: String,
        /// Why.
        source: LineError,
        /// The name was the file's stem (so `--metric` would do).
        from_stem: bool,
    },
    /// `--metric` names one metric, but the file holds several targets.
    #[error("{file}: --metric names one metric but the file holds {targets} Graphite targets (each is imported under its own name without --metric)")]
    MetricForSeveralTargets {
        /// The file.
        file: String,
        /// How many targets.
        targets: usize,
    },
}

fn more(count: usize) -> String {
    match count {
        0 | 1 => String::new(),
        n => format!(
            " (and {} more bad row{}; --skip-bad-rows imports the rest)",
            n - 1,
            if n == 2 { "" } else { "s" }
        ),
    }
}

fn hint(from_stem: bool) -> &'static str {
    if from_stem {
        " (name it with --metric)"
    } else {
        ""
    }
}

/// One metric's datapoints from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricHistory {
    /// The metric's name.
    pub metric: String,
    /// Its datapoints, sorted by timestamp (file order among equal ones).
    pub datapoints: Vec<Datapoint>,
}

impl MetricHistory {
    /// The first and last timestamps, if there is a point.
    pub fn span(&self) -> Option<(i64, i64)> {
        Some((
            self.datapoints.first()?.timestamp,
            self.datapoints.last()?.timestamp,
        ))
    }
}

/// What a history file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// How it was written.
    pub format: HistoryFormat,
    /// Its metrics, in file order (one, except for Graphite JSON).
    pub metrics: Vec<MetricHistory>,
    /// Points whose value was `null`, skipped.
    pub nulls: usize,
    /// Bad rows skipped (only when skipping was asked for).
    pub bad_rows: Vec<BadRow>,
}

impl History {
    /// Every datapoint, metric after metric.
    pub fn datapoints(&self) -> impl Iterator<Item = &Datapoint> {
        self.metrics.iter().flat_map(|m| m.datapoints.iter())
    }

    /// How many datapoints.
    pub fn len(&self) -> usize {
        self.metrics.iter().map(|m| m.datapoints.len()).sum()
    }

    /// Whether there is no datapoint.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads and parses the history file at `path` ([`parse_history`]).
pub fn read_history(
    path: &Path,
    metric: Option<&str>,
    skip_bad_rows: bool,
) -> Result<History, HistoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| HistoryError::Read {
        file: path.display().to_string(),
        source,
    })?;
    parse_history(path, &text, metric, skip_bad_rows)
}

/// Parses `text`, the content of the file `path` (which names it in errors
/// and, through its stem, names the metric when neither `metric` nor a
/// Graphite target does). With `skip_bad_rows`, bad rows are counted in
/// [`History::bad_rows`]; without, the first refuses the whole file.
pub fn parse_history(
    path: &Path,
    text: &str,
    metric: Option<&str>,
    skip_bad_rows: bool,
) -> Result<History, HistoryError> {
    let file = path.display().to_string();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let format = match text.trim_start().as_bytes().first() {
        Some(b'[') => HistoryFormat::GraphiteJson,
        Some(b'{') => HistoryFormat::SkylineJson,
        _ => HistoryFormat::Csv,
    };
    let mut rows = Rows::default();
    let metrics = match format {
        HistoryFormat::Csv => {
            let name = single_name(&file, path, metric)?;
            vec![(name, csv_points(text, &mut rows))]
        }
        HistoryFormat::SkylineJson => {
            let name = single_name(&file, path, metric)?;
            let doc: SkylineDoc = serde_json::from_str(text).map_err(|e| HistoryError::Shape {
                file: file.clone(),
                format,
                reason: e.to_string(),
            })?;
            let points = json_points(&doc.results, None, "results", Order::TsValue, &mut rows);
            vec![(name, points)]
        }
        HistoryFormat::GraphiteJson => {
            let targets: Vec<GraphiteTarget> =
                serde_json::from_str(text).map_err(|e| HistoryError::Shape {
                    file: file.clone(),
                    format,
                    reason: e.to_string(),
                })?;
            if metric.is_some() && targets.len() > 1 {
                return Err(HistoryError::MetricForSeveralTargets {
                    file,
                    targets: targets.len(),
                });
            }
            let several = targets.len() > 1;
            let mut metrics = Vec::with_capacity(targets.len());
            for (t, target) in targets.iter().enumerate() {
                let name = metric.unwrap_or(&target.target);
                check_name(&file, name, false)?;
                let points = json_points(
                    &target.datapoints,
                    several.then_some(t),
                    "datapoints",
                    Order::ValueTs,
                    &mut rows,
                );
                metrics.push((name.to_owned(), points));
            }
            metrics
        }
    };
    if !skip_bad_rows && !rows.bad.is_empty() {
        let count = rows.bad.len();
        let first = rows.bad.swap_remove(0);
        return Err(HistoryError::BadRows { file, first, count });
    }
    Ok(History {
        format,
        metrics: metrics
            .into_iter()
            .map(|(metric, mut points)| {
                // The windows fold any order into the same view, but their
                // roll-up records a bucket once its points are a day behind
                // the batch: history in time order keeps every bucket's
                // points together.
                points.sort_by_key(|p| p.0);
                MetricHistory {
                    datapoints: points
                        .into_iter()
                        .map(|(timestamp, value)| Datapoint {
                            metric: metric.clone(),
                            timestamp,
                            value,
                        })
                        .collect(),
                    metric,
                }
            })
            .collect(),
        nulls: rows.nulls,
        bad_rows: rows.bad,
    })
}

/// The one metric of a CSV or Skyline JSON file: `metric`, else the stem.
fn single_name(file: &str, path: &Path, metric: Option<&str>) -> Result<String, HistoryError> {
    let (name, from_stem) = match metric {
        Some(m) => (m.to_owned(), false),
        None => (
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            true,
        ),
    };
    check_name(file, &name, from_stem)?;
    Ok(name)
}

fn check_name(file: &str, name: &str, from_stem: bool) -> Result<(), HistoryError> {
    validate_metric_name(name).map_err(|source| HistoryError::MetricName {
        file: file.to_owned(),
        name: excerpt(name, QUOTED),
        source,
        from_stem,
    })
}

/// What the rows of a file left besides datapoints.
#[derive(Default)]
struct Rows {
    nulls: usize,
    bad: Vec<BadRow>,
}

type Point = (i64, f64);

/// The CSV rows of `text`, exactly as `skyline backtest` reads them: a
/// first line that is not data and holds no number is a header, blank lines
/// are ignored, every other line is `timestamp,value` or bad.
fn csv_points(text: &str, rows: &mut Rows) -> Vec<Point> {
    let mut points = Vec::with_capacity(text.len() / 24);
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        // The row rules are the backtest's own, so a file `skyline
        // backtest` accepts imports the same points.
        match analyze::series_file::parse_row(line) {
            Ok(point) => points.push(point),
            Err(_) if index == 0 && analyze::series_file::is_header(line) => {}
            Err(reason) => rows.bad.push(BadRow {
                at: Location::Line(index + 1),
                reason: format!("{reason}: {:?}", excerpt(line, QUOTED)),
            }),
        }
    }
    points
}

#[derive(Deserialize)]
struct SkylineDoc {
    results: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct GraphiteTarget {
    target: String,
    datapoints: Vec<serde_json::Value>,
}

/// Which way round a JSON pair is.
#[derive(Clone, Copy)]
enum Order {
    /// Graphite: `[value, ts]`.
    ValueTs,
    /// Skyline: `[ts, value]`.
    TsValue,
}

/// The points of a JSON array of pairs. Timestamps may be fractional (they
/// are floored, as ingest floors Graphite's); a `null` value is counted and
/// skipped; anything else is a bad row.
fn json_points(
    items: &[serde_json::Value],
    target: Option<usize>,
    array: &'static str,
    order: Order,
    rows: &mut Rows,
) -> Vec<Point> {
    let mut points = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match json_point(item, order) {
            Ok(Some(point)) => points.push(point),
            Ok(None) => rows.nulls += 1,
            Err(why) => rows.bad.push(BadRow {
                at: Location::Point {
                    target,
                    array,
                    index,
                },
                reason: format!("{why}: {}", excerpt(&item.to_string(), QUOTED)),
            }),
        }
    }
    points
}

fn json_point(item: &serde_json::Value, order: Order) -> Result<Option<Point>, String> {
    let shape = match order {
        Order::ValueTs => "expected [value, timestamp]",
        Order::TsValue => "expected [timestamp, value]",
    };
    let pair = match item.as_array().map(Vec::as_slice) {
        Some([a, b]) => (a, b),
        _ => return Err(shape.to_owned()),
    };
    let (ts, value) = match order {
        Order::ValueTs => (pair.1, pair.0),
        Order::TsValue => pair,
    };
    let ts = json_timestamp(ts)?;
    if value.is_null() {
        return Ok(None);
    }
    // JSON has no NaN or infinity, and serde_json refuses a literal beyond
    // f64's range: a number here is finite.
    let value = value
        .as_f64()
        .ok_or_else(|| "value is not a number".to_owned())?;
    Ok(Some((ts, value)))
}

fn json_timestamp(ts: &serde_json::Value) -> Result<i64, String> {
    let t = match (ts.as_i64(), ts.as_f64()) {
        (Some(t), _) => t,
        // Below 1e15 a floored f64 fits an i64 exactly; anything that large
        // is out of range anyway.
        (None, Some(t)) if t.abs() < 1e15 => t.floor() as i64,
        (None, Some(_)) => i64::MAX,
        (None, None) => return Err("timestamp is not a number".to_owned()),
    };
    if !(0..=MAX_TIMESTAMP).contains(&t) {
        return Err(format!(
            "timestamp {ts} is out of range (0..={MAX_TIMESTAMP})"
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(name: &str, text: &str) -> Result<History, HistoryError> {
        parse_history(Path::new(name), text, None, false)
    }

    fn points(h: &MetricHistory) -> Vec<(i64, f64)> {
        h.datapoints
            .iter()
            .map(|d| (d.timestamp, d.value))
            .collect()
    }

    #[test]
    fn csv_with_and_without_header_as_backtest_reads_it() {
        let h = parse(
            "dir/cpu.web01.csv",
            "timestamp,value\n2014-04-10 00:04:00,91.958\r\n\n2014-04-10 00:09:00,94.798\n",
        )
        .unwrap();
        assert_eq!(h.format, HistoryFormat::Csv);
        assert_eq!(h.metrics.len(), 1);
        assert_eq!(h.metrics[0].metric, "cpu.web01", "the stem, no prefix");
        assert_eq!(
            points(&h.metrics[0]),
            [(1_397_088_240, 91.958), (1_397_088_540, 94.798)]
        );
        assert_eq!(h.metrics[0].span(), Some((1_397_088_240, 1_397_088_540)));
        assert_eq!((h.nulls, h.bad_rows.len(), h.len()), (0, 0, 2));

        // No header, unix seconds (fractions floored), out of order: sorted.
        let h = parse_history(
            Path::new("x.txt"),
            "\u{feff}1700000600,2\n1700000000.9,1e3\n",
            Some("given.name"),
            false,
        )
        .unwrap();
        assert_eq!(h.metrics[0].metric, "given.name");
        assert_eq!(
            points(&h.metrics[0]),
            [(1_700_000_000, 1000.0), (1_700_000_600, 2.0)]
        );
        assert!(parse("empty.csv", "").unwrap().is_empty());
    }

    #[test]
    fn csv_bad_rows_name_file_and_line_or_are_counted() {
        let text = "timestamp,value\n1,1\n2,x\n3,3\n4,NaN\n5\n6,6,6\nlater,7\n";
        let e = parse("data/bad.csv", text).unwrap_err().to_string();
        assert_eq!(
            e,
            "data/bad.csv:3: value \"x\" is not a number: \"2,x\" \
             (and 4 more bad rows; --skip-bad-rows imports the rest)"
        );
        let h = parse_history(Path::new("data/bad.csv"), text, None, true).unwrap();
        assert_eq!(points(&h.metrics[0]), [(1, 1.0), (3, 3.0)]);
        let lines: Vec<String> = h.bad_rows.iter().map(|b| b.at.to_string()).collect();
        assert_eq!(lines, [":3", ":5", ":6", ":7", ":8"]);
        assert!(h.bad_rows[1].reason.contains("not finite"), "{h:?}");
        assert!(h.bad_rows[2].reason.contains("two columns"), "{h:?}");
        assert!(
            h.bad_rows[4].reason.contains("neither epoch seconds"),
            "{h:?}"
        );

        // Only the first line can be a header.
        let e = parse("h.csv", "1,1\ntimestamp,value\n").unwrap_err();
        assert!(e.to_string().starts_with("h.csv:2: "), "{e}");
        let e = parse("range.csv", "16725225601,1\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("range.csv:1: timestamp") && e.contains("out of range"));
    }

    #[test]
    fn graphite_json_targets_nulls_and_bad_points() {
        let text = r#"[
            {"target": "web01.cpu", "tags": {"name": "web01.cpu"},
             "datapoints": [[1.5, 1700000060], [null, 1700000120], [2, 1700000000]]},
            {"target": "web02.cpu", "datapoints": [[3, 1700000000.5]]}
        ]"#;
        let h = parse("render.json", text).unwrap();
        assert_eq!(h.format, HistoryFormat::GraphiteJson);
        let names: Vec<&str> = h.metrics.iter().map(|m| m.metric.as_str()).collect();
        assert_eq!(names, ["web01.cpu", "web02.cpu"]);
        assert_eq!(
            points(&h.metrics[0]),
            [(1_700_000_000, 2.0), (1_700_000_060, 1.5)]
        );
        assert_eq!(points(&h.metrics[1]), [(1_700_000_000, 3.0)]);
        assert_eq!((h.nulls, h.len()), (1, 3));
        assert!(h.datapoints().all(|d| !d.metric.is_empty()));

        let e = parse_history(Path::new("render.json"), text, Some("one"), false).unwrap_err();
        assert!(matches!(
            e,
            HistoryError::MetricForSeveralTargets { targets: 2, .. }
        ));

        // One target: --metric renames it; bad points are named by index.
        let one =
            r#"[{"target": "a", "datapoints": [[1, 10], [1, "soon"], ["x", 30], [1], [1, -5]]}]"#;
        let e = parse("one.json", one).unwrap_err().to_string();
        assert!(
            e.starts_with("one.json: datapoints[1]: timestamp is not a number: [1,\"soon\"]"),
            "{e}"
        );
        assert!(e.contains("and 3 more bad rows"), "{e}");
        let h = parse_history(Path::new("one.json"), one, Some("renamed"), true).unwrap();
        assert_eq!(h.metrics[0].metric, "renamed");
        assert_eq!(points(&h.metrics[0]), [(10, 1.0)]);
        let at: Vec<String> = h.bad_rows.iter().map(|b| b.at.to_string()).collect();
        assert_eq!(
            at,
            [
                ": datapoints[1]",
                ": datapoints[2]",
                ": datapoints[3]",
                ": datapoints[4]"
            ]
        );

        // With several targets, the target's index too.
        let two =
            r#"[{"target": "a", "datapoints": []}, {"target": "b", "datapoints": [[1, null]]}]"#;
        let e = parse("two.json", two).unwrap_err().to_string();
        assert!(e.starts_with("two.json: [1].datapoints[0]: "), "{e}");
    }

    #[test]
    fn graphite_target_names_are_validated_and_shapes_refused() {
        let e = parse(
            "f.json",
            r#"[{"target": "sumSeries(a, b)", "datapoints": []}]"#,
        )
        .unwrap_err();
        assert!(
            matches!(
                &e,
                HistoryError::MetricName {
                    source: LineError::NameCharacter(' '),
                    ..
                }
            ),
            "{e}"
        );
        assert!(!e.to_string().contains("--metric"), "{e}");
        let e = parse("f.json", r#"[{"datapoints": []}]"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f.json: not Graphite JSON: missing field `target`"),
            "{e}"
        );
        let e = parse("f.json", "[1, 2").unwrap_err();
        assert!(matches!(e, HistoryError::Shape { .. }), "{e}");
    }

    #[test]
    fn skyline_json_results() {
        let text = r#"{"results": [[1700000000, 1.5], [1700000060.7, null], [1700000120, 2]]}"#;
        let h = parse("series.json", text).unwrap();
        assert_eq!(h.format, HistoryFormat::SkylineJson);
        assert_eq!(h.metrics[0].metric, "series");
        assert_eq!(
            points(&h.metrics[0]),
            [(1_700_000_000, 1.5), (1_700_000_120, 2.0)]
        );
        assert_eq!(h.nulls, 1);
        let e = parse("s.json", r#"{"results": [[1, 1], [2, true]]}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "s.json: results[1]: value is not a number: [2,true]");
        let e = parse("s.json", r#"{"points": []}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("s.json: not Skyline JSON: missing field `results`"),
            "{e}"
        );
    }

    #[test]
    fn metric_names_follow_ingest_rules() {
        let e = parse("my series.csv", "1,1\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "my series.csv: metric name \"my series\" is refused: metric name contains ' ', \
             not allowed (whitespace or control characters) (name it with --metric)"
        );
        let h = parse_history(Path::new("my series.csv"), "1,1\n", Some("ok"), false).unwrap();
        assert_eq!(h.metrics[0].metric, "ok");
        let e = parse_history(Path::new("a.csv"), "1,1\n", Some(""), false).unwrap_err();
        assert!(matches!(
            e,
            HistoryError::MetricName {
                source: LineError::EmptyName,
                ..
            }
        ));
    }

    proptest! {
        // Arbitrary text (any format it happens to look like) is parsed or
        // refused, never a panic, and what is accepted is in range.
        #[test]
        fn arbitrary_files_are_parsed_or_refused(text in any::<String>(), skip in any::<bool>()) {
            if let Ok(h) = parse_history(Path::new("fuzz.csv"), &text, None, skip) {
                for d in h.datapoints() {
                    prop_assert!((0..=MAX_TIMESTAMP).contains(&d.timestamp) && d.value.is_finite());
                }
            }
        }

        #[test]
        fn json_pairs_of_arbitrary_numbers_are_parsed_or_refused(
            pairs in proptest::collection::vec((any::<f64>(), any::<i64>(), any::<f64>()), 0..8),
        ) {
            let items: Vec<String> = pairs
                .iter()
                .map(|(v, t, tf)| format!("[{v:?}, {t}], [{v:e}, {tf:?}]"))
                .collect();
            let text = format!(r#"[{{"target": "t", "datapoints": [{}]}}]"#, items.join(","));
            if let Ok(h) = parse_history(Path::new("fuzz.json"), &text, None, true) {
                for d in h.datapoints() {
                    prop_assert!((0..=MAX_TIMESTAMP).contains(&d.timestamp) && d.value.is_finite());
                }
            }
        }
    }
}
