//! Learning repetitive patterns without an operator (`spec/learn.md` §4–§6),
//! through the whole pipeline in-process: `evaluate::pipeline::run_series`
//! makes every decision with the function its service makes it with (the
//! Analyzer's rules, fingerprint's matching, learn's repetitive rules over
//! the same memory the learn service folds), on a real series with a real
//! anomaly transplanted, and nobody labelling anything.
//!
//! **The series.** NAB's `realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv`
//! (14 days of 5-minute CPU, mostly 85–99 %) put on a regular 300 s grid
//! from a midnight (the file's clock drifts a few minutes a day); its outage
//! of 2014-04-16 (rows 1767–1896, CPU near 24 % for 11 h) is cut out and the
//! 13 days of ordinary load left are tiled — the background. The daily
//! spike is the first hour of that outage (rows 1768–1779, 12 points, the
//! drop as recorded), overwriting the background's points so that it ends
//! at 10:35 UTC on each of days 1–12. The one-off of another shape is a
//! burst: 15 minutes (3 points) at 400, ending at 20:00 on day 12 — after
//! day 12's spike rather than on day 11 as the issue words it, because a
//! burst on day 11 sits in the 24 h window of day 12's spike and the
//! Analyzer then no longer finds that spike anomalous at all (untrained
//! too), leaving nothing to deflect. (Tried and rejected as the one-off:
//! a drop to 0 on day 11 and the spike turned upside down on day 12 were
//! both deflected by a features profile at their first anomalous point —
//! on a day of 5-minute points one changed point moves the features sum by
//! less than the 1 % a features profile allows, as in the reference.)
//!
//! The sporadic rule (§5) runs on the same background with the spike at
//! irregular times, each metric's anomalies re-checked over 168 h as the
//! reference's Mirage does, so that only anomalies found on about 7 days
//! of data are compared (the reference's threshold).
//!
//! The learn service is then fed the checks that run made, over a real
//! broker, and must learn the same profiles (same ids, parents and
//! generations); a second deployment fed the same log learns them again
//! (a replay), and disabling a lineage's first profile disables its chain.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use evaluate::operator::Operator;
use evaluate::pipeline::{run_series, Log};
use learn::repetitive::REPETITIVE_DESCRIPTION;
use support::{consume_settled, consume_until, decoded, produce_checks, produce_events, Run};
use topics::{ProfileAction, ProfileEvent};
use uuid::Uuid;

const STEP: i64 = 300;
/// A midnight: 2023-11-14 00:00:00 UTC.
const T0: i64 = 1_699_920_000;
const DAY: i64 = 86_400;
/// The daily spike ends at 10:35 UTC.
const AT: i64 = 10 * 3_600 + 35 * 60;
const METRIC: &str = "aws.ec2.cpu_utilization";

fn nab_values() -> Vec<f64> {
    support::nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv")
        .iter()
        .map(|p| p.1)
        .collect()
}

/// The background: the file without its outage, tiled to `points`.
fn background(values: &[f64], points: usize) -> Vec<f64> {
    let ordinary: Vec<f64> = values[..1767]
        .iter()
        .chain(&values[1897..])
        .copied()
        .collect();
    ordinary.iter().copied().cycle().take(points).collect()
}

/// Overwrites `series` so that `shape` ends at timestamp `t`.
fn transplant(series: &mut [f64], t: i64, shape: &[f64]) {
    let end = usize::try_from((t - T0) / STEP).unwrap();
    series[end + 1 - shape.len()..=end].copy_from_slice(shape);
}

/// The end of the one-off burst: 20:00 on day 12.
const ONE_OFF_END: i64 = T0 + 12 * DAY + 20 * 3_600;

/// Days 0–13 with the daily spike on days 1–12 and the one-off.
fn series() -> Vec<(i64, f64)> {
    let values = nab_values();
    let spike = &values[1768..1780];
    let burst = vec![400.0; 3];
    let mut series = background(&values, (14 * DAY / STEP) as usize);
    for day in 1..=12 {
        transplant(&mut series, T0 + day * DAY + AT, spike);
    }
    transplant(&mut series, ONE_OFF_END, &burst);
    (0..).zip(series).map(|(i, v)| (T0 + i * STEP, v)).collect()
}

/// The one-off's `(start, end)`.
fn one_off() -> (i64, i64) {
    (ONE_OFF_END - 2 * STEP, ONE_OFF_END)
}

/// The `(start, end)` of day `day`'s spike.
fn spike_on(day: i64) -> (i64, i64) {
    let end = T0 + day * DAY + AT;
    (end - 11 * STEP, end)
}

/// The daily rule on (and `extra` TOML in `[learn.repetitive]`).
const DAILY: &str = "learn_repetitive_patterns = true\n";

/// The sporadic rule on, with the reference's threshold: only anomalies
/// found on about 7 days of data are compared, those the seasonal
/// re-check confirms (see [`SEASONAL_RULE`]).
const SPORADIC: &str = "find_repetitive_patterns = true\n";

/// The alert rule of the sporadic tests: anomalies re-checked over 168 h
/// (SECOND_ORDER_RESOLUTION_HOURS), as the reference's Mirage.
const SEASONAL_RULE: &str = "second_order_resolution_hours = 168\n";

fn config_file(repetitive: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("repetitive-{}.toml", uuid::Uuid::now_v7().simple()));
    let rule = if repetitive.contains("find_repetitive_patterns") {
        SEASONAL_RULE
    } else {
        ""
    };
    let text = format!(
        "[[alerts]]\npattern = \".*\"\nalerter = \"topic\"\nexpiration_time = 3600\n{rule}\n\
         [learn.repetitive]\n{repetitive}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// The untrained and the trained (repetitive rules on) runs of `points`.
fn run(repetitive: &str, points: &[(i64, f64)]) -> (Log, Log) {
    let config = stack::Config::load(Some(&config_file(repetitive))).unwrap();
    let pipeline = stack::services::evaluation_pipeline(&config).unwrap();
    assert!(pipeline.learn.repetitive.any());
    let none = Operator::none();
    let trained = run_series(&pipeline, METRIC, points, &[], &none);
    let untrained = run_series(&pipeline.untrained(), METRIC, points, &[], &none);
    (untrained, trained)
}

fn learnt(log: &Log) -> Vec<&ProfileEvent> {
    log.profiles
        .iter()
        .filter(|p| {
            p.action == ProfileAction::Learnt
                && p.description.as_deref() == Some(REPETITIVE_DESCRIPTION)
        })
        .collect()
}

fn alerted_in(log: &Log, (start, end): (i64, i64)) -> bool {
    log.alerts
        .iter()
        .any(|a| a.timestamp >= start && a.timestamp <= end)
}

fn deflected_in(log: &Log, (start, end): (i64, i64)) -> bool {
    log.matches
        .iter()
        .any(|m| m.matched && m.timestamp >= start && m.timestamp <= end)
}

/// `(profile, parent, generation)` of each learnt profile, by profile id.
fn lineage(events: &[&ProfileEvent]) -> BTreeMap<Uuid, (Option<Uuid>, u32)> {
    events
        .iter()
        .map(|e| (e.profile_id, (e.parent_id, e.generation)))
        .collect()
}

#[test]
fn daily_spikes_are_learnt_and_deflected_and_a_one_off_still_alerts() {
    let (untrained, trained) = run(DAILY, &series());
    let profiles = learnt(&trained);
    assert!(
        learnt(&untrained).is_empty(),
        "the untrained run learns nothing"
    );

    // Learnt by day 10 from the daily spikes alone (the one-off is never
    // part of a pattern), each profile the child of the one before it.
    let day_10_ends = (T0 + 11 * DAY) * 1000;
    assert!(
        profiles.iter().filter(|p| p.at_ms < day_10_ends).count() >= 3,
        "{} profiles",
        profiles.len()
    );
    let lineages = lineage(&profiles);
    for p in &profiles {
        let t = p.anomaly_timestamp.expect("an anomaly timestamp");
        assert!(
            (1..=12).any(|d| {
                let (s, e) = spike_on(d);
                (s..=e).contains(&t)
            }),
            "learnt from {t}, not a daily spike"
        );
        assert!(!p.validated && p.learn);
        match p.parent_id {
            None => assert_eq!(p.generation, 2),
            Some(parent) => assert_eq!(p.generation, lineages[&parent].1 + 1),
        }
    }

    // Days 11 and 12: the spikes alert untrained, are deflected trained.
    for day in [11, 12] {
        let spike = spike_on(day);
        assert!(alerted_in(&untrained, spike), "day {day} untrained");
        assert!(!alerted_in(&trained, spike), "day {day} still alerts");
        assert!(deflected_in(&trained, spike), "day {day} not deflected");
    }
    // The one-off alerts either way.
    assert!(alerted_in(&untrained, one_off()));
    let (a, b) = one_off();
    assert!(
        alerted_in(&trained, one_off()),
        "the one-off was deflected: {:?}",
        trained
            .matches
            .iter()
            .filter(|m| m.timestamp >= a && m.timestamp <= b + 3_600)
            .map(|m| (m.timestamp, m.matched, m.method))
            .collect::<Vec<_>>()
    );
    // Only the spikes before the pattern was learnt alert (days 1–3).
    let trained_spike_alerts = (1..=12)
        .filter(|d| alerted_in(&trained, spike_on(*d)))
        .count();
    assert!(
        trained_spike_alerts <= 3,
        "{trained_spike_alerts} spikes alerted"
    );
}

#[test]
fn an_excluded_metric_learns_nothing() {
    // EXCLUDE given (list form): the metric's namespace, with the default
    // list replaced.
    let excluded = format!("{DAILY}[learn.repetitive.exclude.\"aws.ec2\"]\n\"aws.ec2\" = []\n");
    let (_, trained) = run(&excluded, &series());
    assert!(learnt(&trained).is_empty());
    for day in 1..=12 {
        assert!(alerted_in(&trained, spike_on(day)), "day {day}");
    }
}

/// The learn service's settings with `repetitive` in `[learn.repetitive]`,
/// looking at its delayed work every second.
fn service_settings(repetitive: &str) -> String {
    format!("[learn]\npoll_seconds = 1\n\n[learn.repetitive]\n{repetitive}")
}

/// The learn service fed `checks` on a run of its own; returns the learnt
/// profile events it published and the run.
async fn learn_service(
    checks: &[topics::CheckRequest],
    expected: usize,
) -> (Vec<ProfileEvent>, Run) {
    let run = Run::new("repetitive", &service_settings(DAILY));
    produce_checks(&run, checks).await;
    let mut learn = run.spawn(&["learn"], "learn");
    let values = consume_settled(
        &run.kafka_config(),
        &run.topic("profiles"),
        expected,
        Duration::from_secs(5),
        Duration::from_secs(240),
    )
    .await;
    let _ = learn.kill();
    let _ = learn.wait();
    (decoded::<ProfileEvent>(&values), run)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_learn_service_learns_the_same_profiles_and_a_replay_again() {
    let (_, trained) = run(DAILY, &series());
    let expected = lineage(&learnt(&trained));
    assert!(!expected.is_empty());

    let (events, run) = learn_service(&trained.checks, expected.len()).await;
    let got = lineage(&events.iter().collect::<Vec<_>>());
    assert_eq!(got, expected, "the service: {}", run.log("learn"));
    assert!(events
        .iter()
        .all(|e| e.description.as_deref() == Some(REPETITIVE_DESCRIPTION)));

    // A replay of the same log into a new deployment: the same profiles.
    let (replayed, _) = learn_service(&trained.checks, expected.len()).await;
    assert_eq!(lineage(&replayed.iter().collect::<Vec<_>>()), expected);

    // Disabling a lineage's first profile disables its whole chain.
    let root = events
        .iter()
        .find(|e| e.parent_id.is_none() && events.iter().any(|c| c.parent_id == Some(e.profile_id)))
        .expect("a chain");
    let mut chain = vec![root.profile_id];
    while let Some(child) = events.iter().find(|e| e.parent_id == chain.last().copied()) {
        chain.push(child.profile_id);
    }
    let out = run
        .command(
            &["profile", "disable", &root.profile_id.to_string()],
            "disable",
        )
        .output()
        .expect("running skyline profile disable");
    assert!(out.status.success(), "{}", run.log("disable"));
    let values = consume_until(
        &run.kafka_config(),
        &run.topic("profiles"),
        Duration::from_secs(60),
        |v| {
            decoded::<ProfileEvent>(v)
                .iter()
                .filter(|e| e.action == ProfileAction::Disabled)
                .count()
                >= chain.len()
        },
    )
    .await;
    let mut disabled: Vec<Uuid> = decoded::<ProfileEvent>(&values)
        .iter()
        .filter(|e| e.action == ProfileAction::Disabled)
        .map(|e| e.profile_id)
        .collect();
    disabled.sort();
    chain.sort();
    assert_eq!(disabled, chain);
}

/// Three spikes at irregular times of day, 7.7 and 9.7 days apart, in
/// different weeks.
fn irregular() -> [i64; 3] {
    [
        T0 + 9 * DAY + 10 * 3_600 + 35 * 60,
        T0 + 17 * DAY + 3 * 3_600 + 10 * 60,
        T0 + 26 * DAY + 19 * 3_600 + 45 * 60,
    ]
}

/// Days of series the sporadic tests run: the long window (30 days)
/// still holds the first spike's week when the last is decided.
const SPORADIC_DAYS: i64 = 28;

/// `days` of background with the spike ending at each of `times`.
fn spikes_at(times: &[i64], days: i64) -> Vec<(i64, f64)> {
    let values = nab_values();
    let spike = &values[1768..1780];
    let mut series = background(&values, (days * DAY / STEP) as usize);
    for &t in times {
        transplant(&mut series, t, spike);
    }
    (0..).zip(series).map(|(i, v)| (T0 + i * STEP, v)).collect()
}

/// Whether `t` lies within the spike ending at one of `times`.
fn in_a_spike(times: &[i64], t: i64) -> bool {
    times.iter().any(|&e| (e - 11 * STEP..=e).contains(&t))
}

#[test]
fn sporadic_spikes_in_different_weeks_are_learnt_and_in_one_week_not() {
    let times = irregular();
    let (untrained, trained) = run(SPORADIC, &spikes_at(&times, SPORADIC_DAYS));
    assert!(learnt(&untrained).is_empty());
    let profiles = learnt(&trained);
    assert!(profiles.len() >= 2, "{} profiles", profiles.len());
    for p in &profiles {
        let t = p.anomaly_timestamp.expect("an anomaly timestamp");
        assert!(in_a_spike(&times, t), "learnt from {t}");
        assert_eq!(p.full_duration, 7 * DAY);
        // Decided once the anomaly was find_delay (4500 s) old, and never
        // from two anomalies of one week.
        assert!(p.at_ms >= (t + 4_500) * 1000);
    }
    let weeks: Vec<i64> = profiles
        .iter()
        .filter_map(|p| p.anomaly_timestamp)
        .collect();
    assert!(
        weeks.windows(2).all(|w| w[1] - w[0] >= 7 * DAY),
        "{weeks:?}"
    );
    // Learnt as soon as a second week's spike came: a spike that lasts is
    // several anomalies, and the rule counts anomalies (each needs two
    // similar partners at least 7 days away).
    assert!(profiles.iter().all(|p| p.at_ms > times[1] * 1000));

    // Three spikes in one week: nothing.
    let one_week = [
        T0 + 8 * DAY + 2 * 3_600,
        T0 + 10 * DAY + 14 * 3_600,
        T0 + 12 * DAY + 7 * 3_600 + 20 * 60,
    ];
    let (_, trained) = run(SPORADIC, &spikes_at(&one_week, 14));

    let compared = trained
        .anomalies
        .iter()
        .filter(|a| in_a_spike(&one_week, a.timestamp) && a.full_duration >= 7 * DAY - 3_600)
        .count();
    assert!(compared >= 3, "{compared} spike anomalies found on 7 days");
    assert!(learnt(&trained).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_learn_service_finds_the_same_sporadic_pattern() {
    let times = irregular();
    let points = spikes_at(&times, SPORADIC_DAYS);
    let (_, trained) = run(SPORADIC, &points);
    let expected = lineage(&learnt(&trained));
    assert!(!expected.is_empty());

    // The windows folded, then the anomalies on their topic.
    let run = Run::new("sporadic", &service_settings(SPORADIC));
    let datapoints: Vec<topics::Datapoint> = points
        .iter()
        .map(|&(timestamp, value)| topics::Datapoint {
            metric: METRIC.to_owned(),
            timestamp,
            value,
        })
        .collect();
    let windows = run.windows().await;
    for chunk in datapoints.chunks(1_000) {
        windows.fold(chunk).await.unwrap();
    }
    let kafka = run.kafka_config();
    let names = run.topic_names();
    produce_events(&run, &names.anomalies, &trained.anomalies, |a| &a.metric).await;
    let mut learn = run.spawn(&["learn"], "learn");
    let values = consume_settled(
        &kafka,
        &names.profiles,
        expected.len(),
        Duration::from_secs(5),
        Duration::from_secs(240),
    )
    .await;
    let _ = learn.kill();
    let _ = learn.wait();
    windows.clear().await.unwrap();
    let events = decoded::<ProfileEvent>(&values);
    assert_eq!(
        lineage(&events.iter().collect::<Vec<_>>()),
        expected,
        "{}",
        run.log("learn")
    );
}
