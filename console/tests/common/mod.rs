//! Shared by the console's integration tests: a real console (axum on
//! 127.0.0.1:0) over a real projections database (SQLite, or a MariaDB
//! database of its own) with events folded in by the projections' own fold,
//! a real broker for the topics it writes, and an HTTP client that keeps
//! cookies by hand (so tests say exactly which ones a request carries).
#![allow(dead_code)]

use std::net::SocketAddr;

use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use console::{ApiState, Console, ConsoleSettings, DbChecks, User};
use fingerprint::ProfileStore;
use fingerprint::SharedProfiles;
use projections::fold::InMemoryLog;
use projections::{Database, Topic};
use sqlx::Connection;
use topics::codec::{decode, encode, Event};
use topics::kafka::{ensure_topics, Consumer, KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::*;
use uuid::Uuid;
use windows::{RedisWindows, WindowSettings, Windows};

pub const USER: &str = "ops";
pub const PASSWORD: &str = "correct horse battery staple";
pub const TOKEN: &str = "a-script-token";

/// A NAB series from `shared/data` (`timestamp,value` with a header).
pub fn nab(rel: &str) -> Vec<(i64, f64)> {
    numeric::reference::read_nab(rel)
}

/// Which database the console reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MariaDb,
}

/// The console's configuration for a test.
pub struct Options {
    pub backend: Backend,
    pub anonymous_read: bool,
    pub api_token: Option<String>,
    /// Give the console windows (in the test Redis, under a key prefix of
    /// its own), as `skyline console --redis` has.
    pub windows: bool,
    /// `[console] password_checks`.
    pub password_checks: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backend: Backend::Sqlite,
            anonymous_read: false,
            api_token: Some(TOKEN.to_owned()),
            windows: false,
            password_checks: ConsoleSettings::default().password_checks,
        }
    }
}

/// A running console and what it writes to.
pub struct Fixture {
    pub addr: SocketAddr,
    pub kafka: KafkaConfig,
    pub topics: TopicNames,
    pub db: Database,
    pub profiles: SharedProfiles,
    /// The console's windows, when [`Options::windows`] asked for them.
    pub windows: Option<Arc<Windows>>,
    log: InMemoryLog,
    mysql: Option<(String, String)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

fn password_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| console::auth::hash_password(PASSWORD).unwrap())
}

async fn database(backend: Backend, tag: &str) -> (Database, Option<(String, String)>) {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("skyline-console-{tag}"));
            (Database::sqlite(&dir.join("p.sqlite")).await.unwrap(), None)
        }
        Backend::MariaDb => {
            let url = &topics::testing::service("SKYLINE_TEST_MYSQL");
            let server = match url.rfind('/') {
                Some(i) if i > "mysql://".len() => url[..i].to_owned(),
                _ => url.clone(),
            };
            let name = format!("skyline_console_{tag}");
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&format!("{server}/mysql"))
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let db = Database::connect(&format!("{server}/{name}"))
                .await
                .unwrap();
            (db, Some((server, name)))
        }
    }
}

impl Fixture {
    pub async fn start(options: Options) -> Fixture {
        let tag = Uuid::now_v7().simple().to_string();
        let kafka = KafkaConfig {
            partitions: 1,
            group_id_prefix: format!("t{tag}"),
            ..KafkaConfig::for_brokers(topics::testing::service("SKYLINE_TEST_KAFKA"))
        };
        let topics = TopicNames::default().renamed(|name| format!("{name}.{tag}"));
        ensure_topics(
            &kafka,
            &[&topics.labels, &topics.profiles, &topics.mutes],
            None,
        )
        .await
        .unwrap();
        let (db, mysql) = database(options.backend, &tag).await;
        let profiles: SharedProfiles = Arc::new(RwLock::new(ProfileStore::new()));
        let settings = ConsoleSettings {
            api_token: options.api_token.clone(),
            users: vec![User {
                name: USER.to_owned(),
                password_hash: password_hash().to_owned(),
            }],
            anonymous_read: options.anonymous_read,
            password_checks: options.password_checks,
            session_secret: Some("0123456789abcdef0123456789abcdef-test".into()),
            ..Default::default()
        };
        let writes = ApiState {
            producer: Producer::new(&kafka).unwrap(),
            topics: topics.clone(),
            checks: Arc::new(DbChecks(db.clone())),
            profiles: profiles.clone(),
            api_token: options.api_token,
        };
        let windows = if options.windows {
            let settings = WindowSettings {
                key_prefix: format!("skyline-console-{tag}"),
                ..WindowSettings::default()
            };
            let redis =
                RedisWindows::connect(&topics::testing::service("SKYLINE_TEST_REDIS"), settings)
                    .await
                    .unwrap();
            Some(Arc::new(Windows::Redis(redis)))
        } else {
            None
        };
        let console =
            Arc::new(Console::new(&settings, writes, db.clone(), windows.clone()).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(console::serve_on(listener, console, async {
            let _ = stopped.await;
        }));
        Fixture {
            addr,
            kafka,
            log: InMemoryLog::new(topics.clone()),
            topics,
            db,
            profiles,
            windows,
            mysql,
            stop: Some(stop),
        }
    }

    /// Folds events into the projections as their consumers would (each
    /// projection that reads the topic, consecutive offsets), and profile
    /// events into the console's profile store as its follower would.
    pub async fn fold(&mut self, events: &[(Topic, Vec<u8>)]) {
        self.log.fold(&self.db, events).await.unwrap();
        let mut store = self.profiles.write().unwrap();
        for (topic, value) in events {
            if *topic == Topic::Profiles {
                store.apply(&decode::<ProfileEvent>(value).unwrap());
            }
        }
    }

    /// Folds `points` of `metric` into the console's windows, as the
    /// window folder would.
    pub async fn fold_points(&self, metric: &str, points: &[(i64, f64)]) {
        let windows = self.windows.as_ref().expect("a fixture with windows");
        let batch: Vec<Datapoint> = points
            .iter()
            .map(|&(timestamp, value)| Datapoint {
                metric: metric.to_owned(),
                timestamp,
                value,
            })
            .collect();
        for chunk in batch.chunks(5000) {
            windows.fold(chunk).await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything on `topic` now (see [`read_all`]).
    pub async fn read_all<E: Event>(&self, topic: &str, want: usize) -> Vec<E> {
        read_all(&self.kafka, topic, want).await
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(w) = &self.windows {
            let _ = w.clear().await;
        }
        self.db.close().await;
        if let Some((server, name)) = self.mysql.take() {
            if let Ok(mut conn) = sqlx::AnyConnection::connect(&format!("{server}/mysql")).await {
                let _ = sqlx::query(&format!("DROP DATABASE {name}"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// Everything on partition 0 of `topic`: waits up to 30 s for `want`
/// events, or 3 s when none are wanted (to see that none came).
pub async fn read_all<E: Event>(kafka: &KafkaConfig, topic: &str, want: usize) -> Vec<E> {
    let group = format!("reader-{}", Uuid::now_v7());
    let consumer = Consumer::assigned(kafka, &group, &group, &[(topic.to_owned(), 0, 0)]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(if want == 0 { 3 } else { 30 });
    let mut got = Vec::new();
    while got.len() < want.max(1) {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(batch) = tokio::time::timeout(left, consumer.next_batch(100)).await else {
            break;
        };
        got.extend(batch.iter().filter_map(|r| decode::<E>(r.payload()).ok()));
    }
    consumer.close().await;
    got
}

pub fn rec<E: Event>(topic: Topic, event: &E) -> (Topic, Vec<u8>) {
    (topic, encode(event).unwrap())
}

/// An anomaly of `metric` at the end of `series`, with its fingerprint
/// check carrying the series (as the analyzer emits them).
pub fn anomaly_with_check(
    metric: &str,
    series: &[(i64, f64)],
    alerts: bool,
) -> (AnomalyEvent, CheckRequest) {
    let (ts, value) = *series.last().unwrap();
    let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{metric}|{ts}").as_bytes());
    let check_id = Uuid::new_v5(&id, b"fingerprint");
    let algorithms: Vec<String> = ["histogram_bins", "stddev_from_average", "least_squares"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let anomaly = AnomalyEvent {
        id,
        metric: metric.to_owned(),
        timestamp: ts,
        value,
        source: SourceApp::Analyzer,
        algorithms_run: algorithms.clone(),
        triggered_algorithms: algorithms[..2].to_vec(),
        full_duration: ts - series[0].0,
        from_timestamp: series[0].0,
        check_id: Some(check_id),
        derivative: false,
        decided_at_ms: ts * 1000,
        count: 1,
        last_timestamp: ts,
        max_deviation: 0.0,
    };
    let check = CheckRequest {
        id: check_id,
        anomaly_id: id,
        target: CheckTarget::Fingerprint,
        metric: metric.to_owned(),
        timestamp: ts,
        value,
        triggered_algorithms: algorithms[..2].to_vec(),
        second_order_resolution_hours: None,
        series: series
            .iter()
            .map(|&(timestamp, value)| SeriesPoint { timestamp, value })
            .collect(),
        decided_at_ms: ts * 1000,
        full_duration: Some(ts - series[0].0),
        echo_series: None,
        alerts: if alerts {
            vec![AlertRoute {
                alerter: "smtp".into(),
                rule: "test".into(),
                expiration_time: None,
            }]
        } else {
            Vec::new()
        },
        periodic: false,
        derivative: false,
    };
    (anomaly, check)
}

/// The fingerprint verdict on check `c` (2 profiles checked).
pub fn a_match(
    c: &CheckRequest,
    method: MatchMethod,
    profile: Option<Uuid>,
    matched: bool,
) -> MatchResult {
    MatchResult {
        id: Uuid::new_v5(&c.id, b"match"),
        check_id: c.id,
        anomaly_id: c.anomaly_id,
        metric: c.metric.clone(),
        timestamp: c.timestamp,
        matched,
        method,
        profile_id: profile,
        layer_id: None,
        percent_different: matched.then_some(0.42),
        distance: None,
        decided_at_ms: c.decided_at_ms + 1,
        echo: false,
        profiles_checked: 2,
        features_sum: None,
        common_features: None,
        approx_close: false,
        motif: None,
    }
}

/// A generation-0 profile made from labelling `check` (real features).
pub fn profile_of(check: &CheckRequest) -> ProfileEvent {
    let labelled = learn::LabelledCheck {
        check_id: check.id,
        anomaly_id: check.anomaly_id,
        metric: check.metric.clone(),
        timestamp: check.timestamp,
        full_duration: check.full_duration(),
        series: check
            .series
            .iter()
            .map(|p| (p.timestamp, p.value))
            .collect(),
        echo_series: check
            .echo_series
            .as_ref()
            .map(|s| s.iter().map(|p| (p.timestamp, p.value)).collect()),
    };
    let label = learn::label_for_check(
        &learn::LabelRequest {
            check_id: check.id,
            not_anomalous: true,
            learn: true,
            layers_json: None,
            description: Some("test profile".into()),
            operator: USER.into(),
        },
        &labelled,
        check.timestamp * 1000,
    )
    .unwrap();
    let settings = learn::LearnPolicy::default().for_metric(&check.metric);
    learn::profile_from_label(&label, &settings, "v1").unwrap()
}

/// A response: status, headers, body.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value a `Set-Cookie` gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()?
                    .trim()
                    .strip_prefix(&format!("{name}="))
                    .map(str::to_owned)
            })
    }

    /// The value of the first `name="field" value="…"` input in the page.
    pub fn field(&self, field: &str) -> Option<String> {
        let needle = format!("name=\"{field}\" value=\"");
        let at = self.body.find(&needle)? + needle.len();
        let end = self.body[at..].find('"')?;
        Some(self.body[at..at + end].to_owned())
    }
}

/// A request builder over reqwest that never follows redirects and sends
/// only the cookies it is given.
pub struct Client {
    http: reqwest::Client,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }
}

impl Client {
    /// A client whose connections come from `address` (any of 127.0.0.0/8
    /// works on loopback), as another machine's would.
    pub fn from_address(address: std::net::IpAddr) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(address)
                .build()
                .unwrap(),
        }
    }
}

async fn reply(r: reqwest::Response) -> Reply {
    Reply {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap_or_default(),
    }
}

impl Client {
    pub async fn get(&self, url: &str, cookie: Option<&str>) -> Reply {
        let mut rq = self.http.get(url);
        if let Some(c) = cookie {
            rq = rq.header("cookie", c);
        }
        reply(rq.send().await.unwrap()).await
    }

    /// A GET with the bearer token.
    pub async fn http_get_bearer(&self, url: &str, token: &str) -> Reply {
        let rq = self.http.get(url).bearer_auth(token);
        reply(rq.send().await.unwrap()).await
    }

    pub async fn post_form(
        &self,
        url: &str,
        cookie: Option<&str>,
        fields: &[(&str, &str)],
    ) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut rq = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            rq = rq.header("cookie", c);
        }
        reply(rq.send().await.unwrap()).await
    }

    pub async fn post_json(&self, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut rq = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            rq = rq.header(*k, *v);
        }
        reply(rq.send().await.unwrap()).await
    }

    /// Fetches the login form and posts it with `name` and `password`.
    pub async fn try_login(&self, fixture: &Fixture, name: &str, password: &str) -> Reply {
        self.login_to(fixture, name, password, "/anomalies").await
    }

    /// Fetches the login form and posts it with `name`, `password` and
    /// where to go next.
    pub async fn login_to(
        &self,
        fixture: &Fixture,
        name: &str,
        password: &str,
        next: &str,
    ) -> Reply {
        let page = self.get(&fixture.url("/login"), None).await;
        assert_eq!(page.status, 200);
        let nonce = page.cookie("skyline_login").expect("a login cookie");
        let token = page.field("csrf").expect("a login token");
        self.post_form(
            &fixture.url("/login"),
            Some(&format!("skyline_login={nonce}")),
            &[
                ("csrf", &token),
                ("username", name),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }

    /// Logs in through the login form; returns the `Cookie` header value
    /// of the session.
    pub async fn login(&self, fixture: &Fixture) -> String {
        let r = self.try_login(fixture, USER, PASSWORD).await;
        assert_eq!(r.status, 303, "{}", r.body);
        format!(
            "skyline_session={}",
            r.cookie("skyline_session").expect("a session")
        )
    }

    /// The CSRF token the pages give this session.
    pub async fn csrf(&self, fixture: &Fixture, session: &str) -> String {
        let page = self.get(&fixture.url("/anomalies"), Some(session)).await;
        page.field("csrf").expect("the page's csrf field")
    }
}
