//! The seasonal projection against the real broker and MariaDB (and
//! SQLite): each seasonal verdict is one row, upserted by its id so that a
//! verdict decided again after a crash folds onto it, the later decision
//! winning in either order; events folded twice change nothing; a rebuild
//! from offset 0 and the same events in SQLite give identical tables; the
//! anomalies' states follow their verdicts (cleared, confirmed, skipped),
//! the same whether computed per row or read from `anomaly_outcomes`.

mod common;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use common::*;
use projections::browse::{self, AnomalyFilter, AnomalyState};
use projections::fold::{self, FoldSettings};
use projections::seasonal::{self, OutcomeCount};
use projections::{Database, Topic};
use topics::codec::encode;
use topics::names::TopicNames;
use topics::{
    AlertEvent, AnomalyEvent, CheckTarget, SeasonalOutcome, SeasonalResult, SeriesPoint, SourceApp,
};
use uuid::Uuid;

/// The anomalies' time (unix seconds).
const T: i64 = 1_800_000_000;
/// When the verdicts were decided (unix milliseconds).
const AT: i64 = T * 1000 + 90_000;

fn anomaly(metric: &str, timestamp: i64, source: SourceApp) -> AnomalyEvent {
    AnomalyEvent {
        id: topics::ids::anomaly_id(metric, timestamp, source),
        metric: metric.into(),
        timestamp,
        value: 42.5,
        source,
        algorithms_run: vec!["grubbs".into(), "ks_test".into()],
        triggered_algorithms: vec!["grubbs".into()],
        full_duration: 86_400,
        from_timestamp: timestamp - 86_400,
        check_id: Some(topics::ids::check_id(
            topics::ids::anomaly_id(metric, timestamp, source),
            CheckTarget::Seasonal,
        )),
        derivative: false,
        decided_at_ms: timestamp * 1000,
        count: 1,
        last_timestamp: timestamp,
        max_deviation: 0.0,
    }
}

/// 7 days at 600 s ending at `end`: 1008 points, values that do not round
/// trip through a short decimal.
fn week(end: i64) -> Vec<SeriesPoint> {
    (0..1008)
        .map(|k| SeriesPoint {
            timestamp: end - (1007 - k) * 600,
            value: (k as f64).sin() * 1e3 + 0.1 + 0.2,
        })
        .collect()
}

/// The verdict on anomaly `a`'s seasonal check.
fn verdict(a: &AnomalyEvent, outcome: SeasonalOutcome, reason: &str, at: i64) -> SeasonalResult {
    let check_id = topics::ids::check_id(a.id, CheckTarget::Seasonal);
    let judged = outcome != SeasonalOutcome::Skipped;
    let seasonal = topics::ids::anomaly_id(&a.metric, a.timestamp, SourceApp::Seasonal);
    SeasonalResult {
        id: topics::ids::seasonal_result_id(check_id),
        check_id,
        anomaly_id: a.id,
        metric: a.metric.clone(),
        timestamp: a.timestamp,
        value: a.value,
        hours: 168,
        periodic: false,
        outcome,
        reason: reason.into(),
        algorithms_run: if judged {
            ["histogram_bins", "grubbs", "ks_test"]
                .map(String::from)
                .to_vec()
        } else {
            Vec::new()
        },
        triggered_algorithms: if outcome == SeasonalOutcome::Anomalous {
            vec!["grubbs".into(), "ks_test".into()]
        } else {
            Vec::new()
        },
        resolution: 600,
        full_duration: 7 * 86_400,
        series: if judged {
            week(a.timestamp)
        } else {
            Vec::new()
        },
        seasonal_anomaly_id: (outcome == SeasonalOutcome::Anomalous).then_some(seasonal),
        fingerprint_check_id: (outcome == SeasonalOutcome::Anomalous)
            .then(|| topics::ids::check_id(seasonal, CheckTarget::Fingerprint)),
        decided_at_ms: at,
    }
}

struct Stream {
    events: Vec<(Topic, Vec<u8>)>,
    cleared: Uuid,
    daily_peak: Uuid,
    confirmed: Uuid,
    stale: Uuid,
    too_short: Uuid,
    alerted: Uuid,
    untouched: Uuid,
    periodic: Uuid,
}

fn stream() -> Stream {
    let a = |m: &str| anomaly(m, T, SourceApp::Analyzer);
    let (cleared, daily_peak, confirmed, stale, too_short, alerted, untouched) = (
        a("web01.cpu.user"),
        a("web02.cpu.user"),
        a("db01.load"),
        a("db02.load"),
        a("cache01.hits"),
        a("cache02.hits"),
        a("queue01.depth"),
    );
    let seasonal_anomaly = anomaly("db01.load", T, SourceApp::Seasonal);
    let periodic_id = topics::ids::periodic_anomaly_id("web01.cpu.user", T + 3600);
    let mut periodic = verdict(&cleared, SeasonalOutcome::Cleared, "consensus", AT + 50);
    periodic.anomaly_id = periodic_id;
    periodic.check_id = topics::ids::check_id(periodic_id, CheckTarget::Seasonal);
    periodic.id = topics::ids::seasonal_result_id(periodic.check_id);
    periodic.timestamp = T + 3600;
    periodic.periodic = true;
    // An alert on an anomaly seasonal cleared: alerted wins.
    let alert = AlertEvent {
        id: topics::ids::alert_id(alerted.id, "smtp"),
        anomaly_id: alerted.id,
        metric: alerted.metric.clone(),
        timestamp: T,
        value: 1.0,
        source: SourceApp::Analyzer,
        alerter: "smtp".into(),
        rule: "cache.*".into(),
        triggered_algorithms: vec!["grubbs".into()],
        decided_at_ms: AT,
        series: None,
        full_duration: None,
        expiration_time: None,
        boundary: None,
        fingerprinted: false,
        test: false,
    };
    // The stale check re-judged after a crash, its later decision folded
    // first: the earlier one, folded after it, must not win.
    let stale_later = verdict(&stale, SeasonalOutcome::Skipped, "stale", AT + 7_000);
    let stale_earlier = verdict(&stale, SeasonalOutcome::Skipped, "too_short", AT + 10);
    // The confirmed check's verdict decided again, later, the same way.
    let confirmed_first = verdict(&confirmed, SeasonalOutcome::Anomalous, "consensus", AT + 20);
    let confirmed_again = verdict(
        &confirmed,
        SeasonalOutcome::Anomalous,
        "consensus",
        AT + 9_000,
    );
    let mut events: Vec<(Topic, Vec<u8>)> = [
        &cleared,
        &daily_peak,
        &confirmed,
        &stale,
        &too_short,
        &alerted,
        &untouched,
        &seasonal_anomaly,
    ]
    .iter()
    .map(|a| (Topic::Anomalies, encode(*a).unwrap()))
    .collect();
    events.push((Topic::Alerts, encode(&alert).unwrap()));
    for r in [
        verdict(&cleared, SeasonalOutcome::Cleared, "consensus", AT),
        verdict(&daily_peak, SeasonalOutcome::Cleared, "daily_peak", AT + 1),
        confirmed_first,
        stale_later,
        stale_earlier,
        verdict(&too_short, SeasonalOutcome::Skipped, "too_short", AT + 30),
        verdict(&alerted, SeasonalOutcome::Cleared, "consensus", AT + 40),
        periodic,
        confirmed_again,
    ] {
        events.push((Topic::Seasonal, encode(&r).unwrap()));
    }
    Stream {
        events,
        cleared: cleared.id,
        daily_peak: daily_peak.id,
        confirmed: confirmed.id,
        stale: stale.id,
        too_short: too_short.id,
        alerted: alerted.id,
        untouched: untouched.id,
        periodic: periodic_id,
    }
}

fn messages(names: &TopicNames, events: &[(Topic, Vec<u8>)]) -> Vec<Message> {
    events
        .iter()
        .map(|(t, v)| (t.name(names).to_owned(), b"k".to_vec(), v.clone()))
        .collect()
}

async fn dump(db: &Database) -> Vec<Vec<Vec<String>>> {
    vec![
        db.dump(&projections::tables::seasonal::SEASONAL_RESULTS)
            .await
            .unwrap(),
        db.dump(&projections::tables::outcomes::OUTCOMES)
            .await
            .unwrap(),
    ]
}

async fn check_reads(db: &Database, s: &Stream) {
    assert_eq!(db.count("seasonal_results").await.unwrap(), 7);

    // The cleared anomaly's verdict, with its week exact to the bit.
    let of = seasonal::results_of_anomaly(db, s.cleared).await.unwrap();
    assert_eq!(of.len(), 1, "{of:?}");
    let r = &of[0];
    assert_eq!(
        (r.outcome.as_str(), r.reason.as_str(), r.hours, r.periodic),
        ("cleared", "consensus", 168, false)
    );
    assert_eq!((r.resolution, r.full_duration), (600, 7 * 86_400));
    let want = week(T);
    assert_eq!(r.series_points, 1008);
    assert_eq!(
        (r.series_from, r.series_until),
        (Some(want[0].timestamp), Some(T))
    );
    let bits = |s: &[(i64, f64)]| s.iter().map(|p| (p.0, p.1.to_bits())).collect::<Vec<_>>();
    let want: Vec<(i64, f64)> = want.iter().map(|p| (p.timestamp, p.value)).collect();
    assert_eq!(bits(&r.series), bits(&want));
    assert_eq!(r.algorithms_run.len(), 3);
    assert!(r.triggered_algorithms.is_empty());

    // The confirmed one links to the seasonal anomaly; decided again, its
    // row holds the later decision.
    let c = &seasonal::results_of_anomaly(db, s.confirmed).await.unwrap()[0];
    assert_eq!(c.outcome, "anomalous");
    assert_eq!(c.decided_at_ms, AT + 9_000);
    assert_eq!(
        c.seasonal_anomaly_id,
        Some(topics::ids::anomaly_id("db01.load", T, SourceApp::Seasonal))
    );
    assert!(c.fingerprint_check_id.is_some());
    assert_eq!(c.triggered_algorithms, ["grubbs", "ks_test"]);

    // The later decision of the stale check won, though folded first.
    let st = &seasonal::results_of_anomaly(db, s.stale).await.unwrap()[0];
    assert_eq!(
        (st.reason.as_str(), st.decided_at_ms, st.series_points),
        ("stale", AT + 7_000, 0)
    );
    assert!(st.series.is_empty() && st.series_from.is_none());

    // The periodic verdict is kept under its stand-in id.
    let p = seasonal::results_of_anomaly(db, s.periodic).await.unwrap();
    assert!(p.len() == 1 && p[0].periodic, "{p:?}");

    // The latest list: newest decision first, without series.
    let latest = seasonal::latest_results(db, 3).await.unwrap();
    let order: Vec<i64> = latest.iter().map(|r| r.decided_at_ms).collect();
    assert_eq!(order, [AT + 9_000, AT + 7_000, AT + 50]);
    assert!(latest.iter().all(|r| r.series.is_empty()));
    assert_eq!(latest[0].series_points, 1008);
    assert!(seasonal::latest_results(db, 0).await.unwrap().is_empty());
    assert_eq!(seasonal::latest_results(db, 1000).await.unwrap().len(), 7);

    let counts = seasonal::outcome_counts(db).await.unwrap();
    let count = |o: &str, r: &str, n: i64| OutcomeCount {
        outcome: o.into(),
        reason: r.into(),
        results: n,
    };
    assert_eq!(
        counts,
        [
            count("anomalous", "consensus", 1),
            count("cleared", "consensus", 3),
            count("cleared", "daily_peak", 1),
            count("skipped", "stale", 1),
            count("skipped", "too_short", 1),
        ]
    );

    // Each anomaly's state, per row and through the outcomes table.
    let want = [
        (s.cleared, AnomalyState::ClearedBySeasonal),
        (s.daily_peak, AnomalyState::ClearedBySeasonal),
        (s.confirmed, AnomalyState::ConfirmedBySeasonal),
        (s.stale, AnomalyState::SeasonalSkipped),
        (s.too_short, AnomalyState::SeasonalSkipped),
        (s.alerted, AnomalyState::Alerted),
        (s.untouched, AnomalyState::NotAlerted),
    ];
    for (id, state) in want {
        let d = browse::anomaly(db, id).await.unwrap().unwrap();
        assert_eq!(d.anomaly.state, state, "{}", d.anomaly.metric);
        let n = usize::from(state != AnomalyState::NotAlerted);
        assert!(
            d.seasonal.len() == n,
            "{}: {:?}",
            d.anomaly.metric,
            d.seasonal
        );
    }
    for state in AnomalyState::ALL {
        let filter = AnomalyFilter {
            state: Some(state),
            ..AnomalyFilter::default()
        };
        let mut listed: Vec<Uuid> = browse::anomalies(db, &filter)
            .await
            .unwrap()
            .rows
            .iter()
            .inspect(|r| assert_eq!(r.state, state, "{}", r.metric))
            .map(|r| r.id)
            .collect();
        listed.sort();
        let mut expected: Vec<Uuid> = want
            .iter()
            .filter(|(_, s)| *s == state)
            .map(|(id, _)| *id)
            .collect();
        if state == AnomalyState::NotAlerted {
            // The seasonal anomaly itself: nothing came of it yet.
            expected.push(topics::ids::anomaly_id("db01.load", T, SourceApp::Seasonal));
        }
        expected.sort();
        assert_eq!(listed, expected, "{state}");
    }
}

async fn rebuild(db: &Database, kafka: &topics::kafka::KafkaConfig, names: &TopicNames) {
    let read = AtomicU64::new(0);
    fold::replay(
        db,
        &projections::all(),
        kafka,
        names,
        &FoldSettings::default(),
        Duration::from_secs(3),
        &read,
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seasonal_results_fold_rebuild_and_read_alike_on_mariadb_and_sqlite() {
    let kafka = kafka();
    let names = topic_names();
    let s = stream();
    produce(&kafka, &names, &messages(&names, &s.events)).await;

    let maria = MySqlDb::create(&mysql_server(), "seasonal").await;
    rebuild(&maria.db, &kafka, &names).await;
    let folded = dump(&maria.db).await;
    check_reads(&maria.db, &s).await;

    // From offset 0 again: identical.
    rebuild(&maria.db, &kafka, &names).await;
    assert_eq!(dump(&maria.db).await, folded, "the rebuild differs");

    let dir = std::env::temp_dir().join(format!("skyline-seasonal-{}", Uuid::now_v7().simple()));
    let sqlite = Database::sqlite(&dir.join("p.sqlite")).await.unwrap();
    rebuild(&sqlite, &common::kafka(), &names).await;
    assert_eq!(dump(&sqlite).await, folded, "SQLite differs from MariaDB");
    check_reads(&sqlite, &s).await;
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    maria.drop_it().await;
}

async fn folded_twice_counts_once(db: &Database) {
    let s = stream();
    let mut log = Log::new();
    log.fold(db, &s.events).await;
    let once = dump(db).await;
    check_reads(db, &s).await;
    // The same events again, as a producer that crashed and re-sent them
    // would write them: nothing changes.
    log.fold(db, &s.events).await;
    assert_eq!(dump(db).await, once);
    check_reads(db, &s).await;
    // One at a time, in reverse: each verdict's later decision still wins.
    for e in s.events.iter().rev() {
        log.fold(db, std::slice::from_ref(e)).await;
    }
    assert_eq!(dump(db).await, once);
}

#[tokio::test]
async fn seasonal_events_folded_twice_count_once() {
    on_both!(folded_twice_counts_once, "seasonal2");
}
