//! Boundary in the Analyzer's consumer, against a real Kafka-protocol broker
//! (the one named by `SKYLINE_TEST_KAFKA`, else the one `scripts/services`
//! starts; never skipped). Two key metrics are fed through
//! `skyline.datapoints` in small batches: one drops off a cliff, one falls
//! under a `less_than` threshold now and then. The Boundary anomalies and
//! alerts must appear with their deterministic ids and alerters, exactly
//! where the rules say — `alert_threshold` and `expiration` suppressing the
//! repeats — and judging the same points again in one batch, on fresh
//! windows, must decide the same ids (decisions are functions of the log,
//! by data time).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use analyze::boundary::{BoundaryAlgorithm, BoundaryRule};
use analyze::pattern::MetricPattern;
use analyze::service::{Analyzer, ServiceSettings};
use analyze::Settings;
use topics::codec::{decode, encode};
use topics::ids::{anomaly_id, boundary_alert_id, repeat_alert_id};
use topics::kafka::{committed_offsets, ensure_topics, read_to_end, KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::shutdown::Shutdown;
use topics::testing::{config, in_time, unique};
use topics::{AlertEvent, AnomalyEvent, Datapoint, SourceApp};
use uuid::Uuid;
use windows::{MemoryWindows, WindowSettings, Windows};

const CLIFF: &str = "web.requests.total";
const LOW: &str = "db.connections.open";
const BASE: i64 = 1_700_000_000;
/// The metrics' resolution (seconds).
const STEP: i64 = 60;

fn t(i: i64) -> i64 {
    BASE + STEP * i
}

/// 150 points around 100 (never flat), then nothing: a drop to 0 at point
/// 150 held for 12 points.
fn cliff_series() -> Vec<(i64, f64)> {
    (0..162)
        .map(|i| {
            let v = if i < 150 {
                100.0 + (i % 7) as f64 * 3.0
            } else {
                0.0
            };
            (t(i), v)
        })
        .collect()
}

/// 150 points around 50, then under 10 (`L`) and back (`H`):
/// `L L L L H L L H L L L L L` from point 150.
fn low_series() -> Vec<(i64, f64)> {
    let tail = "LLLLHLLHLLLLL";
    (0..150)
        .map(|i| 50.0 + (i % 5) as f64)
        .chain(tail.chars().map(|c| if c == 'L' { 5.0 } else { 50.0 }))
        .enumerate()
        .map(|(i, v)| (t(i as i64), v))
        .collect()
}

fn rule(pattern: &str, algorithm: BoundaryAlgorithm) -> BoundaryRule {
    BoundaryRule {
        pattern: MetricPattern::new(pattern).expect("pattern"),
        algorithm,
        expiration_time: 3600,
        min_average: 0.0,
        min_average_seconds: 0,
        trigger_value: 0.0,
        alert_threshold: 1,
        alerters: "ops-mail|ops-hook".to_owned(),
        excludes: Vec::new(),
    }
}

fn rules() -> Vec<BoundaryRule> {
    vec![
        // One alert per alerter per hour once the requests drop.
        rule("web.requests", BoundaryAlgorithm::DetectDropOffCliff),
        // Three points in a row under 10 alert, at most once per 2 minutes.
        BoundaryRule {
            trigger_value: 10.0,
            alert_threshold: 3,
            expiration_time: 120,
            alerters: "ops-hook".to_owned(),
            ..rule("db.connections", BoundaryAlgorithm::LessThan)
        },
    ]
}

/// What must be decided: `(metric, point, algorithm, alerters)`.
fn expected() -> Vec<(&'static str, i64, BoundaryAlgorithm, Vec<&'static str>)> {
    vec![
        // The cliff fires at 150 and (the reference's guards never firing)
        // on every point while the last ten hold a drop, 151..=158: all
        // within the hour's expiration.
        (
            CLIFF,
            150,
            BoundaryAlgorithm::DetectDropOffCliff,
            vec!["ops-mail", "ops-hook"],
        ),
        // L L L: the third in a row (152) alerts; 153 is within 120 s of
        // it; H resets; L L (155, 156) are only two in a row; H; L L L
        // (158..160): 160 alerts, 161 is within the expiration, 162 is 120 s
        // after 160 and alerts.
        (LOW, 152, BoundaryAlgorithm::LessThan, vec!["ops-hook"]),
        (LOW, 160, BoundaryAlgorithm::LessThan, vec!["ops-hook"]),
        (LOW, 162, BoundaryAlgorithm::LessThan, vec!["ops-hook"]),
    ]
}

fn datapoints() -> Vec<Datapoint> {
    let mut points: Vec<Datapoint> = [(CLIFF, cliff_series()), (LOW, low_series())]
        .into_iter()
        .flat_map(|(metric, series)| {
            series.into_iter().map(move |(timestamp, value)| Datapoint {
                metric: metric.to_owned(),
                timestamp,
                value,
            })
        })
        .collect();
    // Interleaved by time, as a live stream is.
    points.sort_by(|a, b| (a.timestamp, &a.metric).cmp(&(b.timestamp, &b.metric)));
    points
}

fn analyzer(kafka: &KafkaConfig, topics: &TopicNames, max_batch: usize) -> Analyzer {
    Analyzer::new(
        Settings::default(),
        // No alert rules: the ensemble alerts nobody, Boundary still does.
        Vec::new(),
        rules(),
        ServiceSettings {
            consumer: "analyze-boundary".to_owned(),
            max_batch,
            ..ServiceSettings::default()
        },
        topics.clone(),
        Arc::new(Windows::Memory(MemoryWindows::new(
            WindowSettings::default(),
        ))),
        Producer::new(kafka).expect("producer"),
    )
}

/// Every event of type `E` on `topic`.
async fn read_all<E: topics::codec::Event>(kafka: &KafkaConfig, topic: &str) -> Vec<E> {
    let mut out = Vec::new();
    read_to_end(
        kafka,
        "boundary-test",
        topic,
        Duration::from_secs(2),
        |records| {
            out.extend(
                records
                    .iter()
                    .map(|r| decode::<E>(r.payload()).expect("decodes")),
            );
            async { Ok::<(), topics::kafka::Error>(()) }
        },
    )
    .await
    .expect("read");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boundary_anomalies_and_alerts_from_the_consumer() {
    in_time(consumer()).await;
}

async fn consumer() {
    let kafka = KafkaConfig {
        group_id_prefix: unique("boundary"),
        ..config()
    };
    let run = unique("boundary");
    let topics = TopicNames::default().renamed(|t| format!("{run}-{t}"));
    ensure_topics(&kafka, &topics.all(), Some(1))
        .await
        .expect("topics");
    let points = datapoints();
    let records: Vec<(Vec<u8>, Vec<u8>)> = points
        .iter()
        .map(|d| (d.metric.as_bytes().to_vec(), encode(d).expect("encode")))
        .collect();
    Producer::new(&kafka)
        .expect("producer")
        .send_batch(&topics.datapoints, records)
        .await
        .expect("produce");

    // The consumer, in batches of at most 25 points: the successive counts,
    // expiries and alerter counters carry over between batches as state.
    let (stop, shutdown) = Shutdown::new();
    let runtime = Arc::new(analyzer(&kafka, &topics, 25)).runtime(&kafka);
    let running = tokio::spawn(runtime.run(shutdown.wait()));
    let group = kafka.group_id("analyze-boundary");
    let started = Instant::now();
    loop {
        let committed: i64 = committed_offsets(&kafka, &group, &topics.datapoints)
            .await
            .expect("committed offsets")
            .values()
            .sum();
        if committed >= points.len() as i64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the consumer committed {committed} of {} datapoints",
            points.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.send(true).expect("stop");
    running.await.expect("joined").expect("the consumer ran");

    let anomalies: Vec<AnomalyEvent> = read_all::<AnomalyEvent>(&kafka, &topics.anomalies)
        .await
        .into_iter()
        .filter(|a| a.source == SourceApp::Boundary)
        .collect();
    let alerts: Vec<AlertEvent> = read_all::<AlertEvent>(&kafka, &topics.alerts)
        .await
        .into_iter()
        .filter(|a| a.source == SourceApp::Boundary)
        .collect();

    let expected = expected();
    // One anomaly per PANORAMA_EXPIRY_TIME (900 s) per metric: LOW's
    // firings at 160 and 162 are within 900 s of 152's, so they extend
    // its anomaly (count 3) and their alerts are about it.
    let opened = |metric: &str, i: i64| -> i64 {
        expected
            .iter()
            .filter(|e| e.0 == metric)
            .map(|e| e.1)
            .find(|&first| t(i) < t(first) + 900)
            .unwrap_or(i)
    };
    let got: Vec<(String, i64)> = anomalies
        .iter()
        .map(|a| (a.metric.clone(), a.timestamp))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let want: Vec<(String, i64)> = [(CLIFF.to_owned(), t(150)), (LOW.to_owned(), t(152))]
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(got, want, "Boundary anomalies (metric, timestamp)");
    // Re-published as points extend them; the newest version has every
    // firing point.
    for (metric, first) in [(CLIFF, 150), (LOW, 152)] {
        let id = anomaly_id(metric, t(first), SourceApp::Boundary);
        let versions: Vec<&AnomalyEvent> = anomalies.iter().filter(|a| a.id == id).collect();
        let firings = expected.iter().filter(|e| e.0 == metric).count();
        let newest = versions.iter().map(|a| a.count).max();
        assert_eq!(newest, Some(firings as i32), "{metric}: {versions:?}");
        let last = expected
            .iter()
            .filter(|e| e.0 == metric)
            .map(|e| t(e.1))
            .max();
        assert_eq!(
            versions.iter().map(|a| a.last_timestamp).max(),
            last,
            "{metric}"
        );
    }

    let mut want_alerts = BTreeSet::new();
    for (metric, i, algorithm, alerters) in &expected {
        let first = opened(metric, *i);
        let id = anomaly_id(metric, t(first), SourceApp::Boundary);
        let anomaly = anomalies
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("no anomaly {id} for {metric} at {first}"));
        assert_eq!(anomaly.metric, *metric);
        assert_eq!(anomaly.triggered_algorithms, [algorithm.name()]);
        assert_eq!(anomaly.algorithms_run, [algorithm.name()]);
        assert_eq!(anomaly.check_id, None, "Boundary is never deflected");
        let value = if *metric == CLIFF { 0.0 } else { 5.0 };
        assert_eq!(anomaly.value, value);
        assert_eq!(anomaly.from_timestamp, BASE, "the window's first point");
        for alerter in alerters {
            let first_alert = boundary_alert_id(id, alerter, algorithm.name());
            want_alerts.insert((
                if first == *i {
                    first_alert
                } else {
                    repeat_alert_id(first_alert, t(*i))
                },
                id,
                (*alerter).to_owned(),
            ));
        }
    }
    let got_alerts: BTreeSet<(Uuid, Uuid, String)> = alerts
        .iter()
        .map(|a| (a.id, a.anomaly_id, a.alerter.clone()))
        .collect();
    assert_eq!(
        got_alerts, want_alerts,
        "Boundary alerts (id, anomaly, alerter)"
    );
    assert_eq!(alerts.len(), want_alerts.len(), "each published once");
    for a in &alerts {
        let trigger = a
            .boundary
            .as_ref()
            .expect("a Boundary alert says what fired");
        let rule = rules()
            .into_iter()
            .find(|r| r.algorithm.name() == trigger.algorithm)
            .expect("a configured rule");
        assert_eq!(trigger.trigger_value, rule.trigger_value);
        assert_eq!(
            i64::from(trigger.alert_threshold),
            i64::from(rule.alert_threshold)
        );
        assert_eq!(a.expiration_time, Some(rule.expiration_time));
        assert_eq!(a.rule, rule.pattern.as_str());
        assert_eq!(
            a.triggered_algorithms,
            std::slice::from_ref(&trigger.algorithm)
        );
        let series = a.series.as_ref().expect("the judged window");
        assert_eq!(series.last().map(|p| p.timestamp), Some(a.timestamp));
    }

    // The same log judged again in one batch on fresh windows (a replay,
    // batched differently): the same decisions, with the same ids.
    let replay_topics = TopicNames::default().renamed(|t| format!("{run}-replay-{t}"));
    ensure_topics(&kafka, &replay_topics.all(), Some(1))
        .await
        .expect("topics");
    let again = analyzer(&kafka, &replay_topics, points.len())
        .handle(points.clone())
        .await
        .expect("judged");
    let ids = |a: &[AnomalyEvent]| -> BTreeSet<Uuid> {
        a.iter()
            .filter(|a| a.source == SourceApp::Boundary)
            .map(|a| a.id)
            .collect()
    };
    assert_eq!(ids(&again.anomalies), ids(&anomalies));
    let alert_ids: BTreeSet<Uuid> = again
        .alerts
        .iter()
        .filter(|a| a.source == SourceApp::Boundary)
        .map(|a| a.id)
        .collect();
    assert_eq!(alert_ids, alerts.iter().map(|a| a.id).collect());
}
