//! The service runtime against a real Kafka-protocol broker (the one named
//! by `SKYLINE_TEST_KAFKA`, or the one `scripts/services` starts; these
//! tests never skip): resuming at the commits, the held-back commit policy,
//! dead letters, and retrying a failing batch before giving up. Every run
//! uses fresh topics and groups.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runtime::{Commit, Context, RunSettings, RunStats, Runtime, Service, ServiceError};
use tokio::sync::Notify;
use topics::codec;
use topics::kafka::{ensure_topics, read_to_end, Batch, DeadLetters, Producer};
use topics::testing::{config, unique};
use topics::{Datapoint, DeadLetter};

/// How a [`Recorder`] answers a batch.
enum Policy {
    /// Commit the batch.
    Batch,
    /// Commit only up to the first record whose value is at least this
    /// (work still pending from there on).
    HoldFrom(u64),
    /// Fail this many tries in all, then succeed.
    FailFirst(u32),
}

/// A service that records every record it is handed — `(partition, offset,
/// value)`, the value a decimal number — and asks to stop once it has seen
/// `enough`.
struct Recorder {
    name: String,
    topic: String,
    max_batch: usize,
    attempts: u32,
    policy: Policy,
    enough: usize,
    seen: Mutex<Vec<(i32, i64, u64)>>,
    failed: AtomicU32,
    stop: Notify,
}

impl Recorder {
    fn new(name: &str, topic: &str, enough: usize, policy: Policy) -> Recorder {
        Recorder {
            name: name.to_owned(),
            topic: topic.to_owned(),
            max_batch: 250,
            attempts: 5,
            policy,
            enough,
            seen: Mutex::default(),
            failed: AtomicU32::new(0),
            stop: Notify::new(),
        }
    }

    fn seen(&self) -> Vec<(i32, i64, u64)> {
        self.seen.lock().expect("seen").clone()
    }
}

impl Service for Recorder {
    fn name(&self) -> &str {
        &self.name
    }

    fn topics(&self) -> Vec<String> {
        vec![self.topic.clone()]
    }

    fn settings(&self) -> RunSettings {
        RunSettings {
            max_batch: self.max_batch,
            attempts: self.attempts,
            backoff: Duration::from_millis(20),
            tick: None,
        }
    }

    async fn handle(&self, _cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        if let Policy::FailFirst(n) = self.policy {
            if self.failed.fetch_add(1, Ordering::SeqCst) < n {
                return Err(ServiceError::task("failing on purpose"));
            }
        }
        let mut seen = self.seen.lock().map_err(ServiceError::task)?;
        let mut held: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for r in batch.iter() {
            let text = std::str::from_utf8(r.payload()).map_err(ServiceError::task)?;
            let value: u64 = text.parse().map_err(ServiceError::task)?;
            seen.push((r.partition, r.offset, value));
            if let Policy::HoldFrom(from) = self.policy {
                let slot = held.entry((r.topic.clone(), r.partition)).or_insert(0);
                if value < from && *slot == r.offset {
                    *slot = r.offset + 1;
                }
            }
        }
        if seen.len() >= self.enough {
            self.stop.notify_one();
        }
        Ok(match self.policy {
            Policy::HoldFrom(_) => Commit::UpTo(held),
            _ => Commit::Batch,
        })
    }
}

/// Runs `service` until it asks to stop; returns what the runtime counted.
async fn run_until_enough(service: Arc<Recorder>) -> Result<RunStats, ServiceError> {
    let stop = Arc::clone(&service);
    Runtime::new(service, &config(), None)
        .run(async move { stop.stop.notified().await })
        .await
}

async fn produce_numbers(topic: &str, numbers: impl Iterator<Item = u64>) {
    let producer = Producer::new(&config()).expect("producer");
    producer
        .send_batch(
            topic,
            numbers.map(|i| (format!("metric.{}", i % 50), i.to_string())),
        )
        .await
        .expect("send_batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_service_resumes_at_the_committed_offsets() {
    topics::testing::in_time(resumes()).await;
}

async fn resumes() {
    const N: u64 = 10_000;
    const FIRST: usize = 4_000;
    let config = config();
    let topic = unique("resume");
    let name = unique("resume-service");
    ensure_topics(&config, &[&topic], Some(3))
        .await
        .expect("ensure_topics");
    // Idempotent: a second call finds the topic there.
    ensure_topics(&config, &[&topic], Some(3))
        .await
        .expect("ensure_topics again");
    let started = Instant::now();
    produce_numbers(&topic, 0..N).await;
    let produce_s = started.elapsed().as_secs_f64();

    // The first run handles at least FIRST records, committing after each
    // batch, and stops.
    let started = Instant::now();
    let a = Arc::new(Recorder::new(&name, &topic, FIRST, Policy::Batch));
    let stats = run_until_enough(Arc::clone(&a)).await.expect("first run");
    let first = a.seen();
    assert!(
        first.len() >= FIRST && (first.len() as u64) < N,
        "first run saw {}",
        first.len()
    );
    assert_eq!(stats.records as usize, first.len());
    assert_eq!(stats.failed_commits, 0, "a commit failed");

    // A second run of the same service takes up exactly where the commits
    // say.
    let rest_wanted = N as usize - first.len();
    let b = Arc::new(Recorder::new(&name, &topic, rest_wanted, Policy::Batch));
    run_until_enough(Arc::clone(&b)).await.expect("second run");
    let rest = b.seen();
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
            "partition {p}: the second run started at offset {o}"
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

    // Everything is committed: a third run, once new messages arrive, sees
    // only those.
    let markers: Vec<u64> = (N..N + 30).collect();
    produce_numbers(&topic, markers.iter().copied()).await;
    let c = Arc::new(Recorder::new(&name, &topic, markers.len(), Policy::Batch));
    run_until_enough(Arc::clone(&c)).await.expect("third run");
    let mut late: Vec<u64> = c.seen().iter().map(|(_, _, v)| *v).collect();
    late.sort_unstable();
    assert_eq!(
        late, markers,
        "the third run saw more than the new messages"
    );
    eprintln!(
        "runtime resume: produced {N} in {produce_s:.3} s ({:.0}/s); consumed {} + {} in {consume_s:.3} s (two runs, commits every 250 / batch)",
        N as f64 / produce_s,
        first.len(),
        rest.len()
    );
}

/// Learn's policy: a commit held back to the oldest pending record makes
/// the next run read that record (and everything after it) again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_back_commit_is_where_the_next_run_resumes() {
    topics::testing::in_time(held_back()).await;
}

async fn held_back() {
    const N: u64 = 100;
    const PENDING_FROM: u64 = 60;
    let config = config();
    let topic = unique("held");
    let name = unique("held-service");
    ensure_topics(&config, &[&topic], Some(1))
        .await
        .expect("ensure_topics");
    produce_numbers(&topic, 0..N).await;

    let a = Arc::new(Recorder::new(
        &name,
        &topic,
        N as usize,
        Policy::HoldFrom(PENDING_FROM),
    ));
    run_until_enough(Arc::clone(&a)).await.expect("first run");
    assert_eq!(a.seen().len() as u64, N);

    let again = (N - PENDING_FROM) as usize;
    let b = Arc::new(Recorder::new(&name, &topic, again, Policy::Batch));
    run_until_enough(Arc::clone(&b)).await.expect("second run");
    let values: Vec<u64> = b.seen().iter().map(|(_, _, v)| *v).collect();
    assert_eq!(
        values,
        (PENDING_FROM..N).collect::<Vec<u64>>(),
        "the second run did not start at the oldest pending record"
    );
}

/// A failing batch is tried again with backoff and then handled; one that
/// keeps failing ends the run with `GaveUp`, nothing of it committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_batch_is_retried_then_given_up() {
    topics::testing::in_time(retries()).await;
}

async fn retries() {
    const N: u64 = 20;
    let config = config();
    let topic = unique("retry");
    ensure_topics(&config, &[&topic], Some(1))
        .await
        .expect("ensure_topics");
    produce_numbers(&topic, 0..N).await;

    // Two failures, then success: the same records, handled once.
    let name = unique("retry-service");
    let flaky = Arc::new(Recorder::new(
        &name,
        &topic,
        N as usize,
        Policy::FailFirst(2),
    ));
    let stats = run_until_enough(Arc::clone(&flaky))
        .await
        .expect("retried run");
    assert_eq!(stats.retries, 2);
    let values: Vec<u64> = flaky.seen().iter().map(|(_, _, v)| *v).collect();
    assert_eq!(values, (0..N).collect::<Vec<u64>>());

    // Always failing: gives up after the configured tries.
    let name = unique("doomed-service");
    let mut doomed = Recorder::new(&name, &topic, N as usize, Policy::FailFirst(u32::MAX));
    doomed.attempts = 3;
    let doomed = Arc::new(doomed);
    match run_until_enough(Arc::clone(&doomed)).await {
        Err(ServiceError::GaveUp {
            attempts, records, ..
        }) => {
            assert_eq!(attempts, 3);
            assert!(records > 0);
        }
        other => panic!("expected GaveUp, got {other:?}"),
    }
    assert!(doomed.seen().is_empty());
    // Nothing was committed: a healthy run of that group reads from 0.
    let healthy = Arc::new(Recorder::new(&name, &topic, N as usize, Policy::Batch));
    run_until_enough(Arc::clone(&healthy))
        .await
        .expect("healthy run");
    assert_eq!(healthy.seen().first().map(|s| s.2), Some(0));
}

/// Decodes datapoints through [`Context::decode`]: what does not decode is
/// dead-lettered and the rest handled.
struct Decoder {
    name: String,
    topic: String,
    good: Mutex<Vec<Datapoint>>,
    stop: Notify,
}

impl Service for Decoder {
    fn name(&self) -> &str {
        &self.name
    }

    fn topics(&self) -> Vec<String> {
        vec![self.topic.clone()]
    }

    fn settings(&self) -> RunSettings {
        RunSettings {
            max_batch: 3,
            ..RunSettings::default()
        }
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        let decoded = cx.decode::<Datapoint>(batch).await?;
        let mut good = self.good.lock().map_err(ServiceError::task)?;
        good.extend(decoded.into_iter().map(|(_, d)| d));
        if good.len() >= 10 {
            self.stop.notify_one();
        }
        Ok(Commit::Batch)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_are_dead_lettered_and_consumption_goes_on() {
    topics::testing::in_time(poison()).await;
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
    let service = Arc::new(Decoder {
        name: name.to_owned(),
        topic: topic.clone(),
        good: Mutex::default(),
        stop: Notify::new(),
    });
    let dead = DeadLetters::new(producer.clone(), dead_topic.clone(), name);
    let stop = Arc::clone(&service);
    let stats = Runtime::new(Arc::clone(&service), &config, Some(dead))
        .run(async move { stop.stop.notified().await })
        .await
        .expect("service run");
    assert_eq!(stats.records, 12);
    let good = service.good.lock().expect("good").clone();
    assert_eq!(good, (0..10).map(point).collect::<Vec<_>>());

    // The dead-letter topic holds both, with where they came from and why.
    let mut letters: Vec<(Option<Vec<u8>>, DeadLetter)> = Vec::new();
    read_to_end(
        &config,
        "dead-reader",
        &dead_topic,
        Duration::from_secs(3),
        |records| {
            for r in &records {
                let letter = codec::decode::<DeadLetter>(r.payload()).expect("a dead letter");
                letters.push((r.key.clone(), letter));
            }
            async { Ok::<(), topics::kafka::Error>(()) }
        },
    )
    .await
    .expect("reading the dead letters");
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
}
