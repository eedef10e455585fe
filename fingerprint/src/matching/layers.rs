//! Layers (`spec/ionosphere.md` §6): an operator's hand-written boundaries
//! for a metric, attached to a features profile, that deflect an anomaly
//! whose last values sit inside what the operator calls normal.
//!
//! The definition travels as JSON in labels and profile events:
//!
//! ```json
//! {"d":  {"condition": ">",  "boundary": 100.0},
//!  "d1": {"condition": "<",  "boundary": 5.0,  "times_in_row": 3},
//!  "e":  {"condition": "<=", "boundary": 50.0, "times_in_row": 5},
//!  "es": ["mon", "tue"],
//!  "f1": "08:00", "f2": "18:30"}
//! ```
//!
//! `d` and `e` are required; `d1`, `es`, `f1`/`f2` are optional. `es` (days
//! of week, UTC) and `f1`–`f2` (time of day window, UTC, wrapping past
//! midnight when `f1 > f2`) limit when the layer applies: the reference
//! declared them but never evaluated them; here a layer can only match when
//! the check's timestamp is inside them ([`Layers::applies_at`]).
//!
//! [`Layers::from_json`] parses and validates a definition;
//! [`Layers::evaluate`] applies it to a series.

use serde::{Deserialize, Serialize};

/// A comparison of a value with a boundary. The reference evaluates `<` and
/// `>` non-strictly (as `<=` and `>=`); so do we.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// `<`: evaluated as `value <= boundary`, like the reference.
    #[serde(rename = "<")]
    Lt,
    /// `<=`: `value <= boundary`.
    #[serde(rename = "<=")]
    Le,
    /// `>`: evaluated as `value >= boundary`, like the reference.
    #[serde(rename = ">")]
    Gt,
    /// `>=`: `value >= boundary`.
    #[serde(rename = ">=")]
    Ge,
    /// `==`: `value == boundary`.
    #[serde(rename = "==")]
    Eq,
    /// `!=`: `value != boundary`.
    #[serde(rename = "!=")]
    Ne,
}

/// A single-value rule (the D layer).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// How the value is compared with the boundary.
    pub condition: Condition,
    /// The value compared with.
    pub boundary: f64,
}

/// A rule over the last `times_in_row` values (D1, E).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInRow {
    /// How each value is compared with the boundary.
    pub condition: Condition,
    /// The value compared with.
    pub boundary: f64,
    /// How many of the last values the rule reads (at least 1).
    pub times_in_row: u32,
}

/// A layers definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layers {
    /// Discard: the last value meeting this condition is never deflected.
    pub d: Rule,
    /// Discard if any of the last `times_in_row` values meets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d1: Option<RuleInRow>,
    /// Expected: matched when any of the last `times_in_row` values meets it.
    pub e: RuleInRow,
    /// Days of week (UTC) the layer applies on: `mon` … `sun`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub es: Option<Vec<String>>,
    /// Start of the time-of-day window (UTC, `HH:MM`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f1: Option<String>,
    /// End of the time-of-day window (UTC, `HH:MM`, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f2: Option<String>,
}

use thiserror::Error;

/// Why a layers definition was refused by [`Layers::from_json`].
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LayersError {
    /// Not JSON, or not the shape of a layers definition.
    #[error("layers definition is not valid: {0}")]
    Json(String),
    /// A `times_in_row` of 0 (a rule over no values could never decide).
    #[error("layer {layer}: times_in_row must be at least 1, got {got}")]
    TimesInRow {
        /// The layer (`d1` or `e`).
        layer: &'static str,
        /// The `times_in_row` given.
        got: u32,
    },
    /// A NaN or infinite boundary.
    #[error("layer {layer}: boundary must be a finite number, got {got}")]
    Boundary {
        /// The layer (`d`, `d1` or `e`).
        layer: &'static str,
        /// The boundary given.
        got: f64,
    },
    /// A day name other than `mon` … `sun`.
    #[error("layer es: unknown day {0:?} (expected mon, tue, wed, thu, fri, sat or sun)")]
    Day(String),
    /// An `es` list naming no day: the layer could never apply.
    #[error("layer es: lists no day (omit es to apply on every day)")]
    NoDays,
    /// A time of day that is not `HH:MM` (00:00 … 23:59).
    #[error("layer {layer}: {value:?} is not a time of day HH:MM (00:00 to 23:59)")]
    Time {
        /// The layer (`f1` or `f2`).
        layer: &'static str,
        /// The text given.
        value: String,
    },
}

/// Day names as a definition's `es` spells them, in the order of
/// [`weekday`] (Monday = 0).
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// The same days as an operator reads them.
pub const DAY_LABELS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Minutes in a day.
const DAY_MINUTES: u32 = 24 * 60;

/// The UTC day of week of a Unix timestamp, Monday = 0. The epoch
/// (1970-01-01) was a Thursday, so day `k` since the epoch is weekday
/// `(k + 3) mod 7`; Euclidean division keeps timestamps before 1970 right.
pub fn weekday(timestamp: i64) -> usize {
    (timestamp.div_euclid(86_400) + 3).rem_euclid(7) as usize
}

/// The UTC minute of the day of a Unix timestamp (0 … 1439).
pub fn minute_of_day(timestamp: i64) -> u32 {
    (timestamp.rem_euclid(86_400) / 60) as u32
}

/// Parses `HH:MM` (two-digit hours 00–23, minutes 00–59) into minutes after
/// midnight.
pub fn parse_time_of_day(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// The index (Monday = 0) of a day name, case-insensitively.
fn day_index(name: &str) -> Option<usize> {
    DAYS.iter()
        .position(|d| d.eq_ignore_ascii_case(name.trim()))
}

impl Condition {
    /// Applies the condition as the reference does: `<` and `>` are
    /// evaluated non-strictly (as `<=` and `>=`). Comparisons involving NaN
    /// are false.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Condition::Lt | Condition::Le => value <= limit,
            Condition::Gt | Condition::Ge => value >= limit,
            Condition::Eq => value == limit,
            Condition::Ne => !value.is_nan() && !limit.is_nan() && value != limit,
        }
    }
}

/// The approximately-close tolerance, in percent, for a boundary:
/// 0 up to 10, 10 from 11 to below 30, 5 from 30 (boundaries strictly
/// between 10 and 11 get none: the reference's bands leave that gap).
pub fn approximately_close_percent(limit: f64) -> f64 {
    if limit >= 30.0 {
        5.0
    } else if (11.0..30.0).contains(&limit) {
        10.0
    } else {
        0.0
    }
}

/// A boundary widened by approximately-close: `limit + ceil(limit/100 · pct)`
/// (always added: it loosens `>` discard and `<` expected boundaries, the
/// only ones it applies to).
pub fn approximately_close_limit(limit: f64) -> f64 {
    limit + (limit / 100.0 * approximately_close_percent(limit)).ceil()
}

/// The result of evaluating a layers definition on a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayerOutcome {
    /// The check's timestamp is inside the layer's days (`es`) and time of
    /// day window (`f1`/`f2`): the layer applies.
    pub applies: bool,
    /// The layer matched: the check is not anomalous by this layer.
    pub matched: bool,
    /// It matched only thanks to the approximately-close tolerance.
    pub approx_close: bool,
}

impl Condition {
    /// Every condition, in the order a form offers them.
    pub const ALL: [Condition; 6] = [
        Condition::Lt,
        Condition::Le,
        Condition::Gt,
        Condition::Ge,
        Condition::Eq,
        Condition::Ne,
    ];

    /// The symbol a definition spells the condition with (its serde name).
    pub fn symbol(self) -> &'static str {
        match self {
            Condition::Lt => "<",
            Condition::Le => "<=",
            Condition::Gt => ">",
            Condition::Ge => ">=",
            Condition::Eq => "==",
            Condition::Ne => "!=",
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.symbol())
    }
}

/// "the last value" or "any of the last n values", as the rules read.
fn last_values(n: u32) -> String {
    if n == 1 {
        "the last value".to_owned()
    } else {
        format!("any of the last {n} values")
    }
}

/// The definition in an operator's words, one clause per layer, e.g.
/// `D: discard when the last value > 1000 · E: expected when any of the
/// last 5 values <= 100 · on Mon, Fri · 09:00–17:00 UTC`.
impl std::fmt::Display for Layers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "D: discard when the last value {} {}",
            self.d.condition, self.d.boundary
        )?;
        if let Some(d1) = &self.d1 {
            write!(
                f,
                " · D1: discard when {} {} {}",
                last_values(d1.times_in_row),
                d1.condition,
                d1.boundary
            )?;
        }
        write!(
            f,
            " · E: expected when {} {} {}",
            last_values(self.e.times_in_row),
            self.e.condition,
            self.e.boundary
        )?;
        if let Some(days) = &self.es {
            // A validated definition names only known days; anything else
            // is shown as it was written.
            let names: Vec<&str> = days
                .iter()
                .map(|d| day_index(d).map_or(d.as_str(), |i| DAY_LABELS[i]))
                .collect();
            write!(f, " · on {}", names.join(", "))?;
        }
        match (&self.f1, &self.f2) {
            (Some(a), Some(b)) => write!(f, " · {a}–{b} UTC"),
            (Some(a), None) => write!(f, " · from {a} UTC"),
            (None, Some(b)) => write!(f, " · until {b} UTC"),
            (None, None) => Ok(()),
        }
    }
}

impl Layers {
    /// Parses and validates a layers definition (see the module
    /// documentation for the JSON shape): `times_in_row >= 1`, finite
    /// boundaries, day names `mon` … `sun` (any case; stored lowercase),
    /// times of day `HH:MM`.
    pub fn from_json(json: &str) -> Result<Layers, LayersError> {
        let mut layers: Layers =
            serde_json::from_str(json).map_err(|e| LayersError::Json(e.to_string()))?;
        if let Some(days) = &mut layers.es {
            for d in days.iter_mut() {
                *d = d.trim().to_ascii_lowercase();
            }
        }
        layers.validate()?;
        Ok(layers)
    }

    /// Checks the rules [`Layers::from_json`] enforces, for definitions
    /// built another way.
    pub fn validate(&self) -> Result<(), LayersError> {
        let finite = |layer, b: f64| {
            if b.is_finite() {
                Ok(())
            } else {
                Err(LayersError::Boundary { layer, got: b })
            }
        };
        let in_row = |layer, r: &RuleInRow| {
            finite(layer, r.boundary)?;
            if r.times_in_row == 0 {
                return Err(LayersError::TimesInRow { layer, got: 0 });
            }
            Ok(())
        };
        finite("d", self.d.boundary)?;
        if let Some(d1) = &self.d1 {
            in_row("d1", d1)?;
        }
        in_row("e", &self.e)?;
        if let Some(days) = &self.es {
            if days.is_empty() {
                return Err(LayersError::NoDays);
            }
            if let Some(bad) = days.iter().find(|d| day_index(d).is_none()) {
                return Err(LayersError::Day(bad.clone()));
            }
        }
        for (layer, t) in [("f1", &self.f1), ("f2", &self.f2)] {
            if let Some(t) = t {
                if parse_time_of_day(t).is_none() {
                    return Err(LayersError::Time {
                        layer,
                        value: t.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether the layer applies at `timestamp` (UTC): its weekday is one of
    /// `es` (when given), and its minute of the day is inside `f1`–`f2`
    /// (inclusive; `f1 > f2` wraps past midnight; only `f1` runs to the end
    /// of the day, only `f2` from its start). An unreadable day or time
    /// makes the layer not apply (never a panic).
    pub fn applies_at(&self, timestamp: i64) -> bool {
        if let Some(days) = &self.es {
            let today = weekday(timestamp);
            let mut any = false;
            for d in days {
                match day_index(d) {
                    Some(i) => any |= i == today,
                    None => return false,
                }
            }
            if !any {
                return false;
            }
        }
        let parse = |t: &Option<String>| t.as_deref().map(parse_time_of_day);
        let (from, to) = match (parse(&self.f1), parse(&self.f2)) {
            (None, None) => return true,
            (Some(None), _) | (_, Some(None)) => return false,
            (Some(Some(f1)), None) => (f1, DAY_MINUTES - 1),
            (None, Some(Some(f2))) => (0, f2),
            (Some(Some(f1)), Some(Some(f2))) => (f1, f2),
        };
        let now = minute_of_day(timestamp);
        if from <= to {
            (from..=to).contains(&now)
        } else {
            now >= from || now <= to
        }
    }

    /// Evaluates the layers (§6) on `series` (the FULL_DURATION series,
    /// oldest first; points whose value is not finite are dropped first) for
    /// a check at `timestamp`:
    ///
    /// 1. the layer applies only inside `es` and `f1`–`f2`;
    /// 2. D: the last value meeting D's condition is never deflected;
    /// 3. D1: nor is a series whose last `times_in_row` values include one
    ///    meeting D1's condition;
    /// 4. E: matched when ANY of the last `times_in_row` values meets E's
    ///    condition (not all of them: the reference's behaviour).
    ///
    /// With `approximately_close`, a D boundary with `>`/`>=` and an E
    /// boundary with `<`/`<=` are widened by
    /// [`approximately_close_limit`]; `approx_close` reports a match that
    /// the exact boundaries would not have given. Too few values for a rule
    /// or an unusable definition is "not matched".
    pub fn evaluate(
        &self,
        series: &[(i64, f64)],
        timestamp: i64,
        approximately_close: bool,
    ) -> LayerOutcome {
        let mut out = LayerOutcome::default();
        if self.validate().is_err() || !self.applies_at(timestamp) {
            return out;
        }
        out.applies = true;
        let values: Vec<f64> = series
            .iter()
            .map(|p| p.1)
            .filter(|v| v.is_finite())
            .collect();
        let exact = self.matches_values(&values, false);
        if exact {
            out.matched = true;
        } else if approximately_close && self.matches_values(&values, true) {
            out.matched = true;
            out.approx_close = true;
        }
        out
    }

    /// D, D1 and E on finite `values`, with or without the tolerance.
    fn matches_values(&self, values: &[f64], tolerance: bool) -> bool {
        let Some(&last) = values.last() else {
            return false;
        };
        let widen = |limit: f64, applies: bool| {
            if tolerance && applies {
                approximately_close_limit(limit)
            } else {
                limit
            }
        };
        let d_limit = widen(
            self.d.boundary,
            matches!(self.d.condition, Condition::Gt | Condition::Ge),
        );
        if self.d.condition.holds(last, d_limit) {
            return false;
        }
        // The last `k` values, or None when the series is shorter than the
        // rule asks (the reference's index error: not matched).
        let last_k = |k: u32| {
            let k = k as usize;
            (k >= 1 && values.len() >= k).then(|| &values[values.len() - k..])
        };
        if let Some(d1) = &self.d1 {
            let Some(window) = last_k(d1.times_in_row) else {
                return false;
            };
            if window.iter().any(|&v| d1.condition.holds(v, d1.boundary)) {
                return false;
            }
        }
        let e_limit = widen(
            self.e.boundary,
            matches!(self.e.condition, Condition::Lt | Condition::Le),
        );
        match last_k(self.e.times_in_row) {
            Some(window) => window.iter().any(|&v| self.e.condition.holds(v, e_limit)),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_and_tolerance() {
        // 1970-01-05 was a Monday; 1969-12-31 a Wednesday
        assert_eq!(weekday(4 * 86_400), 0);
        assert_eq!(weekday(-1), 2);
        assert_eq!(minute_of_day(86_400 + 8 * 3600 + 30 * 60 + 59), 510);
        assert_eq!(parse_time_of_day("23:59"), Some(1439));
        assert_eq!(parse_time_of_day("24:00"), None);
        assert_eq!(parse_time_of_day("8:00"), None);
        // pct bands: ≤ 10 → 0, (10, 11) → 0, [11, 30) → 10, ≥ 30 → 5
        assert_eq!(approximately_close_limit(10.0), 10.0);
        assert_eq!(approximately_close_limit(10.5), 10.5);
        assert_eq!(approximately_close_limit(20.0), 22.0);
        assert_eq!(approximately_close_limit(100.0), 105.0);
        assert_eq!(approximately_close_limit(31.0), 33.0);
        assert!(Condition::Lt.holds(5.0, 5.0) && Condition::Gt.holds(5.0, 5.0));
        assert!(!Condition::Eq.holds(f64::NAN, f64::NAN));
    }

    #[test]
    fn each_condition_symbol_is_its_serde_name() {
        for c in Condition::ALL {
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.symbol())
            );
        }
    }

    #[test]
    fn a_definition_reads_as_an_operator_would_say_it() {
        let plain = Layers::from_json(
            r#"{"d":{"condition":">","boundary":1000.0},"e":{"condition":"<=","boundary":100.0,"times_in_row":5}}"#,
        )
        .unwrap();
        assert_eq!(
            plain.to_string(),
            "D: discard when the last value > 1000 · E: expected when any of the last 5 values <= 100"
        );
        let full = Layers::from_json(
            r#"{"d":{"condition":">=","boundary":2.5},"d1":{"condition":"<","boundary":0.0,"times_in_row":3},"e":{"condition":"==","boundary":1.0,"times_in_row":1},"es":["MON","fri"],"f1":"09:00","f2":"17:30"}"#,
        )
        .unwrap();
        assert_eq!(
            full.to_string(),
            "D: discard when the last value >= 2.5 · D1: discard when any of the last 3 values < 0 \
             · E: expected when the last value == 1 · on Mon, Fri · 09:00–17:30 UTC"
        );
    }
}
