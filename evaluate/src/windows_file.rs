//! NAB's labelled anomaly windows (`labels_windows.json`) and which key a
//! series file takes.
//!
//! The file is one JSON object mapping a series key, `"family/file.csv"`, to a
//! list of `[start, end]` pairs of UTC timestamps written
//! `"2014-04-10 07:15:00.000000"`. The fraction may be missing and the date
//! and time may be joined by `T`; both bounds are inclusive.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDateTime;
use serde_json::Value;

/// One labelled anomaly window, inclusive bounds, unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    /// First second of the window.
    pub start: i64,
    /// Last second of the window (inclusive).
    pub end: i64,
}

/// What can go wrong reading a windows file or picking a series' key.
#[derive(Debug, thiserror::Error)]
pub enum WindowsFileError {
    /// The text is not JSON at all.
    #[error("labelled windows are not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The top level is JSON but not an object of series keys.
    #[error("labelled windows must be a JSON object of series keys, found {found}")]
    NotAnObject {
        /// A short rendering of what was found.
        found: String,
    },
    /// A series' value is not a list of windows.
    #[error("windows of {key:?} must be a list of [start, end] pairs, found {found}")]
    NotAList {
        /// The series key.
        key: String,
        /// A short rendering of what was found.
        found: String,
    },
    /// One window is not a pair of timestamp strings.
    #[error(
        "window {index} of {key:?} must be a [start, end] pair of timestamp strings, found {found}"
    )]
    MalformedWindow {
        /// The series key.
        key: String,
        /// Position of the window in the key's list, from 0.
        index: usize,
        /// A short rendering of what was found.
        found: String,
    },
    /// A bound does not parse as a timestamp.
    #[error(
        "window of {key:?} has bad timestamp {value:?} (expected \"YYYY-MM-DD HH:MM:SS[.ffffff]\", UTC)"
    )]
    BadTimestamp {
        /// The series key.
        key: String,
        /// The text that failed to parse.
        value: String,
    },
    /// A window ends before it starts.
    #[error("window of {key:?} ends ({end:?}) before it starts ({start:?})")]
    EndBeforeStart {
        /// The series key.
        key: String,
        /// The start as written.
        start: String,
        /// The end as written.
        end: String,
    },
    /// The file cannot be read.
    #[error("cannot read labelled windows file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was read but its content is wrong.
    #[error("labelled windows file {path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        source: Box<WindowsFileError>,
    },
    /// Two different keys of the same length both end a series path.
    #[error("series {path} matches two labelled keys equally well: {first:?} and {second:?}")]
    Ambiguous {
        /// The series file.
        path: PathBuf,
        /// One matching key.
        first: String,
        /// The other matching key.
        second: String,
    },
}

/// Every series' windows, by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelledWindows {
    /// Windows sorted by start, per key.
    by_key: BTreeMap<String, Vec<Window>>,
}

impl LabelledWindows {
    /// Parses the text of a `labels_windows.json`.
    pub fn from_json(text: &str) -> Result<LabelledWindows, WindowsFileError> {
        let top: Value = serde_json::from_str(text)?;
        let Value::Object(entries) = top else {
            return Err(WindowsFileError::NotAnObject { found: brief(&top) });
        };
        let mut by_key = BTreeMap::new();
        for (key, value) in entries {
            let windows = parse_windows(&key, &value)?;
            by_key.insert(key, windows);
        }
        Ok(LabelledWindows { by_key })
    }

    /// Reads and parses a `labels_windows.json` file.
    pub fn read(path: &Path) -> Result<LabelledWindows, WindowsFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| WindowsFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        LabelledWindows::from_json(&text).map_err(|source| WindowsFileError::InFile {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
    }

    /// The key a series file takes and its windows: the key that equals the
    /// end of the file's path, compared component by component, the longest
    /// such key winning (`realX/file.csv` beats `file.csv`). `None` when no
    /// key matches; an error when two different keys with as many components
    /// both match best.
    pub fn for_series(&self, path: &Path) -> Result<Option<(&str, &[Window])>, WindowsFileError> {
        // Only plain names take part: a leading `/`, `.` or `..` says nothing
        // about which series this is.
        let path_parts: Vec<&OsStr> = path
            .components()
            .filter_map(|component| match component {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect();
        let mut best: Option<(usize, &str, &[Window])> = None;
        // A key as long as the best so far; it only matters if nothing
        // longer turns up later, so the verdict waits for the end.
        let mut tied: Option<&str> = None;
        for (key, windows) in &self.by_key {
            let key_parts = key_components(key);
            if key_parts.is_empty() || key_parts.len() > path_parts.len() {
                continue;
            }
            let tail = &path_parts[path_parts.len() - key_parts.len()..];
            let matches = tail
                .iter()
                .zip(&key_parts)
                .all(|(path_part, key_part)| *path_part == OsStr::new(key_part));
            if !matches {
                continue;
            }
            match best {
                Some((length, _, _)) if length > key_parts.len() => {}
                Some((length, _, _)) if length == key_parts.len() => tied = Some(key),
                _ => {
                    best = Some((key_parts.len(), key.as_str(), windows.as_slice()));
                    tied = None;
                }
            }
        }
        if let (Some((_, first, _)), Some(second)) = (best, tied) {
            return Err(WindowsFileError::Ambiguous {
                path: path.to_path_buf(),
                first: first.to_owned(),
                second: second.to_owned(),
            });
        }
        Ok(best.map(|(_, key, windows)| (key, windows)))
    }

    /// The windows of one key exactly as written in the file.
    pub fn get(&self, key: &str) -> Option<&[Window]> {
        self.by_key.get(key).map(Vec::as_slice)
    }

    /// Every key and its windows, keys in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Window])> {
        self.by_key
            .iter()
            .map(|(key, windows)| (key.as_str(), windows.as_slice()))
    }

    /// How many series keys the file holds.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the file holds no series keys.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// A key's path components; empty ones (from `//` or a leading `/`) and `.`
/// carry no name, so they are dropped.
fn key_components(key: &str) -> Vec<&str> {
    key.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect()
}

/// One key's list of windows, checked and sorted by start.
fn parse_windows(key: &str, value: &Value) -> Result<Vec<Window>, WindowsFileError> {
    let Value::Array(pairs) = value else {
        return Err(WindowsFileError::NotAList {
            key: key.to_owned(),
            found: brief(value),
        });
    };
    let mut windows = Vec::with_capacity(pairs.len());
    for (index, pair) in pairs.iter().enumerate() {
        let malformed = || WindowsFileError::MalformedWindow {
            key: key.to_owned(),
            index,
            found: brief(pair),
        };
        let (start_text, end_text) = match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(start), Value::String(end)]) => (start, end),
            _ => return Err(malformed()),
        };
        let start = parse_timestamp(key, start_text)?;
        let end = parse_timestamp(key, end_text)?;
        if end < start {
            return Err(WindowsFileError::EndBeforeStart {
                key: key.to_owned(),
                start: start_text.clone(),
                end: end_text.clone(),
            });
        }
        windows.push(Window { start, end });
    }
    windows.sort_by_key(|window| (window.start, window.end));
    Ok(windows)
}

/// A UTC timestamp as NAB writes it, in unix seconds. A fraction of a second
/// is dropped (NAB's are all zero, and rows are whole seconds).
fn parse_timestamp(key: &str, text: &str) -> Result<i64, WindowsFileError> {
    const FORMATS: [&str; 2] = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"];
    FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text.trim(), format).ok())
        .map(|moment| moment.and_utc().timestamp())
        .ok_or_else(|| WindowsFileError::BadTimestamp {
            key: key.to_owned(),
            value: text.to_owned(),
        })
}

/// A JSON value shortened for an error message, so one bad entry does not
/// print a whole file.
fn brief(value: &Value) -> String {
    const LIMIT: usize = 80;
    let text = value.to_string();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(text: &str) -> LabelledWindows {
        LabelledWindows::from_json(text).expect("valid windows")
    }

    #[test]
    fn parses_nab_timestamps_as_utc_seconds() {
        // 2014-04-10 07:15:00 UTC: 16170 days after 1970-01-01
        // (44 years with 11 leap days = 16071, + Jan..Mar 2014 = 90, + 9 = 16170),
        // 16170 * 86400 + 7 * 3600 + 15 * 60 = 1397114100.
        let parsed = windows(
            r#"{"a/x.csv": [["2014-04-10 07:15:00.000000", "2014-04-10 07:15:00"]],
                "b/y.csv": [["2014-04-10T07:15:00", "2014-04-10T07:16:00.000000"]]}"#,
        );
        let expected = Window {
            start: 1_397_114_100,
            end: 1_397_114_100,
        };
        assert_eq!(parsed.get("a/x.csv"), Some(&[expected][..]));
        let later = Window {
            start: 1_397_114_100,
            end: 1_397_114_160,
        };
        assert_eq!(parsed.get("b/y.csv"), Some(&[later][..]));
        assert_eq!(parsed.len(), 2);
        assert!(!parsed.is_empty());
    }

    #[test]
    fn sorts_each_keys_windows_by_start() {
        let parsed = windows(
            r#"{"k.csv": [["1970-01-01 00:01:40", "1970-01-01 00:02:00"],
                          ["1970-01-01 00:00:10", "1970-01-01 00:00:20"]]}"#,
        );
        assert_eq!(
            parsed.get("k.csv").expect("key"),
            &[
                Window { start: 10, end: 20 },
                Window {
                    start: 100,
                    end: 120
                }
            ]
        );
    }

    #[test]
    fn empty_lists_and_empty_files_are_fine() {
        let parsed = windows(r#"{"quiet.csv": []}"#);
        assert_eq!(parsed.get("quiet.csv"), Some(&[][..]));
        assert!(windows("{}").is_empty());
    }

    #[test]
    fn refuses_a_window_ending_before_it_starts() {
        let error = LabelledWindows::from_json(
            r#"{"a/x.csv": [["2014-04-10 07:15:00", "2014-04-10 07:14:59"]]}"#,
        )
        .expect_err("end before start");
        assert!(
            matches!(error, WindowsFileError::EndBeforeStart { ref key, .. } if key == "a/x.csv")
        );
        assert!(error.to_string().contains("a/x.csv"), "{error}");
    }

    #[test]
    fn a_bad_timestamp_names_key_and_value() {
        let error =
            LabelledWindows::from_json(r#"{"a/x.csv": [["2014-04-10 07:15:00", "yesterday"]]}"#)
                .expect_err("bad timestamp");
        let message = error.to_string();
        assert!(
            message.contains("a/x.csv") && message.contains("yesterday"),
            "{message}"
        );
    }

    #[test]
    fn malformed_structures_are_refused_with_their_key() {
        let not_object = LabelledWindows::from_json("[1, 2]").expect_err("array");
        assert!(matches!(not_object, WindowsFileError::NotAnObject { .. }));

        let not_list = LabelledWindows::from_json(r#"{"a.csv": "soon"}"#).expect_err("string");
        assert!(matches!(not_list, WindowsFileError::NotAList { ref key, .. } if key == "a.csv"));

        for bad_pair in [
            r#"["2014-04-10 07:15:00"]"#,
            r#"["2014-04-10 07:15:00", "2014-04-10 07:15:00", "2014-04-10 07:15:00"]"#,
            r#"["2014-04-10 07:15:00", 5]"#,
            r#""2014-04-10 07:15:00""#,
        ] {
            let text = format!(
                r#"{{"a.csv": [["2014-04-10 07:00:00", "2014-04-10 07:01:00"], {bad_pair}]}}"#
            );
            let error = LabelledWindows::from_json(&text).expect_err(bad_pair);
            assert!(
                matches!(error, WindowsFileError::MalformedWindow { ref key, index: 1, .. } if key == "a.csv"),
                "{bad_pair}: {error}"
            );
        }

        assert!(matches!(
            LabelledWindows::from_json("{").expect_err("truncated"),
            WindowsFileError::Json(_)
        ));
    }

    #[test]
    fn read_names_the_file() {
        let missing = Path::new("/nonexistent/skyline/labels_windows.json");
        let error = LabelledWindows::read(missing).expect_err("missing file");
        assert!(matches!(error, WindowsFileError::Read { .. }));
        assert!(error
            .to_string()
            .contains("/nonexistent/skyline/labels_windows.json"));

        let dir = std::env::temp_dir().join(format!("skyline-nab-windows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let bad = dir.join("labels_windows.json");
        std::fs::write(&bad, r#"{"a.csv": [["2014-04-10", "x"]]}"#).expect("write");
        let error = LabelledWindows::read(&bad).expect_err("bad content");
        let message = error.to_string();
        std::fs::remove_dir_all(&dir).ok();
        assert!(matches!(error, WindowsFileError::InFile { .. }));
        assert!(
            message.contains("labels_windows.json") && message.contains("a.csv"),
            "{message}"
        );
    }

    #[test]
    fn a_series_takes_the_key_ending_its_path() {
        let parsed = windows(
            r#"{"realAWSCloudwatch/x.csv": [["1970-01-01 00:00:10", "1970-01-01 00:00:20"]],
                "x.csv": [],
                "y.csv": []}"#,
        );
        let (key, found) = parsed
            .for_series(Path::new("/data/nab/realAWSCloudwatch/x.csv"))
            .expect("unambiguous")
            .expect("a key");
        assert_eq!(key, "realAWSCloudwatch/x.csv");
        assert_eq!(found, &[Window { start: 10, end: 20 }]);

        // Only `x.csv` ends this path: another family's directory.
        let (key, _) = parsed
            .for_series(Path::new("/data/nab/otherFamily/x.csv"))
            .expect("unambiguous")
            .expect("a key");
        assert_eq!(key, "x.csv");

        // A bare file name cannot match the two-component key.
        let (key, _) = parsed
            .for_series(Path::new("x.csv"))
            .expect("unambiguous")
            .expect("a key");
        assert_eq!(key, "x.csv");
    }

    #[test]
    fn whole_components_only() {
        let parsed = windows(r#"{"x.csv": [], "Cloudwatch/y.csv": []}"#);
        // `ax.csv` ends in the characters of `x.csv` but not in its component.
        assert_eq!(
            parsed.for_series(Path::new("/data/ax.csv")).expect("ok"),
            None
        );
        assert_eq!(
            parsed
                .for_series(Path::new("/data/realAWSCloudwatch/y.csv"))
                .expect("ok"),
            None
        );
        assert_eq!(
            parsed
                .for_series(Path::new("/data/x.csv/z.csv"))
                .expect("ok"),
            None
        );
    }

    #[test]
    fn equally_long_different_keys_are_ambiguous() {
        // Both keys name the components `a`, `x.csv`.
        let parsed = windows(r#"{"a/x.csv": [], "a//x.csv": []}"#);
        let error = parsed
            .for_series(Path::new("/data/a/x.csv"))
            .expect_err("ambiguous");
        let message = error.to_string();
        assert!(
            message.contains("\"a/x.csv\"") && message.contains("\"a//x.csv\""),
            "{message}"
        );
        // A longer key settles it.
        let parsed = windows(r#"{"a/x.csv": [], "a//x.csv": [], "data/a/x.csv": []}"#);
        let (key, _) = parsed
            .for_series(Path::new("/data/a/x.csv"))
            .expect("longest wins")
            .expect("a key");
        assert_eq!(key, "data/a/x.csv");
    }

    /// The shared data directory: `SKYLINE_SHARED_DATA` when set, else the
    /// checkout's neighbour `shared/data`.
    fn shared_data() -> PathBuf {
        match std::env::var_os("SKYLINE_SHARED_DATA") {
            Some(dir) => PathBuf::from(dir),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
        }
    }

    #[test]
    fn reads_the_real_nab_windows_file() {
        let path = shared_data().join("nab/labels_windows.json");
        let parsed = LabelledWindows::read(&path).expect("the shared NAB windows");
        assert!(parsed.len() >= 10, "only {} keys", parsed.len());

        assert_eq!(
            parsed.get("artificialNoAnomaly/art_daily_no_noise.csv"),
            Some(&[][..])
        );
        // ["2014-04-10 07:15:00", "2014-04-11 16:45:00"]: 1397114100 as above,
        // and one day 9.5 hours later: + 86400 + 34200 = 1397234700.
        let (key, flat_middle) = parsed
            .for_series(Path::new(
                "/somewhere/nab/artificialWithAnomaly/art_daily_flatmiddle.csv",
            ))
            .expect("unambiguous")
            .expect("a key");
        assert_eq!(key, "artificialWithAnomaly/art_daily_flatmiddle.csv");
        assert_eq!(
            flat_middle,
            &[Window {
                start: 1_397_114_100,
                end: 1_397_234_700
            }]
        );
        // Three windows, in order of start.
        let fe7f93 = parsed
            .get("realAWSCloudwatch/ec2_cpu_utilization_fe7f93.csv")
            .expect("key");
        assert_eq!(fe7f93.len(), 3);
        assert!(fe7f93.windows(2).all(|pair| pair[0].end < pair[1].start));
    }
}
