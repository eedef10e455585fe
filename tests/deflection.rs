//! The fingerprint service against a real Kafka-protocol broker and a real
//! Redis: a profile made from one day of a real daily series deflects
//! another day of it, lets a different series through with its alerts,
//! returns checks of unprofiled metrics to sender, keeps the
//! ionosphere-enabled flags, and re-decides a re-consumed check with the
//! same ids.

#[path = "support/fingerprint.rs"]
mod fp;
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fingerprint::matching::MatchSettings;
use fingerprint::service::{Fingerprinter, ServiceSettings};
use fp::{check, day_window, produce, profile, verdicts, CPU, DAILY, NOISY};
use support::{consume_until, Run};
use topics::codec::decode;
use topics::ids::{alert_id, match_id};
use topics::kafka::{ensure_topics, KafkaConfig, Producer};
use topics::{AlertEvent, MatchMethod, ProfileAction, ProfileEvent, SourceApp};
use uuid::Uuid;
use windows::{RedisWindows, WindowSettings, Windows};

const PROFILED: &str = "deflect.daily";
const UNPROFILED: &str = "deflect.unprofiled";
const LATER: &str = "deflect.later";

fn kafka(run: &Run) -> KafkaConfig {
    KafkaConfig {
        session_timeout_ms: 6_000,
        group_id_prefix: run.id.clone(),
        ..run.kafka_config()
    }
}

async fn windows(run: &Run) -> Arc<Windows> {
    let settings = WindowSettings {
        key_prefix: run.id.clone(),
        ..Default::default()
    };
    Arc::new(Windows::Redis(
        RedisWindows::connect(&support::redis(), settings)
            .await
            .unwrap(),
    ))
}

/// Starts a fingerprint service (consumer `consumer`) in a task; the sender
/// stops it.
fn start(
    run: &Run,
    windows: Arc<Windows>,
    consumer: &str,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let kafka = kafka(run);
    let service = Arc::new(Fingerprinter::new(
        MatchSettings::default(),
        ServiceSettings {
            consumer: consumer.to_owned(),
            max_batch: 2,
            profiles_idle_ms: 2_000,
        },
        run.topic_names(),
        windows,
        Producer::new(&kafka).unwrap(),
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stats = service
            .runtime(&kafka)
            .run(async {
                let _ = stopped.await;
            })
            .await
            .expect("the fingerprint service runs");
        assert!(stats.records > 0);
    });
    (stop, task)
}

async fn flag(windows: &Windows, metric: &str, want: bool) -> bool {
    for _ in 0..300 {
        if windows.fingerprint_enabled(&[metric]).await.unwrap()[0] == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn alerts(run: &Run, expected: usize) -> BTreeMap<Uuid, AlertEvent> {
    let pick = |values: &[Vec<u8>]| -> BTreeMap<Uuid, AlertEvent> {
        values
            .iter()
            .filter_map(|v| decode::<AlertEvent>(v).ok())
            .map(|a| (a.id, a))
            .collect()
    };
    let values = consume_until(
        &kafka(run),
        &run.topic("alerts"),
        Duration::from_secs(60),
        |v| pick(v).len() >= expected,
    )
    .await;
    pick(&values)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profiled_pattern_is_deflected_and_the_rest_alerts() {
    let run = Run::new("deflect", "");
    let kafka = kafka(&run);
    let names = run.topic_names();
    ensure_topics(&kafka, &names.all(), Some(3)).await.unwrap();
    let windows = windows(&run).await;

    // An operator said day 1 of the daily series is normal.
    let daily_profile = profile(PROFILED, day_window(DAILY, 1));
    produce(
        &kafka,
        &names.profiles,
        std::slice::from_ref(&daily_profile),
        |p| &p.metric,
    )
    .await;

    let (stop, task) = start(&run, windows.clone(), &format!("fp-a-{}", run.id));
    assert!(
        flag(&windows, PROFILED, true).await,
        "the profiled metric is ionosphere-enabled once the profiles are loaded"
    );
    assert!(!windows.fingerprint_enabled(&[UNPROFILED]).await.unwrap()[0]);

    let similar = check(PROFILED, day_window(DAILY, 5), &["smtp", "topic"]);
    let noisy = check(PROFILED, day_window(NOISY, 3), &["smtp", "topic"]);
    let cpu = check(PROFILED, day_window(CPU, 2), &["webhook"]);
    let unprofiled = check(UNPROFILED, day_window(DAILY, 5), &["smtp"]);
    let all = [
        similar.clone(),
        noisy.clone(),
        cpu.clone(),
        unprofiled.clone(),
    ];
    // A check addressed to the seasonal service and garbage on the same
    // topic are skipped: fingerprint judges the check the seasonal service
    // hands it when the anomaly stays anomalous over days (with its echo
    // series; tests/seasonal_echo.rs runs that path).
    let mut seasonal = check(PROFILED, day_window(DAILY, 7), &["smtp"]);
    seasonal.target = topics::CheckTarget::Seasonal;
    produce(&kafka, &names.checks, &all, |c| &c.metric).await;
    produce(&kafka, &names.checks, &[seasonal.clone()], |c| &c.metric).await;
    Producer::new(&kafka)
        .unwrap()
        .send(&names.checks, b"x", b"not a check")
        .await
        .unwrap();

    let ids: Vec<Uuid> = all.iter().map(|c| c.id).collect();
    let first = verdicts(
        &kafka,
        &names.matches,
        &ids,
        |_| true,
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(first.len(), 4, "{first:#?}");

    let profiles = [daily_profile.profile_id];
    let m = &first[&similar.id];
    assert!(m.matched, "another day of the pattern is deflected: {m:?}");
    assert_eq!(m.profile_id, Some(daily_profile.profile_id));
    assert_ne!(m.method, MatchMethod::None);
    assert_eq!(m.id, match_id(similar.id, &profiles));
    assert_eq!(m.anomaly_id, similar.anomaly_id);
    for c in [&noisy, &cpu] {
        let m = &first[&c.id];
        assert!(!m.matched, "a different series is not deflected: {m:?}");
        assert_eq!(m.method, MatchMethod::None);
        assert_eq!(m.profile_id, None);
        assert_eq!(m.id, match_id(c.id, &profiles));
        assert!(m.profiles_checked >= 1, "{m:?}");
    }
    let m = &first[&unprofiled.id];
    assert!(!m.matched);
    assert_eq!(m.profiles_checked, 0);
    assert_eq!(m.id, match_id(unprofiled.id, &[]));

    // The alerts of everything not deflected, returned to the analyzer.
    let sent = alerts(&run, 4).await;
    let expected: BTreeMap<Uuid, (&str, Uuid)> = [
        (&noisy, "smtp"),
        (&noisy, "topic"),
        (&cpu, "webhook"),
        (&unprofiled, "smtp"),
    ]
    .into_iter()
    .map(|(c, a)| (alert_id(c.anomaly_id, a), (a, c.anomaly_id)))
    .collect();
    assert_eq!(
        sent.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "one alert per route of each undeflected check, none for the deflected one"
    );
    for a in sent.values() {
        assert_eq!(a.source, SourceApp::Analyzer, "returned to sender: {a:?}");
        assert_eq!(expected[&a.id], (a.alerter.as_str(), a.anomaly_id));
    }

    // Profiles followed while running: a new one enables its metric, a
    // disable turns it off again.
    let later = profile(LATER, day_window(DAILY, 2));
    produce(&kafka, &names.profiles, std::slice::from_ref(&later), |p| {
        &p.metric
    })
    .await;
    assert!(
        flag(&windows, LATER, true).await,
        "followed profile enables"
    );
    let disable = ProfileEvent {
        id: Uuid::now_v7(),
        action: ProfileAction::Disabled,
        ..later
    };
    produce(&kafka, &names.profiles, &[disable], |p| &p.metric).await;
    assert!(flag(&windows, LATER, false).await, "disable turns it off");
    let _ = stop.send(());
    task.await.unwrap();

    // The bad record was dead-lettered, the check addressed to the seasonal
    // service left to it.
    let letters = consume_until(&kafka, &names.deadletter, Duration::from_secs(30), |v| {
        !v.is_empty()
    })
    .await;
    assert_eq!(letters.len(), 1);

    // A crash before the commit re-consumes the checks: a second service
    // reading them from the start (a fresh group) decides the same ids.
    let (stop, task) = start(&run, windows.clone(), &format!("fp-b-{}", run.id));
    let again = verdicts(
        &kafka,
        &names.matches,
        &ids,
        |m| {
            first
                .get(&m.check_id)
                .is_some_and(|f| f.decided_at_ms != m.decided_at_ms)
        },
        Duration::from_secs(120),
    )
    .await;
    let _ = stop.send(());
    task.await.unwrap();
    assert_eq!(again.len(), 4, "every check re-decided");
    for (check, m) in &again {
        let f = &first[check];
        assert_eq!(
            (m.id, m.matched, m.profile_id),
            (f.id, f.matched, f.profile_id)
        );
    }
    let all_alerts = alerts(&run, 4).await;
    assert_eq!(all_alerts.len(), 4, "re-sent alerts keep their ids");
    assert!(!all_alerts.contains_key(&alert_id(seasonal.anomaly_id, "smtp")));
    windows.clear().await.unwrap();
}
