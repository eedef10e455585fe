//! Event ids.
//!
//! A *decision* gets a deterministic id, UUID v5 of what it is about: a
//! service that crashes after deciding and decides again emits the same id,
//! and every fold keyed by id counts it once. An *operator action* gets a
//! fresh UUID v7 ([`fresh_id`]), time-ordered so ids sort roughly by when the
//! action was made.
//!
//! The v5 name hashed is an unambiguous encoding of the inputs: a kind tag
//! (so an anomaly id and a check id over the same bytes differ) followed by
//! each field as its byte length (8 bytes, big-endian) and its bytes. Plain
//! concatenation would make `("ab", "c")` and `("a", "bc")` collide.
//!
//! These ids are persisted in topics and projections: the namespace, the kind
//! tags and the encoding must never change, or a replay would mint new ids
//! for old decisions.

use uuid::Uuid;

use crate::events::{CheckTarget, SourceApp};

/// The namespace of every skyline v5 id. Generated once at random; never
/// change it.
pub const SKYLINE_NAMESPACE: Uuid = Uuid::from_u128(0x649a3638_104c_47f8_ad53_ed21f38ce8f6);

/// A deterministic id for a decision of kind `kind` about `fields`, in the
/// encoding described in the module docs. The named helpers below cover the
/// pipeline's decisions; use this for a new kind (pick a new tag), e.g. a
/// profile learnt from a label.
pub fn derived_id(kind: &str, fields: &[&[u8]]) -> Uuid {
    let capacity = 8 + kind.len() + fields.iter().map(|f| 8 + f.len()).sum::<usize>();
    let mut name = Vec::with_capacity(capacity);
    push_field(&mut name, kind.as_bytes());
    for field in fields {
        push_field(&mut name, field);
    }
    Uuid::new_v5(&SKYLINE_NAMESPACE, &name)
}

fn push_field(name: &mut Vec<u8>, field: &[u8]) {
    name.extend_from_slice(&(field.len() as u64).to_be_bytes());
    name.extend_from_slice(field);
}

/// The stable tag of a check target inside ids (its serde name).
fn target_tag(target: CheckTarget) -> &'static str {
    match target {
        CheckTarget::Seasonal => "seasonal",
        CheckTarget::Fingerprint => "fingerprint",
    }
}

/// The id of the anomaly `source` found at `(metric, timestamp)`. The same
/// point judged anomalous by two services gives two anomalies.
///
/// Fields, for reproducing it elsewhere: kind `anomaly`, the metric's UTF-8
/// bytes, the timestamp as 8 big-endian bytes (two's complement), the source
/// as its serde name (`analyzer`, `seasonal`, `fingerprint`, `boundary`). Ids given as
/// fields to the other helpers are their 16 raw bytes.
pub fn anomaly_id(metric: &str, timestamp: i64, source: SourceApp) -> Uuid {
    derived_id(
        "anomaly",
        &[
            metric.as_bytes(),
            &timestamp.to_be_bytes(),
            source.as_str().as_bytes(),
        ],
    )
}

/// The id of the check handing anomaly `anomaly_id` to `target`.
pub fn check_id(anomaly_id: Uuid, target: CheckTarget) -> Uuid {
    derived_id(
        "check",
        &[anomaly_id.as_bytes(), target_tag(target).as_bytes()],
    )
}

/// The id of the alert about `anomaly_id` sent through `alerter`.
pub fn alert_id(anomaly_id: Uuid, alerter: &str) -> Uuid {
    derived_id("alert", &[anomaly_id.as_bytes(), alerter.as_bytes()])
}

/// The id of the Boundary alert about `anomaly_id` sent through `alerter`
/// because Boundary's `algorithm` (`detect_drop_off_cliff`, `less_than`,
/// `greater_than`) fired. Two rules of one metric firing at the same point
/// make one anomaly (the reference's Panorama record of the point) but
/// alert separately, so the algorithm is part of the id. Fields: kind
/// `boundary-alert`, the anomaly id's 16 bytes, the alerter and the
/// algorithm as UTF-8.
pub fn boundary_alert_id(anomaly_id: Uuid, alerter: &str, algorithm: &str) -> Uuid {
    derived_id(
        "boundary-alert",
        &[
            anomaly_id.as_bytes(),
            alerter.as_bytes(),
            algorithm.as_bytes(),
        ],
    )
}

/// The id of attempt `attempt` at delivering alert `alert_id` (0: the
/// alert was muted). A redelivery after a crash repeats the attempt
/// numbers, so its outcomes fold onto the same ids.
pub fn delivery_id(alert_id: Uuid, attempt: i32) -> Uuid {
    derived_id("delivery", &[alert_id.as_bytes(), &attempt.to_be_bytes()])
}

/// The stand-in anomaly id of a periodic seasonal check of `metric` at
/// `timestamp` (the point the schedule picked): no service found an
/// anomaly there, the check is due. Fields: kind `periodic`, the metric,
/// the timestamp as 8 big-endian bytes. Its check id is [`check_id`] of it.
pub fn periodic_anomaly_id(metric: &str, timestamp: i64) -> Uuid {
    derived_id("periodic", &[metric.as_bytes(), &timestamp.to_be_bytes()])
}

/// The id of an alert about open anomaly `anomaly` sent for a later point
/// of it, at `timestamp` (PANORAMA_EXPIRY_TIME: the point extended the
/// anomaly instead of opening its own). `first_alert_id` is the id the
/// anomaly's first point's alert on the same alerter (and Boundary
/// algorithm) has, [`alert_id`] or [`boundary_alert_id`]; the timestamp
/// keeps the repeat's alert apart from it.
pub fn repeat_alert_id(first_alert_id: Uuid, timestamp: i64) -> Uuid {
    derived_id(
        "repeat-alert",
        &[first_alert_id.as_bytes(), &timestamp.to_be_bytes()],
    )
}

/// The id of the end of anomaly `anomaly_id`: an anomaly ends once, so a
/// replay re-emits the same end.
pub fn anomaly_ended_id(anomaly_id: Uuid) -> Uuid {
    derived_id("anomaly-ended", &[anomaly_id.as_bytes()])
}

/// The id of the seasonal verdict on check `check_id`: one per check,
/// whatever the verdict (a re-judgement after a crash folds onto it).
pub fn seasonal_result_id(check_id: Uuid) -> Uuid {
    derived_id("seasonal-result", &[check_id.as_bytes()])
}

/// The id of the echo profile made beside profile `parent_id`: the
/// FULL_DURATION copy of a seasonal profile, from the labelled check's
/// last 24 hours.
pub fn echo_profile_id(parent_id: Uuid) -> Uuid {
    derived_id("echo-profile", &[parent_id.as_bytes()])
}

/// The id of the verdict on `check_id` given the profiles considered.
///
/// The profiles are a set: order and repeats do not matter (they are sorted
/// and deduplicated first), so two runs that list them differently agree,
/// while a re-judgement against a different set of profiles (after learning,
/// or in `skyline rematch`) is a new verdict with a new id.
pub fn match_id(check_id: Uuid, profile_ids: &[Uuid]) -> Uuid {
    let mut profiles = profile_ids.to_vec();
    profiles.sort_unstable();
    profiles.dedup();
    let mut fields: Vec<&[u8]> = Vec::with_capacity(1 + profiles.len());
    fields.push(check_id.as_bytes());
    fields.extend(profiles.iter().map(|p| &p.as_bytes()[..]));
    derived_id("match", &fields)
}

/// The id of the features profile made from label `label_id` with features
/// version `features_version`: the same label and features give the same
/// profile (a re-derivation is idempotent), a features change a new one.
pub fn label_profile_id(label_id: Uuid, features_version: &str) -> Uuid {
    derived_id(
        "label-profile",
        &[label_id.as_bytes(), features_version.as_bytes()],
    )
}

/// The id of the profile learnt from `parent_id` out of the anomaly at
/// `anomaly_timestamp`, at `full_duration` seconds.
pub fn learnt_profile_id(parent_id: Uuid, anomaly_timestamp: i64, full_duration: i64) -> Uuid {
    derived_id(
        "learnt-profile",
        &[
            parent_id.as_bytes(),
            &anomaly_timestamp.to_be_bytes(),
            &full_duration.to_be_bytes(),
        ],
    )
}

/// The id of the profile learnt, without an operator, as a repetitive
/// pattern (`spec/learn.md` §4–§5) of `metric` from the anomaly at
/// `anomaly_timestamp`, at `full_duration` seconds. Fields: kind
/// `repetitive-profile`, the metric's UTF-8 bytes, the timestamp and the
/// duration as 8 big-endian bytes each. The parent is deliberately not a
/// field: an anomaly is learnt as a repetitive pattern once, whichever
/// chain a later run would put it in.
pub fn repetitive_profile_id(metric: &str, anomaly_timestamp: i64, full_duration: i64) -> Uuid {
    derived_id(
        "repetitive-profile",
        &[
            metric.as_bytes(),
            &anomaly_timestamp.to_be_bytes(),
            &full_duration.to_be_bytes(),
        ],
    )
}

/// The id of the profile imported from an existing Skyline's features
/// profile `skyline_id` (`ionosphere.id`) of `metric` (`skyline
/// import-skyline`). Fields: kind `imported-profile`, the metric's UTF-8
/// bytes and the Skyline id as 8 big-endian bytes: importing twice makes the
/// same profile.
pub fn imported_profile_id(metric: &str, skyline_id: i64) -> Uuid {
    derived_id(
        "imported-profile",
        &[metric.as_bytes(), &skyline_id.to_be_bytes()],
    )
}

/// The id of the layers a profile defines.
pub fn layer_id(profile_id: Uuid) -> Uuid {
    derived_id("layers", &[profile_id.as_bytes()])
}

/// The id of the label a simulated operator (`skyline evaluate`) puts on
/// check `check_id`: derived, so an evaluation is reproducible and its
/// labels, fed to the real services, make the same profiles.
pub fn simulated_label_id(check_id: Uuid) -> Uuid {
    derived_id("simulated-label", &[check_id.as_bytes()])
}

/// A fresh time-ordered id (UUID v7) for an operator action: a label, a
/// validate, a disable, or a dead letter.
pub fn fresh_id() -> Uuid {
    Uuid::now_v7()
}

/// The id of a [`crate::SystemEvent`]: of its kind, subject and `since`
/// (a stall's last fine moment, a stale metric's last datapoint), so a
/// stall or a staleness is said once whatever replays or sweeps again; a
/// heartbeat's `since` is its own `at`, with the instance in the subject.
pub fn system_event_id(kind: crate::SystemKind, subject: &str, since: i64) -> Uuid {
    derived_id(
        "system",
        &[
            kind.as_str().as_bytes(),
            subject.as_bytes(),
            &since.to_be_bytes(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anomaly_id_is_stable() {
        // If this literal changes, every id already on the topics is orphaned.
        // (Cross-checked with Python: uuid.UUID(bytes=sha1(ns.bytes + name)
        // .digest()[:16], version=5), name built as in the module docs.)
        assert_eq!(
            anomaly_id("stats.web01.cpu", 1_700_000_000, SourceApp::Analyzer).to_string(),
            "6441b127-13b6-5233-af1e-1d6464b4cfe6"
        );
    }

    #[test]
    fn ids_are_v5_in_the_skyline_namespace() {
        let id = anomaly_id("m", 1, SourceApp::Seasonal);
        assert_eq!(id.get_version_num(), 5);
        assert_eq!(id, anomaly_id("m", 1, SourceApp::Seasonal));
        assert_ne!(id, Uuid::new_v5(&Uuid::NAMESPACE_OID, b"m"));
    }

    #[test]
    fn field_boundaries_matter() {
        assert_ne!(
            derived_id("k", &[b"ab", b"c"]),
            derived_id("k", &[b"a", b"bc"])
        );
        assert_ne!(derived_id("k", &[b"abc"]), derived_id("k", &[b"ab", b"c"]));
        assert_ne!(derived_id("k", &[b""]), derived_id("k", &[]));
        assert_ne!(derived_id("k", &[b"", b""]), derived_id("k", &[b""]));
        assert_ne!(derived_id("ka", &[b"b"]), derived_id("k", &[b"ab"]));
        assert_ne!(alert_id(Uuid::nil(), "ab"), alert_id(Uuid::nil(), "a"));
    }

    #[test]
    fn every_input_changes_the_id() {
        let base = anomaly_id("m", 10, SourceApp::Analyzer);
        assert_ne!(base, anomaly_id("n", 10, SourceApp::Analyzer));
        assert_ne!(base, anomaly_id("m", 11, SourceApp::Analyzer));
        assert_ne!(base, anomaly_id("m", -10, SourceApp::Analyzer));
        assert_ne!(base, anomaly_id("m", 10, SourceApp::Seasonal));
        assert_ne!(base, anomaly_id("m", 10, SourceApp::Fingerprint));

        let seasonal = check_id(base, CheckTarget::Seasonal);
        let fingerprint = check_id(base, CheckTarget::Fingerprint);
        assert_ne!(seasonal, fingerprint);
        assert_ne!(
            seasonal,
            check_id(
                anomaly_id("n", 10, SourceApp::Analyzer),
                CheckTarget::Seasonal
            )
        );

        assert_ne!(alert_id(base, "smtp"), alert_id(base, "slack"));
        assert_ne!(alert_id(base, "smtp"), alert_id(seasonal, "smtp"));
    }

    #[test]
    fn boundary_alert_ids_are_per_alerter_and_algorithm() {
        let a = anomaly_id("m", 10, SourceApp::Boundary);
        let id = boundary_alert_id(a, "smtp", "less_than");
        assert_eq!(id, boundary_alert_id(a, "smtp", "less_than"));
        assert_eq!(id.get_version_num(), 5);
        assert_ne!(id, boundary_alert_id(a, "slack", "less_than"));
        assert_ne!(id, boundary_alert_id(a, "smtp", "greater_than"));
        assert_ne!(id, alert_id(a, "smtp"));
        assert_ne!(
            id,
            boundary_alert_id(
                anomaly_id("m", 11, SourceApp::Boundary),
                "smtp",
                "less_than"
            )
        );
        // If this literal changes, the Boundary alerts on the topics are
        // orphaned. (Cross-checked with Python as `anomaly_id_is_stable`.)
        assert_eq!(
            boundary_alert_id(Uuid::nil(), "smtp", "less_than").to_string(),
            "6e3bbff0-abdd-5ce5-b090-680607174bae"
        );
    }

    #[test]
    fn kinds_do_not_collide() {
        // Same bytes hashed under different kinds must differ.
        let a = Uuid::from_u128(7);
        assert_ne!(alert_id(a, "seasonal"), check_id(a, CheckTarget::Seasonal));
        assert_ne!(match_id(a, &[]), derived_id("alert", &[a.as_bytes()]));
    }

    #[test]
    fn match_id_treats_profiles_as_a_set() {
        let check = Uuid::from_u128(1);
        let (p, q) = (Uuid::from_u128(2), Uuid::from_u128(3));
        assert_eq!(match_id(check, &[p, q]), match_id(check, &[q, p]));
        assert_eq!(match_id(check, &[p, q, p]), match_id(check, &[p, q]));
        assert_ne!(match_id(check, &[p]), match_id(check, &[p, q]));
        assert_ne!(match_id(check, &[]), match_id(check, &[p]));
        assert_ne!(match_id(check, &[p]), match_id(Uuid::from_u128(9), &[p]));
    }

    #[test]
    fn repetitive_profile_ids_differ_by_every_field() {
        let id = repetitive_profile_id("m", 86_400, 604_800);
        assert_eq!(id, repetitive_profile_id("m", 86_400, 604_800));
        assert_eq!(id.get_version_num(), 5);
        assert_ne!(id, repetitive_profile_id("n", 86_400, 604_800));
        assert_ne!(id, repetitive_profile_id("m", 86_401, 604_800));
        assert_ne!(id, repetitive_profile_id("m", 86_400, 86_400));
        assert_ne!(
            id,
            learnt_profile_id(Uuid::nil(), 86_400, 604_800),
            "a different kind"
        );
    }

    #[test]
    fn fresh_ids_are_v7_and_distinct() {
        let a = fresh_id();
        let b = fresh_id();
        assert_eq!(a.get_version_num(), 7);
        assert_ne!(a, b);
    }
}
