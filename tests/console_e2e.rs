//! The console end to end, in headless Chromium: every service runs as the
//! real `skyline` binary (analyze, project, fingerprint, learn, console)
//! against the real broker, Redis and a SQLite projections file, on a real
//! NAB series. An operator logs in, opens the first anomaly, sees its
//! graph, submits "Not anomalous and LEARN" with an E layer and sees the
//! profile appear (`console/e2e/train.js`); the rest of the series then
//! arrives, a later similar anomaly shows as deflected, and the operator
//! disables the profile and its learnt progeny (`console/e2e/review.js`).
//! Screenshots land in `target/console-screenshots/`.

#[path = "../console/tests/support/browser.rs"]
mod browser;
#[path = "support/fingerprint.rs"]
mod fp;
mod support;

use std::time::{Duration, Instant};

use projections::Database;
use support::{nab, Run, Services};
use topics::kafka::{ensure_topics, KafkaConfig};
use topics::{ProfileAction, ProfileEvent};
use uuid::Uuid;

const METRIC: &str = "e2e.console.ec2.cpu";
const SERIES: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
const USER: &str = "alice";
const PASSWORD: &str = "correct horse battery staple";

fn scenario_output(s: &browser::Scenario) -> String {
    format!(
        "scenario {} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        s.script, s.status, s.stdout, s.stderr
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `probe` every 500 ms until it gives a value, for `seconds`.
async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what} within {seconds} s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_trains_a_profile_in_the_browser_and_disables_it() {
    let hash = console::auth::hash_password(PASSWORD).unwrap();
    let port = free_port();
    let extra = format!(
        r#"
[[alerts]]
pattern = "e2e"
alerter = "topic"
expiration_time = 0

# Every flagged point its own anomaly (PANORAMA_EXPIRY_TIME off): the
# labelled burst's lookalikes are what gets deflected.
[analyzer]
panorama_expiry_time = 0

[learn]
learn_full_duration_days = 5
valid_ts_older_than = 0
poll_seconds = 1

[fingerprint_service]
profiles_idle_ms = 1000
max_batch = 10

[console]
listen = "127.0.0.1:{port}"

[[console.users]]
name = "{USER}"
password_hash = "{hash}"
"#
    );
    let run = Run::new("console", &extra);
    let kafka = KafkaConfig {
        group_id_prefix: run.id.clone(),
        ..run.kafka_config()
    };
    let names = run.topic_names();
    ensure_topics(&kafka, &names.all(), Some(3)).await.unwrap();
    let sqlite = run.dir.join("projections.sqlite");
    let sqlite_arg = sqlite.to_str().unwrap().to_owned();

    let file = support::shared_data().join("nab").join(SERIES);
    let flagged = support::backtest_anomalies(&file);
    assert!(flagged.len() >= 3, "{flagged:?}");
    let series = nab(SERIES);
    let split = series.iter().position(|p| p.0 == flagged[0]).unwrap() + 1;

    let mut services = Services(vec![
        run.spawn(&["analyze"], "analyze"),
        run.spawn(&["project", "--sqlite", &sqlite_arg], "project"),
        run.spawn(&["fingerprint"], "fingerprint"),
        run.spawn(&["learn"], "learn"),
    ]);
    // 1. Up to the first anomaly, and wait until the projections have it
    //    with its check (what the training page shows and labels).
    support::produce_datapoints(&kafka, &names.datapoints, METRIC, &series[..split]).await;
    // `project` creates and migrates the file; open it only after that.
    eventually(60, "the projections database file", || async {
        sqlite.exists().then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let db = Database::sqlite(&sqlite).await.unwrap();
    let first = eventually(90, "the first anomaly and its check folded", || async {
        let page = projections::browse::anomalies(&db, &Default::default())
            .await
            .ok()?;
        page.rows
            .into_iter()
            .find(|a| a.timestamp == flagged[0] && a.check_id.is_some())
    })
    .await;
    eventually(30, "the check's series folded", || async {
        projections::query::check_for_label(&db, first.check_id?)
            .await
            .ok()
            .flatten()
            .filter(|c| !c.series.is_empty())
    })
    .await;
    services
        .0
        .push(run.spawn(&["console", "--sqlite", &sqlite_arg], "console"));
    let url = format!("http://127.0.0.1:{port}");
    eventually(30, "the console listening", || async {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    })
    .await;

    let env = |extra: &[(&'static str, String)]| {
        let mut e = vec![
            ("SKYLINE_CONSOLE_URL", url.clone()),
            ("SKYLINE_USER", USER.to_owned()),
            ("SKYLINE_PASSWORD", PASSWORD.to_owned()),
        ];
        e.extend_from_slice(extra);
        e
    };

    // 2. Train in the browser.
    let train = browser::run_scenario(
        "train.js",
        &env(&[("SKYLINE_ANOMALY", first.id.to_string())]),
    );
    if !train.status.success() {
        panic!(
            "{}\nconsole log:\n{}\nlearn log:\n{}",
            scenario_output(&train),
            run.log("console"),
            run.log("learn")
        );
    }
    let profile_path = train
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("profile "))
        .unwrap_or_else(|| {
            panic!(
                "the scenario named no profile:\n{}",
                scenario_output(&train)
            )
        })
        .trim()
        .to_owned();
    let profile_id: Uuid = profile_path
        .trim_start_matches("/profiles/")
        .parse()
        .unwrap();
    let label = projections::browse::anomaly(&db, first.id)
        .await
        .unwrap()
        .unwrap()
        .labels;
    assert_eq!(label.len(), 1, "one label from the form: {label:#?}");
    assert_eq!(label[0].operator, USER, "the logged-in operator labels");
    assert!(label[0].learn && label[0].not_anomalous);
    let layers = label[0].layers_json.as_deref().expect("the E layer");
    let layers = fingerprint::matching::Layers::from_json(layers).unwrap();
    assert_eq!(
        (layers.e.boundary, layers.e.times_in_row, layers.d.boundary),
        (100.0, 5, 1000.0)
    );

    // The learnt generation-1 child, so that disabling has progeny.
    eventually(90, "a learnt child of the profile", || async {
        let d = projections::browse::profile(&db, profile_id).await.ok()??;
        (!d.children.is_empty()).then_some(())
    })
    .await;

    // 3. The rest of the series: its similar anomalies are deflected.
    support::produce_datapoints(&kafka, &names.datapoints, METRIC, &series[split..]).await;
    let review = browser::run_scenario(
        "review.js",
        &env(&[("SKYLINE_PROFILE", profile_path.clone())]),
    );
    if !review.status.success() {
        panic!(
            "{}\nconsole log:\n{}\nfingerprint log:\n{}",
            scenario_output(&review),
            run.log("console"),
            run.log("fingerprint")
        );
    }

    // The disable reached the log for the profile and its progeny.
    let decoded = |values: &[Vec<u8>]| -> Vec<ProfileEvent> {
        values
            .iter()
            .filter_map(|v| topics::codec::decode(v).ok())
            .collect()
    };
    let values = support::consume_until(&kafka, &names.profiles, Duration::from_secs(60), |v| {
        decoded(v)
            .iter()
            .any(|e| e.action == ProfileAction::Disabled && e.profile_id == profile_id)
    })
    .await;
    let events = decoded(&values);
    let disabled: Vec<&ProfileEvent> = events
        .iter()
        .filter(|e| e.action == ProfileAction::Disabled)
        .collect();
    assert!(
        disabled.len() >= 2,
        "the profile and its child: {disabled:#?}"
    );
    assert!(disabled.iter().all(|e| e.operator.as_deref() == Some(USER)));
    drop(services);
    browser::assert_screenshots(&[
        "anomalies",
        "training",
        "profile",
        "deflected",
        "matches",
        "disabled",
    ]);
}
