//! The seasonal (Mirage) service end to end, with the real `skyline`
//! binaries, the real broker and Redis:
//!
//! * the seed's example (office energy, October 2015) and NAB series go
//!   through ingest, analyze and seasonal with and without an alert rule of
//!   168 hours: the alerts of each, and which remained;
//! * checks are paced (30 a minute) and those that waited too long are
//!   recorded as skipped, every check answered once;
//! * killing the seasonal service mid-stream ten times loses no verdict;
//! * periodic checks over a replayed three-day stream are exactly the
//!   scheduled ones, with the same ids on a replay.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use support::{consume_settled, decoded, Run, Services};
use topics::ids::{check_id, periodic_anomaly_id};
use topics::kafka::ensure_topics;
use topics::{
    AlertEvent, CheckRequest, CheckTarget, Datapoint, SeasonalOutcome, SeasonalResult, SeriesPoint,
    SourceApp,
};
use uuid::Uuid;

const DAY: i64 = 86_400;

/// The seed's example as one series: each row of the wide CSV is a day
/// (`dd/mm/yyyy`) of 48 half-hourly readings; timestamps in UTC.
fn office_energy() -> Vec<(i64, f64)> {
    let path = support::shared_data().join("skyline/office_energy_october.csv");
    let text = std::fs::read_to_string(&path).expect("the office energy CSV");
    let mut points = Vec::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let date: Vec<i64> = cells[1]
            .split('/')
            .map(|x| x.trim().parse().expect("a date part"))
            .collect();
        let day = chrono::NaiveDate::from_ymd_opt(date[2] as i32, date[1] as u32, date[0] as u32)
            .expect("a date")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp();
        for (k, cell) in cells[2..].iter().enumerate() {
            if let Ok(v) = cell.trim().parse::<f64>() {
                points.push((day + k as i64 * 1_800, v));
            }
        }
    }
    points
}

/// The series of the with/without comparison, by metric.
fn comparison_series() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    vec![
        ("office.energy.dfe", office_energy()),
        (
            "nab.art_daily_jumpsup",
            support::nab("artificialWithAnomaly/art_daily_jumpsup.csv"),
        ),
        (
            "nab.ec2_cpu_utilization_825cc2",
            support::nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv"),
        ),
    ]
}

/// Runs ingest, analyze (and seasonal) over every comparison series with
/// one alert rule (`hours`: its SECOND_ORDER_RESOLUTION_HOURS); returns the
/// alerts and the seasonal verdicts.
async fn alerts_of_a_run(hours: Option<u32>) -> (Vec<AlertEvent>, Vec<SeasonalResult>) {
    let rule_hours = hours.map_or(String::new(), |h| {
        format!("second_order_resolution_hours = {h}\n")
    });
    // Half-hourly office readings make 48 points a day: judged from 40.
    let extra = format!(
        r#"
[analyzer]
min_tolerable_length = 40

[seasonal]
checks_per_minute = 1000000
stale_seconds = 3600

[[alerts]]
pattern = ".*"
alerter = "topic"
expiration_time = 3600
{rule_hours}"#
    );
    let run = Run::new(
        if hours.is_some() {
            "season168"
        } else {
            "season24"
        },
        &extra,
    );
    let mut services = vec![
        run.spawn(&["ingest"], "ingest"),
        run.spawn(&["analyze"], "analyze"),
    ];
    if hours.is_some() {
        services.push(run.spawn(&["seasonal"], "seasonal"));
    }
    let _services = Services(services);
    let mut lines = Vec::new();
    for (metric, points) in comparison_series() {
        lines.extend(support::graphite_lines(metric, &points));
    }
    support::produce_lines(&run, lines).await;
    let kafka = run.kafka_config();
    let names = run.topic_names();
    // Settled: no new anomaly for 20 s (the Analyzer is through), then no
    // new verdict for 10 s.
    let anomalies = consume_settled(
        &kafka,
        &names.anomalies,
        1,
        Duration::from_secs(20),
        Duration::from_secs(300),
    )
    .await;
    assert!(
        !anomalies.is_empty(),
        "no anomaly; analyze log:\n{}",
        run.log("analyze")
    );
    let results = if hours.is_some() {
        decoded::<SeasonalResult>(
            &consume_settled(
                &kafka,
                &names.seasonal,
                1,
                Duration::from_secs(10),
                Duration::from_secs(300),
            )
            .await,
        )
    } else {
        Vec::new()
    };
    let alerts = decoded::<AlertEvent>(
        &consume_settled(
            &kafka,
            &names.alerts,
            0,
            Duration::from_secs(15),
            Duration::from_secs(60),
        )
        .await,
    );
    (alerts, results)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_energy_weekends_alert_at_24_hours_and_clear_at_168() {
    let ((plain, _), (seasonal, results)) =
        tokio::join!(alerts_of_a_run(None), alerts_of_a_run(Some(168)));
    let by_metric = |alerts: &[AlertEvent]| {
        let mut m: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for a in alerts {
            m.entry(a.metric.clone()).or_default().push(a.timestamp);
        }
        m.values_mut().for_each(|v| v.sort_unstable());
        m
    };
    let (plain, seasonal_alerts) = (by_metric(&plain), by_metric(&seasonal));
    let mut outcomes: BTreeMap<(String, SeasonalOutcome), usize> = BTreeMap::new();
    for r in &results {
        *outcomes.entry((r.metric.clone(), r.outcome)).or_default() += 1;
    }
    let weekday = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%a %d %H:%M").to_string())
            .unwrap_or_default()
    };
    for (metric, _) in comparison_series() {
        let before = plain.get(metric).cloned().unwrap_or_default();
        let after = seasonal_alerts.get(metric).cloned().unwrap_or_default();
        eprintln!(
            "{metric}: {} alerts at 24 h, {} with the 168 h re-check (verdicts: {} anomalous, {} cleared, {} skipped); remained: {:?}",
            before.len(),
            after.len(),
            outcomes.get(&(metric.to_owned(), SeasonalOutcome::Anomalous)).unwrap_or(&0),
            outcomes.get(&(metric.to_owned(), SeasonalOutcome::Cleared)).unwrap_or(&0),
            outcomes.get(&(metric.to_owned(), SeasonalOutcome::Skipped)).unwrap_or(&0),
            after.iter().map(|&t| weekday(t)).collect::<Vec<_>>(),
        );
    }
    // Every alert of the seasonal run is the seasonal service's, with a
    // verdict behind it; and the office's weekends mostly clear.
    assert!(seasonal.iter().all(|a| a.source == SourceApp::Seasonal));
    let confirmed: BTreeSet<Uuid> = results
        .iter()
        .filter_map(|r| r.seasonal_anomaly_id)
        .collect();
    assert!(seasonal.iter().all(|a| confirmed.contains(&a.anomaly_id)));
    let office_before = plain.get("office.energy.dfe").map_or(0, Vec::len);
    let office_after = seasonal_alerts.get("office.energy.dfe").map_or(0, Vec::len);
    assert!(office_before > 0, "the Analyzer flags no office shape");
    assert!(
        office_after * 2 <= office_before,
        "the 168 h re-check cleared too few office alerts: {office_before} → {office_after}"
    );
}

/// `n` seasonal checks of `metric`, one every 5 minutes up to `end`, each
/// carrying the day before it from `series`.
fn seasonal_checks(metric: &str, series: &[(i64, f64)], end: i64, n: i64) -> Vec<CheckRequest> {
    (0..n)
        .map(|k| {
            let ts = end - (n - 1 - k) * 300;
            let day = series
                .iter()
                .filter(|p| p.0 > ts - DAY && p.0 <= ts)
                .map(|&(timestamp, value)| SeriesPoint { timestamp, value })
                .collect();
            support::seasonal_check(metric, ts, day)
        })
        .collect()
}

/// Folds `series` of `metric` into the run's Redis windows, as the
/// Analyzer would.
async fn fold_windows(run: &Run, metric: &str, series: &[(i64, f64)]) {
    let windows = run.windows().await;
    let points: Vec<Datapoint> = series
        .iter()
        .map(|&(timestamp, value)| Datapoint {
            metric: metric.to_owned(),
            timestamp,
            value,
        })
        .collect();
    windows.fold(&points).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_checks_at_once_are_paced_and_the_stale_ones_recorded() {
    const METRIC: &str = "nab.ec2_cpu_utilization_825cc2";
    let run = Run::new(
        "seasonpace",
        "\n[seasonal]\nchecks_per_minute = 30\nstale_seconds = 8\n",
    );
    let series = support::nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    fold_windows(&run, METRIC, &series).await;
    let end = series[series.len() - 1].0;
    let checks = seasonal_checks(METRIC, &series, end, 200);
    support::produce_checks(&run, &checks).await;
    let started = Instant::now();
    let _services = Services(vec![run.spawn(&["seasonal"], "seasonal")]);
    let results = decoded::<SeasonalResult>(
        &consume_settled(
            &run.kafka_config(),
            &run.topic_names().seasonal,
            200,
            Duration::from_secs(3),
            Duration::from_secs(120),
        )
        .await,
    );
    let elapsed = started.elapsed();
    // Nothing vanishes: every check answered, exactly once.
    let answered: BTreeSet<Uuid> = results.iter().map(|r| r.check_id).collect();
    let asked: BTreeSet<Uuid> = checks.iter().map(|c| c.id).collect();
    assert_eq!(answered, asked, "seasonal log:\n{}", run.log("seasonal"));
    assert_eq!(results.len(), 200);
    let stale = results.iter().filter(|r| r.reason == "stale").count();
    let judged = results.len() - stale;
    eprintln!("{judged} judged, {stale} skipped as stale, in {elapsed:.1?}");
    assert!(
        stale > 0
            && results
                .iter()
                .filter(|r| r.reason == "stale")
                .all(|r| r.outcome == SeasonalOutcome::Skipped)
    );
    // At most 30 a minute: 30 in the first minute of the run.
    let minutes = elapsed.as_secs() / 60 + 1;
    assert!(
        judged as u64 <= 30 * minutes,
        "{judged} judged in {elapsed:?}"
    );
    assert!(judged >= 30, "only {judged} judged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_seasonal_service_ten_times_loses_no_verdict() {
    const METRIC: &str = "nab.ec2_cpu_utilization_24ae8d";
    let run = Run::new(
        "seasonkill",
        "\n[seasonal]\nchecks_per_minute = 1000000\nstale_seconds = 3600\nmax_batch = 20\n",
    );
    let series = support::nab("realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv");
    fold_windows(&run, METRIC, &series).await;
    let end = series[series.len() - 1].0;
    let checks = seasonal_checks(METRIC, &series, end, 300);
    support::produce_checks(&run, &checks).await;
    let kafka = run.kafka_config();

    // A clean run.
    let clean = {
        let _s = Services(vec![run.spawn(&["seasonal"], "clean")]);
        decoded::<SeasonalResult>(
            &consume_settled(
                &kafka,
                &run.topic_names().seasonal,
                300,
                Duration::from_secs(3),
                Duration::from_secs(180),
            )
            .await,
        )
    };
    // The same checks, another group and verdict topic, killed ten times.
    let killed_topic = run.topic("seasonal-killed");
    let env = [
        ("SKYLINE_SEASONAL__CONSUMER", "seasonal-killed".to_owned()),
        ("SKYLINE_TOPICS__SEASONAL", killed_topic.clone()),
    ];
    for k in 0..10 {
        let mut child = run
            .command(&["seasonal"], &format!("killed-{k}"))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(700 + 150 * k)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let _s = Services(vec![run
        .command(&["seasonal"], "killed-last")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .spawn()
        .unwrap()]);
    let killed = decoded::<SeasonalResult>(
        &consume_settled(
            &kafka,
            &killed_topic,
            300,
            Duration::from_secs(3),
            Duration::from_secs(180),
        )
        .await,
    );
    let ids = |r: &[SeasonalResult]| r.iter().map(|r| r.id).collect::<BTreeSet<Uuid>>();
    assert_eq!(ids(&clean).len(), 300);
    assert_eq!(ids(&killed), ids(&clean));
    let outcome = |r: &[SeasonalResult]| {
        r.iter()
            .map(|r| (r.id, r.outcome))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(outcome(&killed), outcome(&clean));
    eprintln!(
        "{} verdicts after 10 kills ({} records, {} duplicates)",
        ids(&killed).len(),
        killed.len(),
        killed.len() - ids(&killed).len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_checks_follow_the_schedule_and_replay_with_the_same_ids() {
    const METRIC: &str = "office.periodic.small_noise";
    const INTERVAL: i64 = 6 * 3_600;
    let extra = format!(
        r#"
[seasonal]
periodic_check_interval = {INTERVAL}
periodic_check_namespaces = ["office\\.periodic"]

# Every flagged point its own anomaly (PANORAMA_EXPIRY_TIME off): a periodic
# point the Analyzer flags is skipped, and this test knows the flagged points
# from the anomaly events.
[analyzer]
panorama_expiry_time = 0

[[alerts]]
pattern = "office"
alerter = "topic"
second_order_resolution_hours = 168
"#
    );
    let run = Run::new("seasonperiodic", &extra);
    let replay_checks = run.topic("checks-replay");
    // The topics exist before anything reads them (a consumer subscribed to
    // a missing topic only sees it at its next metadata refresh).
    let names = run.topic_names();
    let mut topics = names.all().to_vec();
    topics.push(replay_checks.as_str());
    ensure_topics(&run.kafka_config(), &topics, None)
        .await
        .unwrap();
    let all = support::nab("artificialNoAnomaly/art_daily_small_noise.csv");
    let three_days: Vec<(i64, f64)> = all
        .iter()
        .copied()
        .filter(|p| p.0 < all[0].0 + 3 * DAY)
        .collect();
    support::produce_lines(&run, support::graphite_lines(METRIC, &three_days)).await;
    let kafka = run.kafka_config();

    let periodic_of = |values: &[Vec<u8>]| -> BTreeMap<Uuid, i64> {
        decoded::<CheckRequest>(values)
            .into_iter()
            .filter(|c| c.periodic)
            .map(|c| (c.id, c.timestamp))
            .collect()
    };
    let analyse = |log: &str, env: Vec<(&'static str, String)>| {
        run.command(&["analyze"], log).envs(env).spawn().unwrap()
    };
    let first = {
        let _s = Services(vec![
            run.spawn(&["ingest"], "ingest"),
            analyse("analyze", vec![]),
        ]);
        consume_settled(
            &kafka,
            &run.topic_names().checks,
            1,
            Duration::from_secs(15),
            Duration::from_secs(180),
        )
        .await
    };
    let first = periodic_of(&first);

    // Expected: the scheduled points of the judged timestamps that the
    // Analyzer did not find anomalous (those have a check of their own).
    let anomalous: BTreeSet<i64> = decoded::<topics::AnomalyEvent>(
        &consume_settled(
            &kafka,
            &run.topic_names().anomalies,
            0,
            Duration::from_secs(2),
            Duration::from_secs(30),
        )
        .await,
    )
    .into_iter()
    .map(|a| a.timestamp)
    .collect();
    let expected: BTreeMap<Uuid, i64> = three_days
        .windows(2)
        .filter(|w| analyze::periodic::is_periodic_point(METRIC, INTERVAL, Some(w[0].0), w[1].0))
        .map(|w| w[1].0)
        .filter(|t| !anomalous.contains(t))
        .map(|t| {
            (
                check_id(periodic_anomaly_id(METRIC, t), CheckTarget::Seasonal),
                t,
            )
        })
        .collect();
    assert!(expected.len() >= 10, "{expected:?}");
    assert_eq!(first, expected, "analyze log:\n{}", run.log("analyze"));

    // A replay: another Analyzer (group, windows, checks topic) over the
    // same datapoints asks for the same checks.
    let _s = Services(vec![analyse(
        "replay",
        vec![
            (
                "SKYLINE_KAFKA__GROUP_ID_PREFIX",
                format!("{}-replay", run.id),
            ),
            ("SKYLINE_WINDOWS__KEY_PREFIX", format!("{}-replay", run.id)),
            ("SKYLINE_TOPICS__CHECKS", replay_checks.clone()),
        ],
    )]);
    let replayed = consume_settled(
        &kafka,
        &replay_checks,
        1,
        Duration::from_secs(15),
        Duration::from_secs(180),
    )
    .await;
    assert_eq!(periodic_of(&replayed), expected);
    eprintln!(
        "{} periodic checks over 3 days at 6 h, equal on a replay",
        expected.len()
    );
}
