//! The console's browsing queries (`projections::browse`) on SQLite and on
//! the real MariaDB: what became of each anomaly, metric patterns matched
//! literally, time ranges, pagination, an anomaly's and a profile's detail,
//! matches by profile, and a page staying cheap with 100,000 anomalies.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use projections::browse::{
    self, AnomalyFilter, AnomalyListRow, AnomalyState, MatchFilter, MatchRow, MotifRow, Page,
};
use projections::{Database, Topic};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use topics::ids::{alert_id, anomaly_id, check_id, layer_id};
use topics::*;
use uuid::Uuid;

const T0: i64 = 1_700_000_000;

fn anomaly(metric: &str, timestamp: i64) -> AnomalyEvent {
    AnomalyEvent {
        id: anomaly_id(metric, timestamp, SourceApp::Analyzer),
        metric: metric.into(),
        timestamp,
        value: -0.1 - 0.2,
        source: SourceApp::Analyzer,
        algorithms_run: vec!["histogram_bins".into(), "grubbs".into(), "ks_test".into()],
        triggered_algorithms: vec!["grubbs".into(), "ks_test".into()],
        full_duration: 86_340,
        from_timestamp: timestamp - 86_400,
        check_id: None,
        derivative: false,
        decided_at_ms: timestamp * 1000,
        count: 1,
        last_timestamp: timestamp,
        max_deviation: 0.0,
    }
}

fn routes(alerters: &[&str]) -> Vec<AlertRoute> {
    alerters
        .iter()
        .map(|a| AlertRoute {
            alerter: (*a).into(),
            rule: format!("{a}: svc.*,\"q\""),
            expiration_time: None,
        })
        .collect()
}

fn a_check(a: &AnomalyEvent, target: CheckTarget, alerts: &[&str]) -> CheckRequest {
    CheckRequest {
        id: check_id(a.id, target),
        anomaly_id: a.id,
        target,
        metric: a.metric.clone(),
        timestamp: a.timestamp,
        value: a.value,
        triggered_algorithms: a.triggered_algorithms.clone(),
        second_order_resolution_hours: (target == CheckTarget::Seasonal).then_some(168),
        series: (0..10)
            .map(|k| SeriesPoint {
                timestamp: a.timestamp - 540 + k * 60,
                value: k as f64 / 3.0,
            })
            .collect(),
        decided_at_ms: a.decided_at_ms + 1,
        full_duration: Some(86_400),
        echo_series: None,
        alerts: routes(alerts),
        periodic: false,
        derivative: false,
    }
}

fn verdict(
    check: &CheckRequest,
    method: MatchMethod,
    profile: Option<Uuid>,
    decided_at_ms: i64,
) -> MatchResult {
    MatchResult {
        id: topics::ids::derived_id(
            "browse-match",
            &[check.id.as_bytes(), &decided_at_ms.to_be_bytes()],
        ),
        check_id: check.id,
        anomaly_id: check.anomaly_id,
        metric: check.metric.clone(),
        timestamp: check.timestamp,
        matched: method != MatchMethod::None,
        method,
        profile_id: profile,
        layer_id: (method == MatchMethod::Layers).then(|| layer_id(profile.unwrap())),
        percent_different: matches!(method, MatchMethod::FeaturesProfile | MatchMethod::MinMax)
            .then_some(0.1 + 0.2),
        distance: (method == MatchMethod::Motif).then_some(1e-7),
        decided_at_ms,
        echo: false,
        profiles_checked: 4,
        features_sum: (method != MatchMethod::Motif).then_some(123.456),
        common_features: (method == MatchMethod::FeaturesProfile).then_some(180),
        approx_close: false,
        motif: (method == MatchMethod::Motif).then_some(MotifMatch {
            index: 17,
            size: 30,
            kind: MotifKind::Exact,
            area: 12.5,
            profile_area: 12.75,
            area_percent_diff: 2.0,
        }),
    }
}

fn alert(a: &AnomalyEvent, alerter: &str) -> AlertEvent {
    AlertEvent {
        id: alert_id(a.id, alerter),
        anomaly_id: a.id,
        metric: a.metric.clone(),
        timestamp: a.timestamp,
        value: a.value,
        source: a.source,
        alerter: alerter.into(),
        rule: format!("{alerter} rule"),
        triggered_algorithms: a.triggered_algorithms.clone(),
        decided_at_ms: a.decided_at_ms + 5,
        series: None,
        full_duration: None,
        expiration_time: None,
        boundary: None,
        fingerprinted: false,
        test: false,
    }
}

fn profile_id(n: u128) -> Uuid {
    Uuid::from_u128(0xf0_0000 + n)
}

fn filter() -> AnomalyFilter {
    AnomalyFilter {
        per_page: 500,
        ..AnomalyFilter::default()
    }
}

fn ids(page: &Page<AnomalyListRow>) -> Vec<Uuid> {
    page.rows.iter().map(|r| r.id).collect()
}

fn bits(series: &[(i64, f64)]) -> Vec<(i64, u64)> {
    series.iter().map(|(t, v)| (*t, v.to_bits())).collect()
}

// ---------------------------------------------------------------- states

/// What each anomaly of the states scenario should come to:
/// (anomaly, state, has a fingerprint check, matched profile, alerts).
type Expected = (AnomalyEvent, AnomalyState, bool, Option<Uuid>, i64);

/// The seasonal verdict on `a`'s seasonal check, decided at `at` ms.
fn seasonal_verdict(
    a: &AnomalyEvent,
    outcome: SeasonalOutcome,
    reason: &str,
    at: i64,
) -> SeasonalResult {
    let check = check_id(a.id, CheckTarget::Seasonal);
    SeasonalResult {
        id: topics::ids::seasonal_result_id(check),
        check_id: check,
        anomaly_id: a.id,
        metric: a.metric.clone(),
        timestamp: a.timestamp,
        value: a.value,
        hours: 168,
        periodic: false,
        outcome,
        reason: reason.into(),
        algorithms_run: vec!["grubbs".into()],
        triggered_algorithms: Vec::new(),
        resolution: 600,
        full_duration: 604_800,
        series: Vec::new(),
        seasonal_anomaly_id: None,
        fingerprint_check_id: None,
        decided_at_ms: at,
    }
}

async fn states(db: &Database) {
    check_states(db, false).await;
}

/// The same events folded one at a time, last first: what each anomaly
/// came to does not depend on the order its facts arrive in.
async fn states_folded_backwards(db: &Database) {
    check_states(db, true).await;
}

async fn check_states(db: &Database, backwards: bool) {
    use AnomalyState::*;
    const M: &str = "svc.latency";
    let (p1, p2) = (profile_id(1), profile_id(2));
    let a: Vec<AnomalyEvent> = (0..15).map(|i| anomaly(M, T0 + i * 60)).collect();
    let fp = |i: usize, alerts: &[&str]| a_check(&a[i], CheckTarget::Fingerprint, alerts);
    let checks = [
        fp(0, &["smtp"]),
        fp(1, &["smtp"]),
        fp(2, &["smtp"]),
        fp(3, &["smtp"]),
        fp(4, &["smtp", "webhook"]),
        fp(5, &["smtp"]),
        fp(6, &[]),
        fp(9, &["smtp"]),
        fp(11, &["smtp"]),
    ];
    let mut events: Vec<Rec> = a.iter().map(|e| rec(Topic::Anomalies, e)).collect();
    events.extend(checks.iter().map(|c| rec(Topic::Checks, c)));
    // A seasonal check with alerts is no fingerprint check: not pending.
    events.push(rec(
        Topic::Checks,
        &a_check(&a[10], CheckTarget::Seasonal, &["smtp"]),
    ));
    let matches = [
        verdict(&checks[0], MatchMethod::FeaturesProfile, Some(p1), 10),
        verdict(&checks[1], MatchMethod::MinMax, Some(p1), 10),
        verdict(&checks[2], MatchMethod::Layers, Some(p2), 10),
        verdict(&checks[3], MatchMethod::Motif, Some(p1), 10),
        // Not matched, and its alerts sent: alerted.
        verdict(&checks[4], MatchMethod::None, Some(p1), 10),
        // Alerted first, then re-judged after learning and deflected.
        verdict(&checks[7], MatchMethod::None, None, 10),
        verdict(&checks[7], MatchMethod::FeaturesProfile, Some(p2), 20),
        // Not matched, its alerts not folded yet: no longer pending.
        verdict(&checks[8], MatchMethod::None, None, 10),
    ];
    events.extend(matches.iter().map(|m| rec(Topic::Matches, m)));
    for (i, alerter) in [(4, "smtp"), (4, "webhook"), (8, "smtp"), (9, "smtp")] {
        events.push(rec(Topic::Alerts, &alert(&a[i], alerter)));
    }
    // Seasonal verdicts: they decide only what neither fingerprint nor an
    // alert did (4 stays alerted, 5 pending); 13 was decided again, later
    // and otherwise, after a crash: the later decision wins in either
    // folding order.
    for (i, outcome, reason, at) in [
        (4, SeasonalOutcome::Cleared, "consensus", 10),
        (5, SeasonalOutcome::Anomalous, "consensus", 10),
        (12, SeasonalOutcome::Cleared, "daily_peak", 10),
        (13, SeasonalOutcome::Skipped, "stale", 10),
        (13, SeasonalOutcome::Anomalous, "consensus", 20),
        (14, SeasonalOutcome::Skipped, "too_short", 10),
    ] {
        events.push(rec(
            Topic::Seasonal,
            &seasonal_verdict(&a[i], outcome, reason, at),
        ));
    }
    let mut log = Log::new();
    if backwards {
        for e in events.iter().rev() {
            log.fold(db, std::slice::from_ref(e)).await;
        }
    } else {
        log.fold(db, &events).await;
    }

    let want: Vec<Expected> = vec![
        (a[0].clone(), DeflectedByProfile, true, Some(p1), 0),
        (a[1].clone(), DeflectedByProfile, true, Some(p1), 0),
        (a[2].clone(), DeflectedByLayer, true, Some(p2), 0),
        (a[3].clone(), Motif, true, Some(p1), 0),
        (a[4].clone(), Alerted, true, None, 2),
        (a[5].clone(), Pending, true, None, 0),
        (a[6].clone(), NotAlerted, true, None, 0),
        (a[7].clone(), NotAlerted, false, None, 0),
        // An alert straight from the analyzer, no check.
        (a[8].clone(), Alerted, false, None, 1),
        (a[9].clone(), DeflectedByProfile, true, Some(p2), 1),
        (a[10].clone(), NotAlerted, false, None, 0),
        (a[11].clone(), NotAlerted, true, None, 0),
        (a[12].clone(), ClearedBySeasonal, false, None, 0),
        (a[13].clone(), ConfirmedBySeasonal, false, None, 0),
        (a[14].clone(), SeasonalSkipped, false, None, 0),
    ];
    let page = browse::anomalies(db, &filter()).await.unwrap();
    assert_eq!(page.total, 15);
    let mut newest_first = want.clone();
    newest_first.reverse();
    let got: Vec<_> = page
        .rows
        .iter()
        .map(|r| (r.id, r.state, r.check_id, r.matched_profile, r.alerts))
        .collect();
    let expected: Vec<_> = newest_first
        .iter()
        .map(|(e, state, fp, profile, alerts)| {
            let check = fp.then(|| check_id(e.id, CheckTarget::Fingerprint));
            (e.id, *state, check, *profile, *alerts)
        })
        .collect();
    assert_eq!(got, expected);
    let first = &page.rows[14];
    assert_eq!(
        (
            first.metric.as_str(),
            first.timestamp,
            first.value.to_bits(),
            first.source.as_str(),
            first.triggered_algorithms.clone(),
            first.full_duration
        ),
        (
            M,
            T0,
            (-0.1f64 - 0.2).to_bits(),
            "analyzer",
            vec!["grubbs".to_owned(), "ks_test".to_owned()],
            86_340
        )
    );

    // Each state as a filter: the same rows, counted with the same WHERE.
    for state in AnomalyState::ALL {
        let page = browse::anomalies(
            db,
            &AnomalyFilter {
                state: Some(state),
                ..filter()
            },
        )
        .await
        .unwrap();
        let want_ids: Vec<Uuid> = newest_first
            .iter()
            .filter(|w| w.1 == state)
            .map(|w| w.0.id)
            .collect();
        assert!(!want_ids.is_empty(), "{state}");
        assert_eq!(ids(&page), want_ids, "{state}");
        assert_eq!(page.total, want_ids.len() as i64, "{state}");
        assert!(page.rows.iter().all(|r| r.state == state));
        // With a time range too.
        let page = browse::anomalies(
            db,
            &AnomalyFilter {
                state: Some(state),
                since: Some(T0 + 4 * 60),
                until: Some(T0 + 9 * 60),
                ..filter()
            },
        )
        .await
        .unwrap();
        let n = want
            .iter()
            .filter(|w| w.1 == state && (T0 + 240..=T0 + 540).contains(&w.0.timestamp))
            .count();
        assert_eq!((page.rows.len() as i64, page.total), (n as i64, n as i64));
    }
}

#[tokio::test]
async fn every_anomaly_state_and_the_state_filter() {
    on_both!(states, "browse");
}

#[tokio::test]
async fn states_do_not_depend_on_fold_order() {
    on_both!(states_folded_backwards, "browse");
}

// ---------------------------------------------------------- metric names

const NAMES: [&str; 11] = [
    "web1.cpu",
    "web2.cpu",
    "xweb1.cpu",
    "db1.cpu",
    "WEB3.mem",
    "a%b.x",
    "aXb.x",
    "a_b.x",
    "a!b.x",
    "a\\b.x",
    "it's.<script>alert(1)</script>",
];

async fn metric_patterns(db: &Database) {
    let mut events = Vec::new();
    let mut checks = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let a = anomaly(name, T0 + i as i64 * 60);
        let c = a_check(&a, CheckTarget::Fingerprint, &[]);
        events.push(rec(Topic::Anomalies, &a));
        events.push(rec(Topic::Checks, &c));
        events.push(rec(
            Topic::Matches,
            &verdict(&c, MatchMethod::None, None, 1),
        ));
        checks.push(c);
    }
    Log::new().fold(db, &events).await;

    let names_of = |page: &Page<AnomalyListRow>| -> BTreeSet<String> {
        page.rows.iter().map(|r| r.metric.clone()).collect()
    };
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|s| s.to_string()).collect() };
    let cases: [(&str, &[&str]); 17] = [
        ("cpu", &["web1.cpu", "web2.cpu", "xweb1.cpu", "db1.cpu"]),
        ("web*.cpu", &["web1.cpu", "web2.cpu"]),
        ("*web*", &["web1.cpu", "web2.cpu", "xweb1.cpu", "WEB3.mem"]),
        ("web", &["web1.cpu", "web2.cpu", "xweb1.cpu", "WEB3.mem"]),
        ("web3.MEM", &["WEB3.mem"]),
        ("a%b", &["a%b.x"]),
        ("%", &["a%b.x"]),
        ("a_b", &["a_b.x"]),
        ("_", &["a_b.x"]),
        ("a!b", &["a!b.x"]),
        ("!", &["a!b.x"]),
        ("a\\b", &["a\\b.x"]),
        ("a%b*", &["a%b.x"]),
        ("*.x", &["a%b.x", "aXb.x", "a_b.x", "a!b.x", "a\\b.x"]),
        ("'s.<script>", &["it's.<script>alert(1)</script>"]),
        ("*", &NAMES),
        ("nothing.here", &[]),
    ];
    for (pattern, want) in cases {
        let page = browse::anomalies(
            db,
            &AnomalyFilter {
                metric: Some(pattern.into()),
                ..filter()
            },
        )
        .await
        .unwrap();
        assert_eq!(names_of(&page), set(want), "anomalies {pattern:?}");
        assert_eq!(page.total, want.len() as i64, "anomalies {pattern:?}");
        let matched = browse::matches(
            db,
            &MatchFilter {
                metric: Some(pattern.into()),
                per_page: 500,
                ..MatchFilter::default()
            },
        )
        .await
        .unwrap();
        let got: BTreeSet<String> = matched.rows.iter().map(|r| r.metric.clone()).collect();
        assert_eq!(got, set(want), "matches {pattern:?}");
        assert_eq!(matched.total, want.len() as i64);
        let names = browse::metrics(db, Some(pattern), 100).await.unwrap();
        assert_eq!(
            names.iter().cloned().collect::<BTreeSet<_>>(),
            set(want),
            "metrics {pattern:?}"
        );
        assert_eq!(names.len(), want.len());
    }
    // Names come back intact.
    let page = browse::anomalies(
        db,
        &AnomalyFilter {
            metric: Some("<script>".into()),
            ..filter()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.rows[0].metric, NAMES[10]);
    // No pattern or an empty one: everything.
    for pattern in [None, Some("")] {
        let page = browse::anomalies(
            db,
            &AnomalyFilter {
                metric: pattern.map(str::to_owned),
                ..filter()
            },
        )
        .await
        .unwrap();
        assert_eq!(page.total, NAMES.len() as i64);
        assert_eq!(
            browse::metrics(db, pattern, 100).await.unwrap().len(),
            NAMES.len()
        );
    }
    // Sorted, at most `limit`.
    assert_eq!(
        browse::metrics(db, Some("cpu"), 100).await.unwrap(),
        ["db1.cpu", "web1.cpu", "web2.cpu", "xweb1.cpu"]
    );
    assert_eq!(
        browse::metrics(db, Some("cpu"), 2).await.unwrap(),
        ["db1.cpu", "web1.cpu"]
    );
    assert!(browse::metrics(db, None, 0).await.unwrap().is_empty());
    // A metric known only from a profile is listed too.
    let mut p = profile_event(9, "only.profiled", None, 1_000);
    p.check_id = None;
    Log::new().fold(db, &[rec(Topic::Profiles, &p)]).await;
    assert_eq!(
        browse::metrics(db, Some("profiled"), 10).await.unwrap(),
        ["only.profiled"]
    );
}

#[tokio::test]
async fn metric_patterns_match_literally_and_names_come_back_intact() {
    on_both!(metric_patterns, "browse");
}

// ---------------------------------------------------- ranges and paging

async fn pages(db: &Database) {
    // 523 anomalies, two metrics, in pairs sharing a timestamp.
    let all: Vec<AnomalyEvent> = (0..523)
        .map(|i| {
            let metric = if i % 2 == 0 { "page.a" } else { "page.b" };
            anomaly(metric, T0 + (i / 2) * 60)
        })
        .collect();
    let events: Vec<Rec> = all.iter().map(|e| rec(Topic::Anomalies, e)).collect();
    Log::new().fold(db, &events).await;
    let mut newest: Vec<&AnomalyEvent> = all.iter().collect();
    // Newest first, ties by id descending.
    newest.sort_by_key(|e| std::cmp::Reverse((e.timestamp, e.id)));
    let want = |range: std::ops::Range<usize>| -> Vec<Uuid> {
        newest[range].iter().map(|e| e.id).collect()
    };
    let at = |page: u32, per_page: u32| AnomalyFilter {
        page,
        per_page,
        ..AnomalyFilter::default()
    };

    let p1 = browse::anomalies(db, &at(1, 10)).await.unwrap();
    assert_eq!((p1.total, p1.page, p1.per_page), (523, 1, 10));
    assert_eq!(p1.pages(), 53);
    assert_eq!(ids(&p1), want(0..10));
    let p2 = browse::anomalies(db, &at(2, 10)).await.unwrap();
    assert_eq!((p2.total, p2.page), (523, 2));
    assert_eq!(ids(&p2), want(10..20));
    // The last, partial page.
    let last = browse::anomalies(db, &at(53, 10)).await.unwrap();
    assert_eq!(ids(&last), want(520..523));
    // Past the end: empty, with the right total.
    let past = browse::anomalies(db, &at(54, 10)).await.unwrap();
    assert!(past.rows.is_empty());
    assert_eq!((past.total, past.page), (523, 54));
    let far = browse::anomalies(db, &at(u32::MAX, 500)).await.unwrap();
    assert!(far.rows.is_empty());
    assert_eq!(far.total, 523);
    // Page 0 reads as 1; per_page is clamped to 1..=500.
    let p0 = browse::anomalies(db, &at(0, 10)).await.unwrap();
    assert_eq!((p0.page, ids(&p0)), (1, want(0..10)));
    let one = browse::anomalies(db, &at(3, 0)).await.unwrap();
    assert_eq!((one.per_page, ids(&one)), (1, want(2..3)));
    let big = browse::anomalies(db, &at(1, 100_000)).await.unwrap();
    assert_eq!((big.per_page, ids(&big)), (500, want(0..500)));
    let rest = browse::anomalies(db, &at(2, 100_000)).await.unwrap();
    assert_eq!(ids(&rest), want(500..523));
    // Every page of 7 together is the whole list, in order.
    let mut walked = Vec::new();
    for page in 1..=75 {
        walked.extend(ids(&browse::anomalies(db, &at(page, 7)).await.unwrap()));
    }
    assert_eq!(walked, want(0..523));

    // since / until, inclusive.
    let range = |since: Option<i64>, until: Option<i64>, metric: Option<&str>| AnomalyFilter {
        since,
        until,
        metric: metric.map(str::to_owned),
        ..filter()
    };
    let expect = |since: i64, until: i64, metric: Option<&str>| -> Vec<Uuid> {
        newest
            .iter()
            .filter(|e| (since..=until).contains(&e.timestamp))
            .filter(|e| metric.is_none_or(|m| e.metric == m))
            .map(|e| e.id)
            .collect()
    };
    let (s, u) = (T0 + 3 * 60, T0 + 5 * 60);
    let got = browse::anomalies(db, &range(Some(s), Some(u), None))
        .await
        .unwrap();
    assert_eq!(ids(&got), expect(s, u, None));
    assert_eq!(got.total, 6);
    let got = browse::anomalies(db, &range(Some(s), Some(u), Some("page.b")))
        .await
        .unwrap();
    assert_eq!(ids(&got), expect(s, u, Some("page.b")));
    assert_eq!(got.total, 3);
    let got = browse::anomalies(db, &range(Some(T0 + 255 * 60), None, None))
        .await
        .unwrap();
    assert_eq!(ids(&got), expect(T0 + 255 * 60, i64::MAX, None));
    assert_eq!(got.total, 13);
    let got = browse::anomalies(db, &range(None, Some(T0), None))
        .await
        .unwrap();
    assert_eq!(ids(&got), expect(0, T0, None));
    assert_eq!(got.total, 2);
    let got = browse::anomalies(db, &range(Some(u), Some(s), None))
        .await
        .unwrap();
    assert!(got.rows.is_empty());
    assert_eq!(got.total, 0);
}

#[tokio::test]
async fn time_ranges_and_pagination() {
    on_both!(pages, "browse");
}

// ------------------------------------------------------- anomaly detail

/// 1,440 points a minute apart whose values use every bit of an f64.
fn day_of_points(seed: u64) -> Vec<SeriesPoint> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..1440)
        .map(|k| SeriesPoint {
            timestamp: T0 - 1439 * 60 + k * 60,
            value: match k % 4 {
                0 => f64::from_bits(rng.gen::<u64>() & !(0x7ff << 52) | (0x3ff << 52)) - 1.5,
                1 => rng.gen_range(-1e300..1e300),
                2 => rng.gen::<f64>() * 1e-300,
                _ => (k as f64) / 3.0,
            },
        })
        .collect()
}

fn label(n: u128, a: &AnomalyEvent, anomaly: Option<Uuid>, check: Option<Uuid>) -> Label {
    Label {
        id: Uuid::from_u128(0x0001_abe1_0000 + n),
        metric: a.metric.clone(),
        anomaly_id: anomaly,
        training_id: None,
        timestamp: a.timestamp,
        not_anomalous: true,
        learn: n.is_multiple_of(2),
        layers_json: (n == 2).then(|| r#"{"d":{"condition":">","boundary":1.5}}"#.to_owned()),
        operator: format!("ops{n}"),
        labelled_at_ms: 5_000 - n as i64,
        check_id: check,
        full_duration: Some(86_400),
        series: None,
        description: Some(format!("busy hour {n}, \"normal\" <b>")),
        echo_series: None,
    }
}

async fn detail(db: &Database) {
    const M: &str = "detail.metric";
    let a = anomaly(M, T0);
    let seasonal = a_check(&a, CheckTarget::Seasonal, &[]);
    let mut fp = a_check(&a, CheckTarget::Fingerprint, &["smtp", "webhook"]);
    fp.series = day_of_points(3);
    fp.decided_at_ms += 10;
    let mut v1 = fp.clone();
    // Another anomaly's check, a version 1 one (no duration).
    let other = anomaly(M, T0 + 60);
    v1.id = check_id(other.id, CheckTarget::Fingerprint);
    v1.anomaly_id = other.id;
    v1.full_duration = None;
    let first = verdict(&fp, MatchMethod::None, Some(profile_id(1)), 100);
    let mut second = verdict(&fp, MatchMethod::Motif, Some(profile_id(2)), 200);
    second.echo = true;
    let labels = [
        label(1, &a, Some(a.id), Some(fp.id)),
        // Names only the check.
        label(2, &a, None, Some(fp.id)),
        // Another anomaly's.
        label(3, &other, Some(other.id), None),
    ];
    let mut events = vec![
        rec(Topic::Anomalies, &a),
        rec(Topic::Anomalies, &other),
        rec(Topic::Checks, &fp),
        rec(Topic::Checks, &seasonal),
        rec(Topic::Checks, &v1),
        rec(Topic::Matches, &first),
        rec(Topic::Matches, &second),
        rec(Topic::Alerts, &alert(&a, "smtp")),
        rec(Topic::Alerts, &alert(&other, "smtp")),
    ];
    events.extend(labels.iter().map(|l| rec(Topic::Labels, l)));
    Log::new().fold(db, &events).await;

    let d = browse::anomaly(db, a.id).await.unwrap().expect("folded");
    assert_eq!(d.anomaly.id, a.id);
    assert_eq!(d.anomaly.state, AnomalyState::Motif);
    assert_eq!(d.anomaly.check_id, Some(fp.id));
    assert_eq!(d.anomaly.matched_profile, Some(profile_id(2)));
    assert_eq!(d.anomaly.alerts, 1);
    assert_eq!(d.algorithms_run, ["histogram_bins", "grubbs", "ks_test"]);
    assert_eq!((d.from_timestamp, d.end_timestamp), (T0 - 86_400, None));
    // Checks oldest first (the seasonal one was decided first).
    let targets: Vec<(Uuid, &str)> = d.checks.iter().map(|c| (c.id, c.target.as_str())).collect();
    assert_eq!(targets, [(seasonal.id, "seasonal"), (fp.id, "fingerprint")]);
    let c = &d.checks[1];
    let want: Vec<(i64, f64)> = fp.series.iter().map(|p| (p.timestamp, p.value)).collect();
    assert_eq!(bits(&c.series), bits(&want), "series not exact");
    assert_eq!((c.timestamp, c.full_duration), (T0, Some(86_400)));
    assert_eq!(c.alerts, ["smtp", "webhook"]);
    assert_eq!(c.routes[1].rule, "webhook: svc.*,\"q\"");
    assert_eq!(c.value.to_bits(), a.value.to_bits());
    assert!(d.checks[0].alerts.is_empty());
    assert_eq!(d.checks[0].series.len(), 10);
    // Matches oldest first, every column.
    let ids: Vec<Uuid> = d.matches.iter().map(|m| m.id).collect();
    assert_eq!(ids, [first.id, second.id]);
    assert_eq!(
        d.matches[1],
        MatchRow {
            id: second.id,
            check_id: fp.id,
            anomaly_id: a.id,
            metric: M.into(),
            timestamp: T0,
            matched: true,
            method: "motif".into(),
            profile_id: Some(profile_id(2)),
            layer_id: None,
            percent_different: None,
            distance: Some(1e-7),
            echo: true,
            profiles_checked: 4,
            motif: Some(MotifRow {
                index: 17,
                size: 30,
                kind: Some("exact".into()),
                area: Some(12.5),
                profile_area: Some(12.75),
                area_percent_diff: Some(2.0),
            }),
            approx_close: false,
            features_sum: None,
            common_features: None,
            decided_at_ms: 200,
        }
    );
    assert!(!d.matches[0].matched && d.matches[0].motif.is_none());
    assert_eq!(d.matches[0].features_sum, Some(123.456));
    // Alerts and labels (by the anomaly or its check), oldest first.
    assert_eq!(d.alerts.len(), 1);
    assert_eq!(
        (
            d.alerts[0].id,
            d.alerts[0].alerter.as_str(),
            d.alerts[0].rule.as_str()
        ),
        (alert_id(a.id, "smtp"), "smtp", "smtp rule")
    );
    assert_eq!(d.alerts[0].timestamp, T0);
    let l: Vec<Uuid> = d.labels.iter().map(|l| l.id).collect();
    assert_eq!(l, [labels[1].id, labels[0].id]);
    let l2 = &d.labels[0];
    assert_eq!(
        (
            l2.check_id,
            l2.not_anomalous,
            l2.learn,
            l2.layers_json.as_deref(),
            l2.operator.as_str(),
            l2.description.as_deref(),
            l2.labelled_at_ms,
            l2.timestamp
        ),
        (
            Some(fp.id),
            true,
            true,
            labels[1].layers_json.as_deref(),
            "ops2",
            Some("busy hour 2, \"normal\" <b>"),
            4_998,
            T0
        )
    );
    assert!(!d.labels[1].learn && d.labels[1].layers_json.is_none());

    // The other anomaly: its version 1 check has no duration.
    let o = browse::anomaly(db, other.id).await.unwrap().unwrap();
    assert_eq!(o.checks.len(), 1);
    assert_eq!(o.checks[0].full_duration, None);
    assert_eq!(o.anomaly.state, AnomalyState::Alerted);
    assert_eq!(o.labels.len(), 1);
    assert!(o.matches.is_empty());
    assert!(browse::anomaly(db, Uuid::from_u128(7))
        .await
        .unwrap()
        .is_none());

    // Junk in the stored columns is an error, not a panic.
    for (column, junk, what) in [
        ("series", "[[1,", "check series"),
        ("alerts", "{\"x\"", "check alerts"),
    ] {
        sqlx::query(&format!("UPDATE checks SET {column} = ? WHERE id = ?"))
            .bind(junk)
            .bind(fp.id.to_string())
            .execute(db.pool())
            .await
            .unwrap();
        let err = browse::anomaly(db, a.id).await.unwrap_err().to_string();
        assert!(err.contains(what), "{err}");
        sqlx::query(&format!("UPDATE checks SET {column} = NULL WHERE id = ?"))
            .bind(fp.id.to_string())
            .execute(db.pool())
            .await
            .unwrap();
    }
    // A check folded before 0002: no series, no alerts.
    let old = browse::anomaly(db, a.id).await.unwrap().unwrap();
    assert!(old.checks[1].series.is_empty() && old.checks[1].alerts.is_empty());
}

#[tokio::test]
async fn an_anomalys_detail_with_its_checks_matches_alerts_and_labels() {
    on_both!(detail, "browse");
}

// -------------------------------------------------------------- matches

async fn match_list(db: &Database) {
    let (p, q) = (profile_id(1), profile_id(2));
    let mk = |n: i64, metric: &str, method: MatchMethod, profile: Option<Uuid>| {
        let a = anomaly(metric, T0 + n * 100);
        let c = a_check(&a, CheckTarget::Fingerprint, &["smtp"]);
        (c.clone(), verdict(&c, method, profile, n))
    };
    let made = [
        mk(1, "mm.x", MatchMethod::FeaturesProfile, Some(p)),
        mk(2, "mm.x", MatchMethod::None, Some(p)),
        mk(3, "mm.x", MatchMethod::Motif, Some(q)),
        mk(4, "mm.x", MatchMethod::None, None),
        mk(5, "mm.y", MatchMethod::Layers, Some(p)),
    ];
    let m: Vec<&MatchResult> = made.iter().map(|(_, m)| m).collect();
    // The metrics table is filled from anomalies; matches name a metric
    // through it (or, lagging, through their check).
    let mut events: Vec<Rec> = made
        .iter()
        .map(|(c, _)| rec(Topic::Anomalies, &anomaly(&c.metric, c.timestamp)))
        .collect();
    events.extend(made.iter().map(|(c, _)| rec(Topic::Checks, c)));
    events.extend(m.iter().map(|x| rec(Topic::Matches, *x)));
    Log::new().fold(db, &events).await;

    let list = |f: MatchFilter| async move { browse::matches(db, &f).await.unwrap() };
    let of = |page: &Page<MatchRow>| -> Vec<Uuid> { page.rows.iter().map(|r| r.id).collect() };
    let ids = |ns: &[usize]| -> Vec<Uuid> { ns.iter().map(|n| m[n - 1].id).collect() };
    let all = list(MatchFilter::default()).await;
    assert_eq!((of(&all), all.total), (ids(&[5, 4, 3, 2, 1]), 5));
    let by_p = list(MatchFilter {
        profile: Some(p),
        ..MatchFilter::default()
    })
    .await;
    assert_eq!((of(&by_p), by_p.total), (ids(&[5, 2, 1]), 3));
    let p_matched = list(MatchFilter {
        profile: Some(p),
        matched_only: true,
        ..MatchFilter::default()
    })
    .await;
    assert_eq!((of(&p_matched), p_matched.total), (ids(&[5, 1]), 2));
    let matched = list(MatchFilter {
        matched_only: true,
        ..MatchFilter::default()
    })
    .await;
    assert_eq!(of(&matched), ids(&[5, 3, 1]));
    let ranged = list(MatchFilter {
        since: Some(T0 + 200),
        until: Some(T0 + 400),
        ..MatchFilter::default()
    })
    .await;
    assert_eq!((of(&ranged), ranged.total), (ids(&[4, 3, 2]), 3));
    let y = list(MatchFilter {
        metric: Some("mm.y".into()),
        ..MatchFilter::default()
    })
    .await;
    assert_eq!(of(&y), ids(&[5]));
    let paged = list(MatchFilter {
        page: 2,
        per_page: 2,
        ..MatchFilter::default()
    })
    .await;
    assert_eq!((of(&paged), paged.total, paged.page), (ids(&[3, 2]), 5, 2));
    let none = list(MatchFilter {
        profile: Some(Uuid::from_u128(1)),
        ..MatchFilter::default()
    })
    .await;
    assert_eq!((none.rows.len(), none.total), (0, 0));

    let layers = &all.rows[0];
    assert_eq!(
        (
            layers.method.as_str(),
            layers.layer_id,
            layers.metric.as_str(),
            layers.percent_different
        ),
        ("layers", Some(layer_id(p)), "mm.y", None)
    );
    let features = &all.rows[4];
    assert_eq!(
        (
            features.method.as_str(),
            features.percent_different.map(f64::to_bits),
            features.common_features,
            features.profiles_checked,
            features.check_id,
            features.anomaly_id
        ),
        (
            "features_profile",
            Some((0.1f64 + 0.2).to_bits()),
            Some(180),
            4,
            made[0].0.id,
            made[0].0.anomaly_id
        )
    );
    assert_eq!(all.rows[2].motif.as_ref().map(|x| x.index), Some(17));
    assert!(all
        .rows
        .iter()
        .filter(|r| r.method != "motif")
        .all(|r| r.motif.is_none()));

    // The metrics row missing (its projection lagging): named by its check.
    sqlx::query("DELETE FROM metrics WHERE name = 'mm.y'")
        .execute(db.pool())
        .await
        .unwrap();
    let lagging = list(MatchFilter::default()).await;
    assert_eq!(lagging.rows[0].metric, "mm.y");
}

#[tokio::test]
async fn matches_by_profile_matched_only_range_and_metric() {
    on_both!(match_list, "browse");
}

// ------------------------------------------------------------- profiles

fn profile_event(n: u128, metric: &str, parent: Option<Uuid>, at_ms: i64) -> ProfileEvent {
    let mut rng = StdRng::seed_from_u64(n as u64);
    ProfileEvent {
        id: Uuid::from_u128(0xe0_0000 + n),
        profile_id: profile_id(n),
        action: if parent.is_some() {
            ProfileAction::Learnt
        } else {
            ProfileAction::Created
        },
        metric: metric.into(),
        parent_id: parent,
        generation: u32::from(parent.is_some()),
        full_duration: 86_400,
        features: vec![FeatureValue { id: 1, value: 2.0 }],
        features_sum: 2.0,
        series: (0..20)
            .map(|k| SeriesPoint {
                timestamp: T0 + k * 60,
                value: rng.gen_range(-1e12..1e12),
            })
            .collect(),
        layers_json: None,
        label_id: None,
        at_ms,
        validated: parent.is_none(),
        learn: true,
        learn_settings: None,
        description: Some(format!("profile {n}")),
        operator: parent.is_none().then(|| "ops".to_owned()),
        anomaly_timestamp: Some(T0),
        check_id: Some(Uuid::from_u128(0xc0_0000)),
        disabled_with: None,
    }
}

async fn profiles(db: &Database) {
    const M: &str = "prof.metric";
    let check = Uuid::from_u128(0xc0_0000);
    let mut origin = profile_event(1, M, None, 1_000);
    origin.layers_json = Some(r#"{"d":{"condition":">","boundary":100.5},"e":{"condition":"<=","boundary":50.5,"times_in_row":3}}"#.into());
    origin.label_id = Some(Uuid::from_u128(0x1abe1));
    let child_a = profile_event(2, M, Some(origin.profile_id), 3_000);
    let mut child_b = profile_event(3, M, Some(origin.profile_id), 2_000);
    child_b.check_id = Some(Uuid::from_u128(0xc0_0001));
    // A second profile from the same check (labelled again), made later.
    let mut again = profile_event(4, M, None, 4_000);
    again.check_id = Some(check);
    let a = anomaly(M, T0);
    let c = a_check(&a, CheckTarget::Fingerprint, &[]);
    let o = origin.profile_id;
    let mut events = vec![
        rec(Topic::Profiles, &origin),
        rec(Topic::Profiles, &child_a),
        rec(Topic::Profiles, &child_b),
        rec(Topic::Profiles, &again),
    ];
    for (n, method) in [
        (1, MatchMethod::FeaturesProfile),
        (2, MatchMethod::FeaturesProfile),
        (3, MatchMethod::Layers),
        (4, MatchMethod::None),
    ] {
        events.push(rec(Topic::Matches, &verdict(&c, method, Some(o), n)));
    }
    Log::new().fold(db, &events).await;

    let d = browse::profile(db, o).await.unwrap().expect("folded");
    assert_eq!(d.profile.id, o);
    assert_eq!(d.profile.parent, None);
    assert!(d.profile.enabled && d.profile.validated && d.profile.learn);
    assert_eq!(d.profile.description.as_deref(), Some("profile 1"));
    assert_eq!(d.profile.origin, "created");
    assert_eq!(
        (
            d.profile.matches.features,
            d.profile.matches.layers,
            d.profile.matches.checked,
            d.profile.matches.last_matched
        ),
        (2, 1, 4, Some(T0))
    );
    assert_eq!(d.metric, M);
    let want: Vec<(i64, f64)> = origin
        .series
        .iter()
        .map(|p| (p.timestamp, p.value))
        .collect();
    assert_eq!(bits(&d.series), bits(&want));
    let alone = browse::profile_series(db, o).await.unwrap();
    assert_eq!(bits(&alone), bits(&want), "the series on its own");
    assert!(browse::profile_series(db, Uuid::now_v7())
        .await
        .unwrap()
        .is_empty());
    let layers = d.layers.as_ref().expect("layers");
    assert_eq!(
        (layers.id, layers.definition.as_str(), layers.enabled),
        (layer_id(o), origin.layers_json.as_deref().unwrap(), true)
    );
    assert_eq!(
        (
            d.check_id,
            d.label_id,
            d.anomaly_timestamp,
            d.operator.as_deref()
        ),
        (Some(check), origin.label_id, Some(T0), Some("ops"))
    );
    // Children oldest first.
    assert_eq!(d.children, [child_b.profile_id, child_a.profile_id]);
    assert_eq!((d.disabled_at_ms, d.disabled_with), (None, None));

    let child = browse::profile(db, child_a.profile_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(child.profile.parent, Some(o));
    assert_eq!(child.profile.generation, 1);
    assert!(child.children.is_empty() && child.layers.is_none());
    assert_eq!(child.profile.matches, Default::default());
    assert_eq!(child.operator, None);
    assert!(browse::profile(db, Uuid::from_u128(5))
        .await
        .unwrap()
        .is_none());

    assert_eq!(
        browse::profiles_from_check(db, check).await.unwrap(),
        [o, child_a.profile_id, again.profile_id]
    );
    assert_eq!(
        browse::profiles_from_check(db, Uuid::from_u128(0xc0_0001))
            .await
            .unwrap(),
        [child_b.profile_id]
    );
    assert!(browse::profiles_from_check(db, Uuid::from_u128(6))
        .await
        .unwrap()
        .is_empty());

    // Disabled: so are its layers.
    let mut off = origin.clone();
    off.id = Uuid::now_v7();
    off.action = ProfileAction::Disabled;
    off.at_ms = 9_000;
    Log::new().fold(db, &[rec(Topic::Profiles, &off)]).await;
    let d = browse::profile(db, o).await.unwrap().unwrap();
    assert!(!d.profile.enabled && !d.layers.unwrap().enabled);
    assert_eq!(d.disabled_at_ms, Some(9_000));
}

#[tokio::test]
async fn a_profiles_detail_and_the_profiles_from_a_check() {
    on_both!(profiles, "browse");
}

// ----------------------------------------------------------------- cost

/// 100,000 anomalies over 1,000 metrics, with checks, matches and alerts
/// for a fifth of them.
async fn cost(db: &Database) {
    let mut rng = StdRng::seed_from_u64(5);
    let mut log = Log::new();
    let mut batch = Vec::new();
    for i in 0..100_000i64 {
        let a = anomaly(&format!("host{}.cpu.user", i % 1000), T0 + (i / 1000) * 60);
        batch.push(rec(Topic::Anomalies, &a));
        if i % 5 == 0 {
            let mut c = a_check(&a, CheckTarget::Fingerprint, &["smtp"]);
            c.series.truncate(2);
            batch.push(rec(Topic::Checks, &c));
            match rng.gen_range(0..4) {
                0 => batch.push(rec(
                    Topic::Matches,
                    &verdict(&c, MatchMethod::FeaturesProfile, Some(profile_id(1)), 1),
                )),
                1 => {
                    batch.push(rec(
                        Topic::Matches,
                        &verdict(&c, MatchMethod::None, None, 1),
                    ));
                    batch.push(rec(Topic::Alerts, &alert(&a, "smtp")));
                }
                _ => {}
            }
        }
        if batch.len() >= 10_000 {
            log.fold(db, &batch).await;
            batch.clear();
        }
    }
    log.fold(db, &batch).await;
    if db.dialect() == projections::Dialect::MySql {
        // As InnoDB's background statistics would be by now in a live
        // database (they lag a bulk load by seconds).
        sqlx::query("ANALYZE TABLE anomalies, checks, matches, alerts, metrics")
            .execute(db.pool())
            .await
            .unwrap();
    }

    let mut slowest = Duration::ZERO;
    let mut time = |what: &str, took: Duration| {
        eprintln!("{:?} {what}: {took:?}", db.dialect());
        slowest = slowest.max(took);
    };
    let queries: [(&str, AnomalyFilter); 6] = [
        ("first page", AnomalyFilter::default()),
        (
            "page 1000",
            AnomalyFilter {
                page: 1000,
                ..AnomalyFilter::default()
            },
        ),
        (
            "metric substring",
            AnomalyFilter {
                metric: Some("host42".into()),
                ..AnomalyFilter::default()
            },
        ),
        (
            "pending",
            AnomalyFilter {
                state: Some(AnomalyState::Pending),
                ..AnomalyFilter::default()
            },
        ),
        (
            "alerted, a day",
            AnomalyFilter {
                state: Some(AnomalyState::Alerted),
                since: Some(T0 + 3600),
                until: Some(T0 + 3600 * 25),
                ..AnomalyFilter::default()
            },
        ),
        (
            "500 rows",
            AnomalyFilter {
                per_page: 500,
                ..AnomalyFilter::default()
            },
        ),
    ];
    for (what, f) in &queries {
        let started = Instant::now();
        let page = browse::anomalies(db, f).await.unwrap();
        time(what, started.elapsed());
        assert!(!page.rows.is_empty(), "{what}");
    }
    // Every state, whole table: the states partition the anomalies.
    let mut sum = 0;
    for state in AnomalyState::ALL {
        let started = Instant::now();
        let page = browse::anomalies(
            db,
            &AnomalyFilter {
                state: Some(state),
                ..AnomalyFilter::default()
            },
        )
        .await
        .unwrap();
        time(state.as_str(), started.elapsed());
        assert!(page.rows.iter().all(|r| r.state == state));
        sum += page.total;
    }
    assert_eq!(sum, 100_000);
    let started = Instant::now();
    let page = browse::matches(db, &MatchFilter::default()).await.unwrap();
    time("matches", started.elapsed());
    // Half of the 20,000 checks have a match, give or take.
    assert!((9_000..11_000).contains(&page.total), "{}", page.total);
    let started = Instant::now();
    let id = page.rows[0].anomaly_id;
    browse::anomaly(db, id).await.unwrap().unwrap();
    time("detail", started.elapsed());
    // A loose bound (debug build, a shared machine): a page that joined
    // whole tables would take seconds.
    assert!(slowest < Duration::from_millis(1_000), "{slowest:?}");
}

#[tokio::test]
async fn a_page_stays_cheap_with_100000_anomalies() {
    on_both!(cost, "browse");
}

// ------------------------------------------------------ metrics received

async fn metrics_received(db: &Database) {
    let mut log = Log::new();
    let point = |metric: &str, timestamp: i64| Datapoint {
        metric: metric.into(),
        timestamp,
        value: 1.5,
    };
    // Two batches: web1.cpu in both, out of order within the second.
    let first: Vec<Rec> = (0..10)
        .map(|i| rec(Topic::Datapoints, &point("web1.cpu", T0 + 60 * i)))
        .chain([rec(Topic::Datapoints, &point("db1.disk", T0 + 30))])
        .collect();
    log.fold(db, &first).await;
    let second: Vec<Rec> = [T0 + 900, T0 - 600, T0 + 600]
        .iter()
        .map(|t| rec(Topic::Datapoints, &point("web1.cpu", *t)))
        .collect();
    log.fold(db, &second).await;
    // An anomaly within 24 h of web1.cpu's latest point, and one before.
    let anomalies: Vec<Rec> = [T0 + 300, T0 + 900 - 86_400]
        .iter()
        .map(|t| rec(Topic::Anomalies, &anomaly("web1.cpu", *t)))
        .collect();
    log.fold(db, &anomalies).await;

    let all = browse::metric_activity(db, None, 1, 50).await.unwrap();
    assert_eq!(all.total, 2);
    let names: Vec<&str> = all.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["db1.disk", "web1.cpu"]);
    let web = &all.rows[1];
    assert_eq!((web.first_seen, web.last_seen), (T0 - 600, T0 + 900));
    assert_eq!(web.datapoints, 13);
    assert_eq!(web.anomalies_24h, 1);
    assert!(!web.ionosphere_enabled);
    let db1 = &all.rows[0];
    assert_eq!(
        (db1.first_seen, db1.last_seen, db1.datapoints),
        (T0 + 30, T0 + 30, 1)
    );
    // The console's patterns.
    let glob = browse::metric_activity(db, Some("WEB*"), 1, 50)
        .await
        .unwrap();
    assert_eq!(glob.rows.len(), 1);
    let sub = browse::metric_activity(db, Some("disk"), 1, 50)
        .await
        .unwrap();
    assert_eq!(sub.rows[0].name, "db1.disk");
    let second_page = browse::metric_activity(db, None, 2, 1).await.unwrap();
    assert_eq!(second_page.rows[0].name, "web1.cpu");
}

#[tokio::test]
async fn every_metric_received_with_its_activity() {
    on_both!(metrics_received, "browse");
}
