//! The one wall clock of skyline's services.
//!
//! Decisions never read it (they are functions of the log: data time), so
//! a replay decides the same way; it stamps when something was decided or
//! written (`decided_at_ms`, a dead letter's `at_ms`, a label's time) and
//! where a read of the log began.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch now (0 on a clock set before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A unix time in seconds as skyline prints it: `YYYY-MM-DD HH:MM:SS UTC`
/// (the number itself when it is out of chrono's range).
pub fn utc(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}

/// A point in time as an operator writes it, in unix seconds: unix seconds,
/// an age before `now` (`90s`, `30m`, `6h`, `2d`) or a UTC date
/// `YYYY-MM-DD[ HH:MM:SS]` (a `T` between date and time also reads).
pub fn parse_time(s: &str, now: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<i64>() {
        return Ok(ts);
    }
    if let Some(unit) = s.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let n: i64 = s[..s.len() - 1]
            .parse()
            .map_err(|_| format!("not an age: {s:?}"))?;
        let per_unit = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("unknown unit in {s:?}: use s, m, h or d")),
        };
        return n
            .checked_mul(per_unit)
            .and_then(|seconds| now.checked_sub(seconds))
            .ok_or_else(|| format!("age out of range: {s:?}"));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Ok(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp()));
    }
    Err(format!(
        "cannot read {s:?}: give unix seconds, an age like 6h, or YYYY-MM-DD[ HH:MM:SS]"
    ))
}

#[cfg(test)]
mod tests {
    use super::{parse_time, utc};

    #[test]
    fn times_read_as_seconds_ages_and_dates() {
        let now = 1_700_000_000;
        assert_eq!(parse_time("1700000000", now), Ok(1_700_000_000));
        assert_eq!(parse_time("2023-11-14", now), Ok(1_699_920_000));
        assert_eq!(parse_time("2023-11-14 22:13:20", now), Ok(1_700_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20", now), Ok(1_700_000_000));
        assert_eq!(parse_time("6h", now), Ok(now - 6 * 3600));
        assert_eq!(parse_time(" 2d ", now), Ok(now - 2 * 86_400));
        assert!(parse_time("6w", now).is_err());
        assert!(parse_time("soon", now).is_err());
        assert!(
            parse_time("999999999999999999d", now).is_err(),
            "overflow is an error"
        );
    }

    #[test]
    fn utc_prints_seconds_as_a_date() {
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(i64::MAX), i64::MAX.to_string());
    }
}
