//! The echo step end to end on a real series (NAB `art_daily_jumpsup`, two
//! weeks of 5-minute points): a label on a seasonal check makes its echo
//! profile (this crate); a later seasonal check handed to fingerprint (7
//! days at 600 s, its last 24 h as echo series) is judged against the
//! metric's profiles by fingerprint's own `judge_check` and `decide`, as
//! its service does, with the echo thresholds (2.5 % features, 3.5 %
//! min-max). Pure: no infrastructure.
//!
//! The label is on the first week (normal days). The later check's week
//! holds the jump of day 10, so the 7-day profile does not match it; its
//! last day is a normal day again, slightly perturbed: the recurring day the
//! echo profile is there to recognise.

mod common;

use fingerprint::matching::{How, MatchSettings};
use fingerprint::service::{decide, judge_check, profiles_for};
use fingerprint::ProfileStore;
use learn::{profiles_from_label, LearnPolicy};
use topics::ids::{anomaly_id, check_id, echo_profile_id};
use topics::{CheckRequest, CheckTarget, MatchMethod, ProfileEvent, SeriesPoint, SourceApp};

const DAY: i64 = 86_400;
const METRIC: &str = "nab.art_daily_jumpsup";

/// NAB `art_daily_jumpsup`: 14 days at 5 minutes of one daily shape with
/// small noise, and a jump up on day 10.
fn nab() -> Vec<(i64, f64)> {
    numeric::reference::read_nab("artificialWithAnomaly/art_daily_jumpsup.csv")
}

/// The store after labelling the seasonal check at `t0`: the 7-day profile
/// and its echo profile.
fn labelled(series: &[(i64, f64)], t0: i64) -> (ProfileStore, Vec<ProfileEvent>) {
    let label = common::seasonal_label(series, uuid::Uuid::from_u128(17), METRIC, t0);
    let events = profiles_from_label(&label, &LearnPolicy::default(), "v1").unwrap();
    assert_eq!(events.len(), 2, "the label's profile and its echo profile");
    let mut store = ProfileStore::new();
    for e in &events {
        store.apply(e);
    }
    (store, events)
}

/// The seasonal check the lead's seasonal service hands fingerprint for an
/// anomaly at `t`: the week before at 600 s and `echo` as its last 24 h.
fn seasonal_check(series: &[(i64, f64)], t: i64, echo: Vec<(i64, f64)>) -> CheckRequest {
    let week: Vec<(i64, f64)> = series
        .iter()
        .filter(|p| p.0 > t - 7 * DAY && p.0 <= t)
        .copied()
        .collect();
    let points = |s: Vec<(i64, f64)>| -> Vec<SeriesPoint> {
        s.into_iter()
            .map(|(timestamp, value)| SeriesPoint { timestamp, value })
            .collect()
    };
    let anomaly = anomaly_id(METRIC, t, SourceApp::Seasonal);
    CheckRequest {
        id: check_id(anomaly, CheckTarget::Fingerprint),
        anomaly_id: anomaly,
        target: CheckTarget::Fingerprint,
        metric: METRIC.into(),
        timestamp: t,
        value: week.last().map_or(0.0, |p| p.1),
        triggered_algorithms: vec!["grubbs".into()],
        second_order_resolution_hours: Some(168),
        series: points(common::rolled_up(&week, 600)),
        decided_at_ms: 0,
        full_duration: Some(7 * DAY),
        echo_series: Some(points(echo)),
        alerts: Vec::new(),
        periodic: false,
        derivative: false,
    }
}

/// `day` scaled by `scale`, each value also by a deterministic wobble of
/// at most `amplitude` (relative).
fn perturbed(day: &[(i64, f64)], scale: f64, amplitude: f64) -> Vec<(i64, f64)> {
    day.iter()
        .enumerate()
        .map(|(k, &(t, v))| (t, v * scale * (1.0 + amplitude * ((k as f64) * 0.7).sin())))
        .collect()
}

fn day_before(series: &[(i64, f64)], t: i64) -> Vec<(i64, f64)> {
    series
        .iter()
        .filter(|p| p.0 > t - DAY && p.0 <= t)
        .copied()
        .collect()
}

/// The labelled check's anomaly: the last point of day 6. Its week (days
/// 0–6) is all normal days.
fn t0(series: &[(i64, f64)]) -> i64 {
    series[0].0 + 7 * DAY - 300
}

/// Matching as configured, but without motifs: they come before features
/// and echo (`spec/ionosphere.md` §5) and, the series being daily-periodic,
/// would find the end of the check's week inside the 7-day profile's
/// series first. The echo step is what is under test here.
fn no_motifs() -> MatchSettings {
    MatchSettings {
        motifs_enabled: false,
        ..MatchSettings::default()
    }
}

/// The echo thresholds as tight as the plain ones (1 %).
fn tight(settings: &MatchSettings) -> MatchSettings {
    MatchSettings {
        echo_features_percent_similar: settings.features_percent_similar,
        echo_minmax_percent_similar: settings.features_percent_similar,
        ..settings.clone()
    }
}

#[test]
fn a_seasonal_check_whose_last_day_recurs_is_deflected_by_the_echo_profile() {
    let series = nab();
    let t0 = t0(&series);
    let (store, events) = labelled(&series, t0);
    let (own, echo) = (&events[0], &events[1]);
    assert_eq!(echo.profile_id, echo_profile_id(own.profile_id));
    let profiles = profiles_for(&store, METRIC);
    assert_eq!(profiles.len(), 2);
    let settings = no_motifs();

    // A week later: days 7–13, with the jump of day 10 (its 7 days are
    // unlike the labelled week's); its last day a normal day, 1 % higher
    // and wobbling by up to 5 %.
    let t1 = t0 + 7 * DAY;
    let check = seasonal_check(&series, t1, perturbed(&day_before(&series, t1), 1.01, 0.05));
    let verdict = judge_check(&check, &profiles, &settings);
    let m = verdict.matched.as_ref().expect("the echo profile matches");
    assert!(m.echo);
    assert_eq!(m.profile_id, echo.profile_id);
    assert_eq!(m.how, How::FeaturesProfile);
    // Within the echo threshold (2.5 %), beyond the plain one (1 %).
    let pd = m.percent_different.expect("a features comparison");
    assert!(pd > 1.0 && pd < 2.5, "{pd}");
    // The week was compared with the 7-day profile first, and did not match.
    assert_eq!(verdict.profiles_checked, 2);

    let decision = decide(&check, &profiles, &verdict, 1);
    let r = &decision.result;
    assert!(r.matched && r.echo);
    assert_eq!(r.profile_id, Some(echo.profile_id));
    assert_eq!(r.method, MatchMethod::FeaturesProfile);
    assert_eq!(r.anomaly_id, anomaly_id(METRIC, t1, SourceApp::Seasonal));

    // With the plain 1 %, features no longer match (min-max does).
    let tight_verdict = judge_check(&check, &profiles, &tight(&settings));
    assert_eq!(
        tight_verdict.matched.as_ref().map(|m| (m.how, m.echo)),
        Some((How::MinMax, true))
    );
    // Without echo, nothing deflects this check.
    let off = MatchSettings {
        echo_enabled: false,
        ..settings.clone()
    };
    assert_eq!(judge_check(&check, &profiles, &off).matched, None);
    // With motifs (the default), the motif search finds the check's end in
    // the 7-day profile before echo is reached.
    let with_motifs = judge_check(&check, &profiles, &MatchSettings::default());
    let m = with_motifs.matched.expect("a motif");
    assert_eq!((m.how, m.profile_id), (How::Motif, own.profile_id));
}

#[test]
fn the_echo_min_max_threshold_is_3_5_percent() {
    let series = nab();
    let t0 = t0(&series);
    let (store, events) = labelled(&series, t0);
    let profiles = profiles_for(&store, METRIC);
    let settings = no_motifs();
    // 2 % higher and wobbling by up to 10 %: the features differ by more
    // than 2.5 %, the min-max scaled ones by less than 3.5 % (and more
    // than 1 %).
    let t1 = t0 + 7 * DAY;
    let check = seasonal_check(&series, t1, perturbed(&day_before(&series, t1), 1.02, 0.1));
    let verdict = judge_check(&check, &profiles, &settings);
    let m = verdict
        .matched
        .as_ref()
        .expect("min-max matches the echo profile");
    assert_eq!(
        (m.how, m.echo, m.profile_id),
        (How::MinMax, true, events[1].profile_id)
    );
    let pd = m.percent_different.unwrap();
    assert!(pd > 1.0 && pd < 3.5, "{pd}");
    let r = decide(&check, &profiles, &verdict, 1).result;
    assert_eq!((r.method, r.echo), (MatchMethod::MinMax, true));
    assert_eq!(
        judge_check(&check, &profiles, &tight(&settings)).matched,
        None
    );
}

#[test]
fn a_seasonal_check_whose_last_day_differs_is_not_deflected() {
    let series = nab();
    let (store, _) = labelled(&series, t0(&series));
    // A check ending on the jump of day 10: another shape for its last
    // day, and a week unlike the labelled one.
    let t = series[0].0 + 11 * DAY - 300;
    let check = seasonal_check(&series, t, day_before(&series, t));
    let profiles = profiles_for(&store, METRIC);
    for settings in [no_motifs(), MatchSettings::default()] {
        let verdict = judge_check(&check, &profiles, &settings);
        assert_eq!(verdict.matched, None, "{verdict:?}");
        assert_eq!(verdict.profiles_checked, 2, "both compared");
        let decision = decide(&check, &profiles, &verdict, 1);
        assert!(!decision.result.matched && !decision.result.echo);
        assert_eq!(decision.result.method, MatchMethod::None);
    }
}
