//! Folding against the real broker and MariaDB: a live fold, a rebuild from
//! offset 0 and the same events folded into SQLite all give identical
//! tables; a redelivered batch changes nothing.

mod common;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use common::*;
use projections::fold::{self, FoldSettings, Folder};
use projections::Database;
use topics::kafka::{Batch, DeadLetters, KafkaConfig, Producer, Record};
use topics::names::TopicNames;

/// Records each projection must reach (sum of next offsets over its
/// topics' partitions) for `messages`.
fn expected_offsets(names: &TopicNames, messages: &[Message]) -> Vec<(&'static str, i64)> {
    projections::all()
        .iter()
        .map(|p| {
            let topics: Vec<&str> = p.topics().iter().map(|t| t.name(names)).collect();
            let n = messages
                .iter()
                .filter(|m| topics.contains(&m.0.as_str()))
                .count();
            (p.name(), n as i64)
        })
        .collect()
}

async fn caught_up(db: &Database, expected: &[(&'static str, i64)]) -> bool {
    for (name, n) in expected {
        let applied: i64 = match db.applied_offsets(name).await {
            Ok(o) => o.values().sum(),
            Err(_) => return false,
        };
        if applied < *n {
            return false;
        }
    }
    true
}

async fn fold_live(
    db: &Database,
    kafka: &KafkaConfig,
    names: &TopicNames,
    expected: &[(&'static str, i64)],
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let producer = Producer::new(kafka).unwrap();
    let dead = DeadLetters::new(producer, names.deadletter.clone(), "projections");
    let task = {
        let (db, kafka, names) = (db.clone(), kafka.clone(), names.clone());
        tokio::spawn(async move {
            fold::run_all(
                &db,
                &projections::all(),
                &kafka,
                &names,
                Some(dead),
                &FoldSettings::default(),
                async move {
                    let _ = stopped.await;
                },
            )
            .await
        })
    };
    wait_for(Duration::from_secs(90), "the live fold to catch up", || {
        caught_up(db, expected)
    })
    .await;
    stop.send(()).unwrap();
    let stats = task.await.unwrap().unwrap();
    assert!(
        stats.refused >= 1,
        "the undecodable record was refused: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_fold_rebuild_and_sqlite_give_identical_tables() {
    let kafka = kafka();
    let names = topic_names();
    let messages = mixed(&names, 7);
    produce(&kafka, &names, &messages).await;
    let expected = expected_offsets(&names, &messages);

    let maria = MySqlDb::create(&mysql_server(), "fold").await;
    fold_live(&maria.db, &kafka, &names, &expected).await;
    let live = dump_all(&maria.db).await;

    // What the stream holds, exactly once.
    let rows = |t: &str| live[t].len();
    assert_eq!(rows("anomalies"), 600);
    assert_eq!(rows("metrics"), 12);
    assert_eq!(rows("checks"), 120);
    assert_eq!(rows("matches"), 120);
    assert_eq!(rows("profiles"), 120);
    assert_eq!(rows("profile_features"), 120 * 30);
    assert_eq!(rows("profile_series"), 120 * 20);
    assert_eq!(rows("layers"), 24);
    assert_eq!(rows("labels"), 120);
    assert_eq!(rows("alerts"), 120);
    let disabled = live["profiles"].iter().filter(|r| r[11] == "0").count();
    let validated = live["profiles"].iter().filter(|r| r[12] == "1").count();
    // Validated from creation (i % 4 != 0) or by an event (i % 12 == 0).
    assert_eq!((disabled, validated), (15, 100));
    // Every metric still has an enabled profile.
    assert!(
        live["metrics"].iter().all(|r| r[4] == "1"),
        "{:?}",
        live["metrics"]
    );
    // Re-emitted matches are stored once; the queries read the stream back.
    assert_queries_match_stream(&maria.db, &names, &messages).await;
    let learnt_with_parent = live["profiles"]
        .iter()
        .filter(|r| r[2] == "learnt" && r[3] != "NULL")
        .count();
    assert_eq!(learnt_with_parent, 27);
    let disabled_with = live["profiles"].iter().filter(|r| r[25] != "NULL").count();
    assert_eq!(disabled_with, 8);
    assert_eq!(live["layers"].iter().filter(|r| r[4] == "0").count(), 3);
    // A re-emitted anomaly keeps its first row.
    assert!(live["anomalies"]
        .iter()
        .all(|r| r[12].parse::<i64>().unwrap() < 1_700_000_000_600));

    // Rebuild everything from offset 0: identical.
    let read = AtomicU64::new(0);
    let all = projections::all();
    let summary = fold::replay(
        &maria.db,
        &all,
        &kafka,
        &names,
        &FoldSettings::default(),
        Duration::from_secs(3),
        &read,
    )
    .await
    .unwrap();
    // Every projection read its topics once (the profiles topic twice: by
    // the anomalies and the profiles projections).
    let reads: i64 = expected.iter().map(|e| e.1).sum();
    assert_eq!(summary.stats.events as i64, reads);
    assert_eq!(
        dump_all(&maria.db).await,
        live,
        "rebuild differs from the live fold"
    );

    // Rebuilding one table rebuilds its group: identical.
    let only = projections::select(&["profile_features".to_owned()]).unwrap();
    fold::replay(
        &maria.db,
        &only,
        &kafka,
        &names,
        &FoldSettings::default(),
        Duration::from_secs(3),
        &read,
    )
    .await
    .unwrap();
    assert_eq!(
        dump_all(&maria.db).await,
        live,
        "rebuild of profiles differs"
    );

    // The same events folded into SQLite: identical.
    let dir = std::env::temp_dir().join(format!("skyline-fold-{}", uuid::Uuid::now_v7().simple()));
    let sqlite = Database::sqlite(&dir.join("projections.sqlite"))
        .await
        .unwrap();
    fold_live(&sqlite, &common::kafka(), &names, &expected).await;
    assert_eq!(dump_all(&sqlite).await, live, "SQLite differs from MariaDB");
    assert_queries_match_stream(&sqlite, &names, &messages).await;
    sqlite.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    maria.drop_it().await;
}

#[tokio::test]
async fn a_redelivered_batch_changes_nothing() {
    let names = topic_names();
    let records: Vec<Record> = anomalies(&names, 500, 5, 3)
        .into_iter()
        .enumerate()
        .map(|(i, (topic, key, value))| Record {
            topic,
            partition: (i % 2) as i32,
            offset: (i / 2) as i64,
            key: Some(key),
            value: Some(value),
            timestamp_ms: None,
        })
        .collect();
    let dir = std::env::temp_dir().join(format!(
        "skyline-redeliver-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let db = Database::sqlite(&dir.join("p.sqlite")).await.unwrap();
    let all = projections::all();
    let folder = Folder::new(
        db.clone(),
        all[0].as_ref(),
        names.clone(),
        None,
        FoldSettings::default(),
    );
    let mut never = Box::pin(futures::future::pending::<()>());
    let (first, second) = (
        Batch::from(records[..300].to_vec()),
        Batch::from(records[200..].to_vec()),
    );
    let (stats, _) = folder
        .fold_batch(&first, &mut never)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stats.skipped, 0);
    let after_first = dump_all(&db).await;
    let (again, _) = folder
        .fold_batch(&first, &mut never)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.skipped, again.rows), (300, 0));
    assert_eq!(dump_all(&db).await, after_first);
    // Overlapping: the first 100 of it were applied.
    let (overlap, _) = folder
        .fold_batch(&second, &mut never)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(overlap.skipped, 100);
    assert_eq!(db.count("anomalies").await.unwrap(), 500);
    let offsets = db.applied_offsets("anomalies").await.unwrap();
    assert_eq!(offsets.values().sum::<i64>(), 500);
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two members of one projection's group fold side by side while events
/// flow; members leave and join (each a rebalance). The result equals a
/// clean fold: no row lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebalances_mid_stream_lose_and_double_nothing() {
    const EVENTS: usize = 30_000;
    let kafka = kafka();
    let names = topic_names();
    let stream = anomalies(&names, EVENTS, 90, 21);
    topics::kafka::ensure_topics(&kafka, &names.all(), None)
        .await
        .unwrap();
    let maria = MySqlDb::create(&mysql_server(), "rebalance").await;
    let settings = FoldSettings {
        max_batch: 500,
        ..FoldSettings::default()
    };
    let member = |db: Database| {
        let (kafka, names, settings) = (kafka.clone(), names.clone(), settings.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let only = projections::select(&["anomalies".into()]).unwrap();
            fold::run_all(&db, &only, &kafka, &names, None, &settings, async move {
                let _ = stopped.await;
            })
            .await
        });
        (stop, task)
    };
    let producer = Producer::new(&kafka).unwrap();
    let flow = {
        let topic = names.anomalies.clone();
        let chunks: Vec<Vec<(Vec<u8>, Vec<u8>)>> = stream
            .chunks(EVENTS / 15)
            .map(|c| c.iter().map(|(_, k, v)| (k.clone(), v.clone())).collect())
            .collect();
        tokio::spawn(async move {
            for chunk in chunks {
                producer.send_batch(&topic, chunk).await.unwrap();
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
        })
    };
    let (stop_a, a) = member(maria.db.clone());
    let (stop_b, b) = member(maria.db.clone());
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop_b.send(()).unwrap(); // B leaves: A takes its partitions.
    b.await.unwrap().unwrap();
    let (stop_c, c) = member(maria.db.clone()); // C joins: they split again.
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop_a.send(()).unwrap();
    a.await.unwrap().unwrap();
    flow.await.unwrap();
    wait_for(
        Duration::from_secs(120),
        "the group to catch up",
        || async {
            maria
                .db
                .applied_offsets("anomalies")
                .await
                .map(|o| o.values().sum::<i64>())
                .unwrap_or(0)
                == EVENTS as i64
        },
    )
    .await;
    stop_c.send(()).unwrap();
    c.await.unwrap().unwrap();

    let dir = std::env::temp_dir().join(format!(
        "skyline-rebalance-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let clean = Database::sqlite(&dir.join("clean.sqlite")).await.unwrap();
    let read = AtomicU64::new(0);
    let only = projections::select(&["anomalies".into()]).unwrap();
    fold::replay(
        &clean,
        &only,
        &kafka,
        &names,
        &settings,
        Duration::from_secs(3),
        &read,
    )
    .await
    .unwrap();
    for table in only[0].tables() {
        assert_eq!(
            maria.db.dump(table).await.unwrap(),
            clean.dump(table).await.unwrap(),
            "{} differs from a clean fold",
            table.name
        );
    }
    assert_eq!(maria.db.count("anomalies").await.unwrap(), EVENTS as i64);
    clean.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    maria.drop_it().await;
}
