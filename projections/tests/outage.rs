//! MariaDB stopped for 30 s mid-stream: the fold waits and retries with
//! backoff, commits nothing meanwhile, and ends with nothing lost. The
//! test runs a MariaDB server of its own (the machine's shared one serves
//! other tests), stops it and starts it again on the same data directory
//! and port.

mod common;
#[path = "common/private_mariadb.rs"]
mod private_mariadb;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use common::*;
use private_mariadb::PrivateMariaDb;
use projections::fold::{self, FoldSettings};
use projections::Database;
use topics::kafka::{Consumer, Producer};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_stopped_for_30_seconds_loses_nothing() {
    const EVENTS: usize = 20_000;
    let mut server = PrivateMariaDb::install();
    server.start().await;
    let maria = MySqlDb::create(&server.url(), "outage").await;
    let kafka = kafka();
    let names = topic_names();
    let stream = anomalies(&names, EVENTS, 50, 11);
    topics::kafka::ensure_topics(&kafka, &names.all(), None)
        .await
        .unwrap();

    let settings = FoldSettings {
        max_batch: 1_000,
        ..FoldSettings::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = {
        let (db, kafka, names, settings) = (
            maria.db.clone(),
            kafka.clone(),
            names.clone(),
            settings.clone(),
        );
        tokio::spawn(async move {
            fold::run_all(
                &db,
                &projections::select(&["anomalies".into()]).unwrap(),
                &kafka,
                &names,
                None,
                &settings,
                async move {
                    let _ = stopped.await;
                },
            )
            .await
        })
    };
    let producer = Producer::new(&kafka).unwrap();
    let send = |from: usize, to: usize| {
        let producer = producer.clone();
        let chunk: Vec<(Vec<u8>, Vec<u8>)> = stream[from..to]
            .iter()
            .map(|(_, k, v)| (k.clone(), v.clone()))
            .collect();
        let topic = names.anomalies.clone();
        async move { producer.send_batch(&topic, chunk).await.unwrap() }
    };
    send(0, EVENTS / 4).await;
    wait_for(
        Duration::from_secs(60),
        "the first quarter to be folded",
        || async { maria.db.count("anomalies").await.unwrap_or(0) == (EVENTS / 4) as i64 },
    )
    .await;

    // Stop the server, keep the events flowing.
    server.stop();
    send(EVENTS / 4, EVENTS).await;
    let group = kafka.group_id("projections.anomalies");
    let partitions: Vec<(String, i32, i64)> = topics::kafka::partitions(&kafka, &names.anomalies)
        .await
        .unwrap()
        .into_iter()
        .map(|(p, _, _)| (names.anomalies.clone(), p, 0))
        .collect();
    let watcher = Consumer::assigned(&kafka, &group, "outage-watch", &partitions).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let committed_early = watcher.committed().await.unwrap();
    tokio::time::sleep(Duration::from_secs(28)).await;
    let committed_late = watcher.committed().await.unwrap();
    assert_eq!(
        committed_early, committed_late,
        "offsets were committed while the database was down"
    );
    assert!(committed_late.values().sum::<i64>() <= (EVENTS / 4) as i64 + 1_000);

    server.start().await;
    let db = Database::connect(&format!("{}/{}", server.url(), maria.name))
        .await
        .unwrap();
    wait_for(
        Duration::from_secs(120),
        "the fold to catch up after the outage",
        || async {
            db.applied_offsets("anomalies")
                .await
                .map(|o| o.values().sum::<i64>())
                .unwrap_or(0)
                == EVENTS as i64
        },
    )
    .await;
    stop.send(()).unwrap();
    let stats = task.await.unwrap().unwrap();
    assert!(
        stats.retries > 0,
        "the fold never noticed the outage: {stats:?}"
    );
    assert_eq!(db.count("anomalies").await.unwrap(), EVENTS as i64);

    // Nothing lost, nothing doubled: the same as a clean fold.
    let dir =
        std::env::temp_dir().join(format!("skyline-outage-{}", uuid::Uuid::now_v7().simple()));
    let clean = Database::sqlite(&dir.join("clean.sqlite")).await.unwrap();
    let read = AtomicU64::new(0);
    fold::replay(
        &clean,
        &projections::select(&["anomalies".into()]).unwrap(),
        &kafka,
        &names,
        &settings,
        Duration::from_secs(3),
        &read,
    )
    .await
    .unwrap();
    for table in projections::all()[0].tables() {
        assert_eq!(
            db.dump(table).await.unwrap(),
            clean.dump(table).await.unwrap(),
            "{} differs from a clean fold",
            table.name
        );
    }
    watcher.close().await;
    clean.close().await;
    db.close().await;
    maria.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
