//! The simulated operator: what a person training skyline would label.
//!
//! After an alert outside every labelled window (a false alert), the oracle
//! labels the anomaly's check *not anomalous* — the check an operator opens
//! from the alert — `delay` seconds of data time later, until its budget of
//! labels for the series is spent. It never labels an alert inside a window,
//! and labels each check at most once (an anomaly that alerts again is
//! already being taught).

use fingerprint::matching::layers::Layers;
use serde::Serialize;
use topics::ids::simulated_label_id;
use topics::{CheckRequest, Label};

use crate::windows_file::Window;

/// Who labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorKind {
    /// Nobody: the untrained run.
    None,
    /// Someone who knows the labelled windows and labels every false alert
    /// they can.
    Oracle,
}

/// How the simulated operator works.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Operator {
    /// Who labels.
    pub kind: OperatorKind,
    /// Labels per series at most.
    pub budget: usize,
    /// Seconds of data time between the false alert and the label.
    pub delay: i64,
    /// Label with LEARN ("Create and LEARN"): the profile learns over
    /// generations at the learn duration.
    pub learn: bool,
    /// Attach a layers definition to each label ([`layers_for`]).
    pub layers: bool,
}

/// The name labels by the simulated operator carry.
pub const OPERATOR_NAME: &str = "evaluate-oracle";

impl Operator {
    /// Nobody labels.
    pub fn none() -> Operator {
        Operator {
            kind: OperatorKind::None,
            budget: 0,
            delay: 3_600,
            learn: false,
            layers: false,
        }
    }

    /// Whether an alert at `timestamp` is one to label, with `spent` labels
    /// spent so far: a false alert (outside every window) while budget
    /// remains.
    pub fn wants_to_label(&self, timestamp: i64, windows: &[Window], spent: usize) -> bool {
        self.kind == OperatorKind::Oracle && spent < self.budget && !in_any(windows, timestamp)
    }

    /// The not-anomalous label on `check`, made at data time `at` (seconds).
    /// Its id is [`simulated_label_id`] of the check, so an evaluation is
    /// reproducible and the same label fed to the real services makes the
    /// same profile.
    pub fn label(&self, check: &CheckRequest, at: i64) -> Label {
        Label {
            id: simulated_label_id(check.id),
            metric: check.metric.clone(),
            anomaly_id: Some(check.anomaly_id),
            training_id: None,
            timestamp: check.timestamp,
            not_anomalous: true,
            learn: self.learn,
            layers_json: self.layers.then(|| layers_for(check)).flatten(),
            operator: OPERATOR_NAME.to_owned(),
            labelled_at_ms: at.saturating_mul(1_000),
            check_id: Some(check.id),
            full_duration: Some(check.full_duration()),
            series: Some(check.series.clone()),
            description: Some("false alert outside every labelled window".to_owned()),
            echo_series: check.echo_series.clone(),
        }
    }
}

/// Whether `timestamp` is inside one of `windows` (inclusive).
pub fn in_any(windows: &[Window], timestamp: i64) -> bool {
    windows
        .iter()
        .any(|w| w.start <= timestamp && timestamp <= w.end)
}

/// The layers a quick operator writes for a false alert: "expected up to
/// the highest value this check saw; discard (still anomalous) beyond it by
/// more than a tenth of the check's range". With `hi`/`lo` the series'
/// largest and smallest finite values and `r = hi − lo`:
/// `E: value <= hi`, `D: value > hi + r/10` (D needs a boundary above E's;
/// a flat series gets `hi + 1`). `None` when the check has no finite value.
pub fn layers_for(check: &CheckRequest) -> Option<String> {
    let finite = check
        .series
        .iter()
        .map(|p| p.value)
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold(None, |acc: Option<(f64, f64)>, v| {
        Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))))
    })?;
    let margin = if hi > lo { (hi - lo) / 10.0 } else { 1.0 };
    let json = serde_json::json!({
        "d": {"condition": ">", "boundary": hi + margin},
        "e": {"condition": "<=", "boundary": hi, "times_in_row": 1},
    })
    .to_string();
    // What the oracle writes must be what an operator could submit.
    Layers::from_json(&json).ok().map(|_| json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use topics::{CheckTarget, SeriesPoint};
    use uuid::Uuid;

    fn check(values: &[f64]) -> CheckRequest {
        CheckRequest {
            id: Uuid::from_u128(7),
            anomaly_id: Uuid::from_u128(8),
            target: CheckTarget::Fingerprint,
            metric: "m".to_owned(),
            timestamp: 1_000 + values.len() as i64 * 60,
            value: values.last().copied().unwrap_or(0.0),
            triggered_algorithms: Vec::new(),
            second_order_resolution_hours: None,
            series: values
                .iter()
                .enumerate()
                .map(|(i, v)| SeriesPoint {
                    timestamp: 1_000 + i as i64 * 60,
                    value: *v,
                })
                .collect(),
            decided_at_ms: 0,
            full_duration: Some(86_400),
            echo_series: None,
            alerts: Vec::new(),
            periodic: false,
            derivative: false,
        }
    }

    #[test]
    fn the_oracle_labels_false_alerts_within_its_budget_only() {
        let windows = [Window {
            start: 100,
            end: 200,
        }];
        let oracle = Operator {
            kind: OperatorKind::Oracle,
            budget: 2,
            ..Operator::none()
        };
        assert!(oracle.wants_to_label(50, &windows, 0));
        assert!(oracle.wants_to_label(201, &windows, 1));
        assert!(!oracle.wants_to_label(100, &windows, 0), "window start");
        assert!(!oracle.wants_to_label(200, &windows, 0), "window end");
        assert!(!oracle.wants_to_label(300, &windows, 2), "budget spent");
        assert!(!Operator::none().wants_to_label(50, &windows, 0));
    }

    #[test]
    fn labels_are_derived_from_the_check() {
        let oracle = Operator {
            kind: OperatorKind::Oracle,
            budget: 1,
            learn: true,
            ..Operator::none()
        };
        let c = check(&[1.0, 2.0, 3.0]);
        let a = oracle.label(&c, 5_000);
        let b = oracle.label(&c, 5_000);
        assert_eq!(a, b);
        assert_eq!(a.id, simulated_label_id(c.id));
        assert_eq!(a.check_id, Some(c.id));
        assert!(a.not_anomalous && a.learn);
        assert_eq!(a.labelled_at_ms, 5_000_000);
        assert_eq!(a.series.as_ref().map(Vec::len), Some(3));
        assert_eq!(a.layers_json, None);
    }

    #[test]
    fn layers_expect_up_to_the_checks_highest_value() {
        // lo 2, hi 12: E <= 12, D > 12 + 10/10 = 13.
        let json = layers_for(&check(&[2.0, 12.0, f64::NAN, 7.0])).expect("layers");
        let layers = Layers::from_json(&json).expect("valid");
        assert_eq!(layers.e.boundary, 12.0);
        assert_eq!(layers.d.boundary, 13.0);
        // Flat: D one above.
        let flat =
            Layers::from_json(&layers_for(&check(&[5.0, 5.0])).expect("layers")).expect("valid");
        assert_eq!(flat.d.boundary, 6.0);
        assert_eq!(layers_for(&check(&[f64::NAN])), None);
    }
}
