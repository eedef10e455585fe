//! One anomaly per event in the tables, on SQLite and on the real MariaDB:
//! an anomaly re-published as repeats extend it keeps one row with its
//! highest count, last timestamp and deviation, whatever the order and
//! however often its versions are folded; its end reaches
//! `anomalies.end_timestamp` whether the `AnomalyEnded` is folded before
//! or after the anomaly; and the browse rows carry all of it.

mod common;

use common::*;
use projections::browse::{self, AnomalyFilter};
use projections::{Database, Topic};
use topics::ids::{anomaly_ended_id, anomaly_id};
use topics::*;

const T0: i64 = 1_700_000_000;

fn version(metric: &str, count: i32, last: i64, deviation: f64) -> AnomalyEvent {
    AnomalyEvent {
        id: anomaly_id(metric, T0, SourceApp::Analyzer),
        metric: metric.into(),
        timestamp: T0,
        value: 42.0,
        source: SourceApp::Analyzer,
        algorithms_run: vec!["grubbs".into()],
        triggered_algorithms: vec!["grubbs".into()],
        full_duration: 86_340,
        from_timestamp: T0 - 86_340,
        check_id: None,
        derivative: false,
        decided_at_ms: T0 * 1000 + i64::from(count),
        count,
        last_timestamp: last,
        max_deviation: deviation,
    }
}

fn ended(a: &AnomalyEvent, end: i64) -> AnomalyEnded {
    AnomalyEnded {
        id: anomaly_ended_id(a.id),
        anomaly_id: a.id,
        metric: a.metric.clone(),
        source: a.source,
        timestamp: a.timestamp,
        end_timestamp: end,
        count: a.count,
        decided_at_ms: end * 1000,
    }
}

async fn row(db: &Database, metric: &str) -> browse::AnomalyListRow {
    let page = browse::anomalies(
        db,
        &AnomalyFilter {
            metric: Some(metric.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.rows.len(), 1, "one row per anomaly: {:?}", page.rows);
    page.rows.into_iter().next().unwrap()
}

async fn extensions_and_ends(db: &Database) {
    let mut log = Log::new();
    // Extended twice; the versions folded out of order and one again.
    let first = version("web.extended", 1, T0, 3.5);
    let second = version("web.extended", 2, T0 + 60, 4.25);
    let third = version("web.extended", 3, T0 + 120, 3.9);
    log.fold(db, &[rec(Topic::Anomalies, &first)]).await;
    log.fold(
        db,
        &[
            rec(Topic::Anomalies, &third),
            rec(Topic::Anomalies, &second),
        ],
    )
    .await;
    log.fold(db, &[rec(Topic::Anomalies, &first)]).await;
    let r = row(db, "web.extended").await;
    assert_eq!(
        (r.count, r.last_timestamp, r.end_timestamp),
        (3, T0 + 120, None)
    );
    // The largest deviation of any version (the versions only grow it).
    assert_eq!(r.max_deviation, 4.25);
    assert_eq!(r.duration(), None, "ongoing");

    // Its end, folded after it (and again).
    let end = ended(&third, T0 + 300);
    log.fold(db, &[rec(Topic::AnomalyEnds, &end)]).await;
    log.fold(db, &[rec(Topic::AnomalyEnds, &end)]).await;
    let r = row(db, "web.extended").await;
    assert_eq!(r.end_timestamp, Some(T0 + 300));
    assert_eq!(r.duration(), Some(300));

    // An end folded before its anomaly (another topic, another batch).
    let early = version("web.early", 1, T0, 2.0);
    log.fold(db, &[rec(Topic::AnomalyEnds, &ended(&early, T0 + 60))])
        .await;
    assert_eq!(count(db, "anomaly_ends").await, 2);
    log.fold(db, &[rec(Topic::Anomalies, &early)]).await;
    let r = row(db, "web.early").await;
    assert_eq!((r.count, r.end_timestamp), (1, Some(T0 + 60)));

    // The detail reads the same.
    let detail = browse::anomaly(db, early.id).await.unwrap().unwrap();
    assert_eq!(detail.end_timestamp, Some(T0 + 60));
    assert_eq!(detail.anomaly.end_timestamp, Some(T0 + 60));
    assert_eq!(count(db, "anomalies").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extended_anomaly_is_one_row_with_its_highest_count_and_its_end() {
    on_both!(extensions_and_ends, "events");
}
