//! `skyline evaluate` decides as the real services do: one real NAB series
//! is evaluated in-process with the oracle operator, then fed to the real
//! `analyze`, `fingerprint` and `learn` services (the real broker, Redis)
//! with the oracle's labels produced at the data times it made them — and
//! the services publish exactly the anomalies, checks, verdicts, alerts and
//! profiles, ids included, that the evaluation put on its in-memory log.
//!
//! The stream is fed in stages, one per label: the points before the
//! label's data time, then (once the Analyzer has folded them) the label,
//! then (once the profile is made and the metric is ionosphere-enabled) the
//! next stage — the timeline `evaluate` runs (`evaluate/src/pipeline.rs`).
//! The labels carry no LEARN: the learn service's delayed learning waits
//! on the wall clock, which a replay of history does not share with data
//! time.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use evaluate::operator::{Operator, OperatorKind};
use evaluate::pipeline::run_series;
use evaluate::windows_file::LabelledWindows;
use support::{consume_until, decoded, nab, Run, Services};
use topics::ids::label_profile_id;
use topics::kafka::{ensure_topics, keyed_messages, KafkaConfig, Producer};
use topics::{AlertEvent, AnomalyEvent, CheckRequest, MatchResult, ProfileEvent};
use uuid::Uuid;

const SERIES: &str = "realAWSCloudwatch/ec2_cpu_utilization_77c1ca.csv";
const METRIC: &str = "evaluate.ec2_cpu_utilization_77c1ca";

fn kafka(run: &Run) -> KafkaConfig {
    KafkaConfig {
        group_id_prefix: run.id.clone(),
        ..run.kafka_config()
    }
}

/// Every id on `topic` once `want` distinct ones are there (or the
/// timeout passed).
async fn ids_on<E: topics::codec::Event>(
    kafka: &KafkaConfig,
    topic: &str,
    want: usize,
    id: impl Fn(&E) -> Uuid,
) -> BTreeSet<Uuid> {
    let values = consume_until(kafka, topic, Duration::from_secs(90), |v| {
        decoded::<E>(v)
            .iter()
            .map(&id)
            .collect::<BTreeSet<_>>()
            .len()
            >= want
    })
    .await;
    decoded::<E>(&values).iter().map(id).collect()
}

/// Waits until the Analyzer has folded the point at `newest` (it folds a
/// batch after publishing its decisions).
async fn folded(windows: &windows::Windows, newest: i64, run: &Run) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let w = windows.windows_after(&[(METRIC, 0)]).await.unwrap();
        if w[0].last().is_some_and(|p| p.0 >= newest) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the Analyzer never folded {newest}:\n{}",
            run.log("analyze")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_services_decide_what_evaluate_decided() {
    let started = Instant::now();
    let run = Run::new(
        "evaluate-e2e",
        "\n[learn]\npoll_seconds = 1\n\n[fingerprint_service]\nprofiles_idle_ms = 1000\n",
    );
    let kafka = kafka(&run);
    let names = run.topic_names();
    ensure_topics(&kafka, &names.all(), Some(3)).await.unwrap();
    let windows = run.windows().await;

    // 1. The evaluation, in-process, with the services' configuration.
    let config = stack::Config::load(Some(&run.config)).unwrap();
    let pipeline = stack::services::evaluation_pipeline(&config).unwrap();
    let labelled =
        LabelledWindows::read(&support::shared_data().join("nab/labels_windows.json")).unwrap();
    let file = support::shared_data().join("nab").join(SERIES);
    let (_, found) = labelled.for_series(&file).unwrap().expect("a NAB key");
    let series = nab(SERIES);
    let oracle = Operator {
        kind: OperatorKind::Oracle,
        budget: 3,
        delay: 3_600,
        learn: false,
        layers: false,
    };
    let log = run_series(&pipeline, METRIC, &series, found, &oracle);
    let deflected = log.matches.iter().filter(|m| m.matched).count();
    assert!(
        !log.labels.is_empty() && deflected > 0,
        "the series must exercise labels and deflections: {} labels, {deflected} deflections",
        log.labels.len()
    );

    // 2. The real services, fed the same stream in stages.
    let _services = Services(vec![
        run.spawn(&["analyze"], "analyze"),
        run.spawn(&["fingerprint"], "fingerprint"),
        run.spawn(&["learn"], "learn"),
    ]);
    let producer = Producer::new(&kafka).unwrap();
    let mut from = 0;
    for label in &log.labels {
        let at = label.labelled_at_ms / 1_000;
        let to = series.partition_point(|p| p.0 < at);
        if to > from {
            support::produce_datapoints(&kafka, &names.datapoints, METRIC, &series[from..to]).await;
            folded(&windows, series[to - 1].0, &run).await;
            from = to;
        }
        let records = keyed_messages(std::slice::from_ref(label), |l| &l.metric).unwrap();
        producer.send_batch(&names.labels, records).await.unwrap();
        let profile = label_profile_id(label.id, fingerprint::FEATURES_VERSION);
        let profiles = consume_until(&kafka, &names.profiles, Duration::from_secs(60), |v| {
            decoded::<ProfileEvent>(v)
                .iter()
                .any(|p| p.profile_id == profile)
        })
        .await;
        assert!(
            decoded::<ProfileEvent>(&profiles)
                .iter()
                .any(|p| p.profile_id == profile),
            "no profile from label {}:\n{}",
            label.id,
            run.log("learn")
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while !windows.fingerprint_enabled(&[METRIC]).await.unwrap()[0] {
            assert!(Instant::now() < deadline, "{}", run.log("fingerprint"));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // The fingerprint service follows the profiles topic: give it the
        // time to fold this one before the next check arrives.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    support::produce_datapoints(&kafka, &names.datapoints, METRIC, &series[from..]).await;
    folded(&windows, series[series.len() - 1].0, &run).await;

    // 3. The same events, by id.
    let want = |ids: Vec<Uuid>| ids.into_iter().collect::<BTreeSet<Uuid>>();
    let anomalies = want(log.anomalies.iter().map(|a| a.id).collect());
    let checks = want(log.checks.iter().map(|c| c.id).collect());
    let matches = want(log.matches.iter().map(|m| m.id).collect());
    let alerts = want(log.alerts.iter().map(|a| a.id).collect());
    let profiles = want(log.profiles.iter().map(|p| p.id).collect());
    let real_matches = ids_on(&kafka, &names.matches, matches.len(), |m: &MatchResult| {
        m.id
    })
    .await;
    let real_checks = ids_on(&kafka, &names.checks, checks.len(), |c: &CheckRequest| c.id).await;
    let real_anomalies = ids_on(
        &kafka,
        &names.anomalies,
        anomalies.len(),
        |a: &AnomalyEvent| a.id,
    )
    .await;
    let real_alerts = ids_on(&kafka, &names.alerts, alerts.len(), |a: &AlertEvent| a.id).await;
    let real_profiles = ids_on(
        &kafka,
        &names.profiles,
        profiles.len(),
        |p: &ProfileEvent| p.id,
    )
    .await;
    assert_eq!(real_anomalies, anomalies, "anomalies");
    assert_eq!(real_checks, checks, "checks");
    assert_eq!(
        real_matches, matches,
        "verdicts (their ids name the profiles considered)"
    );
    assert_eq!(real_alerts, alerts, "alerts");
    assert_eq!(real_profiles, profiles, "profiles");
    println!(
        "evaluate_e2e: {} points, {} labels, {} anomalies, {} checks, {} verdicts ({deflected} deflections), {} alerts, equal; {:.1}s",
        series.len(),
        log.labels.len(),
        anomalies.len(),
        checks.len(),
        matches.len(),
        alerts.len(),
        started.elapsed().as_secs_f64()
    );
    windows.clear().await.unwrap();
}
