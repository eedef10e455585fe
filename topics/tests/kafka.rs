//! The Kafka plumbing against a real Kafka-protocol broker: the one named by
//! `SKYLINE_TEST_KAFKA`, or, when that is unset, the one `scripts/services`
//! starts (these tests never skip). Every run uses fresh topics and groups.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use topics::codec;
use topics::kafka::{ensure_topics, Batch, Consumer, DeadLetters, KafkaConfig, Producer};
use topics::{Datapoint, DeadLetter};
use uuid::Uuid;

/// Every test is over within this, or fails.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// The broker's address: `SKYLINE_TEST_KAFKA`, or what `scripts/services`
/// exports after making sure a broker runs.
fn broker() -> String {
    static ADDRESS: OnceLock<String> = OnceLock::new();
    ADDRESS
        .get_or_init(|| {
            if let Ok(address) = std::env::var("SKYLINE_TEST_KAFKA") {
                if !address.trim().is_empty() {
                    return address;
                }
            }
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/services");
            let out = Command::new("bash")
                .arg(&script)
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .expect("running scripts/services");
            assert!(
                out.status.success(),
                "scripts/services failed ({}): no broker to test against",
                out.status
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            stdout
                .lines()
                .find_map(|l| l.strip_prefix("export SKYLINE_TEST_KAFKA="))
                .map(|v| v.trim().trim_matches('\'').to_owned())
                .expect("scripts/services printed no SKYLINE_TEST_KAFKA")
        })
        .clone()
}

fn config() -> KafkaConfig {
    KafkaConfig {
        // The smallest a broker accepts by default: joining a group on tansu
        // takes about half of it.
        session_timeout_ms: 6_000,
        ..KafkaConfig::for_brokers(broker())
    }
}

fn unique(what: &str) -> String {
    format!("skyline-test-{what}-{}", Uuid::now_v7().simple())
}

/// What one consumer handled: `(partition, offset, value)` in order.
type Seen = Arc<Mutex<Vec<(i32, i64, u64)>>>;

/// Dead letters read back, with their message keys.
type Letters = Arc<Mutex<Vec<(Option<Vec<u8>>, DeadLetter)>>>;

/// Runs `consumer` until `enough(records handled so far)` holds after a
/// batch, recording every record it handled; returns what it saw.
async fn consume_until(consumer: Consumer, enough: impl Fn(usize) -> bool) -> Vec<(i32, i64, u64)> {
    let seen: Seen = Arc::default();
    let stop = Arc::new(Notify::new());
    let shutdown = {
        let stop = Arc::clone(&stop);
        async move { stop.notified().await }
    };
    let stats = consumer
        .run(shutdown, |batch: Batch| {
            let seen = Arc::clone(&seen);
            let stop = Arc::clone(&stop);
            let enough = &enough;
            async move {
                let mut seen = seen.lock().map_err(|e| e.to_string())?;
                for r in batch.iter() {
                    let text = std::str::from_utf8(r.payload()).map_err(|e| e.to_string())?;
                    let value: u64 = text.parse().map_err(|e| format!("{e}: {text:?}"))?;
                    seen.push((r.partition, r.offset, value));
                }
                if enough(seen.len()) {
                    stop.notify_one();
                }
                Ok::<(), String>(())
            }
        })
        .await
        .expect("consumer run");
    let seen = seen.lock().expect("seen").clone();
    assert_eq!(stats.records as usize, seen.len());
    assert_eq!(stats.failed_commits, 0, "a commit failed");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_consumer_resumes_at_the_committed_offsets() {
    tokio::time::timeout(TEST_LIMIT, resumes())
        .await
        .expect("test did not finish in time");
}

async fn resumes() {
    const N: u64 = 10_000;
    const FIRST: usize = 4_000;
    let config = config();
    let topic = unique("resume");
    let group = unique("resume-group");
    ensure_topics(&config, &[&topic], Some(3))
        .await
        .expect("ensure_topics");
    // Idempotent: a second call finds the topic there.
    ensure_topics(&config, &[&topic], Some(3))
        .await
        .expect("ensure_topics again");

    let producer = Producer::new(&config).expect("producer");
    let started = Instant::now();
    let sent = producer
        .send_batch(
            &topic,
            (0..N).map(|i| (format!("metric.{}", i % 50), i.to_string())),
        )
        .await
        .expect("send_batch");
    let produce_s = started.elapsed().as_secs_f64();
    assert_eq!(sent as u64, N);

    // The first consumer handles at least FIRST records, committing after
    // each batch, and stops.
    let started = Instant::now();
    let a = Consumer::with_group(&config, &group, "resume-a", &[&topic])
        .expect("consumer a")
        .with_max_batch(250);
    let first = consume_until(a, |n| n >= FIRST).await;
    assert!(
        first.len() >= FIRST && (first.len() as u64) < N,
        "first consumer saw {}",
        first.len()
    );

    // A second member of the group, after the first left, takes up exactly
    // where the commits say.
    let b = Consumer::with_group(&config, &group, "resume-b", &[&topic]).expect("consumer b");
    let rest_wanted = N as usize - first.len();
    let rest = consume_until(b, |n| n >= rest_wanted).await;
    let consume_s = started.elapsed().as_secs_f64();

    let mut next_after_first: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, o, _) in &first {
        let next = next_after_first.entry(*p).or_insert(0);
        *next = (*next).max(o + 1);
    }
    let mut first_of_rest: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, o, _) in &rest {
        first_of_rest.entry(*p).or_insert(*o);
    }
    for (p, o) in &first_of_rest {
        assert_eq!(
            *o,
            next_after_first.get(p).copied().unwrap_or(0),
            "partition {p}: the second consumer started at offset {o}"
        );
    }

    let all: Vec<u64> = first.iter().chain(&rest).map(|(_, _, v)| *v).collect();
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(all.len() as u64, N, "{} handled in all", all.len());
    assert_eq!(
        distinct,
        (0..N).collect::<BTreeSet<u64>>(),
        "some lost or seen twice"
    );

    // Everything is committed: a third member, once new messages arrive,
    // sees only those (then waits a second more for stragglers).
    let markers: Vec<u64> = (N..N + 30).collect();
    producer
        .send_batch(
            &topic,
            markers
                .iter()
                .map(|i| (format!("marker.{i}"), i.to_string())),
        )
        .await
        .expect("send markers");
    let c = Consumer::with_group(&config, &group, "resume-c", &[&topic]).expect("consumer c");
    let late = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(Notify::new());
    let shutdown = {
        let stop = Arc::clone(&stop);
        async move { stop.notified().await }
    };
    c.run(shutdown, |batch: Batch| {
        let late = Arc::clone(&late);
        let stop = Arc::clone(&stop);
        async move {
            let mut late = late.lock().map_err(|e| e.to_string())?;
            for r in batch.iter() {
                late.push(String::from_utf8_lossy(r.payload()).into_owned());
            }
            if late.len() >= 30 {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    stop.notify_one();
                });
            }
            Ok::<(), String>(())
        }
    })
    .await
    .expect("consumer c");
    let mut late: Vec<u64> = late
        .lock()
        .expect("late")
        .iter()
        .map(|v| v.parse().expect("a number"))
        .collect();
    late.sort_unstable();
    assert_eq!(
        late, markers,
        "the third consumer saw more than the new messages"
    );

    eprintln!(
        "kafka resume: produced {N} in {produce_s:.3} s ({:.0}/s); consumed {} + {} in {consume_s:.3} s (two consumers, commits every 250 / batch)",
        N as f64 / produce_s,
        first.len(),
        rest.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_are_dead_lettered_and_consumption_goes_on() {
    tokio::time::timeout(TEST_LIMIT, poison())
        .await
        .expect("test did not finish in time");
}

async fn poison() {
    let config = config();
    let topic = unique("poison");
    let dead_topic = unique("deadletter");
    ensure_topics(&config, &[&topic, &dead_topic], Some(1))
        .await
        .expect("ensure_topics");
    let producer = Producer::new(&config).expect("producer");

    let point = |i: i64| Datapoint {
        metric: "stats.host-1.cpu".to_owned(),
        timestamp: 1_700_000_000 + 60 * i,
        value: i as f64 * 0.5,
    };
    let poison_payloads: [&[u8]; 2] = [b"not an event at all", &[0, 0, 0, 0, 99, 1, 2, 3]];
    let mut expected_dead = Vec::new();
    for i in 0..5 {
        let bytes = codec::encode(&point(i)).expect("encode");
        producer
            .send(&topic, b"stats.host-1.cpu", &bytes)
            .await
            .expect("send");
    }
    for p in poison_payloads {
        let at = producer
            .send(&topic, b"poison", p)
            .await
            .expect("send poison");
        expected_dead.push((at.offset, p.to_vec()));
    }
    for i in 5..10 {
        let bytes = codec::encode(&point(i)).expect("encode");
        producer
            .send(&topic, b"stats.host-1.cpu", &bytes)
            .await
            .expect("send");
    }

    let name = "poison-test";
    let dead = DeadLetters::new(producer.clone(), dead_topic.clone(), name);
    let good: Arc<Mutex<Vec<Datapoint>>> = Arc::default();
    let stop = Arc::new(Notify::new());
    let consumer = Consumer::with_group(&config, &unique("poison-group"), name, &[&topic])
        .expect("consumer")
        .with_max_batch(3);
    let shutdown = {
        let stop = Arc::clone(&stop);
        async move { stop.notified().await }
    };
    let stats = consumer
        .run(shutdown, |batch: Batch| {
            let dead = dead.clone();
            let good = Arc::clone(&good);
            let stop = Arc::clone(&stop);
            async move {
                let decoded = dead
                    .decode_batch(&batch, |r| codec::decode::<Datapoint>(r.payload()))
                    .await
                    .map_err(|e| e.to_string())?;
                let mut good = good.lock().map_err(|e| e.to_string())?;
                good.extend(decoded.into_iter().map(|(_, d)| d));
                if good.len() >= 10 {
                    stop.notify_one();
                }
                Ok::<(), String>(())
            }
        })
        .await
        .expect("consumer run");
    assert_eq!(stats.records, 12);
    let good = good.lock().expect("good").clone();
    assert_eq!(good, (0..10).map(point).collect::<Vec<_>>());

    // The dead-letter topic holds both, with where they came from and why.
    let reader = Consumer::with_group(
        &config,
        &unique("dead-reader"),
        "dead-reader",
        &[&dead_topic],
    )
    .expect("dead-letter reader");
    let letters: Letters = Arc::default();
    let stop = Arc::new(Notify::new());
    let shutdown = {
        let stop = Arc::clone(&stop);
        async move { stop.notified().await }
    };
    reader
        .run(shutdown, |batch: Batch| {
            let letters = Arc::clone(&letters);
            let stop = Arc::clone(&stop);
            async move {
                let mut letters = letters.lock().map_err(|e| e.to_string())?;
                for r in batch.iter() {
                    let letter =
                        codec::decode::<DeadLetter>(r.payload()).map_err(|e| e.to_string())?;
                    letters.push((r.key.clone(), letter));
                }
                if letters.len() >= 2 {
                    stop.notify_one();
                }
                Ok::<(), String>(())
            }
        })
        .await
        .expect("dead-letter reader run");
    let letters = letters.lock().expect("letters").clone();
    assert_eq!(letters.len(), 2);
    for ((key, letter), (offset, payload)) in letters.iter().zip(&expected_dead) {
        assert_eq!(key.as_deref(), Some(topic.as_bytes()));
        assert_eq!(letter.source_topic, topic);
        assert_eq!(letter.partition, Some(0));
        assert_eq!(letter.offset, Some(*offset));
        assert_eq!(letter.key.as_deref(), Some(&b"poison"[..]));
        assert_eq!(&letter.payload, payload);
        assert_eq!(letter.consumer, name);
        assert!(!letter.error.is_empty());
        assert_eq!(letter.id.get_version_num(), 7);
    }
    eprintln!(
        "kafka poison: 10 good handled, dead letters: {:?}",
        letters
            .iter()
            .map(|(_, l)| (&l.offset, &l.error))
            .collect::<Vec<_>>()
    );
}

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
    tokio::time::timeout(TEST_LIMIT, range_read())
        .await
        .expect("test did not finish in time");
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
    tokio::time::timeout(TEST_LIMIT, to_the_end())
        .await
        .expect("test did not finish in time");
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
