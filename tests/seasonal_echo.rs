//! A seasonal metric from imported history to an echo deflection, every
//! service the real `skyline` binary against the real broker, Redis and a
//! SQLite projections file:
//!
//! 1. two weeks of NAB `art_daily_jumpsup` (one daily shape, a jump up on
//!    day 10) are imported with `skyline import` and folded by the
//!    Analyzer into the windows (no alert rule matches it, so the Analyzer
//!    only records); `skyline seasonal` can judge a week at once;
//! 2. a seasonal check at the end of day 6 whose last point spikes (what
//!    the Analyzer would send) is still anomalous over 168 h: the seasonal
//!    service alerts (Mirage) and hands fingerprint a training check;
//! 3. an operator labels that check not anomalous (`skyline label`): the
//!    learn service makes its 7-day profile and its 24-hour echo profile;
//! 4. a week later, a check whose week holds the jump but whose last day
//!    recurs (slightly perturbed, the same spike) is deflected **by echo**;
//!    a check whose last day is the jump itself alerts, with the seasonal
//!    subject.
//!
//! The daily-peak override is off (it has its own reference test): the
//! jump days of the recurring check's week make its spike look like one
//! of several daily peaks, and the subject here is echo. Motifs are off
//! too: they come first (`spec/ionosphere.md` §5) and, the
//! series being daily-periodic, would find the end of the check's week
//! inside the 7-day profile before echo is reached.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{consume_until, decoded, Run, Services};
use topics::ids::echo_profile_id;
use topics::kafka::{ensure_topics, KafkaConfig};
use topics::{
    AlertEvent, CheckRequest, MatchMethod, MatchResult, ProfileAction, ProfileEvent,
    SeasonalOutcome, SeasonalResult, SeriesPoint, SourceApp,
};

const DAY: i64 = 86_400;
const METRIC: &str = "nab.art_daily_jumpsup";
const SERIES: &str = "artificialWithAnomaly/art_daily_jumpsup.csv";

async fn read<E: topics::codec::Event>(
    kafka: &KafkaConfig,
    topic: &str,
    done: impl Fn(&[E]) -> bool,
) -> Vec<E> {
    let values = consume_until(kafka, topic, Duration::from_secs(120), |v| {
        done(&decoded::<E>(v))
    })
    .await;
    decoded(&values)
}

/// The day up to `t`, each value scaled by `scale` with a wobble of
/// `amplitude` (relative), its last point `spike` times the day's highest.
fn day_check(
    series: &[(i64, f64)],
    t: i64,
    scale: f64,
    amplitude: f64,
    spike: f64,
) -> Vec<SeriesPoint> {
    let mut day: Vec<SeriesPoint> = series
        .iter()
        .filter(|p| p.0 > t - DAY && p.0 <= t)
        .enumerate()
        .map(|(k, &(timestamp, v))| SeriesPoint {
            timestamp,
            value: v * scale * (1.0 + amplitude * ((k as f64) * 0.7).sin()),
        })
        .collect();
    let highest = day.iter().map(|p| p.value).fold(f64::MIN, f64::max);
    if let Some(last) = day.last_mut() {
        last.value = highest * spike;
    }
    day
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_labelled_seasonal_check_deflects_its_recurring_day_by_echo() {
    let extra = r#"
[[alerts]]
pattern = "nothing-matches-this"
alerter = "topic"

[seasonal]
checks_per_minute = 100000
stale_seconds = 3600
check_repetitive_daily_peaks = 0

[fingerprint]
motifs_enabled = false

[fingerprint_service]
profiles_idle_ms = 1000

[learn]
poll_seconds = 1
"#;
    let run = Run::new("seasonecho", extra);
    let kafka = run.kafka_config();
    let names = run.topic_names();
    ensure_topics(&kafka, &names.all(), None).await.unwrap();
    let sqlite = run.dir.join("projections.sqlite");
    let sqlite_arg = sqlite.to_str().unwrap().to_owned();
    let windows = run.windows().await;

    // 1. Import the history; the Analyzer folds it.
    let series = support::nab(SERIES);
    let file = support::shared_data().join("nab").join(SERIES);
    let imported = run
        .command(
            &["import", file.to_str().unwrap(), "--metric", METRIC],
            "import",
        )
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", run.log("import"));
    let services = Services(vec![
        run.spawn(&["analyze"], "analyze"),
        run.spawn(&["seasonal"], "seasonal"),
        run.spawn(&["project", "--sqlite", &sqlite_arg], "project"),
        run.spawn(&["fingerprint"], "fingerprint"),
        run.spawn(&["learn"], "learn"),
    ]);
    let newest = series[series.len() - 1].0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while windows.windows(&[METRIC]).await.unwrap()[0]
        .last()
        .map(|p| p.0)
        != Some(newest)
    {
        assert!(Instant::now() < deadline, "{}", run.log("analyze"));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        windows.rollup(METRIC).await.unwrap().len() > 7 * 144,
        "a week and more rolled up"
    );

    // 2. A spike at the end of day 6, judged over the week at once.
    let t0 = series[0].0 + 7 * DAY - 300;
    let first = support::seasonal_check(METRIC, t0, day_check(&series, t0, 1.0, 0.0, 10.0));
    support::produce_checks(&run, std::slice::from_ref(&first)).await;
    let results: Vec<SeasonalResult> = read(&kafka, &names.seasonal, |r| !r.is_empty()).await;
    let verdict = &results[0];
    assert_eq!(
        (verdict.outcome, verdict.hours),
        (SeasonalOutcome::Anomalous, 168),
        "{} {:?}\n{}",
        verdict.reason,
        verdict.triggered_algorithms,
        run.log("seasonal")
    );
    assert_eq!(verdict.resolution, 600);
    let training = verdict.fingerprint_check_id.expect("a training check");
    let alerts: Vec<AlertEvent> = read(&kafka, &names.alerts, |a| !a.is_empty()).await;
    assert_eq!(alerts[0].source, SourceApp::Seasonal);
    assert_eq!(alerts[0].anomaly_id, verdict.seasonal_anomaly_id.unwrap());
    assert_eq!(
        alert::message::subject(&alerts[0]),
        format!("[Skyline] - Mirage - {METRIC}")
    );

    // 3. Label the training check once the projections hold it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(env!("CARGO_BIN_EXE_skyline"))
            .args(["label", &training.to_string(), "--not-anomalous"])
            .args(["--sqlite", &sqlite_arg, "--operator", "e2e"])
            .arg("--config")
            .arg(&run.config)
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "label never found the check: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            run.log("project")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let profiles: Vec<ProfileEvent> = read(&kafka, &names.profiles, |p| p.len() >= 2).await;
    let own = profiles
        .iter()
        .find(|p| p.action == ProfileAction::Created && p.parent_id.is_none())
        .unwrap_or_else(|| panic!("no profile: {profiles:#?}\n{}", run.log("learn")));
    assert_eq!(own.full_duration, 7 * DAY);
    let echo = profiles
        .iter()
        .find(|p| p.profile_id == echo_profile_id(own.profile_id))
        .unwrap_or_else(|| panic!("no echo profile: {profiles:#?}\n{}", run.log("learn")));
    assert_eq!(
        (
            echo.full_duration,
            echo.generation,
            echo.parent_id,
            echo.description.as_deref()
        ),
        (DAY, own.generation + 1, Some(own.profile_id), Some("echo"))
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !windows.fingerprint_enabled(&[METRIC]).await.unwrap()[0] {
        assert!(Instant::now() < deadline, "{}", run.log("fingerprint"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 4. A week later, the same day again (slightly different, the same
    //    spike), in a week that holds the jump; and a check ending on the
    //    jump.
    let t1 = t0 + 7 * DAY;
    let recurring = support::seasonal_check(METRIC, t1, day_check(&series, t1, 1.01, 0.05, 10.0));
    let t2 = series[0].0 + 11 * DAY - 300;
    let jump = support::seasonal_check(METRIC, t2, day_check(&series, t2, 1.0, 0.0, 10.0));
    support::produce_checks(&run, &[recurring.clone(), jump.clone()]).await;
    let results: Vec<SeasonalResult> = read(&kafka, &names.seasonal, |r| r.len() >= 3).await;
    let result_of = |c: &CheckRequest| {
        results
            .iter()
            .find(|r| r.check_id == c.id)
            .unwrap_or_else(|| panic!("no verdict on {}: {results:#?}", c.timestamp))
            .clone()
    };
    let (r1, r2) = (result_of(&recurring), result_of(&jump));
    assert_eq!(
        (r1.outcome, r2.outcome),
        (SeasonalOutcome::Anomalous, SeasonalOutcome::Anomalous),
        "{} {:?} / {} {:?}",
        r1.reason,
        r1.triggered_algorithms,
        r2.reason,
        r2.triggered_algorithms
    );
    let (f1, f2) = (
        r1.fingerprint_check_id.unwrap(),
        r2.fingerprint_check_id.unwrap(),
    );
    let matches: Vec<MatchResult> = read(&kafka, &names.matches, |m: &[MatchResult]| {
        m.iter().any(|m| m.check_id == f1) && m.iter().any(|m| m.check_id == f2)
    })
    .await;
    let match_of = |id| matches.iter().find(|m| m.check_id == id).unwrap().clone();
    let (m1, m2) = (match_of(f1), match_of(f2));
    eprintln!("recurring day: {m1:?}\njump day: {m2:?}");
    assert!(
        m1.matched && m1.echo,
        "the recurring day is deflected by echo: {m1:?}"
    );
    assert_eq!(m1.profile_id, Some(echo.profile_id));
    assert!(matches!(
        m1.method,
        MatchMethod::FeaturesProfile | MatchMethod::MinMax
    ));
    assert!(!m2.matched, "the jump day is not deflected: {m2:?}");

    let alerts: Vec<AlertEvent> = read(&kafka, &names.alerts, |a: &[AlertEvent]| {
        a.iter()
            .any(|a| Some(a.anomaly_id) == r2.seasonal_anomaly_id)
    })
    .await;
    drop(services);
    let jump_alert = alerts
        .iter()
        .find(|a| Some(a.anomaly_id) == r2.seasonal_anomaly_id)
        .unwrap();
    assert_eq!(
        (jump_alert.source, jump_alert.fingerprinted),
        (SourceApp::Seasonal, true)
    );
    assert_eq!(
        alert::message::subject(jump_alert),
        format!("[Skyline] - Ionosphere - {METRIC}")
    );
    assert!(
        !alerts
            .iter()
            .any(|a| Some(a.anomaly_id) == r1.seasonal_anomaly_id),
        "the deflected check alerted"
    );
    windows.clear().await.unwrap();
}
