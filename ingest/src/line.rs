//! Metric lines as sources deliver them, parsed and validated into
//! [`Datapoint`]s. Every refusal says why, so it can be dead-lettered with a
//! reason an operator can act on.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use topics::kafka::RefusalReason;
use topics::{excerpt, Datapoint};

/// Longest metric name accepted, in bytes (Graphite's own path limit is
/// the filesystem's 255 per element; longer names are almost always a bug).
pub const MAX_METRIC_NAME_LEN: usize = 255;
pub use topics::MAX_TIMESTAMP;

/// Most bytes of a refused field (or parser message) quoted in a reason:
/// the raw line travels with the dead letter already, and a reason that
/// repeated a 600 KB field would not fit in one.
const QUOTED: usize = 100;

/// How a source's lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LineFormat {
    /// Graphite plaintext: `name value timestamp`.
    #[default]
    Graphite,
    /// JSON: `{"metric": "...", "timestamp": 1700000000, "value": 1.5}`.
    Json,
}

/// Why a line was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LineError {
    /// The line is not valid UTF-8.
    #[error("line is not UTF-8")]
    NotUtf8,
    /// A Graphite line without exactly three fields (how many it had).
    #[error("expected `name value timestamp`, got {0} field(s)")]
    FieldCount(usize),
    /// The value does not parse as a number.
    #[error("value {0:?} is not a number")]
    Value(String),
    /// The value is NaN or infinite.
    #[error("value {0} is not finite")]
    NotFinite(f64),
    /// The timestamp does not parse as unix seconds.
    #[error("timestamp {0:?} is not unix seconds")]
    Timestamp(String),
    /// The timestamp is below 0 or above [`MAX_TIMESTAMP`].
    #[error("timestamp {0} is out of range (0..={MAX_TIMESTAMP})")]
    TimestampRange(i64),
    /// The metric name is empty.
    #[error("metric name is empty")]
    EmptyName,
    /// The metric name is over [`MAX_METRIC_NAME_LEN`] bytes (its length).
    #[error("metric name is {0} bytes long, more than {MAX_METRIC_NAME_LEN}")]
    NameTooLong(usize),
    /// The metric name holds whitespace or a control character (which one).
    #[error("metric name contains {0:?}, not allowed (whitespace or control characters)")]
    NameCharacter(char),
    /// A JSON datapoint or body that does not parse (the parser's message).
    #[error("invalid JSON datapoint: {0}")]
    Json(String),
}

impl LineError {
    /// Which of the counted refusal reasons this is.
    pub fn reason(&self) -> RefusalReason {
        match self {
            LineError::NotUtf8 | LineError::FieldCount(_) | LineError::Json(_) => {
                RefusalReason::Unparsable
            }
            LineError::Value(_) | LineError::NotFinite(_) => RefusalReason::Value,
            LineError::Timestamp(_) | LineError::TimestampRange(_) => RefusalReason::Timestamp,
            LineError::EmptyName | LineError::NameTooLong(_) | LineError::NameCharacter(_) => {
                RefusalReason::MetricName
            }
        }
    }
}

/// Parses one line in `format`. Surrounding whitespace (and a trailing
/// `\r`) is ignored.
pub fn parse_line(format: LineFormat, line: &[u8]) -> Result<Datapoint, LineError> {
    let text = std::str::from_utf8(line)
        .map_err(|_| LineError::NotUtf8)?
        .trim();
    match format {
        LineFormat::Graphite => parse_graphite(text),
        LineFormat::Json => parse_json(text),
    }
}

/// `name value timestamp`, separated by runs of spaces or tabs. The
/// timestamp may carry a fraction (Graphite accepts one); it is truncated
/// towards the past. `-1` means "now" in Graphite but is refused here: a
/// log must be replayable, so time comes from the data.
pub fn parse_graphite(text: &str) -> Result<Datapoint, LineError> {
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let [name, value, timestamp] = fields[..] else {
        return Err(LineError::FieldCount(fields.len()));
    };
    let value: f64 = value
        .parse()
        .map_err(|_| LineError::Value(excerpt(value, QUOTED)))?;
    let timestamp = parse_timestamp(timestamp)?;
    datapoint(name, timestamp, value)
}

fn parse_timestamp(s: &str) -> Result<i64, LineError> {
    if let Ok(t) = s.parse::<i64>() {
        return Ok(t);
    }
    match s.parse::<f64>() {
        Ok(t) if t.is_finite() && t.abs() < 1e15 => Ok(t.floor() as i64),
        _ => Err(LineError::Timestamp(excerpt(s, QUOTED))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDatapoint {
    metric: String,
    timestamp: serde_json::Number,
    value: f64,
}

/// `{"metric", "timestamp", "value"}`; nothing else.
pub fn parse_json(text: &str) -> Result<Datapoint, LineError> {
    let raw: JsonDatapoint =
        serde_json::from_str(text).map_err(|e| LineError::Json(excerpt(&e.to_string(), QUOTED)))?;
    from_json(raw)
}

/// One element of a JSON array body: its bytes as sent, and what they
/// parse to.
#[derive(Debug)]
pub struct JsonElement<'a> {
    /// The element's bytes as sent.
    pub raw: &'a [u8],
    /// The datapoint, or why it was refused.
    pub datapoint: Result<Datapoint, LineError>,
}

/// A JSON array of `{"metric", "timestamp", "value"}` objects (the HTTP
/// API's body): each element parsed on its own, so one bad element does not
/// refuse the others, and kept as sent, so a refused one can be
/// dead-lettered as it came.
pub fn parse_json_array(body: &[u8]) -> Result<Vec<JsonElement<'_>>, LineError> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(body)
        .map_err(|e| LineError::Json(format!("body is not a JSON array: {e}")))?;
    Ok(items
        .into_iter()
        .map(|item| JsonElement {
            raw: item.get().as_bytes(),
            datapoint: serde_json::from_str::<JsonDatapoint>(item.get())
                .map_err(|e| LineError::Json(excerpt(&e.to_string(), QUOTED)))
                .and_then(from_json),
        })
        .collect())
}

fn from_json(raw: JsonDatapoint) -> Result<Datapoint, LineError> {
    let timestamp = match raw.timestamp.as_i64() {
        Some(t) => t,
        None => parse_timestamp(&raw.timestamp.to_string())?,
    };
    datapoint(&raw.metric, timestamp, raw.value)
}

/// Validates and builds a datapoint.
pub fn datapoint(name: &str, timestamp: i64, value: f64) -> Result<Datapoint, LineError> {
    validate_metric_name(name)?;
    if !value.is_finite() {
        return Err(LineError::NotFinite(value));
    }
    if !(0..=MAX_TIMESTAMP).contains(&timestamp) {
        return Err(LineError::TimestampRange(timestamp));
    }
    Ok(Datapoint {
        metric: name.to_owned(),
        timestamp,
        value,
    })
}

/// A metric name is 1 to [`MAX_METRIC_NAME_LEN`] bytes with no whitespace
/// or control characters.
pub fn validate_metric_name(name: &str) -> Result<(), LineError> {
    if name.is_empty() {
        return Err(LineError::EmptyName);
    }
    if name.len() > MAX_METRIC_NAME_LEN {
        return Err(LineError::NameTooLong(name.len()));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(LineError::NameCharacter(c));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphite_lines() {
        let d = parse_line(LineFormat::Graphite, b"stats.web01.cpu 12.5 1700000000\r\n").unwrap();
        assert_eq!(
            d,
            Datapoint {
                metric: "stats.web01.cpu".into(),
                timestamp: 1_700_000_000,
                value: 12.5
            }
        );
        assert_eq!(
            parse_graphite("a\t1\t1700000000.7").unwrap().timestamp,
            1_700_000_000
        );
        assert_eq!(parse_graphite("a 1").unwrap_err(), LineError::FieldCount(2));
        assert_eq!(
            parse_graphite("a b 1").unwrap_err(),
            LineError::Value("b".into())
        );
        assert!(matches!(
            parse_graphite("a nan 1").unwrap_err(),
            LineError::NotFinite(_)
        ));
        assert!(matches!(
            parse_graphite("a inf 1").unwrap_err(),
            LineError::NotFinite(_)
        ));
        assert_eq!(
            parse_graphite("a 1 -1").unwrap_err(),
            LineError::TimestampRange(-1)
        );
        assert_eq!(
            parse_graphite("a 1 1700000000000").unwrap_err(),
            LineError::TimestampRange(1_700_000_000_000)
        );
        assert_eq!(
            parse_graphite("a 1 soon").unwrap_err(),
            LineError::Timestamp("soon".into())
        );
        let long = format!("{} 1 1", "x".repeat(300));
        assert_eq!(
            parse_graphite(&long).unwrap_err(),
            LineError::NameTooLong(300)
        );
        assert_eq!(
            parse_line(LineFormat::Graphite, b"\xff 1 1").unwrap_err(),
            LineError::NotUtf8
        );
    }

    #[test]
    fn json_lines_and_arrays() {
        let d = parse_line(
            LineFormat::Json,
            br#"{"metric":"m","timestamp":1700000000,"value":2}"#,
        )
        .unwrap();
        assert_eq!(
            (d.metric.as_str(), d.timestamp, d.value),
            ("m", 1_700_000_000, 2.0)
        );
        assert!(matches!(
            parse_json(r#"{"metric":"m","timestamp":1}"#),
            Err(LineError::Json(_))
        ));
        assert!(matches!(
            parse_json(r#"{"metric":"m","timestamp":1,"value":1,"x":0}"#),
            Err(LineError::Json(_))
        ));
        assert!(matches!(
            parse_json(r#"{"metric":"a b","timestamp":1,"value":1}"#),
            Err(LineError::NameCharacter(' '))
        ));
        let items = parse_json_array(
            br#"[{"metric":"m","timestamp":1,"value":1}, {"metric":"","timestamp":1,"value":1}]"#,
        )
        .unwrap();
        assert!(items[0].datapoint.is_ok());
        assert_eq!(
            items[1].datapoint.clone().unwrap_err(),
            LineError::EmptyName
        );
        assert_eq!(items[1].raw, br#"{"metric":"","timestamp":1,"value":1}"#);
        assert!(parse_json_array(b"{}").is_err());
    }
}
