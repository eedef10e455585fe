//! The Kafka plumbing against a real Kafka-protocol broker: the one named by
//! `SKYLINE_TEST_KAFKA`, or, when that is unset, the one `scripts/services`
//! starts (these tests never skip). Every run uses fresh topics and groups.
//! How a service consumes (resuming at commits, dead letters, retries) is
//! tested with the runtime, in `runtime/tests/runtime.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use topics::kafka::{ensure_topics, Consumer, KafkaConfig, Producer};
use topics::testing::{config, unique};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_is_one_line_within_seconds() {
    let config = KafkaConfig {
        reach_timeout_ms: 3_000,
        ..KafkaConfig::for_brokers("127.0.0.1:1")
    };
    let started = Instant::now();
    let err = topics::kafka::ensure_reachable(&config, "creating topics")
        .await
        .expect_err("nothing listens on port 1");
    let waited = started.elapsed();
    let line = err.to_string();
    assert!(
        line.starts_with("cannot reach Kafka at 127.0.0.1:1 (creating topics): "),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line}");
    assert!(waited < Duration::from_secs(8), "took {waited:?}");
    // A broker that is there answers.
    topics::kafka::ensure_reachable(&self::config(), "creating topics")
        .await
        .expect("the test broker answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_read_stops_at_a_groups_commit() {
    topics::testing::in_time(range_read()).await;
}

async fn range_read() {
    use topics::kafka::{committed_offsets, read_range, PartitionRange};
    let config = config();
    let topic = unique("range");
    let group = config.group_id(&unique("range-group"));
    ensure_topics(&config, &[&topic], Some(2))
        .await
        .expect("ensure_topics");
    let producer = Producer::new(&config).expect("producer");
    producer
        .send_batch(
            &topic,
            (0..1_000u64).map(|i| (format!("m{}", i % 7), i.to_string())),
        )
        .await
        .expect("send_batch");

    // Nothing committed yet.
    assert!(committed_offsets(&config, &group, &topic)
        .await
        .expect("committed")
        .is_empty());
    // Commit part of each partition, as a consumer would have.
    let parts = topics::kafka::partitions(&config, &topic)
        .await
        .expect("partitions");
    let start: Vec<(String, i32, i64)> = parts.iter().map(|p| (topic.clone(), p.0, 0)).collect();
    let committer = Consumer::assigned(&config, &group, "committer", &start).expect("consumer");
    let mut commit = BTreeMap::new();
    for (partition, _, _) in &parts {
        commit.insert((topic.clone(), *partition), 37 + i64::from(*partition) * 11);
    }
    committer.commit_offsets(&commit).await.expect("commit");
    committer.close().await;
    let committed = committed_offsets(&config, &group, &topic)
        .await
        .expect("committed");
    let expected: BTreeMap<i32, i64> = commit.iter().map(|((_, p), o)| (*p, *o)).collect();
    assert_eq!(committed, expected);

    // Reading up to the commit hands over exactly the records below it.
    let ranges: Vec<PartitionRange> = committed
        .iter()
        .map(|(p, to)| PartitionRange {
            partition: *p,
            from: 0,
            to: *to,
        })
        .collect();
    let seen: Arc<Mutex<Vec<(i32, i64)>>> = Arc::default();
    let read = read_range(
        &config,
        "range-reader",
        &topic,
        &ranges,
        Duration::from_secs(10),
        |records| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock()
                    .expect("seen")
                    .extend(records.iter().map(|r| (r.partition, r.offset)));
                Ok::<(), topics::kafka::Error>(())
            }
        },
    )
    .await
    .expect("read_range");
    let mut seen = seen.lock().expect("seen").clone();
    seen.sort_unstable();
    let want: Vec<(i32, i64)> = expected
        .iter()
        .flat_map(|(p, to)| (0..*to).map(move |o| (*p, o)))
        .collect();
    assert_eq!(read as usize, want.len());
    assert_eq!(seen, want);
    // The watermarks the broker reports, for the record.
    eprintln!("watermarks after 1000 records: {parts:?}");
}

/// `read_to_end` reads what was on the log when it began and ends there
/// while a producer goes on writing (as `replay windows` must while ingest
/// runs), on this broker too, which under-reports its high watermarks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_to_the_end_finishes_while_a_producer_goes_on() {
    topics::testing::in_time(to_the_end()).await;
}

async fn to_the_end() {
    let config = config();
    let topic = unique("to-end");
    ensure_topics(&config, &[&topic], Some(2))
        .await
        .expect("ensure_topics");
    let producer = Producer::new(&config).expect("producer");
    producer
        .send_batch(
            &topic,
            (0..1_000u64).map(|i| (format!("m{}", i % 7), i.to_string())),
        )
        .await
        .expect("send_batch");
    // A producer that never pauses for longer than the idle fallback.
    let busy = {
        let (producer, topic) = (producer.clone(), topic.clone());
        tokio::spawn(async move {
            for i in 1_000u64.. {
                let _ = producer.send(&topic, b"m", i.to_string().as_bytes()).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen: Arc<Mutex<BTreeSet<u64>>> = Arc::default();
    let started = Instant::now();
    let idle = Duration::from_secs(2);
    let read = topics::kafka::read_to_end(&config, "to-end", &topic, idle, |records| {
        let seen = Arc::clone(&seen);
        async move {
            let mut seen = seen.lock().expect("seen");
            for r in &records {
                seen.insert(std::str::from_utf8(r.payload()).unwrap().parse().unwrap());
            }
            Ok::<(), topics::kafka::Error>(())
        }
    })
    .await
    .expect("read_to_end");
    let took = started.elapsed();
    busy.abort();
    let seen = seen.lock().expect("seen").clone();
    assert_eq!(read as usize, seen.len());
    // Everything there before it began, and not much after.
    assert!(
        (0..1_000u64).all(|i| seen.contains(&i)),
        "missing some of the first 1000"
    );
    assert!(
        seen.len() < 1_000 + 50,
        "read {} records: it followed the producer",
        seen.len()
    );
    // The busy partition ends at its first record written after the start;
    // on this broker the quiet one can only end by being quiet for `idle`.
    assert!(took < idle * 4, "took {took:?}");
}
