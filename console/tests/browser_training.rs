//! The training page in headless Chromium (`console/e2e/label.js`), on a
//! real console over real projections (SQLite), real windows (Redis) and
//! the real broker: an anomaly a week older than its metric's newest data
//! is shown in four graphs that contain and mark it; it is labelled "Not
//! anomalous" without layers, and a second anomaly with layers, and each
//! profile appears on its page.
//!
//! The learn service's part is played in the test: each label the console
//! produces is read from the labels topic and made into its profile by the
//! learn crate's own `profile_from_label`, and both are folded into the
//! projections, as `skyline learn` and `skyline project` would.

#[path = "support/browser.rs"]
mod browser;
mod common;

use std::time::Duration;

use common::*;
use fingerprint::FEATURES_VERSION;
use projections::Topic;
use topics::codec::decode;
use topics::kafka::Consumer;
use topics::Label;

/// A metric whose name says its unit.
const METRIC: &str = "e2e.week_old.latency_ms";
const UNIT: &str = "ms";

/// Folds each label on the labels topic, and the profile the learn crate
/// makes of it, until `done` resolves.
async fn learn_until<T>(f: &mut Fixture, done: tokio::task::JoinHandle<T>) -> T {
    let group = format!("learn-{}", uuid::Uuid::now_v7());
    let consumer =
        Consumer::assigned(&f.kafka, &group, &group, &[(f.topics.labels.clone(), 0, 0)]).unwrap();
    tokio::pin!(done);
    let outcome = loop {
        tokio::select! {
            outcome = &mut done => break outcome.expect("the scenario's thread"),
            batch = consumer.next_batch(10) => {
                for record in batch.iter() {
                    let label: Label = decode(record.payload()).unwrap();
                    let settings = learn::LearnPolicy::default().for_metric(&label.metric);
                    let profile = learn::profile_from_label(&label, &settings, FEATURES_VERSION)
                        .unwrap();
                    f.fold(&[rec(Topic::Labels, &label), rec(Topic::Profiles, &profile)])
                        .await;
                }
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    };
    consumer.close().await;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_old_anomaly_is_graphed_and_labelled_with_and_without_layers() {
    let mut f = Fixture::start(Options {
        windows: true,
        ..Options::default()
    })
    .await;
    // 14 days at 5 minutes. The first anomaly a week (and 5 minutes)
    // before the newest point, the second at the newest.
    let series = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let newest = series.len() - 1;
    let week_old = newest - 7 * 288 - 1;
    let (old, old_check) = anomaly_with_check(METRIC, &series[week_old - 287..=week_old], true);
    let (new, new_check) = anomaly_with_check(METRIC, &series[newest - 287..=newest], true);
    assert!(series[newest].0 - old.timestamp > 7 * 86_400);
    f.fold(&[
        rec(Topic::Anomalies, &old),
        rec(Topic::Checks, &old_check),
        rec(Topic::Anomalies, &new),
        rec(Topic::Checks, &new_check),
    ])
    .await;
    f.fold_points(METRIC, &series).await;

    // The JSON twin says where each graph sits and what it holds.
    let client = Client::default();
    let session = client.login(&f).await;
    let json = client
        .get(
            &f.url(&format!("/api/v1/anomalies/{}", old.id)),
            Some(&session),
        )
        .await
        .json();
    assert_eq!(json["unit"], UNIT);
    assert_eq!(json["graphs_at"], "anomaly");
    for g in json["longer"].as_array().unwrap() {
        let (from, to) = (g["from"].as_i64().unwrap(), g["to"].as_i64().unwrap());
        assert!(from < old.timestamp && old.timestamp <= to, "{g}");
        let points = g["series"].as_array().unwrap();
        assert!(points.len() > 20, "{}: {} points", g["label"], points.len());
    }

    let env = vec![
        ("SKYLINE_CONSOLE_URL", f.url("")),
        ("SKYLINE_ANOMALY", old.id.to_string()),
        ("SKYLINE_ANOMALY_LAYERS", new.id.to_string()),
        ("SKYLINE_UNIT", UNIT.to_owned()),
        ("SKYLINE_USER", USER.to_owned()),
        ("SKYLINE_PASSWORD", PASSWORD.to_owned()),
    ];
    let scenario = tokio::task::spawn_blocking(move || browser::run_scenario("label.js", &env));
    let run = learn_until(&mut f, scenario).await;
    run.assert_success();

    // What the two forms produced.
    let labels: Vec<Label> = f.read_all(&f.topics.labels, 2).await;
    let plain = labels.iter().find(|l| l.check_id == Some(old_check.id));
    let layered = labels.iter().find(|l| l.check_id == Some(new_check.id));
    let (plain, layered) = (plain.expect("the label without layers"), layered.unwrap());
    assert_eq!((plain.learn, plain.layers_json.as_deref()), (false, None));
    let layers =
        fingerprint::matching::Layers::from_json(layered.layers_json.as_deref().unwrap()).unwrap();
    assert_eq!(
        (layered.learn, layers.e.boundary, layers.e.times_in_row),
        (true, 100.0, 5)
    );
    browser::assert_screenshots(&[
        "training-week-old",
        "training-week-old-graphs",
        "training-now",
        "labelled-without-layers",
        "learn-profile",
    ]);
    f.stop().await;
}
