//! The whole loop with real components: the analyzer flags a real series'
//! first anomaly and emits its (training) fingerprint check, the
//! projections fold it, an operator labels it with `skyline label
//! --not-anomalous --learn`, the learn service makes the profile (and its
//! generation-1 learnt child), the fingerprint service turns the metric
//! ionosphere-enabled — and the series' later anomalies that look like the
//! labelled one are deflected while the different ones still alert.
//!
//! Every service runs as the real `skyline` binary against the real broker,
//! Redis and a SQLite projections file.

#[path = "support/fingerprint.rs"]
mod fp;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{consume_until, nab, Run, Services};
use topics::codec::decode;
use topics::kafka::{ensure_topics, KafkaConfig};
use topics::{
    AlertEvent, AnomalyEvent, CheckRequest, CheckTarget, MatchResult, ProfileAction, ProfileEvent,
    SourceApp,
};
use uuid::Uuid;

const METRIC: &str = "e2e.ec2.cpu";
const SERIES: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
const ALERTERS: [&str; 2] = ["ops-mail", "topic"];

fn kafka(run: &Run) -> KafkaConfig {
    KafkaConfig {
        group_id_prefix: run.id.clone(),
        ..run.kafka_config()
    }
}

fn decoded<E: topics::codec::Event>(values: &[Vec<u8>]) -> Vec<E> {
    values.iter().filter_map(|v| decode::<E>(v).ok()).collect()
}

async fn read<E: topics::codec::Event>(
    kafka: &KafkaConfig,
    topic: &str,
    timeout: Duration,
    done: impl Fn(&[E]) -> bool,
) -> Vec<E> {
    let values = consume_until(kafka, topic, timeout, |v| done(&decoded::<E>(v))).await;
    decoded(&values)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_labelled_anomaly_deflects_its_lookalikes_and_the_rest_alerts() {
    let started = Instant::now();
    // "ops-mail" is declared as an smtp alerter; no alerter service runs
    // here, the alerts on the topic are what is checked.
    let mut rules = String::from(
        "\n[[alerters]]\nkind = \"smtp\"\nname = \"ops-mail\"\nhost = \"127.0.0.1\"\nsender = \"skyline@example.org\"\ndefault_recipients = [\"ops@example.org\"]\n",
    );
    for a in ALERTERS {
        rules.push_str(&format!(
            "\n[[alerts]]\npattern = \"e2e\"\nalerter = \"{a}\"\nexpiration_time = 0\n"
        ));
    }
    // One anomaly per flagged point (PANORAMA_EXPIRY_TIME off): the
    // lookalikes in the labelled burst are what is deflected, so each needs
    // its own check.
    let extra = format!(
        r#"{rules}
[analyzer]
panorama_expiry_time = 0

[learn]
learn_full_duration_days = 5
valid_ts_older_than = 0
poll_seconds = 1

[fingerprint_service]
profiles_idle_ms = 1000
max_batch = 10
"#
    );
    let run = Run::new("e2e", &extra);
    let kafka = kafka(&run);
    let names = run.topic_names();
    ensure_topics(&kafka, &names.all(), Some(3)).await.unwrap();
    let sqlite = run.dir.join("projections.sqlite");
    let sqlite_arg = sqlite.to_str().unwrap().to_owned();
    let windows = run.windows().await;

    // What the analyzer will flag, from the backtest of the same file.
    let file = support::shared_data().join("nab").join(SERIES);
    let flagged = support::backtest_anomalies(&file);
    assert!(flagged.len() >= 3, "{flagged:?}");
    let first = flagged[0];
    let series = nab(SERIES);
    let split = series.iter().position(|p| p.0 == first).unwrap() + 1;

    let mut services = Services(vec![
        run.spawn(&["analyze"], "analyze"),
        run.spawn(&["project", "--sqlite", &sqlite_arg], "project"),
        run.spawn(&["fingerprint"], "fingerprint"),
        run.spawn(&["learn"], "learn"),
    ]);

    // 1. The series up to its first anomaly: one anomaly, alerted by the
    //    analyzer, with a training check to label.
    support::produce_datapoints(&kafka, &names.datapoints, METRIC, &series[..split]).await;
    let checks: Vec<CheckRequest> = read(&kafka, &names.checks, Duration::from_secs(90), |c| {
        !c.is_empty()
    })
    .await;
    assert_eq!(checks.len(), 1, "one check so far: {checks:#?}");
    let training = checks[0].clone();
    assert_eq!(training.timestamp, first);
    assert_eq!(training.target, CheckTarget::Fingerprint);
    assert!(
        training.alerts.is_empty(),
        "a training check alerts nothing"
    );

    // 2. Label it once the projections have folded it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let label_out = loop {
        let out = Command::new(env!("CARGO_BIN_EXE_skyline"))
            .args([
                "label",
                &training.id.to_string(),
                "--not-anomalous",
                "--learn",
            ])
            .args(["--sqlite", &sqlite_arg, "--operator", "e2e"])
            .arg("--config")
            .arg(&run.config)
            .output()
            .unwrap();
        if out.status.success() {
            break out;
        }
        assert!(
            Instant::now() < deadline,
            "label never found the check: {}\nproject log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            run.log("project")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!("{}", String::from_utf8_lossy(&label_out.stdout).trim());

    // The learn service makes the profile and, from the long window, its
    // generation-1 learnt child.
    let profiles: Vec<ProfileEvent> = read(
        &kafka,
        &names.profiles,
        Duration::from_secs(90),
        |p: &[ProfileEvent]| p.iter().any(|e| e.action == ProfileAction::Learnt),
    )
    .await;
    let created = profiles
        .iter()
        .find(|p| p.action == ProfileAction::Created)
        .unwrap_or_else(|| panic!("no profile made: {profiles:#?}\n{}", run.log("learn")));
    assert_eq!(created.metric, METRIC);
    assert_eq!(created.generation, 0);
    assert!(created.learn);
    let learnt = profiles
        .iter()
        .find(|p| p.action == ProfileAction::Learnt)
        .unwrap_or_else(|| panic!("nothing learnt: {profiles:#?}\n{}", run.log("learn")));
    assert_eq!(learnt.parent_id, Some(created.profile_id));
    assert_eq!(learnt.generation, 1);
    assert_eq!(learnt.full_duration, 5 * 86_400);
    // No more learning while the rest is judged: the verdicts then depend
    // on these two profiles only.
    let mut learner = services.0.pop().unwrap();
    let _ = learner.kill();
    let _ = learner.wait();

    // The fingerprint service turns the metric ionosphere-enabled.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !windows.fingerprint_enabled(&[METRIC]).await.unwrap()[0] {
        assert!(Instant::now() < deadline, "{}", run.log("fingerprint"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 3. The rest of the series: more anomalies in the same burst as the
    //    labelled one (lookalike windows), and a burst half a day later with
    //    a different shape.
    support::produce_datapoints(&kafka, &names.datapoints, METRIC, &series[split..]).await;
    let want = flagged.len();
    let anomalies: Vec<AnomalyEvent> =
        read(&kafka, &names.anomalies, Duration::from_secs(90), |a| {
            a.len() >= want
        })
        .await;
    let anomaly_ids: BTreeSet<Uuid> = anomalies.iter().map(|a| a.id).collect();
    let checks: Vec<CheckRequest> = read(&kafka, &names.checks, Duration::from_secs(60), |c| {
        c.len() >= anomalies.len()
    })
    .await;
    let check_ids: BTreeSet<Uuid> = checks.iter().map(|c| c.id).collect();
    let matches: Vec<MatchResult> = read(
        &kafka,
        &names.matches,
        Duration::from_secs(90),
        |m: &[MatchResult]| m.iter().map(|m| m.check_id).collect::<BTreeSet<_>>() == check_ids,
    )
    .await;
    // Every alert expected: each alerter's for the anomalies not deflected
    // (the training one included). Any alert of a deflected anomaly would
    // have been published with its verdict, before these.
    let verdict: BTreeMap<Uuid, &MatchResult> = matches.iter().map(|m| (m.check_id, m)).collect();
    let undeflected: BTreeSet<Uuid> = checks
        .iter()
        .filter(|c| verdict.get(&c.id).is_some_and(|m| !m.matched))
        .map(|c| c.anomaly_id)
        .collect();
    let expected_alerts = undeflected.len() * ALERTERS.len();
    let alerts: Vec<AlertEvent> = read(
        &kafka,
        &names.alerts,
        Duration::from_secs(60),
        |a: &[AlertEvent]| a.iter().map(|a| a.id).collect::<BTreeSet<_>>().len() >= expected_alerts,
    )
    .await
    .into_iter()
    .filter(|a| anomaly_ids.contains(&a.anomaly_id))
    .collect();
    drop(services);

    let mut alerted: BTreeMap<Uuid, BTreeSet<&str>> = BTreeMap::new();
    for a in &alerts {
        assert_eq!(a.source, SourceApp::Analyzer);
        alerted
            .entry(a.anomaly_id)
            .or_default()
            .insert(a.alerter.as_str());
    }
    let all_alerters: BTreeSet<&str> = ALERTERS.into_iter().collect();
    let (mut matched, mut unmatched) = (0, 0);
    let (mut matched_at, mut unmatched_at) = (Vec::new(), Vec::new());
    for c in checks.iter().filter(|c| c.id != training.id) {
        let m = verdict[&c.id];
        assert_eq!(c.target, CheckTarget::Fingerprint);
        if m.matched {
            matched += 1;
            matched_at.push(c.timestamp);
            assert!(
                m.profile_id == Some(created.profile_id) || m.profile_id == Some(learnt.profile_id),
                "{m:?}"
            );
            assert!(
                !alerted.contains_key(&c.anomaly_id),
                "a deflected anomaly alerted: {m:?}"
            );
        } else {
            unmatched += 1;
            unmatched_at.push(c.timestamp);
            assert!(m.profiles_checked >= 1, "{m:?}");
            assert_eq!(
                alerted.get(&c.anomaly_id),
                Some(&all_alerters),
                "an undeflected anomaly alerts on every alerter: {m:?}"
            );
        }
    }
    // The training check: judged against nothing, alerted by the analyzer.
    let t = verdict[&training.id];
    assert!(!t.matched && t.profiles_checked == 0, "{t:?}");
    assert_eq!(alerted.get(&training.anomaly_id), Some(&all_alerters));

    println!(
        "label_to_deflection: anomalies {}, checks {}, matched {matched}, not matched {unmatched} \
         (+1 training check), alerts {}, profiles {} created + {} learnt, {:.1}s",
        anomalies.len(),
        checks.len(),
        alerts.len(),
        profiles
            .iter()
            .filter(|p| p.action == ProfileAction::Created)
            .count(),
        profiles
            .iter()
            .filter(|p| p.action == ProfileAction::Learnt)
            .count(),
        started.elapsed().as_secs_f64()
    );
    println!("matched at {matched_at:?}\nnot matched at {unmatched_at:?}");
    assert_eq!(
        anomalies.len(),
        want,
        "the analyzer flags what backtest does"
    );
    assert_eq!(checks.len(), anomalies.len(), "every anomaly has its check");
    assert!(matched >= 1, "lookalikes are deflected");
    assert!(unmatched >= 1, "something different still alerts");
    assert!(
        matched_at.iter().all(|&t| t - first <= 2 * 3600),
        "only the labelled burst's lookalikes are deflected: {matched_at:?}"
    );
    assert!(
        unmatched_at.iter().any(|&t| t - first >= 12 * 3600),
        "the later, different burst alerts: {unmatched_at:?}"
    );
    windows.clear().await.unwrap();
}
