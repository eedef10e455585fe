//! Mutes in headless Chromium (`console/e2e/mute.js`), on a real console
//! over real projections (SQLite) and the real broker: the anomaly page's
//! delivery outcomes, its Mute form, the mutes page and its Unmute button,
//! the metrics page's Mute form. The alerter's and the projections' part
//! is played in the test: each MuteEvent the console produces is read from
//! the mutes topic and folded, as `skyline project` would.

#[path = "support/browser.rs"]
mod browser;
mod common;

use std::time::Duration;

use common::*;
use projections::Topic;
use topics::codec::decode;
use topics::kafka::Consumer;
use topics::*;
use uuid::Uuid;

const METRIC: &str = "e2e.mutes.web01.cpu";

/// Folds each mute on the mutes topic until `done` resolves; returns what
/// `done` did and the mutes folded.
async fn fold_mutes_until<T>(
    f: &mut Fixture,
    done: tokio::task::JoinHandle<T>,
) -> (T, Vec<MuteEvent>) {
    let group = format!("mutes-{}", Uuid::now_v7());
    let consumer =
        Consumer::assigned(&f.kafka, &group, &group, &[(f.topics.mutes.clone(), 0, 0)]).unwrap();
    tokio::pin!(done);
    let mut folded = Vec::new();
    let outcome = loop {
        tokio::select! {
            outcome = &mut done => break outcome.expect("the scenario's thread"),
            batch = consumer.next_batch(10) => {
                for record in batch.iter() {
                    let mute: MuteEvent = decode(record.payload()).unwrap();
                    f.fold(&[rec(Topic::Mutes, &mute)]).await;
                    folded.push(mute);
                }
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    };
    consumer.close().await;
    (outcome, folded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_delivery_outcomes_mutes_a_metric_and_unmutes_it() {
    let mut f = Fixture::start(Options::default()).await;
    let series = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let (a, c) = anomaly_with_check(METRIC, &series[..288], true);
    let alert = AlertEvent {
        id: Uuid::new_v5(&a.id, b"alert"),
        anomaly_id: a.id,
        metric: a.metric.clone(),
        timestamp: a.timestamp,
        value: a.value,
        source: SourceApp::Analyzer,
        alerter: "ops-hook|ops-mail".into(),
        rule: "e2e".into(),
        triggered_algorithms: a.triggered_algorithms.clone(),
        decided_at_ms: a.decided_at_ms,
        series: None,
        full_duration: None,
        expiration_time: None,
        boundary: None,
        fingerprinted: false,
        test: false,
    };
    let attempt = |alerter: &str, kind: &str, outcome, n: i32, detail: &str| DeliveryEvent {
        id: Uuid::new_v5(&alert.id, format!("{alerter}|{n}").as_bytes()),
        alert_id: alert.id,
        anomaly_id: a.id,
        metric: METRIC.into(),
        alerter: alerter.into(),
        kind: kind.into(),
        outcome,
        attempt: n,
        detail: Some(detail.into()),
        at_ms: a.decided_at_ms + i64::from(n) * 2_000,
    };
    let points: Vec<Datapoint> = series[..288]
        .iter()
        .map(|&(timestamp, value)| Datapoint {
            metric: METRIC.into(),
            timestamp,
            value,
        })
        .collect();
    let mut events = vec![
        rec(Topic::Anomalies, &a),
        rec(Topic::Checks, &c),
        rec(Topic::Alerts, &alert),
    ];
    for (alerter, kind, outcome, n, detail) in [
        (
            "ops-hook",
            "webhook",
            DeliveryOutcome::Failed,
            1,
            "HTTP 503 Service Unavailable",
        ),
        (
            "ops-mail",
            "smtp",
            DeliveryOutcome::GaveUp,
            1,
            "550 5.1.1 <oncall@example.com>: no such user",
        ),
        (
            "ops-hook",
            "webhook",
            DeliveryOutcome::Failed,
            2,
            "timed out after 10 s",
        ),
        (
            "ops-hook",
            "webhook",
            DeliveryOutcome::Delivered,
            3,
            "HTTP 200",
        ),
    ] {
        events.push(rec(
            Topic::Deliveries,
            &attempt(alerter, kind, outcome, n, detail),
        ));
    }
    events.extend(points.iter().map(|p| rec(Topic::Datapoints, p)));
    f.fold(&events).await;

    let env = vec![
        ("SKYLINE_CONSOLE_URL", f.url("")),
        ("SKYLINE_ANOMALY", a.id.to_string()),
        ("SKYLINE_METRIC", METRIC.to_owned()),
        ("SKYLINE_USER", USER.to_owned()),
        ("SKYLINE_PASSWORD", PASSWORD.to_owned()),
    ];
    let scenario = tokio::task::spawn_blocking(move || browser::run_scenario("mute.js", &env));
    let (run, mutes) = fold_mutes_until(&mut f, scenario).await;
    run.assert_success();

    assert_eq!(mutes.len(), 2, "a mute and its unmute: {mutes:#?}");
    assert_eq!(mutes[0].action, MuteAction::Mute);
    assert_eq!(mutes[0].pattern, METRIC);
    assert_eq!(mutes[0].operator.as_deref(), Some(USER));
    assert_eq!(mutes[0].reason.as_deref(), Some("replacing the disk"));
    assert_eq!(mutes[0].until_ms - mutes[0].at_ms, 3 * 3_600_000);
    assert_eq!(
        (mutes[1].id, mutes[1].action),
        (mutes[0].id, MuteAction::Unmute)
    );
    browser::assert_screenshots(&[
        "mute-anomaly-alerts",
        "mute-muted",
        "mute-mutes-page",
        "mute-unmuted",
        "mute-metrics",
    ]);
    f.stop().await;
}
