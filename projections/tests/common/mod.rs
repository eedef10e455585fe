//! Shared by the projections' integration tests: the real broker and
//! MariaDB (a database of its own per test), unique topic names, and a
//! deterministic stream of every kind of event the projections fold.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use projections::Database;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Connection;
use topics::codec::encode;
use topics::kafka::{ensure_topics, KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::*;
use uuid::Uuid;

/// `SKYLINE_TEST_*` from the environment, else from `scripts/services`.
pub fn services() -> &'static BTreeMap<String, String> {
    static S: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    S.get_or_init(|| {
        let mut vars = BTreeMap::new();
        for k in ["SKYLINE_TEST_KAFKA", "SKYLINE_TEST_MYSQL"] {
            if let Ok(v) = std::env::var(k) {
                vars.insert(k.to_owned(), v);
            }
        }
        if vars.len() < 2 {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/services");
            let out = Command::new("bash")
                .arg(script)
                .stderr(Stdio::inherit())
                .output()
                .expect("running scripts/services");
            assert!(out.status.success(), "scripts/services failed");
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if let Some((k, v)) = line.trim_start_matches("export ").split_once('=') {
                    vars.entry(k.to_owned())
                        .or_insert_with(|| v.trim_matches('\'').to_owned());
                }
            }
        }
        vars
    })
}

pub fn kafka() -> KafkaConfig {
    KafkaConfig {
        partitions: 3,
        session_timeout_ms: 6_000,
        group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
        ..KafkaConfig::for_brokers(services()["SKYLINE_TEST_KAFKA"].clone())
    }
}

/// The shared MariaDB server's URL without a database.
pub fn mysql_server() -> String {
    let url = &services()["SKYLINE_TEST_MYSQL"];
    match url.rfind('/') {
        Some(i) if i > "mysql://".len() => url[..i].to_owned(),
        _ => url.clone(),
    }
}

/// A database of the test's own on `server`; [`MySqlDb::drop_it`] removes it.
pub struct MySqlDb {
    pub server: String,
    pub name: String,
    pub db: Database,
}

impl MySqlDb {
    pub async fn create(server: &str, tag: &str) -> MySqlDb {
        let name = format!("skyline_{tag}_{}", Uuid::now_v7().simple());
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&format!("{server}/mysql"))
            .await
            .expect("connecting to MariaDB");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let db = Database::connect(&format!("{server}/{name}"))
            .await
            .unwrap();
        MySqlDb {
            server: server.to_owned(),
            name,
            db,
        }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    pub async fn drop_it(self) {
        self.db.close().await;
        if let Ok(mut conn) = sqlx::AnyConnection::connect(&format!("{}/mysql", self.server)).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE {}", self.name))
                .execute(&mut conn)
                .await;
        }
    }
}

/// Unique topic names for one test.
pub fn topic_names() -> TopicNames {
    let id = Uuid::now_v7().simple().to_string();
    TopicNames {
        datapoints: format!("datapoints.{id}"),
        anomalies: format!("anomalies.{id}"),
        checks: format!("checks.{id}"),
        matches: format!("matches.{id}"),
        labels: format!("labels.{id}"),
        profiles: format!("profiles.{id}"),
        alerts: format!("alerts.{id}"),
        deadletter: format!("deadletter.{id}"),
    }
}

/// A message for one topic: (topic, key, value).
pub type Message = (String, Vec<u8>, Vec<u8>);

/// `n` anomaly events over `metrics` metrics (seeded, so reproducible).
pub fn anomalies(names: &TopicNames, n: usize, metrics: usize, seed: u64) -> Vec<Message> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let metric = format!("host{}.cpu.user", i % metrics.max(1));
            let timestamp = 1_700_000_000 + (i / metrics.max(1)) as i64 * 60;
            let event = AnomalyEvent {
                id: topics::ids::anomaly_id(&metric, timestamp, SourceApp::Analyzer),
                metric: metric.clone(),
                timestamp,
                value: rng.gen_range(-1e6..1e6),
                source: SourceApp::Analyzer,
                algorithms_run: vec!["histogram_bins".into(), "grubbs".into(), "ks_test".into()],
                triggered_algorithms: vec!["grubbs".into(), "ks_test".into()],
                full_duration: 86_340,
                from_timestamp: timestamp - 86_400,
                check_id: (i % 7 == 0).then(|| Uuid::from_u128(rng.gen())),
                derivative: i % 11 == 0,
                decided_at_ms: 1_700_000_000_000 + i as i64,
            };
            (
                names.anomalies.clone(),
                metric.into_bytes(),
                encode(&event).unwrap(),
            )
        })
        .collect()
}

/// A mixed stream: anomalies (some re-emitted with the same id), checks,
/// matches, profiles created, learnt, validated and disabled, labels,
/// alerts, and an undecodable record on the anomalies topic.
pub fn mixed(names: &TopicNames, seed: u64) -> Vec<Message> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = anomalies(names, 600, 12, seed);
    // Re-emitted decisions: same ids, later decided_at_ms.
    let again: Vec<Message> = out[..50].to_vec();
    out.extend(again);
    out.push((
        names.anomalies.clone(),
        b"host0.cpu.user".to_vec(),
        b"not avro".to_vec(),
    ));
    for i in 0..120i64 {
        let metric = format!("host{}.cpu.user", i % 12);
        let anomaly_id = Uuid::from_u128(rng.gen());
        let check = CheckRequest {
            id: topics::ids::derived_id("check-test", &[&i.to_be_bytes()]),
            anomaly_id,
            target: if i % 2 == 0 {
                CheckTarget::Seasonal
            } else {
                CheckTarget::Fingerprint
            },
            metric: metric.clone(),
            timestamp: 1_700_000_000 + i,
            value: rng.gen(),
            triggered_algorithms: vec!["grubbs".into()],
            second_order_resolution_hours: (i % 2 == 0).then_some(168),
            series: (0..10)
                .map(|k| SeriesPoint {
                    timestamp: 1_700_000_000 + k * 60,
                    value: rng.gen(),
                })
                .collect(),
            decided_at_ms: 1_700_000_000_000 + i,
            full_duration: Some(86_400),
            echo_series: None,
            alerts: Vec::new(),
        };
        out.push((
            names.checks.clone(),
            metric.clone().into_bytes(),
            encode(&check).unwrap(),
        ));
        let profile_id = topics::ids::derived_id("profile-test", &[&i.to_be_bytes()]);
        let matched = MatchResult {
            id: topics::ids::derived_id("match-test", &[&i.to_be_bytes()]),
            check_id: check.id,
            anomaly_id,
            metric: metric.clone(),
            timestamp: check.timestamp,
            matched: i % 3 == 0,
            method: if i % 3 == 0 {
                MatchMethod::FeaturesProfile
            } else {
                MatchMethod::None
            },
            profile_id: (i % 3 == 0).then_some(profile_id),
            layer_id: None,
            percent_different: (i % 3 == 0).then(|| rng.gen()),
            distance: None,
            decided_at_ms: 1_700_000_000_000 + i,
            echo: false,
            profiles_checked: 1,
            features_sum: None,
            common_features: None,
            approx_close: false,
            motif: None,
        };
        out.push((
            names.matches.clone(),
            metric.clone().into_bytes(),
            encode(&matched).unwrap(),
        ));
        let created = ProfileEvent {
            id: Uuid::from_u128(rng.gen()),
            profile_id,
            action: if i % 4 == 0 {
                ProfileAction::Learnt
            } else {
                ProfileAction::Created
            },
            metric: metric.clone(),
            parent_id: None,
            generation: (i % 4) as u32,
            full_duration: 86_400,
            features: (0..30)
                .map(|f| FeatureValue {
                    id: f,
                    value: rng.gen(),
                })
                .collect(),
            features_sum: rng.gen(),
            series: (0..20)
                .map(|k| SeriesPoint {
                    timestamp: 1_700_000_000 + k * 60,
                    value: rng.gen(),
                })
                .collect(),
            layers_json: (i % 5 == 0).then(|| r#"{"d":{"condition":">","value":10}}"#.to_owned()),
            label_id: None,
            at_ms: 1_700_000_000_000 + i,
            validated: i % 4 != 0,
            learn: false,
            learn_settings: None,
            description: None,
            operator: None,
            anomaly_timestamp: Some(check.timestamp),
            check_id: Some(check.id),
            disabled_with: None,
        };
        out.push((
            names.profiles.clone(),
            metric.clone().into_bytes(),
            encode(&created).unwrap(),
        ));
        if i % 6 == 0 {
            let mut validated = created.clone();
            validated.id = Uuid::from_u128(rng.gen());
            validated.action = ProfileAction::Validated;
            validated.at_ms += 1000;
            out.push((
                names.profiles.clone(),
                metric.clone().into_bytes(),
                encode(&validated).unwrap(),
            ));
        }
        if i % 8 == 0 {
            let mut disabled = created.clone();
            disabled.id = Uuid::from_u128(rng.gen());
            disabled.action = ProfileAction::Disabled;
            disabled.at_ms += 2000;
            out.push((
                names.profiles.clone(),
                metric.clone().into_bytes(),
                encode(&disabled).unwrap(),
            ));
        }
        let label = Label {
            id: Uuid::from_u128(rng.gen()),
            metric: metric.clone(),
            anomaly_id: Some(anomaly_id),
            training_id: None,
            timestamp: check.timestamp,
            not_anomalous: i % 2 == 0,
            learn: i % 3 == 0,
            layers_json: None,
            operator: "ops".into(),
            labelled_at_ms: 1_700_000_000_000 + i,
            check_id: Some(check.id),
            full_duration: Some(86_400),
            series: None,
            description: None,
        };
        out.push((
            names.labels.clone(),
            metric.clone().into_bytes(),
            encode(&label).unwrap(),
        ));
        let alert = AlertEvent {
            id: topics::ids::derived_id("alert-test", &[&i.to_be_bytes()]),
            anomaly_id,
            metric: metric.clone(),
            timestamp: check.timestamp,
            value: rng.gen(),
            source: SourceApp::Analyzer,
            alerter: "smtp".into(),
            rule: "host.*".into(),
            triggered_algorithms: vec!["grubbs".into()],
            decided_at_ms: 1_700_000_000_000 + i,
        };
        out.push((
            names.alerts.clone(),
            metric.into_bytes(),
            encode(&alert).unwrap(),
        ));
    }
    out
}

/// Creates the topics and produces `messages` (in order per topic).
pub async fn produce(kafka: &KafkaConfig, names: &TopicNames, messages: &[Message]) {
    ensure_topics(kafka, &names.all(), None).await.unwrap();
    let producer = Producer::new(kafka).unwrap();
    type KeyAndValue<'a> = (&'a [u8], &'a [u8]);
    let mut by_topic: BTreeMap<&str, Vec<KeyAndValue<'_>>> = BTreeMap::new();
    for (topic, key, value) in messages {
        by_topic.entry(topic).or_default().push((key, value));
    }
    for (topic, records) in by_topic {
        producer.send_batch(topic, records).await.unwrap();
    }
}

/// Every table of every projection, dumped.
pub async fn dump_all(db: &Database) -> BTreeMap<&'static str, Vec<Vec<String>>> {
    let mut out = BTreeMap::new();
    for p in projections::all() {
        for table in p.tables() {
            out.insert(table.name, db.dump(table).await.unwrap());
        }
    }
    out
}

/// Waits until `done` holds (polling every 200 ms), failing after `limit`.
pub async fn wait_for<F, Fut>(limit: Duration, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sum of the rows of `tables`.
pub async fn count(db: &Database, table: &str) -> i64 {
    db.count(table).await.unwrap_or(-1)
}
