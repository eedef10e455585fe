//! Shared by the projections' integration tests: the real broker and
//! MariaDB (a database of its own per test), unique topic names, and a
//! deterministic stream of every kind of event the projections fold.
#![allow(dead_code)]

use std::collections::BTreeMap;
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

pub fn kafka() -> KafkaConfig {
    KafkaConfig {
        partitions: 3,
        session_timeout_ms: 6_000,
        group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
        ..KafkaConfig::for_brokers(topics::testing::service("SKYLINE_TEST_KAFKA"))
    }
}

/// The shared MariaDB server's URL without a database.
pub fn mysql_server() -> String {
    let url = &topics::testing::service("SKYLINE_TEST_MYSQL");
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
    TopicNames::default().renamed(|name| format!("{}.{id}", name.trim_start_matches("skyline.")))
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
                count: 1,
                last_timestamp: timestamp,
                max_deviation: 0.0,
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
            // Lengths from 10 to a full day at one point a minute; one NaN.
            series: (0..[10, 60, 240, 1440][(i % 4) as usize])
                .map(|k| SeriesPoint {
                    timestamp: 1_700_000_000 + k * 60,
                    value: if i == 7 && k == 3 {
                        f64::NAN
                    } else {
                        rng.gen_range(-1e9..1e9)
                    },
                })
                .collect(),
            decided_at_ms: 1_700_000_000_000 + i,
            // Every fifth as a version 1 check would read: no duration.
            full_duration: match i % 5 {
                0 => None,
                1 | 2 => Some(86_400),
                _ => Some(604_800),
            },
            echo_series: (i % 4 == 0).then(|| {
                (0..24)
                    .map(|k| SeriesPoint {
                        timestamp: 1_700_000_000 + k * 3600,
                        value: rng.gen(),
                    })
                    .collect()
            }),
            alerts: if i % 2 == 1 {
                vec![
                    AlertRoute {
                        alerter: "smtp".into(),
                        rule: "host.*,\"quoted\"".into(),
                        expiration_time: None,
                    },
                    AlertRoute {
                        alerter: "webhook".into(),
                        rule: format!("host{}.cpu.*", i % 12),
                        expiration_time: None,
                    },
                ]
            } else {
                Vec::new()
            },
            periodic: false,
            derivative: false,
        };
        out.push((
            names.checks.clone(),
            metric.clone().into_bytes(),
            encode(&check).unwrap(),
        ));
        let profile_of = |n: i64| topics::ids::derived_id("profile-test", &[&n.to_be_bytes()]);
        let profile_id = profile_of(i);
        // Every method in turn; matches name this profile or one of the
        // metric's older ones, so profiles collect several.
        let method = [
            MatchMethod::FeaturesProfile,
            MatchMethod::None,
            MatchMethod::MinMax,
            MatchMethod::Motif,
            MatchMethod::Layers,
            MatchMethod::None,
        ][(i % 6) as usize];
        let matched_profile = if i >= 24 && i % 2 == 0 {
            profile_of(i - 24)
        } else {
            profile_id
        };
        let matched = MatchResult {
            id: topics::ids::derived_id("match-test", &[&i.to_be_bytes()]),
            check_id: check.id,
            anomaly_id,
            metric: metric.clone(),
            timestamp: check.timestamp,
            matched: method != MatchMethod::None,
            method,
            profile_id: (method != MatchMethod::None || i % 5 == 0).then_some(matched_profile),
            layer_id: (method == MatchMethod::Layers)
                .then(|| topics::ids::layer_id(matched_profile)),
            percent_different: matches!(method, MatchMethod::FeaturesProfile | MatchMethod::MinMax)
                .then(|| rng.gen()),
            distance: (method == MatchMethod::Motif).then(|| rng.gen()),
            decided_at_ms: 1_700_000_000_000 + i,
            echo: i % 7 == 0,
            profiles_checked: (i % 5) as u32,
            features_sum: (i % 3 != 2).then(|| rng.gen_range(-1e6..1e6)),
            common_features: (method == MatchMethod::FeaturesProfile)
                .then_some(180 + (i % 9) as u32),
            approx_close: method == MatchMethod::Layers && i % 12 == 4,
            motif: (method == MatchMethod::Motif).then(|| MotifMatch {
                index: (i * 7 % 1000) as u32,
                size: 20 + (i % 3) as u32 * 10,
                kind: if i % 4 == 1 {
                    MotifKind::Exact
                } else {
                    MotifKind::AllInRange
                },
                area: rng.gen_range(0.0..1e4),
                profile_area: rng.gen_range(0.0..1e4),
                area_percent_diff: rng.gen_range(0.0..20.0),
            }),
        };
        out.push((
            names.matches.clone(),
            metric.clone().into_bytes(),
            encode(&matched).unwrap(),
        ));
        if i % 10 == 3 {
            // Re-emitted by a fingerprint that crashed and decided again.
            let mut again = matched.clone();
            again.decided_at_ms += 5_000;
            out.push((
                names.matches.clone(),
                metric.clone().into_bytes(),
                encode(&again).unwrap(),
            ));
        }
        let created = ProfileEvent {
            id: Uuid::from_u128(rng.gen()),
            profile_id,
            action: if i % 4 == 0 {
                ProfileAction::Learnt
            } else {
                ProfileAction::Created
            },
            metric: metric.clone(),
            // Learnt ones descend from the metric's profile 12 events back.
            parent_id: (i % 4 == 0 && i >= 12).then(|| profile_of(i - 12)),
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
            layers_json: (i % 5 == 0).then(|| {
                format!(
                    r#"{{"d":{{"condition":">","boundary":{}}},"e":{{"condition":"<=","boundary":50.5,"times_in_row":{}}}}}"#,
                    100 + i,
                    1 + i % 5
                )
            }),
            label_id: None,
            at_ms: 1_700_000_000_000 + i,
            validated: i % 4 != 0,
            learn: i % 3 == 0,
            // Settings change over time; the latest per metric wins.
            learn_settings: (i % 2 == 0).then(|| LearnSettings {
                full_duration: 86_400 * (30 + i % 3),
                valid_ts_older_than: 3_661 + i,
                max_generations: 16 + (i % 5) as u32,
                max_percent_diff_from_origin: 100.0 - i as f64 / 7.0,
            }),
            description: Some(if i % 4 == 0 {
                "LEARNT".to_owned()
            } else {
                format!("busy hour {i}, \"normal\"")
            }),
            operator: (i % 4 != 0).then(|| "ops".to_owned()),
            anomaly_timestamp: (i % 9 != 0).then_some(check.timestamp),
            check_id: (i % 9 != 0).then_some(check.id),
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
            disabled.operator = Some("ops2".into());
            // Some disabled as the descendant of another disabling.
            disabled.disabled_with = (i % 16 == 0).then(|| profile_of(i / 2));
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
            check_id: (i % 5 != 0).then_some(check.id),
            full_duration: (i % 5 != 0).then(|| check.full_duration()),
            series: (i % 3 == 0).then(|| check.series.clone()),
            description: (i % 2 == 0).then(|| format!("deploy {i}")),
            echo_series: None,
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
            series: None,
            full_duration: None,
            expiration_time: None,
            boundary: None,
            fingerprinted: false,
            test: false,
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

/// The queries over the v2 columns agree with the stream itself: every
/// check's series comes back exact to the bit, and each profile's match
/// counts are those of the distinct matches naming it.
pub async fn assert_queries_match_stream(db: &Database, names: &TopicNames, messages: &[Message]) {
    use projections::query::{check_for_label, profile_match_counts, MatchCounts};
    let mut counts: BTreeMap<Uuid, MatchCounts> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut checks = 0;
    for (topic, _, value) in messages {
        if *topic == names.checks {
            let c: CheckRequest = topics::codec::decode(value).unwrap();
            let got = check_for_label(db, c.id)
                .await
                .unwrap()
                .expect("check folded");
            assert_eq!(
                (
                    got.anomaly_id,
                    got.metric.as_str(),
                    got.timestamp,
                    got.full_duration
                ),
                (
                    c.anomaly_id,
                    c.metric.as_str(),
                    c.timestamp,
                    c.full_duration()
                )
            );
            let want: Vec<(i64, u64)> = c
                .series
                .iter()
                .map(|p| {
                    (
                        p.timestamp,
                        if p.value.is_finite() {
                            p.value
                        } else {
                            f64::NAN
                        }
                        .to_bits(),
                    )
                })
                .collect();
            let want_echo: Option<Vec<(i64, u64)>> = c
                .echo_series
                .as_ref()
                .map(|s| s.iter().map(|p| (p.timestamp, p.value.to_bits())).collect());
            let got_echo: Option<Vec<(i64, u64)>> = got
                .echo_series
                .as_ref()
                .map(|s| s.iter().map(|(t, v)| (*t, v.to_bits())).collect());
            assert_eq!(got_echo, want_echo, "echo series of check {}", c.id);
            let got: Vec<(i64, u64)> = got.series.iter().map(|(t, v)| (*t, v.to_bits())).collect();
            assert_eq!(got, want, "series of check {}", c.id);
            checks += 1;
        } else if *topic == names.matches {
            let m: MatchResult = topics::codec::decode(value).unwrap();
            let Some(profile) = m.profile_id else {
                continue;
            };
            if !seen.insert(m.id) {
                continue;
            }
            let c = counts.entry(profile).or_default();
            c.checked += 1;
            if m.matched {
                match m.method {
                    MatchMethod::FeaturesProfile => c.features += 1,
                    MatchMethod::MinMax => c.min_max += 1,
                    MatchMethod::Motif => c.motif += 1,
                    MatchMethod::Layers => c.layers += 1,
                    MatchMethod::None => {}
                }
                c.last_matched = c.last_matched.max(Some(m.timestamp));
            }
        }
    }
    assert!(checks > 0);
    let got: BTreeMap<Uuid, MatchCounts> = profile_match_counts(db, None)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.profile_id, c.counts))
        .collect();
    assert_eq!(got, counts);
}

/// A log of our own ([`projections::fold::InMemoryLog`]) over the test
/// topic names.
pub struct Log(projections::fold::InMemoryLog);

/// An event to fold: its topic and encoded value.
pub type Rec = (projections::Topic, Vec<u8>);

pub fn rec<E: topics::codec::Event>(topic: projections::Topic, event: &E) -> Rec {
    (topic, encode(event).unwrap())
}

impl Log {
    pub fn new() -> Log {
        Log(projections::fold::InMemoryLog::new(topic_names()))
    }

    /// Folds `events` in one batch per projection.
    pub async fn fold(&mut self, db: &Database, events: &[Rec]) {
        self.0.fold(db, events).await.unwrap();
    }
}

/// Runs `check` on a fresh SQLite file and a fresh MariaDB database (named
/// after `tag`, default `proj`).
#[allow(unused_macros)]
macro_rules! on_both {
    ($check:ident) => {
        on_both!($check, "proj")
    };
    ($check:ident, $tag:literal) => {{
        let dir = std::env::temp_dir().join(format!(
            "skyline-{}-{}",
            stringify!($check),
            uuid::Uuid::now_v7().simple()
        ));
        let sqlite = projections::Database::sqlite(&dir.join("p.sqlite"))
            .await
            .unwrap();
        $check(&sqlite).await;
        sqlite.close().await;
        let _ = std::fs::remove_dir_all(&dir);
        let maria = MySqlDb::create(&mysql_server(), $tag).await;
        $check(&maria.db).await;
        maria.drop_it().await;
    }};
}
#[allow(unused_imports)]
pub(crate) use on_both;
