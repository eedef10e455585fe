//! One anomaly per event (PANORAMA_EXPIRY_TIME) and anomaly ends, end to
//! end: NAB series through the real broker, `skyline analyze` (Redis
//! windows) and `skyline project` (SQLite), with de-duplication and with
//! `panorama_expiry_time = 0`, then the same datapoints again into fresh
//! topics. Also the measurement over the NAB series (printed): how many
//! anomalies end and after how long, and what de-duplication saves.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use analyze::alert_rules::AlertRule;
use analyze::anomaly_end::Step;
use analyze::service::{decisions_for, Decisions};
use analyze::stream::{judge_batch, MetricState};
use projections::browse::{self, AnomalyFilter, AnomalyListRow};
use projections::Database;
use support::{consume_settled, decoded, nab, Run};
use topics::kafka::ensure_topics;
use topics::{AlertEvent, AnomalyEnded, AnomalyEvent, CheckRequest, CheckTarget};

const FILE: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
const METRIC: &str = "nab.ec2_cpu_utilization_825cc2";
/// An alert rule whose expiry (600 s) is shorter than PANORAMA_EXPIRY_TIME
/// (900 s), so repeats of an open anomaly alert too.
const RULE: &str = "\n[[alerts]]\npattern = \"nab\"\nalerter = \"topic\"\nexpiration_time = 600\n";

/// What one run left on the topics and in the table.
struct Outcome {
    /// Anomaly events, every version.
    events: Vec<AnomalyEvent>,
    checks: Vec<CheckRequest>,
    /// Distinct alert ids.
    alerts: BTreeSet<uuid::Uuid>,
    ends: Vec<AnomalyEnded>,
    /// The `anomalies` rows, by id.
    rows: BTreeMap<uuid::Uuid, AnomalyListRow>,
}

impl Outcome {
    fn fingerprint_checks(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.target == CheckTarget::Fingerprint)
            .count()
    }
}

/// Every anomaly row of the projection.
async fn rows(db: &Database) -> BTreeMap<uuid::Uuid, AnomalyListRow> {
    let filter = AnomalyFilter {
        per_page: browse::MAX_PER_PAGE,
        ..Default::default()
    };
    let (rows, _) = browse::first_rows(usize::MAX, |page| {
        let filter = AnomalyFilter {
            page,
            ..filter.clone()
        };
        async move { browse::anomalies(db, &filter).await }
    })
    .await
    .unwrap();
    rows.into_iter().map(|r| (r.id, r)).collect()
}

/// Produces `points` straight to the run's datapoints topic (as `skyline
/// ingest` would), runs `skyline analyze` and `skyline project --sqlite`
/// until the topics and the table settle, and reads what they hold.
async fn run_pipeline(
    name: &str,
    analyzer_toml: &str,
    points: &[(i64, f64)],
    max_batch: &str,
) -> Outcome {
    let run = Run::new(name, &format!("\n[analyzer]\n{analyzer_toml}\n{RULE}"));
    let kafka = run.kafka_config();
    let names = run.topic_names();
    ensure_topics(&kafka, &names.all(), None).await.unwrap();
    support::produce_datapoints(&kafka, &names.datapoints, METRIC, points).await;
    let sqlite = run.dir.join("projections.sqlite");
    let sqlite_arg = sqlite.to_str().unwrap().to_owned();
    let mut analyze = run.command(&["analyze"], "analyze");
    analyze.env("SKYLINE_ANALYZER_SERVICE__MAX_BATCH", max_batch);
    let _services = support::Services(vec![
        analyze.spawn().unwrap(),
        run.spawn(&["project", "--sqlite", &sqlite_arg], "project"),
    ]);

    // The analyzer is done when the last point is in the windows (it
    // publishes, then folds).
    let windows = run.windows().await;
    let last = points.last().unwrap().0;
    let started = Instant::now();
    loop {
        let w = windows.windows(&[METRIC]).await.unwrap();
        if w[0].last().is_some_and(|p| p.0 == last) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "the analyzer did not finish:\n{}",
            run.log("analyze")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let quiet = Duration::from_secs(3);
    let limit = Duration::from_secs(60);
    let events: Vec<AnomalyEvent> =
        decoded(&consume_settled(&kafka, &names.anomalies, 1, quiet, limit).await);
    let checks: Vec<CheckRequest> =
        decoded(&consume_settled(&kafka, &names.checks, 1, quiet, limit).await);
    let alerts: Vec<AlertEvent> =
        decoded(&consume_settled(&kafka, &names.alerts, 1, quiet, limit).await);
    let ends: Vec<AnomalyEnded> =
        decoded(&consume_settled(&kafka, &names.anomaly_ends, 1, quiet, limit).await);

    // The projection is done when every anomaly has its row with its
    // highest count, and every end is in.
    let ids: BTreeSet<uuid::Uuid> = events.iter().map(|a| a.id).collect();
    let mut highest: BTreeMap<uuid::Uuid, i32> = BTreeMap::new();
    for a in &events {
        let c = highest.entry(a.id).or_insert(0);
        *c = (*c).max(a.count);
    }
    let started = Instant::now();
    let rows = loop {
        if sqlite.exists() {
            let db = Database::sqlite(&sqlite).await.unwrap();
            let rows = rows(&db).await;
            db.close().await;
            let counts_in = rows.len() == ids.len()
                && rows
                    .values()
                    .all(|r| highest.get(&r.id) == Some(&(r.count as i32)));
            let ended = rows.values().filter(|r| r.end_timestamp.is_some()).count();
            if counts_in && ended == ends.len() {
                break rows;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the projection did not catch up:\n{}",
            run.log("project")
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    Outcome {
        events,
        checks,
        alerts: alerts.iter().map(|a| a.id).collect(),
        ends,
        rows,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_anomaly_per_event_with_ends_and_the_same_on_a_replay() {
    let points = nab(FILE);
    let dedup = run_pipeline("events", "panorama_expiry_time = 900", &points, "20000").await;
    let per_point = run_pipeline("events-0", "panorama_expiry_time = 0", &points, "20000").await;

    // Without de-duplication every anomalous point is a row with its own
    // training check; with it, each row folds its points.
    let points_flagged = per_point.rows.len();
    assert!(points_flagged > 10, "the series is flagged");
    assert!(per_point.rows.values().all(|r| r.count == 1));
    assert_eq!(per_point.fingerprint_checks(), points_flagged);
    let folded: i64 = dedup.rows.values().map(|r| r.count).sum();
    assert_eq!(
        folded, points_flagged as i64,
        "every anomalous point is in exactly one anomaly"
    );
    assert!(
        dedup.rows.len() < points_flagged,
        "{} anomalies for {points_flagged} anomalous points",
        dedup.rows.len()
    );
    assert_eq!(
        dedup.fingerprint_checks(),
        dedup.rows.len(),
        "one training check per anomaly, none for repeats"
    );
    // Alerts follow their rules' expiry, not the anomalies.
    assert_eq!(dedup.alerts.len(), per_point.alerts.len());
    println!(
        "{FILE}: {points_flagged} anomalous points; anomalies {} -> {}, fingerprint checks {} -> {}, alerts {} -> {}",
        per_point.rows.len(),
        dedup.rows.len(),
        per_point.fingerprint_checks(),
        dedup.fingerprint_checks(),
        per_point.alerts.len(),
        dedup.alerts.len()
    );

    // Each anomaly's window: its points lie within 900 s of its first, and
    // the next anomaly opens at or after the window's end.
    let mut opened: Vec<&AnomalyListRow> = dedup.rows.values().collect();
    opened.sort_by_key(|r| r.timestamp);
    for pair in opened.windows(2) {
        assert!(
            pair[0].last_timestamp < pair[0].timestamp + 900,
            "{:?}",
            pair[0]
        );
        assert!(pair[1].timestamp >= pair[0].timestamp + 900, "{pair:?}");
    }
    assert!(
        opened.iter().any(|r| r.count > 1),
        "some anomaly was extended"
    );
    assert!(opened.iter().all(|r| r.max_deviation > 0.0), "{opened:?}");
    // Re-published under the same id, counts only growing on the log.
    let versions = dedup.events.len();
    assert!(versions >= dedup.rows.len());

    // Ends: published once each, folded into end_timestamp, after the
    // anomaly's last point.
    assert!(!dedup.ends.is_empty(), "some anomaly ended");
    let end_ids: BTreeSet<uuid::Uuid> = dedup.ends.iter().map(|e| e.anomaly_id).collect();
    assert_eq!(end_ids.len(), dedup.ends.len(), "each anomaly ends once");
    for e in &dedup.ends {
        let row = &dedup.rows[&e.anomaly_id];
        assert_eq!(row.end_timestamp, Some(e.end_timestamp));
        assert!(e.end_timestamp > row.last_timestamp, "{e:?} {row:?}");
        assert_eq!(i64::from(e.count), row.count);
        assert_eq!(e.id, topics::ids::anomaly_ended_id(e.anomaly_id));
    }
    let ended = dedup
        .rows
        .values()
        .filter(|r| r.end_timestamp.is_some())
        .count();
    assert_eq!(ended, dedup.ends.len());
    assert!(!per_point.ends.is_empty());

    // The same datapoints into fresh topics, judged in batches of 50: the
    // same anomalies, ids, counts and ends.
    let replay = run_pipeline("events-replay", "panorama_expiry_time = 900", &points, "50").await;
    let summary = |o: &Outcome| -> Vec<(uuid::Uuid, i64, i64, Option<i64>)> {
        o.rows
            .values()
            .map(|r| (r.id, r.count, r.last_timestamp, r.end_timestamp))
            .collect()
    };
    assert_eq!(summary(&replay), summary(&dedup));
    assert_eq!(replay.alerts, dedup.alerts);
}

/// The median of `values` (sorted here), 0 when empty.
fn median(values: &mut [i64]) -> i64 {
    values.sort_unstable();
    match values.len() {
        0 => 0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2,
    }
}

/// What the Analyzer decides over one whole series, judged as the
/// consumer judges it (one batch; decisions are the same in any batching).
fn decide(metric: &str, points: &[(i64, f64)], expiry: i64, rules: &[AlertRule]) -> Decisions {
    let settings = analyze::Settings {
        panorama_expiry_time: expiry,
        ..Default::default()
    };
    let mut window = Vec::new();
    let mut state = MetricState::default();
    let judged = judge_batch(
        metric,
        &mut window,
        points,
        &mut state,
        &settings,
        rules,
        0,
        false,
    );
    let mut out = Decisions::default();
    decisions_for(metric, &window, &judged, &settings, &mut out);
    assert_eq!(
        judged
            .iter()
            .filter(|j| matches!(j.anomaly, Some((Step::Opened, _))))
            .count(),
        out.anomalies.len()
    );
    out
}

#[test]
fn measured_on_the_nab_series() {
    let nab_dir = support::shared_data().join("nab");
    let labels: BTreeMap<String, Vec<[String; 2]>> = serde_json::from_str(
        &std::fs::read_to_string(nab_dir.join("labels_windows.json")).unwrap(),
    )
    .unwrap();
    let rules: Vec<AlertRule> = vec![serde_json::from_str(
        r#"{"pattern": "nab", "alerter": "topic", "expiration_time": 600}"#,
    )
    .unwrap()];

    // Ends over every labelled series.
    let (mut anomalies, mut durations, mut points_flagged) = (0usize, Vec::new(), 0i64);
    for rel in labels.keys() {
        let points = nab(rel);
        let d = decide(&format!("nab.{rel}"), &points, 900, &rules);
        anomalies += d.anomalies.len();
        points_flagged += d.anomalies.iter().map(|a| i64::from(a.count)).sum::<i64>();
        durations.extend(d.ended.iter().map(|e| e.end_timestamp - e.timestamp));
    }
    let ended = durations.len();
    let median_duration = median(&mut durations);
    println!(
        "NAB, {} labelled series: {points_flagged} anomalous points in {anomalies} anomalies; {ended} ended ({:.1} %), median duration {median_duration} s",
        labels.len(),
        100.0 * ended as f64 / anomalies.max(1) as f64
    );
    assert!(anomalies > 0 && ended > 0 && ended <= anomalies);
    assert!(median_duration > 0);

    // realAWSCloudwatch: before and after de-duplication.
    let mut before = (0usize, 0usize, 0usize);
    let mut after = (0usize, 0usize, 0usize);
    for rel in labels
        .keys()
        .filter(|r| r.starts_with("realAWSCloudwatch/"))
    {
        let points = nab(rel);
        let metric = format!("nab.{rel}");
        let per_point = decide(&metric, &points, 0, &rules);
        let dedup = decide(&metric, &points, 900, &rules);
        let counted: i64 = dedup.anomalies.iter().map(|a| i64::from(a.count)).sum();
        assert_eq!(counted, per_point.anomalies.len() as i64, "{rel}");
        assert_eq!(dedup.alerts.len(), per_point.alerts.len(), "{rel}");
        println!(
            "{rel}: anomalies {} -> {}, checks {} -> {}, alerts {} -> {}, ended {}",
            per_point.anomalies.len(),
            dedup.anomalies.len(),
            per_point.checks.len(),
            dedup.checks.len(),
            per_point.alerts.len(),
            dedup.alerts.len(),
            dedup.ended.len()
        );
        before.0 += per_point.anomalies.len();
        before.1 += per_point.checks.len();
        before.2 += per_point.alerts.len();
        after.0 += dedup.anomalies.len();
        after.1 += dedup.checks.len();
        after.2 += dedup.alerts.len();
    }
    println!(
        "realAWSCloudwatch total: anomalies {} -> {}, checks {} -> {}, alerts {} -> {}",
        before.0, after.0, before.1, after.1, before.2, after.2
    );
    assert!(after.0 < before.0 && after.1 < before.1);
}
