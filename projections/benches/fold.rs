//! Anomaly events/s folded into MariaDB (not a test; run with
//! `cargo bench -p skyline-projections --bench fold`). Needs the broker and
//! MariaDB of `scripts/services` (`SKYLINE_TEST_KAFKA`, `SKYLINE_TEST_MYSQL`;
//! started when unset). Prints:
//!
//! 1. events/s through the fold's transactional path from memory: decode,
//!    skip-applied check, multi-row upserts of anomalies and metrics and the
//!    offsets, one transaction per 5,000-event batch;
//! 2. events/s end to end: produced to a topic, consumed by the live
//!    folding consumer, folded and committed.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use projections::fold::{self, FoldSettings, Folder};
use topics::kafka::{Batch, Producer, Record};

const EVENTS: usize = 200_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let names = topic_names();
    let stream = anomalies(&names, EVENTS, 1_000, 5);
    let settings = FoldSettings::default();

    // 1. From memory.
    let maria = MySqlDb::create(&mysql_server(), "bench").await;
    let all = projections::all();
    let folder = Folder::new(
        maria.db.clone(),
        all[0].as_ref(),
        names.clone(),
        None,
        settings.clone(),
    );
    let records: Vec<Record> = stream
        .iter()
        .enumerate()
        .map(|(i, (topic, key, value))| Record {
            topic: topic.clone(),
            partition: (i % 6) as i32,
            offset: (i / 6) as i64,
            key: Some(key.clone()),
            value: Some(value.clone()),
            timestamp_ms: None,
        })
        .collect();
    let batches: Vec<Batch> = records
        .chunks(settings.max_batch)
        .map(|c| Batch::from(c.to_vec()))
        .collect();
    let mut never = Box::pin(futures::future::pending::<()>());
    let started = Instant::now();
    for batch in &batches {
        folder.fold_batch(batch, &mut never).await.unwrap().unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(maria.db.count("anomalies").await.unwrap(), EVENTS as i64);
    println!(
        "fold from memory into MariaDB: {EVENTS} anomaly events in {seconds:.2}s = {:.0} events/s (batches of {})",
        EVENTS as f64 / seconds,
        settings.max_batch
    );
    maria.drop_it().await;

    // 2. Through Kafka.
    let kafka = kafka();
    produce(&kafka, &names, &stream).await;
    let maria = MySqlDb::create(&mysql_server(), "bench").await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
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
    // The clock starts with the first folded batch (joining the group is
    // not folding).
    let mut first: Option<(Instant, i64)> = None;
    loop {
        let applied: i64 = maria
            .db
            .applied_offsets("anomalies")
            .await
            .map(|o| o.values().sum())
            .unwrap_or(0);
        if applied > 0 && first.is_none() {
            first = Some((Instant::now(), applied));
        }
        if applied == EVENTS as i64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "stuck at {applied}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (t0, n0) = first.unwrap();
    let seconds = t0.elapsed().as_secs_f64();
    println!(
        "Kafka -> fold -> MariaDB: {} anomaly events in {seconds:.2}s = {:.0} events/s (after the group join, {:.1}s)",
        EVENTS as i64 - n0,
        (EVENTS as i64 - n0) as f64 / seconds.max(1e-9),
        (t0 - started).as_secs_f64()
    );
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    drop(Producer::new(&kafka));
    maria.drop_it().await;
}
