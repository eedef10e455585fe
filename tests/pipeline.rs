//! The spine end to end, against a real Kafka-protocol broker and a real
//! Redis, with `skyline ingest` and `skyline analyze` as separate processes:
//! an operator's Kafka stream of Graphite lines in, anomaly events out.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::{backtest_anomalies, consume_until, nab, opened_anomalies, produce_lines, Run};
use topics::codec::{decode, encode};
use topics::ids::anomaly_id;
use topics::kafka::{ensure_topics, Producer};
use topics::{AnomalyEvent, Datapoint, DeadLetter, SourceApp};
use windows::{RedisWindows, WindowSettings, Windows};

const FILE: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
const METRIC: &str = "nab.ec2_cpu_utilization_825cc2";

fn graphite_lines(points: &[(i64, f64)]) -> Vec<String> {
    support::graphite_lines(METRIC, points)
}

/// The anomaly events (distinct by id) on the run's anomalies topic, once
/// `expected` of them are there (or after `timeout`).
async fn anomalies(run: &Run, expected: usize, timeout: Duration) -> Vec<AnomalyEvent> {
    let mut seen = BTreeSet::new();
    let values = consume_until(
        &run.kafka_config(),
        &run.topic("anomalies"),
        timeout,
        |values| {
            seen = values
                .iter()
                .filter_map(|v| decode::<AnomalyEvent>(v).ok())
                .map(|a| a.id)
                .collect();
            seen.len() >= expected
        },
    )
    .await;
    let mut events: Vec<AnomalyEvent> = values
        .iter()
        .map(|v| decode::<AnomalyEvent>(v).unwrap())
        .collect();
    events.sort_by_key(|a| (a.timestamp, a.id));
    events.dedup_by_key(|a| a.id);
    events
}

async fn redis_windows(run: &Run) -> Windows {
    let settings = WindowSettings {
        key_prefix: run.id.clone(),
        ..Default::default()
    };
    Windows::Redis(
        RedisWindows::connect(&support::redis(), settings)
            .await
            .unwrap(),
    )
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_stream_to_anomalies_equals_backtest_and_windows_replay_identically() {
    let run = Run::new("e2e", "");
    let points = nab(FILE);
    let flagged = backtest_anomalies(&support::shared_data().join("nab").join(FILE));
    assert!(flagged.len() > 10, "the backtest flags this series");
    // One anomaly per PANORAMA_EXPIRY_TIME (900 s by default): the flagged
    // points that open one.
    let expected = opened_anomalies(&flagged, 900);
    assert!(
        expected.len() < flagged.len(),
        "some points repeat an anomaly"
    );

    let ingest = run.spawn(&["ingest"], "ingest");
    let analyze = run.spawn(&["analyze"], "analyze");
    produce_lines(&run, graphite_lines(&points)).await;
    let events = anomalies(&run, expected.len(), Duration::from_secs(120)).await;
    // Anomalies are published before the batch is folded: wait for the fold
    // of the last point before stopping, or the windows would be cut short.
    let windows = redis_windows(&run).await;
    let last = points.last().unwrap().0;
    for _ in 0..300 {
        let w = windows.windows(&[METRIC]).await.unwrap();
        if w[0].last().is_some_and(|p| p.0 == last) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(ingest);
    stop(analyze);

    let got: Vec<i64> = events.iter().map(|a| a.timestamp).collect();
    assert_eq!(
        got,
        expected,
        "anomaly timestamps: pipeline vs backtest\n{}",
        run.log("analyze")
    );
    for a in &events {
        assert_eq!(a.metric, METRIC);
        assert_eq!(a.id, anomaly_id(METRIC, a.timestamp, SourceApp::Analyzer));
        assert!(a.triggered_algorithms.len() >= 6, "{a:?}");
        let value = points.iter().find(|p| p.0 == a.timestamp).unwrap().1;
        assert_eq!(a.value, value);
    }

    // Replay: forget the windows, fold the datapoints topic again.
    let before = (
        windows.windows(&[METRIC]).await.unwrap(),
        windows.rollup(METRIC).await.unwrap(),
    );
    assert!(
        before.0[0].len() > 280,
        "a day of 5-minute points is in the window"
    );
    windows.clear().await.unwrap();
    assert!(windows.windows(&[METRIC]).await.unwrap()[0].is_empty());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args(["replay", "windows", "--idle-seconds", "10", "--config"])
        .arg(&run.config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = (
        windows.windows(&[METRIC]).await.unwrap(),
        windows.rollup(METRIC).await.unwrap(),
    );
    assert_eq!(before, after, "replayed windows identical");
    windows.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn analyze_killed_mid_stream_still_emits_every_anomaly_with_the_same_ids() {
    // Small batches so the kill lands between batches' effects and commits.
    let run = Run::new("crash", "\n[analyzer_service]\nmax_batch = 40\n");
    let points = nab(FILE);
    // The de-duplication state is saved beside the windows after the
    // events: a crash between them re-decides the same anomalies.
    let flagged = backtest_anomalies(&support::shared_data().join("nab").join(FILE));
    let expected: BTreeSet<_> = opened_anomalies(&flagged, 900)
        .into_iter()
        .map(|t| anomaly_id(METRIC, t, SourceApp::Analyzer))
        .collect();

    let ingest = run.spawn(&["ingest"], "ingest");
    let analyze = run.spawn(&["analyze"], "analyze-1");
    produce_lines(&run, graphite_lines(&points)).await;
    // Let it get part of the way, then SIGKILL it.
    // (With one anomaly per 900 s this series has nine: stop at the first.)
    let partial = anomalies(&run, 1, Duration::from_secs(60)).await;
    stop(analyze);
    assert!(
        partial.len() < expected.len(),
        "killed before the end ({} of {})",
        partial.len(),
        expected.len()
    );
    let analyze = run.spawn(&["analyze"], "analyze-2");
    let events = anomalies(&run, expected.len(), Duration::from_secs(120)).await;
    stop(analyze);
    stop(ingest);

    let got: BTreeSet<_> = events.iter().map(|a| a.id).collect();
    assert_eq!(
        got,
        expected,
        "distinct anomaly ids after a crash equal a clean run's\n{}",
        run.log("analyze-2")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_dead_lettered_and_consumers_carry_on() {
    let run = Run::new("bad", "");
    let ingest = run.spawn(&["ingest"], "ingest");
    let analyze = run.spawn(&["analyze"], "analyze");
    let long_name = "x".repeat(300);
    produce_lines(
        &run,
        vec![
            "not a datapoint".into(),
            "m.nan nan 1700000000".into(),
            "m.inf inf 1700000000".into(),
            format!("{long_name} 1 1700000000"),
            "m.ms 1 1700000000000".into(),
            "good.metric 1.5 1700000000".into(),
        ],
    )
    .await;
    // Wrong-schema and garbage messages straight onto the datapoints topic.
    let producer = Producer::new(&run.kafka_config()).unwrap();
    let datapoints = run.topic("datapoints");
    ensure_topics(&run.kafka_config(), &[datapoints.as_str()], Some(3))
        .await
        .unwrap();
    let wrong = encode(&AnomalyEvent {
        id: uuid::Uuid::nil(),
        metric: "m".into(),
        timestamp: 1,
        value: 1.0,
        source: SourceApp::Analyzer,
        algorithms_run: vec![],
        triggered_algorithms: vec![],
        full_duration: 0,
        from_timestamp: 0,
        check_id: None,
        derivative: false,
        decided_at_ms: 0,
        count: 1,
        last_timestamp: 1,
        max_deviation: 0.0,
    })
    .unwrap();
    producer.send(&datapoints, b"m", &wrong).await.unwrap();
    producer
        .send(&datapoints, b"m", b"\x00\x00\x00\x00\x01garbage")
        .await
        .unwrap();
    // A NaN encoded straight onto the topic (ingest refuses one in a line):
    // the Analyzer dead-letters it instead of folding it.
    let nan = encode(&Datapoint {
        metric: "direct.nan".into(),
        timestamp: 1_700_000_000,
        value: f64::NAN,
    })
    .unwrap();
    producer
        .send(&datapoints, b"direct.nan", &nan)
        .await
        .unwrap();
    let after = encode(&Datapoint {
        metric: "after.bad".into(),
        timestamp: 1_700_000_060,
        value: 2.0,
    })
    .unwrap();
    producer
        .send(&datapoints, b"after.bad", &after)
        .await
        .unwrap();

    let letters = consume_until(
        &run.kafka_config(),
        &run.topic("deadletter"),
        Duration::from_secs(60),
        |v| v.len() >= 8,
    )
    .await;
    let letters: Vec<DeadLetter> = letters.iter().map(|v| decode(v).unwrap()).collect();
    let errors: Vec<&str> = letters.iter().map(|l| l.error.as_str()).collect();
    let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(has("is not a number"), "{errors:#?}");
    assert!(has("not finite"), "{errors:#?}");
    assert!(has("300 bytes long"), "{errors:#?}");
    assert!(has("out of range"), "{errors:#?}");
    assert!(has("schema"), "wrong schema id named: {errors:#?}");
    assert!(has("direct.nan: value NaN is not finite"), "{errors:#?}");
    assert_eq!(letters.len(), 8, "{errors:#?}");
    assert!(
        letters.iter().any(|l| l.payload == b"not a datapoint"),
        "raw bytes kept"
    );

    // Both consumers went on: the good datapoints reached the windows.
    let windows = redis_windows(&run).await;
    let mut folded = Vec::new();
    // Up to a minute: a loaded machine can take a while to fold them.
    for _ in 0..600 {
        folded = windows
            .windows(&["good.metric", "after.bad", "direct.nan"])
            .await
            .unwrap();
        if folded[..2].iter().all(|w| !w.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(ingest);
    stop(analyze);
    assert_eq!(
        folded,
        vec![
            vec![(1_700_000_000, 1.5)],
            vec![(1_700_000_060, 2.0)],
            vec![]
        ]
    );
    windows.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn graphite_tcp_and_http_datapoints_reach_the_windows() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let run = Run::new("sources", "");
    let ingest = run.spawn(&["ingest"], "ingest");
    let analyze = run.spawn(&["analyze"], "analyze");
    let graphite = run.listening("ingest", "graphite plaintext:");
    let http = run.listening("ingest", "http:");

    let mut conn = tokio::net::TcpStream::connect(graphite).await.unwrap();
    conn.write_all(b"via.tcp 1.25 1700000000\nvia.tcp 2.5 1700000060\n")
        .await
        .unwrap();
    conn.shutdown().await.unwrap();
    let body = r#"[{"metric":"via.http","timestamp":1700000000,"value":7}]"#;
    let mut conn = tokio::net::TcpStream::connect(http).await.unwrap();
    let request = format!(
        "POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");

    let windows = redis_windows(&run).await;
    let mut got = Vec::new();
    for _ in 0..300 {
        got = windows.windows(&["via.tcp", "via.http"]).await.unwrap();
        if got[0].len() == 2 && got[1].len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(ingest);
    stop(analyze);
    assert_eq!(
        got,
        vec![
            vec![(1_700_000_000, 1.25), (1_700_000_060, 2.5)],
            vec![(1_700_000_000, 7.0)]
        ]
    );
    windows.clear().await.unwrap();
}
