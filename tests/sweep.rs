//! The metrics sweep in the Analyzer (issue 21, item 4), against the real
//! broker and Redis with the `skyline analyze` binary:
//!
//! * replay, data clock: a NAB series as three metrics, one stopping half
//!   way; exactly one `Stale` system event, for it, about its last point,
//!   alerting; a second deployment (its own group, Redis keys and
//!   instance name) reading the same topic from the start publishes the
//!   same events under the same ids;
//! * live, wall clock: a metric that stops while another goes on is stale
//!   within a bounded wait (not alerting with `alert_on_stale_metrics =
//!   false`), and fresh again once it sends;
//! * sparsity: the NAB series with every tenth point removed reads ≈ 90 %
//!   on the process's `/metrics`.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use support::{decoded, nab, produce_datapoints, Run};
use topics::{SystemEvent, SystemKind};

const SERIES: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";

/// Produces `points` (`(key, metric, timestamp, value)`) in this order to
/// `topic`, each keyed by its key (a metric stays on one partition).
async fn produce_keyed(run: &Run, topic: &str, points: &[(&str, &str, i64, f64)]) {
    let records = points.iter().map(|&(key, metric, timestamp, value)| {
        let point = topics::Datapoint {
            metric: metric.to_owned(),
            timestamp,
            value,
        };
        (
            key.as_bytes().to_vec(),
            topics::codec::encode(&point).unwrap(),
        )
    });
    topics::kafka::Producer::new(&run.kafka_config())
        .unwrap()
        .send_batch(topic, records)
        .await
        .unwrap();
}

/// The system events on the run's topic once `done` says so (or after
/// `timeout`).
async fn system_events(
    run: &Run,
    timeout: Duration,
    mut done: impl FnMut(&[SystemEvent]) -> bool,
) -> Vec<SystemEvent> {
    let values = support::consume_until(
        &run.kafka_config(),
        &run.topic("system"),
        timeout,
        |values| done(&decoded::<SystemEvent>(values)),
    )
    .await;
    decoded(&values)
}

/// The newest point of `metric` in the windows under `prefix`.
async fn newest(prefix: &str, metric: &str) -> Option<i64> {
    let w = windows::Windows::Redis(
        windows::RedisWindows::connect(
            &support::redis(),
            windows::WindowSettings {
                key_prefix: prefix.to_owned(),
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    );
    w.windows(&[metric]).await.unwrap()[0].last().map(|p| p.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_reports_the_metric_that_stopped_once_and_again_with_the_same_ids() {
    // Stale after 600 s without a point, about to go stale from 450 s: the
    // series' points are 300 s apart (two gaps of 600), so only the metric
    // that stops is ever either.
    let run = Run::new(
        "sweep-replay",
        r#"
[telemetry]
instance = "one"

[analyzer]
stale_period = 600
alert_on_stale_period = 450

[analyzer.sweep]
interval = 60
clock = "data"
"#,
    );
    // A second deployment: its own group, Redis keys and name, the same
    // topics.
    let second = run.dir.join("second.toml");
    let text = std::fs::read_to_string(&run.config).unwrap();
    let renamed = text
        .replace(
            &format!("group_id_prefix = \"{}\"", run.id),
            &format!("group_id_prefix = \"{}-2\"", run.id),
        )
        .replace(
            &format!("key_prefix = \"{}\"", run.id),
            &format!("key_prefix = \"{}-2\"", run.id),
        )
        .replace("instance = \"one\"", "instance = \"two\"");
    assert_ne!(renamed, text);
    std::fs::write(&second, renamed).unwrap();

    // Five days of the series as three metrics; `nab.b` stops half way.
    // `nab.a` and `nab.b` share a key (one partition: the one `nab.b` goes
    // quiet on moves on with `nab.a`); `nab.c` has its own.
    let series: Vec<(i64, f64)> = nab(SERIES).into_iter().take(1500).collect();
    let half = 750;
    let b_last = series[half - 1].0;
    let mut points = Vec::new();
    for (i, &(t, v)) in series.iter().enumerate() {
        points.push(("nab.ab", "nab.a", t, v));
        if i < half {
            points.push(("nab.ab", "nab.b", t, v * 2.0));
        }
        points.push(("nab.c", "nab.c", t, v + 1.0));
    }
    let one = run.spawn(&["analyze"], "analyze-one");
    let two = {
        let log = std::fs::File::create(run.dir.join("analyze-two.log")).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_skyline"))
            .args(["analyze", "--config"])
            .arg(&second)
            .env("SKYLINE_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    };
    // Killed on the way out, whatever happens.
    let services = support::Services(vec![one, two]);
    // The topics exist once an Analyzer has started.
    tokio::time::sleep(Duration::from_secs(3)).await;
    produce_keyed(&run, &run.topic("datapoints"), &points).await;

    // Both have folded every point.
    let started = Instant::now();
    let end = series.last().unwrap().0;
    loop {
        let a = newest(&run.id, "nab.a").await;
        let b = newest(&format!("{}-2", run.id), "nab.a").await;
        if (a == Some(end) && b == Some(end)) || started.elapsed() > Duration::from_secs(300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took = started.elapsed();
    let events = system_events(&run, Duration::from_secs(20), |e| e.len() >= 2).await;
    drop(services);
    run.windows().await.clear().await.unwrap();
    eprintln!("both deployments through in {took:?}");
    let of = |instance: &str| -> Vec<&SystemEvent> {
        events.iter().filter(|e| e.instance == instance).collect()
    };
    let (first, again) = (of("one"), of("two"));
    assert_eq!(first.len(), 1, "{first:#?}\n{}", run.log("analyze-one"));
    let stale = first[0];
    assert_eq!(stale.kind, SystemKind::Stale);
    assert_eq!(stale.subject, "nab.b");
    assert_eq!(stale.since, Some(b_last));
    assert!(stale.alert);
    assert_eq!(stale.service, "analyze");
    // At the first sweep past 600 s of quiet: the sweeps run at the
    // series' timestamps (each reaches a multiple of 60), 300 s apart.
    assert_eq!(stale.at, b_last + 900);
    assert_eq!(stale.figure("stale_period"), Some(600.0));
    assert_eq!(
        stale.id,
        topics::ids::system_event_id(SystemKind::Stale, "nab.b", b_last)
    );
    // The second deployment said the same, with the same ids.
    let said = |e: &[&SystemEvent]| -> BTreeSet<(uuid::Uuid, String, Option<i64>, i64, bool)> {
        e.iter()
            .map(|e| (e.id, e.subject.clone(), e.since, e.at, e.alert))
            .collect()
    };
    assert_eq!(said(&first), said(&again), "{}", run.log("analyze-two"));
    assert_eq!(again.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn live_a_metric_that_stops_is_stale_within_a_bounded_wait_and_fresh_when_it_sends() {
    let run = Run::new(
        "sweep-live",
        r#"
[analyzer]
stale_period = 5
alert_on_stale_metrics = false

[analyzer.sweep]
interval = 1
"#,
    );
    let services = support::Services(vec![run.spawn(&["analyze"], "analyze")]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let now = || topics::clock::now_ms() / 1000;
    let send = {
        let (kafka, datapoints) = (run.kafka_config(), run.topic("datapoints"));
        move |metric: &'static str, t: i64| {
            let (kafka, datapoints) = (kafka.clone(), datapoints.clone());
            async move {
                produce_datapoints(&kafka, &datapoints, metric, &[(t, 1.0)]).await;
            }
        }
    };
    // Both send every half second for 3 s, then `live.off` stops.
    let mut off_last = 0;
    for _ in 0..6 {
        send("live.on", now()).await;
        off_last = now();
        send("live.off", off_last).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let stopped = Instant::now();
    // `live.on` goes on while we wait for `live.off` to be stale.
    let going_on = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let on = std::thread::spawn({
        let (kafka, datapoints) = (run.kafka_config(), run.topic("datapoints"));
        let going_on = going_on.clone();
        move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            while going_on.load(std::sync::atomic::Ordering::Relaxed) {
                rt.block_on(produce_datapoints(
                    &kafka,
                    &datapoints,
                    "live.on",
                    &[(now(), 1.0)],
                ));
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    });
    let is_stale = |e: &SystemEvent| e.kind == SystemKind::Stale && e.subject == "live.off";
    let events = system_events(&run, Duration::from_secs(40), |e| e.iter().any(is_stale)).await;
    let waited = stopped.elapsed();
    let stale: Vec<&SystemEvent> = events.iter().filter(|e| is_stale(e)).collect();
    assert_eq!(stale.len(), 1, "{events:#?}\n{}", run.log("analyze"));
    // About the last point it sent.
    assert_eq!(stale[0].since, Some(off_last));
    assert!(!stale[0].alert, "alert_on_stale_metrics = false");
    assert!(stale[0].at - stale[0].since.unwrap() > 5);
    eprintln!("stale after {waited:?} of quiet");
    // Never `live.on`.
    assert!(events.iter().all(|e| e.subject != "live.on"), "{events:#?}");

    // It sends again: fresh, about the point it was stale with.
    send("live.off", now()).await;
    let is_fresh = |e: &SystemEvent| e.kind == SystemKind::Fresh && e.subject == "live.off";
    let events = system_events(&run, Duration::from_secs(30), |e| e.iter().any(is_fresh)).await;
    going_on.store(false, std::sync::atomic::Ordering::Relaxed);
    on.join().unwrap();
    drop(services);
    run.windows().await.clear().await.unwrap();
    let fresh: Vec<&SystemEvent> = events.iter().filter(|e| is_fresh(e)).collect();
    assert_eq!(fresh.len(), 1, "{events:#?}\n{}", run.log("analyze"));
    assert_eq!(fresh[0].since, stale[0].since);
    // Said once about that point (quiet again after its one new point,
    // the metric may go stale anew, about that point: not a repeat).
    assert_eq!(
        events
            .iter()
            .filter(|e| is_stale(e) && e.since == Some(off_last))
            .count(),
        1,
        "stale said once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_series_missing_a_tenth_of_its_points_reads_90_percent_populated() {
    let run = Run::new(
        "sweep-sparsity",
        r#"
[telemetry]
listen = "127.0.0.1:0"

[analyzer]
stale_period = 1200

[analyzer.sweep]
interval = 3600
clock = "data"
"#,
    );
    let services = support::Services(vec![run.spawn(&["analyze"], "analyze")]);
    let addr = run.listening("analyze", "telemetry:");
    // Every tenth point removed (deterministically).
    let thinned: Vec<(i64, f64)> = nab(SERIES)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 10 != 9)
        .map(|(_, p)| p)
        .collect();
    produce_datapoints(
        &run.kafka_config(),
        &run.topic("datapoints"),
        "nab.thin",
        &thinned,
    )
    .await;
    let http = reqwest::Client::new();
    let gauge = |scrape: &prometheus_parse::Scrape, name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get("service") == Some("analyze"))
            .and_then(|s| match s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => Some(v),
                _ => None,
            })
    };
    let datapoints = run.topic("datapoints");
    let started = Instant::now();
    let scrape = loop {
        let body = http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let scrape =
            prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap();
        let handled = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "skyline_records_total"
                    && s.labels.get("topic") == Some(datapoints.as_str())
            })
            .map_or(0.0, |s| match s.value {
                prometheus_parse::Value::Counter(v) => v,
                _ => 0.0,
            });
        if handled >= thinned.len() as f64 || started.elapsed() > Duration::from_secs(180) {
            break scrape;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    drop(services);
    run.windows().await.clear().await.unwrap();
    eprintln!("through in {:?}", started.elapsed());
    let mean = gauge(&scrape, "skyline_metrics_sparsity_mean_percent");
    // 9 of every 10 points of a day at its resolution (300 s, still the
    // most common gap): 259 or 260 of 288, ±1 for the series' own two
    // 600 s gaps and where the day starts among the removed points.
    assert!(
        mean.is_some_and(|m| (m - 90.0).abs() <= 1.5),
        "{mean:?}\n{}",
        run.log("analyze")
    );
    assert_eq!(
        gauge(&scrape, "skyline_metrics_sparsity_checked"),
        Some(1.0)
    );
    assert_eq!(
        gauge(&scrape, "skyline_metrics_sparsity_fully_populated"),
        Some(0.0)
    );
    // The data clock crossed an hour about every 13 points.
    let sweeps = gauge(&scrape, "skyline_metrics_sweeps_total").unwrap_or(0.0);
    assert!(sweeps >= 300.0, "{sweeps}");
    assert_eq!(gauge(&scrape, "skyline_metrics_stale"), Some(0.0));
}
