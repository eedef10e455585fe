//! Labels and the profiles they make.
//!
//! An operator labels a check *not anomalous* (`skyline label`, the console's
//! `POST /api/v1/labels`); the label carries the checked series, so the
//! features profile it makes ([`profile_from_label`]) can be re-derived from
//! the labels topic alone (`skyline retrain`). This is the reference's
//! "Create" / "Create and LEARN" on a training page (`spec/learn.md` §2:
//! generation 0, no parent, validated).

use std::future::Future;
use std::pin::Pin;

use fingerprint::matching::{profile_features, Layers};
use fingerprint::Features;
use topics::ids::{derived_id, label_profile_id};
use topics::{FeatureValue, Label, LearnSettings, ProfileAction, ProfileEvent, SeriesPoint};
use uuid::Uuid;

/// Why a label makes no profile, or a label request no label.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabelError {
    /// The label says "anomalous": it is recorded, but makes no profile.
    #[error("label {0} is not a not-anomalous label: it makes no profile")]
    NotNotAnomalous(Uuid),
    /// A not-anomalous label without series (or with no finite point).
    #[error("label {0} carries no usable series")]
    NoSeries(Uuid),
    /// The layers definition does not parse or validate.
    #[error("invalid layers definition: {0}")]
    Layers(String),
}

/// The id of the event that creates `profile_id` with `action`: a decision
/// about the profile, so deriving it twice gives the same event.
pub fn profile_event_id(profile_id: Uuid, action: &str) -> Uuid {
    derived_id("profile-event", &[profile_id.as_bytes(), action.as_bytes()])
}

/// Features in the event form.
pub fn feature_values(features: &Features) -> Vec<FeatureValue> {
    features
        .iter()
        .map(|(id, _, value)| FeatureValue {
            id: u32::from(id),
            value,
        })
        .collect()
}

/// The features profile a not-anomalous label makes (generation 0, no
/// parent, validated), with `settings` the metric's learn settings and
/// `features_version` the features version its id is derived with
/// ([`fingerprint::FEATURES_VERSION`] in production).
///
/// Non-finite points are dropped before the features are computed (the
/// reference drops NaN). The profile's `full_duration` is the label's, or
/// the span of the series (last − first timestamp) for labels without one.
pub fn profile_from_label(
    label: &Label,
    settings: &LearnSettings,
    features_version: &str,
) -> Result<ProfileEvent, LabelError> {
    if !label.not_anomalous {
        return Err(LabelError::NotNotAnomalous(label.id));
    }
    let series: Vec<SeriesPoint> = label
        .series
        .iter()
        .flatten()
        .filter(|p| p.value.is_finite())
        .copied()
        .collect();
    if series.is_empty() {
        return Err(LabelError::NoSeries(label.id));
    }
    if let Some(json) = &label.layers_json {
        Layers::from_json(json).map_err(|e| LabelError::Layers(e.to_string()))?;
    }
    let values: Vec<f64> = series.iter().map(|p| p.value).collect();
    let (features, features_sum) = profile_features(&values);
    let span = series[series.len() - 1]
        .timestamp
        .saturating_sub(series[0].timestamp);
    let profile_id = label_profile_id(label.id, features_version);
    Ok(ProfileEvent {
        id: profile_event_id(profile_id, "created"),
        profile_id,
        action: ProfileAction::Created,
        metric: label.metric.clone(),
        parent_id: None,
        generation: 0,
        full_duration: label.full_duration.unwrap_or(span),
        features: feature_values(&features),
        features_sum,
        series,
        layers_json: label.layers_json.clone(),
        label_id: Some(label.id),
        at_ms: label.labelled_at_ms,
        validated: true,
        learn: label.learn,
        learn_settings: Some(*settings),
        description: label.description.clone(),
        operator: Some(label.operator.clone()),
        anomaly_timestamp: Some(label.timestamp),
        check_id: label.check_id,
        disabled_with: None,
    })
}

/// A check as labelling needs it (the projections' `CheckForLabel`): what
/// was judged, where and when.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledCheck {
    /// The check's id.
    pub check_id: Uuid,
    /// The anomaly it was made for.
    pub anomaly_id: Uuid,
    /// The metric judged.
    pub metric: String,
    /// The anomaly's timestamp.
    pub timestamp: i64,
    /// Seconds of data the check judged.
    pub full_duration: i64,
    /// The series judged, oldest first.
    pub series: Vec<(i64, f64)>,
}

/// A lookup that failed (the database, not a missing check).
#[derive(Debug, Clone, thiserror::Error)]
#[error("looking up check {check_id}: {reason}")]
pub struct LookupError {
    /// The check looked up.
    pub check_id: Uuid,
    /// What went wrong.
    pub reason: String,
}

/// The future a [`CheckLookup`] returns.
pub type LookupFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<LabelledCheck>, LookupError>> + Send + 'a>>;

/// Finds the check an operator labels: the projections' `checks` table in
/// production (`projections::query::check_for_label`); anything else in a
/// test. Object-safe, so the console holds one as `Arc<dyn CheckLookup>`.
pub trait CheckLookup: Send + Sync {
    /// The check `check_id`, or `None` if there is no such check.
    fn check_for_label(&self, check_id: Uuid) -> LookupFuture<'_>;
}

/// What an operator asks for when labelling a check.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRequest {
    /// The check labelled.
    pub check_id: Uuid,
    /// Whether the operator says the anomaly was not anomalous (it makes a features profile).
    pub not_anomalous: bool,
    /// Also learn from it at learn_full_duration ("Create and LEARN").
    pub learn: bool,
    /// A layers definition (JSON) to attach.
    pub layers_json: Option<String>,
    /// What the operator wrote.
    pub description: Option<String>,
    /// Who labelled.
    pub operator: String,
}

/// The label for `request` on `check`, made at `now_ms`, with a fresh id.
/// The layers definition, if any, must validate.
pub fn label_for_check(
    request: &LabelRequest,
    check: &LabelledCheck,
    now_ms: i64,
) -> Result<Label, LabelError> {
    if let Some(json) = &request.layers_json {
        Layers::from_json(json).map_err(|e| LabelError::Layers(e.to_string()))?;
    }
    let id = topics::ids::fresh_id();
    if request.not_anomalous && !check.series.iter().any(|p| p.1.is_finite()) {
        return Err(LabelError::NoSeries(id));
    }
    Ok(Label {
        id,
        metric: check.metric.clone(),
        anomaly_id: Some(check.anomaly_id),
        training_id: None,
        timestamp: check.timestamp,
        not_anomalous: request.not_anomalous,
        learn: request.learn,
        layers_json: request.layers_json.clone(),
        operator: request.operator.clone(),
        labelled_at_ms: now_ms,
        check_id: Some(check.check_id),
        full_duration: Some(check.full_duration),
        series: Some(
            check
                .series
                .iter()
                .map(|&(timestamp, value)| SeriesPoint { timestamp, value })
                .collect(),
        ),
        echo_series: None,
        description: request.description.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::nab_series;

    fn settings() -> LearnSettings {
        crate::LearnPolicy::default().for_metric("m")
    }

    fn label(series: Vec<(i64, f64)>) -> Label {
        Label {
            id: Uuid::from_u128(42),
            metric: "nab.ec2_cpu".into(),
            anomaly_id: Some(Uuid::from_u128(1)),
            training_id: None,
            timestamp: series.last().map_or(0, |p| p.0),
            not_anomalous: true,
            learn: true,
            layers_json: None,
            operator: "ops".into(),
            labelled_at_ms: 5,
            check_id: Some(Uuid::from_u128(2)),
            full_duration: None,
            series: Some(
                series
                    .into_iter()
                    .map(|(timestamp, value)| SeriesPoint { timestamp, value })
                    .collect(),
            ),
            description: Some("daily backup".into()),
        }
    }

    #[test]
    fn a_not_anomalous_label_makes_a_generation_0_profile() {
        let series: Vec<(i64, f64)> = nab_series().into_iter().take(288).collect();
        let mut with_nan = series.clone();
        with_nan.insert(10, (series[10].0, f64::NAN));
        with_nan.push((series[287].0 + 300, f64::INFINITY));
        let l = label(with_nan);
        let e = profile_from_label(&l, &settings(), "v1").unwrap();
        let values: Vec<f64> = series.iter().map(|p| p.1).collect();
        let (features, sum) = profile_features(&values);
        assert_eq!(e.features, feature_values(&features));
        assert_eq!(e.features_sum.to_bits(), sum.to_bits());
        assert!(!e.features.is_empty());
        assert_eq!(e.series.len(), 288);
        assert_eq!(e.profile_id, label_profile_id(l.id, "v1"));
        assert_eq!(e.id, profile_event_id(e.profile_id, "created"));
        assert_eq!(e.action, ProfileAction::Created);
        assert_eq!((e.generation, e.parent_id), (0, None));
        assert!(e.validated && e.learn);
        assert_eq!(e.full_duration, series[287].0 - series[0].0);
        assert_eq!(e.label_id, Some(l.id));
        assert_eq!(e.check_id, l.check_id);
        assert_eq!(e.operator.as_deref(), Some("ops"));
        assert_eq!(e.anomaly_timestamp, Some(l.timestamp));
        assert_eq!(e.learn_settings, Some(settings()));
        // Deterministic: the same label gives the same event.
        assert_eq!(profile_from_label(&l, &settings(), "v1").unwrap(), e);
        // The label's own full_duration wins over the span.
        let l = Label {
            full_duration: Some(86_400),
            ..l
        };
        assert_eq!(
            profile_from_label(&l, &settings(), "v1")
                .unwrap()
                .full_duration,
            86_400
        );
    }

    #[test]
    fn other_labels_make_nothing() {
        let anomalous = Label {
            not_anomalous: false,
            ..label(vec![(1, 1.0), (2, 2.0)])
        };
        assert!(matches!(
            profile_from_label(&anomalous, &settings(), "v1"),
            Err(LabelError::NotNotAnomalous(_))
        ));
        for series in [vec![], vec![(1, f64::NAN)]] {
            assert!(matches!(
                profile_from_label(&label(series), &settings(), "v1"),
                Err(LabelError::NoSeries(_))
            ));
        }
        let no_series = Label {
            series: None,
            ..label(vec![])
        };
        assert!(profile_from_label(&no_series, &settings(), "v1").is_err());
        let bad_layers = Label {
            layers_json: Some("{\"d\": ".into()),
            ..label(vec![(1, 1.0), (2, 2.0)])
        };
        assert!(matches!(
            profile_from_label(&bad_layers, &settings(), "v1"),
            Err(LabelError::Layers(_))
        ));
    }
}
