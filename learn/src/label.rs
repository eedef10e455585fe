//! Labels and the profiles they make.
//!
//! An operator labels a check *not anomalous* (`skyline label`, the console's
//! `POST /api/v1/labels`); the label carries the checked series, so the
//! features profile it makes ([`profile_from_label`]) can be re-derived from
//! the labels topic alone (`skyline retrain`). This is the reference's
//! "Create" / "Create and LEARN" on a training page (`spec/learn.md` §2:
//! generation 0, no parent, validated).
//!
//! A label on a seasonal check (longer than FULL_DURATION) also carries the
//! check's last 24 h at full resolution, and makes a second profile beside
//! the first: the **echo profile** ([`echo_from_label`], `spec/ionosphere.md`
//! §8), the FULL_DURATION copy fingerprint compares seasonal checks' last
//! 24 h with. [`profiles_from_label`] makes both; the learn service and
//! `skyline retrain` go through it, so both derive the same two events.

use std::future::Future;
use std::pin::Pin;

use fingerprint::matching::{profile_features, Layers};
use fingerprint::Features;
use topics::ids::{derived_id, echo_profile_id, label_profile_id};
use topics::{FeatureValue, Label, LearnSettings, ProfileAction, ProfileEvent, SeriesPoint};
use uuid::Uuid;

use crate::decide::covers;
use crate::settings::LearnPolicy;

/// The description (the reference's label) of an echo profile: how
/// fingerprint tells one apart (`fingerprint::matching::Profile::echo`).
pub const ECHO_DESCRIPTION: &str = "echo";

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

/// Why a not-anomalous label's profile gets no echo profile beside it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoEcho {
    /// The profile is not longer than FULL_DURATION: not a seasonal check.
    #[error("the profile is at {0} s, not longer than FULL_DURATION")]
    NotSeasonal(i64),
    /// The label carries no echo series (labelled before checks kept one,
    /// or not a seasonal check).
    #[error("the label carries no echo series")]
    NoEchoSeries,
    /// The echo series has too few finite points, or does not cover
    /// FULL_DURATION, for features to be made from it.
    #[error(
        "the echo series is too short for features: {points} finite points over {span} s \
         (needs at least 3, covering FULL_DURATION {full_duration} s less the reference's offset)"
    )]
    TooShort {
        /// Finite points in the echo series.
        points: usize,
        /// Seconds from its first to its last finite point.
        span: i64,
        /// FULL_DURATION.
        full_duration: i64,
    },
}

/// The echo profile beside `parent`, the profile `label` made
/// (`spec/ionosphere.md` §8; `spec/learn.md` §2): the label's echo series
/// (its last 24 h) at `full_duration` (FULL_DURATION), features computed as
/// for any profile, `parent_id` the parent, one generation more, validated
/// (the reference makes it as a `learn_fp_human` job), described
/// [`ECHO_DESCRIPTION`], never a LEARN profile (its parent learns). Its id
/// is [`echo_profile_id`] of the parent's, so a replay or retrain derives
/// the same event.
///
/// No layers: the parent's layers are evaluated already, on the same 24 h.
pub fn echo_from_label(
    label: &Label,
    parent: &ProfileEvent,
    full_duration: i64,
) -> Result<ProfileEvent, NoEcho> {
    if parent.full_duration <= full_duration {
        return Err(NoEcho::NotSeasonal(parent.full_duration));
    }
    let series: Vec<SeriesPoint> = label
        .echo_series
        .as_ref()
        .ok_or(NoEcho::NoEchoSeries)?
        .iter()
        .filter(|p| p.value.is_finite())
        .copied()
        .collect();
    let pairs = SeriesPoint::pairs(&series);
    if !covers(&pairs, full_duration) {
        let span = match (pairs.first(), pairs.last()) {
            (Some(first), Some(last)) => last.0.saturating_sub(first.0),
            _ => 0,
        };
        return Err(NoEcho::TooShort {
            points: pairs.len(),
            span,
            full_duration,
        });
    }
    let values: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let (features, features_sum) = profile_features(&values);
    let profile_id = echo_profile_id(parent.profile_id);
    Ok(ProfileEvent {
        id: profile_event_id(profile_id, "created"),
        profile_id,
        action: ProfileAction::Created,
        metric: parent.metric.clone(),
        parent_id: Some(parent.profile_id),
        generation: parent.generation.saturating_add(1),
        full_duration,
        features: feature_values(&features),
        features_sum,
        series,
        layers_json: None,
        label_id: Some(label.id),
        at_ms: parent.at_ms,
        validated: true,
        learn: false,
        learn_settings: None,
        description: Some(ECHO_DESCRIPTION.to_owned()),
        operator: parent.operator.clone(),
        anomaly_timestamp: parent.anomaly_timestamp,
        check_id: parent.check_id,
        disabled_with: None,
    })
}

/// Every profile `label` makes under `policy` at `features_version`: its
/// own ([`profile_from_label`]) and, for a label on a seasonal check with
/// echo on, the echo profile after it ([`echo_from_label`]). An echo series
/// too short for features makes the label's profile alone, with a warning
/// saying why; a label with no echo series, or on a check at FULL_DURATION,
/// simply has none.
pub fn profiles_from_label(
    label: &Label,
    policy: &LearnPolicy,
    features_version: &str,
) -> Result<Vec<ProfileEvent>, LabelError> {
    let own = profile_from_label(label, &policy.for_metric(&label.metric), features_version)?;
    if !policy.echo_enabled {
        return Ok(vec![own]);
    }
    match echo_from_label(label, &own, policy.full_duration) {
        Ok(echo) => Ok(vec![own, echo]),
        Err(e @ NoEcho::TooShort { .. }) => {
            tracing::warn!(
                label = %label.id, metric = %label.metric, profile = %own.profile_id,
                reason = %e, "no echo profile made for this seasonal label"
            );
            Ok(vec![own])
        }
        Err(_) => Ok(vec![own]),
    }
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
    /// A seasonal check's last 24 h at full resolution, oldest first (what
    /// its echo profile is made from); `None` for other checks.
    pub echo_series: Option<Vec<(i64, f64)>>,
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
        series: Some(SeriesPoint::from_pairs(&check.series)),
        description: request.description.clone(),
        echo_series: check
            .echo_series
            .as_ref()
            .map(|s| SeriesPoint::from_pairs(s)),
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
            echo_series: None,
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

    const DAY: i64 = 86_400;

    /// Means per 600 s of `series` (the seasonal check's merged week).
    fn ten_minutes(series: &[(i64, f64)]) -> Vec<(i64, f64)> {
        series
            .chunks(2)
            .map(|c| {
                (
                    c[c.len() - 1].0,
                    c.iter().map(|p| p.1).sum::<f64>() / c.len() as f64,
                )
            })
            .collect()
    }

    /// A label on a seasonal check ending 8 days into the NAB series: the
    /// week before at 600 s, the last 24 h at NAB's 5 minutes as its echo
    /// series.
    fn seasonal_label() -> Label {
        let all = nab_series();
        let t0 = all[0].0 + 8 * DAY;
        let within = |from: i64| -> Vec<(i64, f64)> {
            all.iter()
                .filter(|p| p.0 > t0 - from && p.0 <= t0)
                .copied()
                .collect()
        };
        let points = |s: Vec<(i64, f64)>| -> Vec<SeriesPoint> { SeriesPoint::from_pairs(&s) };
        Label {
            full_duration: Some(7 * DAY),
            echo_series: Some(points(within(DAY))),
            timestamp: t0,
            ..label(ten_minutes(&within(7 * DAY)))
        }
    }

    #[test]
    fn a_seasonal_label_makes_its_echo_profile_beside_its_own() {
        let l = seasonal_label();
        let policy = crate::LearnPolicy::default();
        let events = profiles_from_label(&l, &policy, "v1").unwrap();
        assert_eq!(events.len(), 2);
        let (own, echo) = (&events[0], &events[1]);
        assert_eq!(own, &profile_from_label(&l, &settings(), "v1").unwrap());
        assert_eq!((own.full_duration, own.series.len()), (7 * DAY, 1008));

        let echo_series = l.echo_series.clone().unwrap();
        assert_eq!(echo_series.len(), 288);
        assert_eq!(echo.profile_id, echo_profile_id(own.profile_id));
        assert_eq!(echo.id, profile_event_id(echo.profile_id, "created"));
        assert_eq!(echo.action, ProfileAction::Created);
        assert_eq!(echo.metric, l.metric);
        assert_eq!(echo.parent_id, Some(own.profile_id));
        assert_eq!(echo.generation, own.generation + 1);
        assert_eq!(echo.full_duration, DAY);
        assert!(echo.validated && !echo.learn);
        assert_eq!(echo.description.as_deref(), Some(ECHO_DESCRIPTION));
        assert_eq!(echo.series, echo_series);
        let values: Vec<f64> = echo_series.iter().map(|p| p.value).collect();
        let (features, sum) = profile_features(&values);
        assert_eq!(echo.features, feature_values(&features));
        assert_eq!(echo.features_sum.to_bits(), sum.to_bits());
        assert_ne!(echo.features, own.features);
        assert_eq!(echo.label_id, Some(l.id));
        assert_eq!(echo.check_id, l.check_id);
        assert_eq!(echo.anomaly_timestamp, Some(l.timestamp));
        assert_eq!(
            (echo.layers_json.as_ref(), echo.learn_settings),
            (None, None)
        );
        // Fingerprint reads it as an echo profile, its parent not.
        use profiles::ProfileView;
        assert!(fingerprint::matching::Profile::from_event(echo).echo);
        assert!(!fingerprint::matching::Profile::from_event(own).echo);
        // Deterministic: a replay derives the same two events; another
        // features version derives others, the echo following its parent.
        assert_eq!(profiles_from_label(&l, &policy, "v1").unwrap(), events);
        let v2 = profiles_from_label(&l, &policy, "v2").unwrap();
        assert_ne!(v2[1].profile_id, echo.profile_id);
        assert_eq!(v2[1].profile_id, echo_profile_id(v2[0].profile_id));
    }

    #[test]
    fn no_echo_profile_without_echo_a_seasonal_check_or_enough_points() {
        let l = seasonal_label();
        let only_own = |l: &Label, policy: &crate::LearnPolicy| {
            let events = profiles_from_label(l, policy, "v1").unwrap();
            assert_eq!(events.len(), 1);
            assert_eq!(events[0], profile_from_label(l, &settings(), "v1").unwrap());
        };
        let off = crate::LearnConfig {
            echo_enabled: false,
            ..crate::LearnConfig::default()
        }
        .policy()
        .unwrap();
        only_own(&l, &off);
        let on = crate::LearnPolicy::default();
        // A check at FULL_DURATION has no echo, even with an echo series.
        let day = Label {
            full_duration: Some(DAY),
            ..l.clone()
        };
        only_own(&day, &on);
        let own = profile_from_label(&day, &settings(), "v1").unwrap();
        assert_eq!(
            echo_from_label(&day, &own, DAY),
            Err(NoEcho::NotSeasonal(DAY))
        );
        let none = Label {
            echo_series: None,
            ..l.clone()
        };
        only_own(&none, &on);
        // Too short for features: two points, or half a day (the reference
        // refuses data not covering FULL_DURATION less 2 h), or NaNs only.
        let echo = l.echo_series.clone().unwrap();
        let own = profile_from_label(&l, &settings(), "v1").unwrap();
        for (short, points) in [
            (echo[286..].to_vec(), 2),
            (echo[144..].to_vec(), 144),
            (
                echo.iter()
                    .map(|p| SeriesPoint {
                        value: f64::NAN,
                        ..*p
                    })
                    .collect(),
                0,
            ),
        ] {
            let short = Label {
                echo_series: Some(short),
                ..l.clone()
            };
            only_own(&short, &on);
            assert!(matches!(
                echo_from_label(&short, &own, DAY),
                Err(NoEcho::TooShort { points: p, full_duration: DAY, .. }) if p == points
            ));
        }
        // 22 h still covers FULL_DURATION less the offset.
        let most = Label {
            echo_series: Some(echo[23..].to_vec()),
            ..l
        };
        assert_eq!(profiles_from_label(&most, &on, "v1").unwrap().len(), 2);
    }

    #[test]
    fn labelling_a_seasonal_check_carries_its_echo_series() {
        let l = seasonal_label();
        let pairs = |s: &[SeriesPoint]| -> Vec<(i64, f64)> {
            s.iter().map(|p| (p.timestamp, p.value)).collect()
        };
        let check = LabelledCheck {
            check_id: Uuid::from_u128(2),
            anomaly_id: Uuid::from_u128(1),
            metric: l.metric.clone(),
            timestamp: l.timestamp,
            full_duration: 7 * DAY,
            series: pairs(l.series.as_deref().unwrap()),
            echo_series: Some(pairs(l.echo_series.as_deref().unwrap())),
        };
        let request = LabelRequest {
            check_id: check.check_id,
            not_anomalous: true,
            learn: false,
            layers_json: None,
            description: None,
            operator: "ops".into(),
        };
        let made = label_for_check(&request, &check, 9).unwrap();
        assert_eq!(made.echo_series, l.echo_series);
        assert_eq!(made.series, l.series);
        assert_eq!(made.full_duration, Some(7 * DAY));
        let plain = LabelledCheck {
            echo_series: None,
            ..check
        };
        assert_eq!(
            label_for_check(&request, &plain, 9).unwrap().echo_series,
            None
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
