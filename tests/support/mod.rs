//! Shared by the end-to-end tests: the real broker and Redis, the `skyline`
//! binary as child processes, and consuming topics.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use std::time::{Duration, Instant};

use topics::kafka::{Consumer, KafkaConfig};
use topics::names::TopicNames;

pub fn kafka() -> String {
    topics::testing::service("SKYLINE_TEST_KAFKA")
}

pub fn redis() -> String {
    topics::testing::service("SKYLINE_TEST_REDIS")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn shared_data() -> PathBuf {
    std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"))
}

/// Services a test started; killed on the way out, whatever happens.
pub struct Services(pub Vec<Child>);

impl Drop for Services {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A run's own names, so tests never see each other's topics or keys.
pub struct Run {
    pub id: String,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub input_topic: String,
    /// Whether the test's own TOML sets the self-metrics interval; if not,
    /// its services publish none (a figure arriving among a test's
    /// datapoints would change what it counts).
    self_metrics: bool,
}

impl Run {
    /// Writes a config with unique topics, groups and Redis keys.
    pub fn new(name: &str, extra_toml: &str) -> Run {
        let id = format!("{name}-{}", uuid::Uuid::now_v7().simple());
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        let input_topic = format!("input.{id}");
        let config = dir.join("skyline.toml");
        let toml = format!(
            r#"redis = "{redis}"

[kafka]
bootstrap_servers = "{kafka}"
group_id_prefix = "{id}"
partitions = 3

[topics]
datapoints = "datapoints.{id}"
anomalies = "anomalies.{id}"
checks = "checks.{id}"
matches = "matches.{id}"
labels = "labels.{id}"
profiles = "profiles.{id}"
alerts = "alerts.{id}"
deadletter = "deadletter.{id}"
deliveries = "deliveries.{id}"
mutes = "mutes.{id}"
seasonal = "seasonal.{id}"
anomaly_ends = "anomaly_ends.{id}"
system = "system.{id}"

[windows]
key_prefix = "{id}"

[ingest]
graphite_listen = "127.0.0.1:0"
http_listen = "127.0.0.1:0"

[[ingest.kafka_sources]]
topic = "{input_topic}"
format = "graphite"
{extra_toml}"#,
            redis = redis(),
            kafka = kafka(),
        );
        std::fs::write(&config, toml).unwrap();
        Run {
            id,
            dir,
            config,
            input_topic,
            self_metrics: extra_toml.contains("self_metrics_interval"),
        }
    }

    pub fn topic(&self, kind: &str) -> String {
        format!("{kind}.{}", self.id)
    }

    /// The run's topic names, as its config file gives them.
    pub fn topic_names(&self) -> TopicNames {
        TopicNames::default().renamed(|name| self.topic(name.trim_start_matches("skyline.")))
    }

    pub fn kafka_config(&self) -> KafkaConfig {
        KafkaConfig {
            partitions: 3,
            ..KafkaConfig::for_brokers(kafka())
        }
    }

    /// Starts `skyline <args> --config <this run's config>` in the background.
    pub fn spawn(&self, args: &[&str], log_name: &str) -> Child {
        self.command(args, log_name)
            .spawn()
            .expect("starting skyline")
    }

    /// The command [`Run::spawn`] runs, its output going to the log
    /// `log_name`, for a test to adjust before starting it.
    pub fn command(&self, args: &[&str], log_name: &str) -> Command {
        let log = std::fs::File::create(self.dir.join(format!("{log_name}.log"))).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_skyline"));
        command
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("SKYLINE_LOG", "info")
            .envs((!self.self_metrics).then_some(("SKYLINE_TELEMETRY__SELF_METRICS_INTERVAL", "0")))
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        command
    }

    pub fn log(&self, log_name: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{log_name}.log"))).unwrap_or_default()
    }

    /// The address a source printed to the log when it started
    /// (`<label>: addr`), waiting up to 30 s for it.
    pub fn listening(&self, log: &str, label: &str) -> std::net::SocketAddr {
        for _ in 0..300 {
            if let Some(addr) = self.log(log).lines().find_map(|l| {
                l.strip_prefix(label).map(|rest| {
                    rest.trim()
                        .trim_start_matches("POST http://")
                        .split('/')
                        .next()
                        .unwrap_or("")
                        .to_owned()
                })
            }) {
                if let Ok(a) = addr.parse() {
                    return a;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no {label} address in the {log} log:\n{}", self.log(log));
    }
}

impl Run {
    /// The run's windows in Redis (its own key prefix), as its services see
    /// them.
    pub async fn windows(&self) -> windows::Windows {
        windows::Windows::Redis(
            windows::RedisWindows::connect(
                &redis(),
                windows::WindowSettings {
                    key_prefix: self.id.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect("connecting to the test Redis"),
        )
    }
}

/// Reads a NAB file as `(epoch seconds, value)`, sorted, one per timestamp.
pub fn nab(rel: &str) -> Vec<(i64, f64)> {
    let mut pts = numeric::reference::read_nab(rel);
    pts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pts.dedup_by_key(|p| p.0);
    pts
}

/// Produces `lines` to the run's input topic (an operator's Kafka stream
/// of metric lines), creating it with 3 partitions.
pub async fn produce_lines(run: &Run, lines: Vec<String>) {
    let producer = topics::kafka::Producer::new(&run.kafka_config()).unwrap();
    topics::kafka::ensure_topics(&run.kafka_config(), &[run.input_topic.as_str()], Some(3))
        .await
        .unwrap();
    let records: Vec<(Vec<u8>, Vec<u8>)> = lines
        .into_iter()
        .map(|l| (b"k".to_vec(), l.into_bytes()))
        .collect();
    producer
        .send_batch(&run.input_topic, records)
        .await
        .unwrap();
}

/// Graphite plaintext lines of `metric`'s points.
pub fn graphite_lines(metric: &str, points: &[(i64, f64)]) -> Vec<String> {
    points
        .iter()
        .map(|(t, v)| format!("{metric} {v} {t}"))
        .collect()
}

/// `skyline backtest` on a file: the timestamps it flags anomalous.
pub fn backtest_anomalies(path: &Path) -> Vec<i64> {
    let out = Command::new(env!("CARGO_BIN_EXE_skyline"))
        .arg("backtest")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(11) == Some("1"))
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

/// The anomalies flagged points at `timestamps` (in time order) make with
/// PANORAMA_EXPIRY_TIME `expiry`: the timestamps of the points that open
/// one (the first, then the first at or after the open one's
/// `timestamp + expiry`; repeats do not move the window).
pub fn opened_anomalies(timestamps: &[i64], expiry: i64) -> Vec<i64> {
    let mut opened: Vec<i64> = Vec::new();
    for &t in timestamps {
        if opened.last().is_none_or(|&o| t >= o + expiry) {
            opened.push(t);
        }
    }
    opened
}

/// Decodes every record of `values` as `E` (a test's topics hold only
/// well-formed events).
pub fn decoded<E: topics::codec::Event>(values: &[Vec<u8>]) -> Vec<E> {
    values
        .iter()
        .map(|v| topics::codec::decode::<E>(v).expect("a well-formed event"))
        .collect()
}

/// Consumes `topic` from the start (a fresh group) until `done` says so or
/// `timeout` passes; returns every record value.
pub async fn consume_until(
    config: &KafkaConfig,
    topic: &str,
    timeout: Duration,
    mut done: impl FnMut(&[Vec<u8>]) -> bool,
) -> Vec<Vec<u8>> {
    let group = format!("test-reader-{}", uuid::Uuid::now_v7());
    let consumer = Consumer::with_group(config, &group, &group, &[topic]).unwrap();
    let started = Instant::now();
    let mut values = Vec::new();
    while !done(&values) && started.elapsed() < timeout {
        if let Ok(batch) =
            tokio::time::timeout(Duration::from_millis(500), consumer.next_batch(10_000)).await
        {
            values.extend(batch.iter().map(|r| r.payload().to_vec()));
        }
    }
    consumer.close().await;
    values
}

/// Consumes `topic` from the start until no record arrived for `quiet`
/// (after at least `at_least` records) or `timeout` passes.
pub async fn consume_settled(
    config: &KafkaConfig,
    topic: &str,
    at_least: usize,
    quiet: Duration,
    timeout: Duration,
) -> Vec<Vec<u8>> {
    let (mut seen, mut since) = (0, Instant::now());
    consume_until(config, topic, timeout, |values| {
        if values.len() != seen {
            (seen, since) = (values.len(), Instant::now());
        }
        values.len() >= at_least && since.elapsed() >= quiet
    })
    .await
}

/// The seasonal check the Analyzer sends for an anomaly of `metric` at `t`
/// (a rule of 168 hours alerting on `topic`), carrying `day`.
pub fn seasonal_check(metric: &str, t: i64, day: Vec<topics::SeriesPoint>) -> topics::CheckRequest {
    use topics::{CheckTarget, SourceApp};
    let anomaly = topics::ids::anomaly_id(metric, t, SourceApp::Analyzer);
    topics::CheckRequest {
        id: topics::ids::check_id(anomaly, CheckTarget::Seasonal),
        anomaly_id: anomaly,
        target: CheckTarget::Seasonal,
        metric: metric.to_owned(),
        timestamp: t,
        value: day.last().map_or(0.0, |p| p.value),
        triggered_algorithms: vec!["grubbs".into()],
        second_order_resolution_hours: Some(168),
        series: day,
        decided_at_ms: topics::clock::now_ms(),
        full_duration: Some(86_400),
        echo_series: None,
        alerts: vec![topics::AlertRoute {
            alerter: "topic".into(),
            rule: "nab".into(),
            expiration_time: None,
        }],
        periodic: false,
        derivative: false,
    }
}

/// Produces `checks` to the run's checks topic (every topic created first).
pub async fn produce_checks(run: &Run, checks: &[topics::CheckRequest]) {
    produce_events(run, &run.topic_names().checks, checks, |c| &c.metric).await;
}

/// Produces `events` to `topic`, keyed by `key` (every topic of the run
/// created first).
pub async fn produce_events<E: topics::codec::Event>(
    run: &Run,
    topic: &str,
    events: &[E],
    key: impl Fn(&E) -> &str,
) {
    let kafka = run.kafka_config();
    topics::kafka::ensure_topics(&kafka, &run.topic_names().all(), None)
        .await
        .unwrap();
    topics::kafka::Producer::new(&kafka)
        .unwrap()
        .send_batch(
            topic,
            topics::kafka::keyed_messages(events.iter(), key).unwrap(),
        )
        .await
        .unwrap();
}

/// Every long-running service command of the `skyline` binary.
pub const SERVICE_COMMANDS: [&str; 8] = [
    "ingest",
    "analyze",
    "seasonal",
    "fingerprint",
    "learn",
    "alert",
    "project",
    "console",
];

/// The test MariaDB server (`SKYLINE_TEST_MYSQL` without its database).
pub fn mysql_server() -> String {
    let url = std::env::var("SKYLINE_TEST_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned());
    match url.rfind('/') {
        Some(i) if i > "mysql://".len() => url[..i].to_owned(),
        _ => url,
    }
}

/// Runs one statement on the test MariaDB server (creating or dropping a
/// test's database).
pub async fn mysql_admin(sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("{}/mysql", mysql_server()))
        .await
        .expect("connecting to MariaDB (SKYLINE_TEST_MYSQL)");
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}

/// A new database of the test's own on the test MariaDB server: its name
/// and URL.
pub async fn create_database(tag: &str) -> (String, String) {
    let name = format!(
        "skyline_{}_{}",
        tag.replace('-', "_"),
        uuid::Uuid::now_v7().simple()
    );
    mysql_admin(&format!("CREATE DATABASE {name}")).await;
    let url = format!("{}/{name}", mysql_server());
    (name, url)
}

/// Produces `metric`'s `(timestamp, value)` points to `topic` as
/// `Datapoint` events keyed by the metric.
pub async fn produce_datapoints(
    kafka: &KafkaConfig,
    topic: &str,
    metric: &str,
    points: &[(i64, f64)],
) {
    let records = points.iter().map(|&(timestamp, value)| {
        let point = topics::Datapoint {
            metric: metric.to_owned(),
            timestamp,
            value,
        };
        (
            metric.as_bytes().to_vec(),
            topics::codec::encode(&point).unwrap(),
        )
    });
    topics::kafka::Producer::new(kafka)
        .unwrap()
        .send_batch(topic, records)
        .await
        .unwrap();
}
