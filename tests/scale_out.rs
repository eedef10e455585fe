//! Scale-out through consumer groups, proven against the real broker and
//! MariaDB: two `skyline analyze`, two `skyline fingerprint` and two
//! `skyline project` processes in their groups over six partitions and 200
//! metrics, one of each SIGKILLed mid-stream, leave exactly the anomaly,
//! check and match ids — on the topics and as table rows — that one process
//! of each leaves on a clean run.
//!
//! The analyzers keep their windows in memory (no Redis): each restores the
//! windows of the partitions it is assigned from the datapoints topic, at
//! start and when a rebalance hands it a dead peer's partitions.
//!
//! The stages run one after another (analyze, then fingerprint, then
//! project), each over the whole backlog its predecessor left, so that every
//! input topic's end is known when its consumers are killed and the time the
//! group takes to resume every partition that had work left (the lag
//! recovery) can be measured and printed.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use sqlx::Connection;
use support::{create_database, shared_data, Run};
use topics::codec::{decode, encode};
use topics::kafka::{committed_offsets, ensure_topics, read_to_end, KafkaConfig, Producer};
use topics::{AnomalyEvent, CheckRequest, Datapoint, MatchResult};

const METRICS: usize = 200;
/// Points per metric, 300 s apart: 33 hours, inside the Analyzer's 2-day
/// restore horizon, so a restore re-judges every point of a partition and
/// rebuilds exactly the state a process that never stopped has.
const POINTS: usize = 400;
const PARTITIONS: i32 = 6;
const T0: i64 = 1_700_000_100;

/// 200 metrics from the real NAB series: metric `i` is a 400-point stretch
/// of one of the files, starting at a different place for each metric,
/// re-timed onto one common clock so that every partition streams evenly.
fn series() -> Vec<(String, Vec<f64>)> {
    let nab = shared_data().join("nab");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in std::fs::read_dir(&nab).unwrap().flatten() {
        if dir.path().is_dir() {
            for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
                if f.path().extension().is_some_and(|e| e == "csv") {
                    files.push(f.path());
                }
            }
        }
    }
    files.sort();
    let loaded: Vec<Vec<f64>> = files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(&nab).unwrap().to_str().unwrap().to_owned();
            support::nab(&rel).into_iter().map(|p| p.1).collect()
        })
        .filter(|v: &Vec<f64>| v.len() > POINTS * 2)
        .collect();
    assert!(loaded.len() >= 5, "NAB series under {}", nab.display());
    (0..METRICS)
        .map(|i| {
            let values = &loaded[i % loaded.len()];
            let start = (i * 53) % (values.len() - POINTS);
            (
                format!("scale.m{i:03}"),
                values[start..start + POINTS].to_vec(),
            )
        })
        .collect()
}

/// The run's config for this test: windows in memory (the Redis line of
/// [`Run::new`] removed), six partitions, an alert rule over every metric
/// (so each anomaly gets a fingerprint check), small batches.
fn run(name: &str) -> Run {
    let run = Run::new(
        name,
        "\n[analyzer_service]\nmax_batch = 500\n\n[[alerts]]\npattern = \"scale\"\nalerter = \"topic\"\nexpiration_time = 3600\n",
    );
    let toml = std::fs::read_to_string(&run.config).unwrap();
    let toml: String = toml
        .lines()
        .filter(|l| !l.starts_with("redis ="))
        .map(|l| {
            if l.starts_with("partitions =") {
                format!("partitions = {PARTITIONS}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&run.config, toml).unwrap();
    run
}

fn kafka(run: &Run) -> KafkaConfig {
    KafkaConfig {
        partitions: PARTITIONS,
        group_id_prefix: run.id.clone(),
        ..run.kafka_config()
    }
}

/// `skyline <args>` of this run, the shortest session so that a killed
/// member's partitions move on soon.
fn spawn(run: &Run, args: &[&str], log: &str) -> Child {
    let mut command: Command = run.command(args, log);
    command.env("SKYLINE_KAFKA__SESSION_TIMEOUT_MS", "6000");
    command.spawn().expect("starting skyline")
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn produce(run: &Run, series: &[(String, Vec<f64>)]) -> usize {
    let kafka = kafka(run);
    let names = run.topic_names();
    ensure_topics(&kafka, &names.all(), None).await.unwrap();
    let mut records = Vec::with_capacity(METRICS * POINTS);
    for k in 0..POINTS {
        for (metric, values) in series {
            let point = Datapoint {
                metric: metric.clone(),
                timestamp: T0 + k as i64 * 300,
                value: values[k],
            };
            records.push((metric.clone().into_bytes(), encode(&point).unwrap()));
        }
    }
    Producer::new(&kafka)
        .unwrap()
        .send_batch(&names.datapoints, records)
        .await
        .unwrap()
}

/// Every record of `topic`, with where it ends on each partition.
async fn read_all(run: &Run, topic: &str) -> (Vec<Vec<u8>>, BTreeMap<i32, i64>) {
    let mut values = Vec::new();
    let mut ends = BTreeMap::new();
    read_to_end(
        &kafka(run),
        "scale-reader",
        topic,
        Duration::from_secs(5),
        |records| {
            for r in &records {
                values.push(r.payload().to_vec());
                let end = ends.entry(r.partition).or_insert(0);
                *end = (*end).max(r.offset + 1);
            }
            async { Ok::<(), topics::kafka::Error>(()) }
        },
    )
    .await
    .unwrap();
    (values, ends)
}

/// Where a Kafka consumer group stands on `topic`.
async fn group_position(run: &Run, consumer: &str, topic: &str) -> BTreeMap<i32, i64> {
    let kafka = kafka(run);
    committed_offsets(&kafka, &kafka.group_id(consumer), topic)
        .await
        .unwrap_or_default()
}

/// Where the projections stand on `topic` (their offsets live in the
/// database, with the rows).
async fn projection_position(url: &str, topic: &str) -> BTreeMap<i32, i64> {
    let Ok(mut conn) = sqlx::AnyConnection::connect(url).await else {
        return BTreeMap::new();
    };
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT kafka_partition, MIN(next_offset) FROM projection_offsets WHERE topic = ? GROUP BY kafka_partition",
    )
    .bind(topic)
    .fetch_all(&mut conn)
    .await
    .unwrap_or_default();
    rows.into_iter().collect()
}

fn done(position: &BTreeMap<i32, i64>, ends: &BTreeMap<i32, i64>) -> u64 {
    ends.iter()
        .map(|(p, end)| position.get(p).copied().unwrap_or(0).min(*end) as u64)
        .sum()
}

/// Polls `position` until the group has every partition of `ends`
/// finished; returns, when `kill` is given, how long after the kill every
/// partition that still had work at the kill moved again (the lag
/// recovery).
async fn follow<F, Fut>(
    what: &str,
    ends: &BTreeMap<i32, i64>,
    at_kill: Option<(Instant, BTreeMap<i32, i64>)>,
    timeout: Duration,
    mut position: F,
) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = BTreeMap<i32, i64>>,
{
    let started = Instant::now();
    let mut recovered = None;
    loop {
        let now = position().await;
        if let Some((killed, before)) = &at_kill {
            let waiting = ends.iter().any(|(p, end)| {
                let was = before.get(p).copied().unwrap_or(0);
                was < *end && now.get(p).copied().unwrap_or(0) <= was
            });
            if recovered.is_none() && !waiting {
                recovered = Some(killed.elapsed());
            }
        }
        if done(&now, ends) == ends.values().map(|e| *e as u64).sum::<u64>() {
            return recovered.or(at_kill.map(|(k, _)| k.elapsed()));
        }
        assert!(
            started.elapsed() < timeout,
            "{what}: not finished after {timeout:?}: at {now:?} of {ends:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until `position` has done `share` of `ends`.
async fn until_share<F, Fut>(ends: &BTreeMap<i32, i64>, share: f64, mut position: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = BTreeMap<i32, i64>>,
{
    let total: u64 = ends.values().map(|e| *e as u64).sum();
    let started = Instant::now();
    while (done(&position().await, ends) as f64) < share * total as f64 {
        assert!(started.elapsed() < Duration::from_secs(300), "no progress");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a run left: the distinct ids on the topics and in the tables.
#[derive(Debug, PartialEq)]
struct Outcome {
    anomalies: BTreeSet<uuid::Uuid>,
    checks: BTreeSet<uuid::Uuid>,
    matches: BTreeSet<uuid::Uuid>,
    rows: BTreeMap<&'static str, BTreeSet<String>>,
}

async fn rows(url: &str) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let mut out = BTreeMap::new();
    for table in ["anomalies", "checks", "matches", "alerts", "metrics"] {
        let ids: Vec<(String,)> = sqlx::query_as(&format!("SELECT id FROM {table}"))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        out.insert(table, ids.into_iter().map(|r| r.0).collect());
    }
    out
}

struct Pipeline {
    run: Run,
    db: String,
    /// Lag recovery after each kill, in the order analyze, fingerprint,
    /// project (empty on the clean run).
    recovery: Vec<(&'static str, Duration)>,
}

/// One stage: `members` processes of `skyline <args>` (logs `<log>-<i>`)
/// until `position` has every partition of `ends` done; with `kill`, the
/// first is SIGKILLed once 30 % is done, and the lag recovery after it is
/// returned. The members still running are handed back.
async fn stage<F, Fut>(
    run: &Run,
    args: &[&str],
    log: &str,
    members: usize,
    kill: bool,
    ends: &BTreeMap<i32, i64>,
    position: F,
) -> (Vec<Child>, Option<Duration>)
where
    F: Fn() -> Fut + Copy,
    Fut: std::future::Future<Output = BTreeMap<i32, i64>>,
{
    let mut children: Vec<Child> = (0..members)
        .map(|i| spawn(run, args, &format!("{log}-{i}")))
        .collect();
    let mut at_kill = None;
    if kill {
        until_share(ends, 0.3, position).await;
        let before = position().await;
        stop(children.remove(0));
        at_kill = Some((Instant::now(), before));
    }
    let took = follow(log, ends, at_kill, Duration::from_secs(600), position).await;
    (children, took)
}

/// Runs the three stages with `members` processes each; with `kill`, one
/// member of each group is SIGKILLed once its group is 30 % through.
async fn pipeline(name: &str, members: usize, kill: bool) -> Pipeline {
    let run = run(name);
    let (_, db) = create_database(name).await;
    let names = run.topic_names();
    let produced = produce(&run, &series()).await;
    assert_eq!(produced, METRICS * POINTS);
    let (_, datapoint_ends) = read_all(&run, &names.datapoints).await;
    assert_eq!(
        datapoint_ends.len(),
        PARTITIONS as usize,
        "every partition has metrics"
    );
    let mut recovery = Vec::new();

    // Stage 1: the Analyzers.
    let (analyzers, took) = stage(
        &run,
        &["analyze"],
        "analyze",
        members,
        kill,
        &datapoint_ends,
        || group_position(&run, "analyze", &names.datapoints),
    )
    .await;
    recovery.extend(took.map(|t| ("analyze", t)));
    analyzers.into_iter().for_each(stop);

    // Stage 2: fingerprint, over every check the Analyzers left.
    let (_, check_ends) = read_all(&run, &names.checks).await;
    assert!(!check_ends.is_empty(), "the Analyzers sent checks");
    let (fingerprints, took) = stage(
        &run,
        &["fingerprint"],
        "fingerprint",
        members,
        kill,
        &check_ends,
        || group_position(&run, "fingerprint", &names.checks),
    )
    .await;
    recovery.extend(took.map(|t| ("fingerprint", t)));
    fingerprints.into_iter().for_each(stop);

    // Stage 3: the projections, over the whole log; followed on the
    // datapoints topic (the largest they fold).
    let (projects, took) = stage(
        &run,
        &["project", "--mysql", &db],
        "project",
        members,
        kill,
        &datapoint_ends,
        || projection_position(&db, &names.datapoints),
    )
    .await;
    recovery.extend(took.map(|t| ("project", t)));
    // The other topics are small and folded beside the datapoints: wait
    // until every one is in too.
    for topic in [&names.anomalies, &names.checks, &names.matches] {
        let (_, ends) = read_all(&run, topic).await;
        follow(topic, &ends, None, Duration::from_secs(120), || {
            projection_position(&db, topic)
        })
        .await;
    }
    projects.into_iter().for_each(stop);
    Pipeline { run, db, recovery }
}

async fn outcome(p: &Pipeline) -> Outcome {
    let names = p.run.topic_names();
    let ids = |values: Vec<Vec<u8>>, id: fn(&[u8]) -> uuid::Uuid| -> BTreeSet<uuid::Uuid> {
        values.iter().map(|v| id(v)).collect()
    };
    Outcome {
        anomalies: ids(read_all(&p.run, &names.anomalies).await.0, |v| {
            decode::<AnomalyEvent>(v).unwrap().id
        }),
        checks: ids(read_all(&p.run, &names.checks).await.0, |v| {
            decode::<CheckRequest>(v).unwrap().id
        }),
        matches: ids(read_all(&p.run, &names.matches).await.0, |v| {
            decode::<MatchResult>(v).unwrap().id
        }),
        rows: rows(&p.db).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_of_each_with_one_of_each_killed_equal_a_single_process_run() {
    let clean = pipeline("scale-clean", 1, false).await;
    let clean_outcome = outcome(&clean).await;
    assert!(
        clean_outcome.anomalies.len() > 50 && !clean_outcome.matches.is_empty(),
        "a meaningful workload: {} anomalies, {} matches",
        clean_outcome.anomalies.len(),
        clean_outcome.matches.len()
    );

    let scaled = pipeline("scale-kill", 2, true).await;
    let scaled_outcome = outcome(&scaled).await;
    for (what, took) in &scaled.recovery {
        eprintln!("lag recovery after the SIGKILL of one {what}: {took:.1?}");
    }
    let restored: Vec<String> = (0..2)
        .flat_map(|i| {
            scaled
                .run
                .log(&format!("analyze-{i}"))
                .lines()
                .filter(|l| l.contains("restored from the datapoints topic"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    eprintln!(
        "{} anomalies, {} checks, {} matches; restores by the analyzers:\n{}",
        scaled_outcome.anomalies.len(),
        scaled_outcome.checks.len(),
        scaled_outcome.matches.len(),
        restored.join("\n")
    );
    assert_eq!(scaled.recovery.len(), 3, "one kill in each group");
    assert!(
        !restored.is_empty(),
        "the surviving Analyzer restored its new partitions' windows"
    );
    assert_eq!(
        scaled_outcome.anomalies, clean_outcome.anomalies,
        "anomaly ids"
    );
    assert_eq!(scaled_outcome.checks, clean_outcome.checks, "check ids");
    assert_eq!(scaled_outcome.matches, clean_outcome.matches, "match ids");
    for (table, ids) in &clean_outcome.rows {
        assert_eq!(&scaled_outcome.rows[table], ids, "{table} row ids");
    }
}
