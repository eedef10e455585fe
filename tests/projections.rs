//! The projections service as operators run it: `skyline project` SIGKILLed
//! at random points 20 times while 100,000 anomaly events flow ends with
//! exactly the rows of a clean `skyline replay projections`; `skyline
//! anomalies` reads them back.

mod support;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use projections::Database;
use rand::{Rng, SeedableRng};
use support::{create_database, Run};
use topics::codec::encode;
use topics::kafka::{ensure_topics, Producer};
use topics::{AnomalyEvent, SourceApp};

async fn drop_database(name: &str) {
    support::mysql_admin(&format!("DROP DATABASE {name}")).await;
}

fn skyline(run: &Run, args: &[&str], log_name: &str) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(run.dir.join(format!("{log_name}.log")))
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args(args)
        .arg("--config")
        .arg(&run.config)
        .env("SKYLINE_LOG", "info")
        // Small transactions, so kills land between and inside many; the
        // shortest session, so a killed member's partitions move on soon.
        .env("SKYLINE_PROJECTIONS__MAX_BATCH", "2000")
        .env("SKYLINE_KAFKA__SESSION_TIMEOUT_MS", "6000")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("starting skyline")
}

async fn dump_all(db: &Database) -> BTreeMap<&'static str, Vec<Vec<String>>> {
    let mut out = BTreeMap::new();
    for p in projections::all() {
        for table in p.tables() {
            out.insert(table.name, db.dump(table).await.unwrap());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkilled_twenty_times_the_projection_equals_a_clean_run() {
    const EVENTS: usize = 100_000;
    const METRICS: usize = 200;
    let run = Run::new("proj-kill", "");
    let kafka = run.kafka_config();
    let anomalies_topic = run.topic("anomalies");
    let names: Vec<String> = [
        "datapoints",
        "anomalies",
        "checks",
        "matches",
        "labels",
        "profiles",
        "alerts",
        "deadletter",
    ]
    .iter()
    .map(|k| run.topic(k))
    .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    ensure_topics(&kafka, &refs, None).await.unwrap();
    let (live_name, live_url) = create_database("kill").await;

    // 100,000 events flowing over ~25 s while the service is killed.
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let events: Vec<(Vec<u8>, Vec<u8>)> = (0..EVENTS)
        .map(|i| {
            let metric = format!("web{}.latency", i % METRICS);
            let timestamp = 1_700_000_000 + (i / METRICS) as i64 * 60;
            let event = AnomalyEvent {
                id: topics::ids::anomaly_id(&metric, timestamp, SourceApp::Analyzer),
                metric: metric.clone(),
                timestamp,
                value: rng.gen_range(0.0..1000.0),
                source: SourceApp::Analyzer,
                algorithms_run: vec!["grubbs".into(), "ks_test".into()],
                triggered_algorithms: vec!["grubbs".into()],
                full_duration: 86_340,
                from_timestamp: timestamp - 86_400,
                check_id: None,
                derivative: false,
                decided_at_ms: 1_700_000_000_000 + i as i64,
                count: 1,
                last_timestamp: timestamp,
                max_deviation: 0.0,
            };
            (metric.into_bytes(), encode(&event).unwrap())
        })
        .collect();
    let producer = Producer::new(&kafka).unwrap();
    let flow = {
        let topic = anomalies_topic.clone();
        tokio::spawn(async move {
            for chunk in events.chunks(EVENTS / 25) {
                producer.send_batch(&topic, chunk.to_vec()).await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };

    let args = ["project", "--mysql", live_url.as_str()];
    let db = Database::connect(&live_url).await.unwrap();
    let mut applied_at_kills = Vec::new();
    for _ in 0..20 {
        let mut child = skyline(&run, &args, "project");
        let wait = Duration::from_millis(rng.gen_range(1_500..6_000));
        tokio::time::sleep(wait).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let applied: i64 = db
            .applied_offsets("anomalies")
            .await
            .map(|o| o.values().sum())
            .unwrap_or(0);
        applied_at_kills.push(applied);
    }
    flow.await.unwrap();
    // The kills landed while events were being folded, not only before or
    // after. (Many restarts fold nothing before their kill: joining the
    // group waits for the killed member's session to expire, 6 s.)
    let mut progressed = applied_at_kills.clone();
    progressed.dedup();
    assert!(
        progressed
            .iter()
            .filter(|&&n| n > 0 && n < EVENTS as i64)
            .count()
            >= 2,
        "applied offsets at the kills: {applied_at_kills:?}"
    );
    eprintln!("applied offsets at the kills: {applied_at_kills:?}");

    // Let it catch up.
    let mut child = skyline(&run, &args, "project");
    let started = Instant::now();
    // Every projection that reads the anomalies topic (anomalies and
    // outcomes) must have caught up before the tables are compared.
    let readers: Vec<&'static str> = projections::all()
        .iter()
        .filter(|p| p.topics().contains(&projections::Topic::Anomalies))
        .map(|p| p.name())
        .collect();
    loop {
        let mut applied = i64::MAX;
        for name in &readers {
            let n: i64 = db
                .applied_offsets(name)
                .await
                .map(|o| o.values().sum())
                .unwrap_or(0);
            applied = applied.min(n);
        }
        if applied == EVENTS as i64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "only {applied} of {EVENTS} applied; log:\n{}",
            run.log("project")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(db.count("anomalies").await.unwrap(), EVENTS as i64);
    assert_eq!(db.count("metrics").await.unwrap(), METRICS as i64);

    // A clean run: the same log rebuilt from offset 0 into another database.
    let (clean_name, clean_url) = create_database("clean").await;
    let out = Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args([
            "replay",
            "projections",
            "--mysql",
            clean_url.as_str(),
            "--idle-seconds",
            "3",
        ])
        .arg("--config")
        .arg(&run.config)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains(&format!("{} events read", EVENTS * readers.len())),
        "replay summary: {summary}"
    );
    let clean = Database::connect(&clean_url).await.unwrap();
    let (live, rebuilt) = (dump_all(&db).await, dump_all(&clean).await);
    for (table, rows) in &live {
        assert_eq!(rows.len(), rebuilt[table].len(), "row count of {table}");
        assert!(
            rows == &rebuilt[table],
            "contents of {table} differ from a clean run"
        );
    }

    // The quick look reads the same rows.
    let out = Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args([
            "anomalies",
            "--mysql",
            live_url.as_str(),
            "--metric",
            "web7.latency",
            "--limit",
            "3",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.lines()
            .all(|l| l.contains("web7.latency") && l.contains("grubbs")),
        "{text}"
    );
    // Each line carries the ids `skyline label` and the console take.
    for line in text.lines() {
        let id = line
            .split("  anomaly ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no anomaly id in {line:?}"));
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{line}");
        assert!(line.contains("  check "), "{line}");
    }
    // The console's glob reads the same.
    let glob = Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args(["anomalies", "--mysql", live_url.as_str()])
        .args(["--metric", "WEB7.lat*", "--limit", "3"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&glob.stdout), text);

    db.close().await;
    clean.close().await;
    drop_database(&live_name).await;
    drop_database(&clean_name).await;
}
