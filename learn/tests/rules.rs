//! The learn rules on a real series (NAB `ec2_cpu_utilization_825cc2`):
//! generations, the origin rule, generation 0, the rate limit, disabling
//! the progeny, retraining, and the echo profile a seasonal label makes.
//! Pure: no infrastructure.

mod common;

use fingerprint::matching::profile_features;
use fingerprint::ProfileStore;
use learn::decide::{learn_from_human, learn_from_unmatched, learn_series, LearnData, Skip};
use learn::lifecycle::{disable, validate};
use learn::{profile_from_label, profiles_from_label, retrain, LearnPolicy};
use topics::ids::echo_profile_id;
use topics::{Label, LearnSettings, ProfileAction, ProfileEvent, SeriesPoint};
use uuid::Uuid;

const DAY: i64 = 86_400;
const METRIC: &str = "nab.ec2_cpu_utilization_825cc2";

fn settings(max_generations: u32, max_pd: f64) -> LearnSettings {
    LearnSettings {
        full_duration: 7 * DAY,
        valid_ts_older_than: 0,
        max_generations,
        max_percent_diff_from_origin: max_pd,
    }
}

struct Fixture {
    series: Vec<(i64, f64)>,
    long: Vec<(i64, f64)>,
    /// The labelled anomaly's timestamp (8 days into the series).
    t0: i64,
}

fn fixture() -> Fixture {
    let series = common::nab_series();
    let long = common::rolled_up(&series, 600);
    let t0 = series[0].0 + 8 * DAY;
    Fixture { series, long, t0 }
}

fn label(f: &Fixture, id: u128, learn: bool) -> Label {
    Label {
        id: Uuid::from_u128(id),
        metric: METRIC.into(),
        anomaly_id: None,
        training_id: None,
        timestamp: f.t0,
        not_anomalous: true,
        learn,
        layers_json: None,
        operator: "ops".into(),
        labelled_at_ms: 0,
        check_id: None,
        full_duration: Some(DAY),
        series: Some(
            f.series
                .iter()
                .filter(|p| p.0 > f.t0 - DAY && p.0 <= f.t0)
                .map(|&(timestamp, value)| SeriesPoint { timestamp, value })
                .collect(),
        ),
        description: None,
        echo_series: None,
    }
}

fn data(f: &Fixture, at: i64) -> LearnData {
    let series = learn_series(&f.long, at, 7 * DAY).expect("7 days of data");
    let values: Vec<f64> = series.iter().map(|p| p.1).collect();
    let (features, features_sum) = profile_features(&values);
    LearnData {
        metric: METRIC.into(),
        anomaly_timestamp: at,
        check_id: None,
        series,
        features,
        features_sum,
    }
}

/// A store with a human LEARN profile (1 day) and its generation-1 child
/// at 7 days.
fn human_and_generation_1(f: &Fixture, s: &LearnSettings) -> (ProfileStore, ProfileEvent) {
    let mut store = ProfileStore::new();
    let human = profile_from_label(&label(f, 1, true), s, "v1").unwrap();
    store.apply(&human);
    let g1 = learn_from_human(&store, human.profile_id, s, &data(f, f.t0), 0).unwrap();
    assert_eq!(g1.generation, 1);
    assert_eq!(g1.parent_id, Some(human.profile_id));
    assert_eq!(g1.action, ProfileAction::Learnt);
    assert_eq!(g1.full_duration, 7 * DAY);
    assert!(g1.validated && g1.learn);
    store.apply(&g1);
    // Learning it again decides the same profile, already there.
    assert!(matches!(
        learn_from_human(&store, human.profile_id, s, &data(f, f.t0), 0),
        Err(Skip::AlreadyLearnt(_))
    ));
    (store, human)
}

#[test]
fn learn_series_needs_the_whole_duration() {
    let f = fixture();
    assert!(learn_series(&f.long, f.t0, 7 * DAY).is_some());
    // Only 8 days of data before t0: 9 days are not covered.
    assert!(learn_series(&f.long, f.t0, 9 * DAY).is_none());
    assert!(learn_series(&[], f.t0, DAY).is_none());
}

#[test]
fn generations_grow_and_stop_at_max_generations() {
    let f = fixture();
    let s = settings(4, 100.0);
    let (mut store, _) = human_and_generation_1(&f, &s);
    let mut parent = None;
    for (k, expected) in [(1, 2), (2, 3)] {
        let e = learn_from_unmatched(&store, &s, &data(&f, f.t0 + k * 7200), 0).unwrap();
        assert_eq!(e.generation, expected);
        assert!(!e.validated, "generation > 1 starts unvalidated");
        assert!(e.parent_id.is_some());
        if let Some(p) = parent {
            assert_eq!(e.parent_id, Some(p), "the newest generation is matched");
        }
        parent = Some(e.profile_id);
        store.apply(&e);
    }
    // Generation 3 matches, but 4 reaches max_generations.
    assert_eq!(
        learn_from_unmatched(&store, &s, &data(&f, f.t0 + 3 * 7200), 0),
        Err(Skip::MaxGenerations {
            generation: 4,
            max: 4
        })
    );
}

#[test]
fn learnt_profiles_stay_near_their_origin() {
    let f = fixture();
    // Consecutive 7-day windows 2 h apart differ by ~0.1 %.
    let (store, _) = human_and_generation_1(&f, &settings(16, 0.01));
    let got = learn_from_unmatched(&store, &settings(16, 0.01), &data(&f, f.t0 + 7200), 0);
    assert!(matches!(got, Err(Skip::FarFromOrigin { .. })), "{got:?}");
    assert!(learn_from_unmatched(&store, &settings(16, 1.0), &data(&f, f.t0 + 7200), 0).is_ok());
}

#[test]
fn generation_0_profiles_are_not_learnt_from_by_a_match() {
    let f = fixture();
    let s = settings(16, 100.0);
    // A human profile at the learn duration itself.
    let mut store = ProfileStore::new();
    let mut l = label(&f, 7, true);
    l.full_duration = Some(7 * DAY);
    l.series = Some(
        data(&f, f.t0)
            .series
            .iter()
            .map(|&(timestamp, value)| SeriesPoint { timestamp, value })
            .collect(),
    );
    let human = profile_from_label(&l, &s, "v1").unwrap();
    store.apply(&human);
    assert_eq!(
        learn_from_unmatched(&store, &s, &data(&f, f.t0 + 7200), 0),
        Err(Skip::NoMatch(7 * DAY))
    );
    // Its generation-1 copy is matched instead, and learns generation 2.
    let g1 = learn_from_human(&store, human.profile_id, &s, &data(&f, f.t0), 0).unwrap();
    store.apply(&g1);
    let g2 = learn_from_unmatched(&store, &s, &data(&f, f.t0 + 7200), 0).unwrap();
    assert_eq!((g2.generation, g2.parent_id), (2, Some(g1.profile_id)));
}

#[test]
fn human_learning_respects_max_generations_and_learn() {
    let f = fixture();
    let mut store = ProfileStore::new();
    let human = profile_from_label(&label(&f, 1, true), &settings(1, 100.0), "v1").unwrap();
    let plain = profile_from_label(&label(&f, 2, false), &settings(16, 100.0), "v1").unwrap();
    store.apply(&human);
    store.apply(&plain);
    assert!(matches!(
        learn_from_human(
            &store,
            human.profile_id,
            &settings(1, 100.0),
            &data(&f, f.t0),
            0
        ),
        Err(Skip::MaxGenerations { .. })
    ));
    assert_eq!(
        learn_from_human(
            &store,
            plain.profile_id,
            &settings(16, 100.0),
            &data(&f, f.t0),
            0
        ),
        Err(Skip::NotLearning(plain.profile_id))
    );
}

#[test]
fn generation_2_and_above_are_rate_limited_per_hour() {
    let f = fixture();
    let s = settings(16, 100.0);
    let (mut store, _) = human_and_generation_1(&f, &s);
    let g2 = learn_from_unmatched(&store, &s, &data(&f, f.t0 + 7200), 0).unwrap();
    store.apply(&g2);
    assert_eq!(
        learn_from_unmatched(&store, &s, &data(&f, f.t0 + 7200 + 1800), 0),
        Err(Skip::RateLimited)
    );
}

/// A Learnt event with no data (lineage only).
fn child(id: u128, parent: u128, generation: u32) -> ProfileEvent {
    ProfileEvent {
        id: Uuid::from_u128(10_000 + id),
        action: ProfileAction::Learnt,
        parent_id: Some(Uuid::from_u128(parent)),
        generation,
        full_duration: 7 * DAY,
        features_sum: 1.0,
        validated: generation <= 1,
        description: Some("LEARNT".into()),
        anomaly_timestamp: Some(0),
        ..topics::testing::profile_event(Uuid::from_u128(id), METRIC)
    }
}

#[test]
fn disabling_disables_every_descendant_on_every_branch() {
    let f = fixture();
    let mut store = ProfileStore::new();
    let human = profile_from_label(&label(&f, 1, true), &settings(16, 100.0), "v1").unwrap();
    store.apply(&human);
    let root = human.profile_id.as_u128();
    // root ─┬─ 2 ─┬─ 4 ── 6      (three generations below root,
    //       │     └─ 5            two branches at two levels)
    //       └─ 3 ── 7
    for e in [
        child(2, root, 1),
        child(3, root, 1),
        child(4, 2, 2),
        child(5, 2, 2),
        child(6, 4, 3),
        child(7, 3, 2),
    ] {
        store.apply(&e);
    }
    let events = disable(&store, human.profile_id, "ops").unwrap();
    assert_eq!(events.len(), 7);
    assert_eq!(events[0].profile_id, human.profile_id);
    assert_eq!(events[0].disabled_with, None);
    let mut ids: Vec<u128> = events[1..].iter().map(|e| e.profile_id.as_u128()).collect();
    ids.sort();
    assert_eq!(ids, [2, 3, 4, 5, 6, 7]);
    for e in &events {
        assert_eq!(e.action, ProfileAction::Disabled);
        assert_eq!(e.operator.as_deref(), Some("ops"));
        assert_eq!(e.id.get_version_num(), 7);
    }
    assert!(events[1..]
        .iter()
        .all(|e| e.disabled_with == Some(human.profile_id)));
    for e in &events {
        store.apply(e);
    }
    assert_eq!(store.active_for_metric(METRIC).count(), 0);
    // A middle profile: itself and its subtree only.
    let store2 = {
        let mut s = ProfileStore::new();
        s.apply(&human);
        for e in [
            child(2, root, 1),
            child(3, root, 1),
            child(4, 2, 2),
            child(6, 4, 3),
        ] {
            s.apply(&e);
        }
        s
    };
    let mut ids: Vec<u128> = disable(&store2, Uuid::from_u128(2), "ops")
        .unwrap()
        .iter()
        .map(|e| e.profile_id.as_u128())
        .collect();
    ids.sort();
    assert_eq!(ids, [2, 4, 6]);
    assert!(disable(&store2, Uuid::from_u128(99), "ops").is_err());

    let v = validate(&store2, Uuid::from_u128(4), "ops").unwrap();
    assert_eq!(v.action, ProfileAction::Validated);
    assert_eq!(v.profile_id, Uuid::from_u128(4));
}

#[test]
fn retraining_is_idempotent_and_replaces_profiles_after_a_features_change() {
    let f = fixture();
    let policy = LearnPolicy::default();
    let anomalous = Label {
        not_anomalous: false,
        ..label(&f, 3, false)
    };
    let labels = vec![label(&f, 1, true), label(&f, 2, false), anomalous];
    let mut store = ProfileStore::new();

    let first = retrain(&labels, &store, &policy, "v1");
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|e| e.action == ProfileAction::Created));
    for e in &first {
        store.apply(e);
    }
    // Learnt progeny of label 1's profile.
    let root = first[0].profile_id.as_u128();
    store.apply(&child(50, root, 1));
    store.apply(&child(51, 50, 2));

    assert!(
        retrain(&labels, &store, &policy, "v1").is_empty(),
        "same features version: nothing new"
    );

    let second = retrain(&labels, &store, &policy, "v2");
    let created: Vec<&ProfileEvent> = second
        .iter()
        .filter(|e| e.action == ProfileAction::Created)
        .collect();
    let disabled: Vec<u128> = second
        .iter()
        .filter(|e| e.action == ProfileAction::Disabled)
        .map(|e| e.profile_id.as_u128())
        .collect();
    assert_eq!(created.len(), 2);
    assert!(created
        .iter()
        .all(|e| first.iter().all(|o| o.profile_id != e.profile_id)));
    assert_eq!(
        disabled.len(),
        4,
        "2 old profiles and label 1's 2 descendants"
    );
    assert!(disabled.contains(&50) && disabled.contains(&51));
    for e in &second {
        store.apply(e);
    }
    assert!(retrain(&labels, &store, &policy, "v2").is_empty());
    assert_eq!(store.active_for_metric(METRIC).count(), 2);
}

/// A seasonal label's two profiles: the label's own at 7 days and its echo
/// profile at FULL_DURATION.
fn seasonal(f: &Fixture, id: u128) -> Label {
    common::seasonal_label(&f.series, Uuid::from_u128(id), METRIC, f.t0)
}

#[test]
fn retraining_re_derives_a_seasonal_labels_echo_profile_with_the_same_ids() {
    let f = fixture();
    let policy = LearnPolicy::default();
    let labels = vec![seasonal(&f, 8), label(&f, 9, false)];
    let mut store = ProfileStore::new();

    let first = retrain(&labels, &store, &policy, "v1");
    assert_eq!(first.len(), 3, "the seasonal label's two, the other's one");
    let (own, echo) = (&first[0], &first[1]);
    assert_eq!(own.full_duration, 7 * DAY);
    assert_eq!(echo.profile_id, echo_profile_id(own.profile_id));
    assert_eq!(echo.parent_id, Some(own.profile_id));
    assert_eq!((echo.generation, echo.full_duration), (1, DAY));
    assert!(echo.validated && !echo.learn);
    assert_eq!(echo.description.as_deref(), Some("echo"));
    // What the learn service makes of the same label, event for event.
    assert_eq!(
        profiles_from_label(&labels[0], &policy, "v1").unwrap(),
        first[..2].to_vec()
    );
    for e in &first {
        store.apply(e);
    }
    assert!(retrain(&labels, &store, &policy, "v1").is_empty());

    // A profile made before its echo (echo was off): retraining adds the
    // echo profile alone, with the same id.
    let mut without = ProfileStore::new();
    without.apply(own);
    assert_eq!(
        retrain(&labels[..1], &without, &policy, "v1"),
        vec![echo.clone()]
    );

    // A features change: new profiles, and each old one disabled once (the
    // old echo profile as its parent's descendant).
    let second = retrain(&labels, &store, &policy, "v2");
    let created: Vec<&ProfileEvent> = second
        .iter()
        .filter(|e| e.action == ProfileAction::Created)
        .collect();
    let mut disabled: Vec<Uuid> = second
        .iter()
        .filter(|e| e.action == ProfileAction::Disabled)
        .map(|e| e.profile_id)
        .collect();
    assert_eq!(created.len(), 3);
    assert_eq!(
        created[1].profile_id,
        echo_profile_id(created[0].profile_id)
    );
    disabled.sort();
    let mut want = vec![own.profile_id, echo.profile_id, first[2].profile_id];
    want.sort();
    assert_eq!(disabled, want);
    for e in &second {
        store.apply(e);
    }
    assert!(retrain(&labels, &store, &policy, "v2").is_empty());
    assert_eq!(store.active_for_metric(METRIC).count(), 3);
}

#[test]
fn disabling_a_seasonal_profile_disables_its_echo_profile() {
    let f = fixture();
    let events = profiles_from_label(&seasonal(&f, 8), &LearnPolicy::default(), "v1").unwrap();
    let mut store = ProfileStore::new();
    for e in &events {
        store.apply(e);
    }
    assert_eq!(store.active_for_metric(METRIC).count(), 2);
    let off = disable(&store, events[0].profile_id, "ops").unwrap();
    let ids: Vec<Uuid> = off.iter().map(|e| e.profile_id).collect();
    assert_eq!(ids, [events[0].profile_id, events[1].profile_id]);
    assert_eq!(off[1].disabled_with, Some(events[0].profile_id));
    for e in &off {
        store.apply(e);
    }
    assert_eq!(store.active_for_metric(METRIC).count(), 0);
    // Disabling the echo profile alone leaves its parent.
    let mut store = ProfileStore::new();
    for e in &events {
        store.apply(e);
    }
    let off = disable(&store, events[1].profile_id, "ops").unwrap();
    assert_eq!(off.len(), 1);
    store.apply(&off[0]);
    let active: Vec<Uuid> = store.active_for_metric(METRIC).map(|p| p.id()).collect();
    assert_eq!(active, [events[0].profile_id]);
}
