//! The deliveries and mutes projections against the real broker and
//! MariaDB (and SQLite): every delivery attempt is a row, a re-emitted one
//! stored once; an unmute ends its mute; a rebuild from offset 0 and the
//! same events in SQLite give identical tables; the read functions answer
//! what the console asks.

mod common;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use common::*;
use projections::alerting::{self, delivery_summaries};
use projections::fold::{self, FoldSettings};
use projections::{Database, Topic};
use topics::codec::encode;
use topics::{DeliveryEvent, DeliveryOutcome, MuteAction, MuteEvent};
use uuid::Uuid;

const T0: i64 = 1_800_000_000_000;

fn delivery(
    alert: Uuid,
    anomaly: Uuid,
    alerter: &str,
    outcome: DeliveryOutcome,
    attempt: i32,
    at_ms: i64,
) -> DeliveryEvent {
    DeliveryEvent {
        id: topics::ids::derived_id(
            "delivery",
            &[alert.as_bytes(), alerter.as_bytes(), &attempt.to_be_bytes()],
        ),
        alert_id: alert,
        anomaly_id: anomaly,
        metric: "web01.cpu.user".into(),
        alerter: alerter.into(),
        kind: if alerter == "ops-mail" {
            "smtp"
        } else {
            "webhook"
        }
        .into(),
        outcome,
        attempt,
        detail: match outcome {
            DeliveryOutcome::Failed => Some("HTTP 500 Internal Server Error".into()),
            DeliveryOutcome::GaveUp => Some("HTTP 400 refused".into()),
            _ => None,
        },
        at_ms,
    }
}

fn mute(id: Uuid, pattern: &str, at_ms: i64, until_ms: i64) -> MuteEvent {
    MuteEvent {
        id,
        action: MuteAction::Mute,
        pattern: pattern.into(),
        until_ms,
        reason: Some("maintenance <b>".into()),
        operator: Some("ops".into()),
        at_ms,
    }
}

fn unmute(id: Uuid, pattern: &str, at_ms: i64) -> MuteEvent {
    MuteEvent {
        id,
        action: MuteAction::Unmute,
        pattern: pattern.into(),
        until_ms: at_ms,
        reason: None,
        operator: Some("night-shift".into()),
        at_ms,
    }
}

struct Stream {
    messages: Vec<Message>,
    anomaly: Uuid,
    other_anomaly: Uuid,
    alert: Uuid,
    ended: Uuid,
    holding: Uuid,
    later: Uuid,
}

fn stream(names: &topics::names::TopicNames) -> Stream {
    let (anomaly, other_anomaly) = (Uuid::now_v7(), Uuid::now_v7());
    let (alert, other_alert) = (Uuid::now_v7(), Uuid::now_v7());
    let deliveries = [
        delivery(alert, anomaly, "ops-hook", DeliveryOutcome::Failed, 1, T0),
        delivery(
            alert,
            anomaly,
            "ops-mail",
            DeliveryOutcome::Delivered,
            1,
            T0 + 5,
        ),
        delivery(
            alert,
            anomaly,
            "ops-hook",
            DeliveryOutcome::Failed,
            2,
            T0 + 1_000,
        ),
        delivery(
            alert,
            anomaly,
            "ops-hook",
            DeliveryOutcome::Delivered,
            3,
            T0 + 3_000,
        ),
        // Re-emitted after a crash: the same id, stored once.
        delivery(
            alert,
            anomaly,
            "ops-hook",
            DeliveryOutcome::Delivered,
            3,
            T0 + 3_000,
        ),
        delivery(
            other_alert,
            other_anomaly,
            "ops-hook",
            DeliveryOutcome::GaveUp,
            1,
            T0 + 9_000,
        ),
        delivery(
            other_alert,
            other_anomaly,
            "ops-mail",
            DeliveryOutcome::Muted,
            0,
            T0 + 9_001,
        ),
    ];
    let (ended, holding, later) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let mutes = [
        mute(ended, "web01.*", T0, T0 + 7_200_000),
        mute(holding, "db.*", T0 + 10, T0 + 3_600_000),
        mute(later, "cache.*", T0 + 4_000_000, T0 + 5_000_000),
        unmute(ended, "web01.*", T0 + 60_000),
        // A second unmute, later: the mute ended at the first.
        unmute(ended, "web01.*", T0 + 120_000),
    ];
    let mut messages: Vec<Message> = deliveries
        .iter()
        .map(|d| {
            (
                names.deliveries.clone(),
                d.metric.clone().into_bytes(),
                encode(d).unwrap(),
            )
        })
        .collect();
    messages.extend(mutes.iter().map(|m| {
        (
            names.mutes.clone(),
            m.pattern.clone().into_bytes(),
            encode(m).unwrap(),
        )
    }));
    Stream {
        messages,
        anomaly,
        other_anomaly,
        alert,
        ended,
        holding,
        later,
    }
}

async fn rebuild(
    db: &Database,
    kafka: &topics::kafka::KafkaConfig,
    names: &topics::names::TopicNames,
) {
    let selected = projections::select(&["deliveries".into(), "mutes".into()]).unwrap();
    let read = AtomicU64::new(0);
    fold::replay(
        db,
        &selected,
        kafka,
        names,
        &FoldSettings::default(),
        Duration::from_secs(3),
        &read,
    )
    .await
    .unwrap();
}

async fn dump(db: &Database) -> Vec<Vec<Vec<String>>> {
    vec![
        db.dump(&projections::tables::deliveries::DELIVERIES)
            .await
            .unwrap(),
        db.dump(&projections::tables::mutes::MUTES).await.unwrap(),
    ]
}

async fn check_reads(db: &Database, s: &Stream) {
    let of = alerting::deliveries_of_anomaly(db, s.anomaly)
        .await
        .unwrap();
    assert_eq!(of.len(), 4, "{of:?}");
    assert!(of.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    let summary = delivery_summaries(&of);
    let standing: Vec<(&str, &str, i64)> = summary
        .iter()
        .map(|d| (d.alerter.as_str(), d.outcome.as_str(), d.attempts))
        .collect();
    assert_eq!(
        standing,
        [("ops-hook", "delivered", 3), ("ops-mail", "delivered", 1)]
    );
    assert!(summary.iter().all(|d| d.alert_id == s.alert));

    let other = alerting::deliveries_of_anomaly(db, s.other_anomaly)
        .await
        .unwrap();
    let outcomes: Vec<(&str, Option<&str>)> = other
        .iter()
        .map(|d| (d.outcome.as_str(), d.detail.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [("gave_up", Some("HTTP 400 refused")), ("muted", None)]
    );

    let latest = alerting::latest_deliveries(db, 3).await.unwrap();
    assert_eq!(latest.len(), 3);
    assert_eq!(latest[0].outcome, "muted");
    assert_eq!(latest[1].outcome, "gave_up");
    assert!(alerting::latest_deliveries(db, 0).await.unwrap().is_empty());
    assert_eq!(
        alerting::latest_deliveries(db, 10_000).await.unwrap().len(),
        6
    );

    // An hour in: the web01 mute was ended at one minute, db.* holds.
    let at = T0 + 1_800_000;
    let active = alerting::active_mutes(db, at).await.unwrap();
    assert_eq!(active.iter().map(|m| m.id).collect::<Vec<_>>(), [s.holding]);
    assert!(active[0].active_at(at));
    assert_eq!(active[0].reason.as_deref(), Some("maintenance <b>"));
    let ended = alerting::ended_mutes(db, at, 10).await.unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].id, s.ended);
    assert_eq!(ended[0].until_ms, T0 + 60_000);
    assert_eq!(ended[0].unmuted_at_ms, Some(T0 + 60_000));
    assert_eq!(ended[0].unmuted_by.as_deref(), Some("night-shift"));
    // Later: the cache mute holds, the others have ended.
    let active = alerting::active_mutes(db, T0 + 4_500_000).await.unwrap();
    assert_eq!(active.iter().map(|m| m.id).collect::<Vec<_>>(), [s.later]);
    let all = alerting::all_mutes(db).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.id).collect::<Vec<_>>(),
        [s.later, s.holding, s.ended]
    );
    let one = alerting::mute(db, s.holding).await.unwrap().unwrap();
    assert_eq!(one.pattern, "db.*");
    assert!(alerting::mute(db, Uuid::now_v7()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_and_mutes_fold_rebuild_and_read_alike_on_mariadb_and_sqlite() {
    let kafka = kafka();
    let names = topic_names();
    let s = stream(&names);
    produce(&kafka, &names, &s.messages).await;

    let maria = MySqlDb::create(&mysql_server(), "alerting").await;
    rebuild(&maria.db, &kafka, &names).await;
    let folded = dump(&maria.db).await;
    assert_eq!(folded[0].len(), 6, "one row per attempt: {:?}", folded[0]);
    assert_eq!(folded[1].len(), 3, "one row per mute: {:?}", folded[1]);
    check_reads(&maria.db, &s).await;

    // From offset 0 again: identical.
    rebuild(&maria.db, &kafka, &names).await;
    assert_eq!(dump(&maria.db).await, folded, "the rebuild differs");

    let dir = std::env::temp_dir().join(format!("skyline-alerting-{}", Uuid::now_v7().simple()));
    let sqlite = Database::sqlite(&dir.join("p.sqlite")).await.unwrap();
    rebuild(&sqlite, &common::kafka(), &names).await;
    assert_eq!(dump(&sqlite).await, folded, "SQLite differs from MariaDB");
    check_reads(&sqlite, &s).await;
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    maria.drop_it().await;
}

async fn refolded_events_change_nothing(db: &Database) {
    let names = topic_names();
    let s = stream(&names);
    let recs: Vec<Rec> = s
        .messages
        .iter()
        .map(|(topic, _, value)| {
            let t = if *topic == names.mutes {
                Topic::Mutes
            } else {
                Topic::Deliveries
            };
            (t, value.clone())
        })
        .collect();
    let mut log = Log::new();
    log.fold(db, &recs).await;
    let once = dump(db).await;
    // The same events again, as a producer that crashed and re-sent them
    // would write them: nothing changes.
    log.fold(db, &recs).await;
    assert_eq!(dump(db).await, once);
    check_reads(db, &s).await;
}

#[tokio::test]
async fn events_folded_twice_change_nothing() {
    on_both!(refolded_events_change_nothing, "alerting2");
}
