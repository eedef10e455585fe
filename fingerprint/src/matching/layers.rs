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
//! declared them but never evaluated them.

use serde::{Deserialize, Serialize};

/// A comparison of a value with a boundary. The reference evaluates `<` and
/// `>` non-strictly (as `<=` and `>=`); so do we.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

/// A single-value rule (the D layer).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub condition: Condition,
    pub boundary: f64,
}

/// A rule over the last `times_in_row` values (D1, E).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInRow {
    pub condition: Condition,
    pub boundary: f64,
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
