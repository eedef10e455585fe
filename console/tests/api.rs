//! The write API with the bearer token, on a real axum server (127.0.0.1:0)
//! and the real broker.
//!
//! The check lookup is a stand-in here, a fixed table of checks (an
//! implementation of `learn::CheckLookup`), so that these tests pin the
//! API's own rules; `tests/security.rs` and `tests/pages.rs` label checks
//! folded into a real projections database.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use console::ApiState;
use fingerprint::ProfileStore;
use learn::label::LookupFuture;
use learn::{CheckLookup, LabelledCheck};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use topics::kafka::{ensure_topics, KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::{Label, ProfileAction, ProfileEvent};
use uuid::Uuid;

struct Checks(BTreeMap<Uuid, LabelledCheck>);

impl CheckLookup for Checks {
    fn check_for_label(&self, check_id: Uuid) -> LookupFuture<'_> {
        let found = self.0.get(&check_id).cloned();
        Box::pin(async move { Ok(found) })
    }
}

struct Server {
    addr: SocketAddr,
    kafka: KafkaConfig,
    topics: TopicNames,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn start(token: Option<&str>, checks: Vec<LabelledCheck>, store: ProfileStore) -> Server {
    let kafka = KafkaConfig {
        partitions: 1,
        group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
        ..KafkaConfig::for_brokers(topics::testing::service("SKYLINE_TEST_KAFKA"))
    };
    let tag = Uuid::now_v7().simple().to_string();
    let topics = TopicNames {
        labels: format!("skyline.labels.{tag}"),
        profiles: format!("skyline.profiles.{tag}"),
        ..TopicNames::default()
    };
    ensure_topics(&kafka, &[&topics.labels, &topics.profiles], None)
        .await
        .unwrap();
    let writes = ApiState {
        producer: Producer::new(&kafka).unwrap(),
        topics: topics.clone(),
        checks: Arc::new(Checks(
            checks.into_iter().map(|c| (c.check_id, c)).collect(),
        )),
        profiles: Arc::new(RwLock::new(store)),
        api_token: token.map(str::to_owned),
    };
    let dir = std::env::temp_dir().join(format!("skyline-console-api-{tag}"));
    let db = projections::Database::sqlite(&dir.join("p.sqlite"))
        .await
        .unwrap();
    let settings = console::ConsoleSettings {
        api_token: token.map(str::to_owned),
        ..Default::default()
    };
    let state = Arc::new(console::Console::new(&settings, writes, db, None).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(console::serve_on(listener, state, async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        kafka,
        topics,
        stop: Some(stop),
    }
}

/// One HTTP/1.1 request; returns the status and the JSON body.
async fn post(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).await.unwrap();
    let status: u16 = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map_or("", |b| b.1);
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

fn check() -> LabelledCheck {
    LabelledCheck {
        check_id: Uuid::now_v7(),
        anomaly_id: Uuid::now_v7(),
        metric: "stats.web01.cpu".into(),
        timestamp: 1_700_000_000,
        full_duration: 86_400,
        series: (0..100)
            .map(|i| (1_700_000_000 - 86_400 + i * 864, (i % 7) as f64))
            .collect(),
        echo_series: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_need_the_token_and_land_on_the_topic() {
    let c = check();
    let mut server = start(Some("s3cret"), vec![c.clone()], ProfileStore::new()).await;
    let body = format!(
        r#"{{"check_id":"{}","not_anomalous":true,"learn":true,"description":"backup","operator":"ops"}}"#,
        c.check_id
    );
    let (status, json) = post(server.addr, "/api/v1/labels", None, &body).await;
    assert_eq!(status, 401, "{json}");
    assert!(json["error"].as_str().unwrap().contains("Bearer"));
    let (status, _) = post(server.addr, "/api/v1/labels", Some("s3cre"), &body).await;
    assert_eq!(status, 401);
    let (status, _) = post(server.addr, "/api/v1/labels", Some("s3cret2"), &body).await;
    assert_eq!(status, 401);
    assert!(
        common::read_all::<Label>(&server.kafka, &server.topics.labels, 0)
            .await
            .is_empty(),
        "a refused request produces nothing"
    );

    let (status, json) = post(server.addr, "/api/v1/labels", Some("s3cret"), &body).await;
    assert_eq!(status, 201, "{json}");
    let id: Uuid = json["id"].as_str().unwrap().parse().unwrap();

    // Bad input: unknown check, invalid layers, malformed JSON, no operator.
    let unknown = Uuid::now_v7();
    let (status, json) = post(
        server.addr,
        "/api/v1/labels",
        Some("s3cret"),
        &format!(r#"{{"check_id":"{unknown}","not_anomalous":true,"operator":"ops"}}"#),
    )
    .await;
    assert_eq!(status, 404);
    assert!(json["error"]
        .as_str()
        .unwrap()
        .contains(&unknown.to_string()));
    let (status, json) = post(
        server.addr,
        "/api/v1/labels",
        Some("s3cret"),
        &format!(
            r#"{{"check_id":"{}","not_anomalous":true,"operator":"ops","layers":{{"times_in_row":0}}}}"#,
            c.check_id
        ),
    )
    .await;
    assert_eq!(status, 422, "{json}");
    assert!(json["error"].as_str().unwrap().contains("layers"));
    let (status, _) = post(server.addr, "/api/v1/labels", Some("s3cret"), "{nope").await;
    assert_eq!(status, 400);
    let (status, _) = post(
        server.addr,
        "/api/v1/labels",
        Some("s3cret"),
        &format!(r#"{{"check_id":"{}","not_anomalous":true}}"#, c.check_id),
    )
    .await;
    assert_eq!(status, 422);

    let labels: Vec<Label> = common::read_all(&server.kafka, &server.topics.labels, 1).await;
    assert_eq!(labels.len(), 1, "only the authorised, valid label");
    let l = &labels[0];
    assert_eq!(l.id, id);
    assert_eq!(l.check_id, Some(c.check_id));
    assert_eq!(l.anomaly_id, Some(c.anomaly_id));
    assert_eq!(l.metric, c.metric);
    assert!(l.not_anomalous && l.learn);
    assert_eq!(l.operator, "ops");
    assert_eq!(l.description.as_deref(), Some("backup"));
    assert_eq!(l.series.as_ref().map(Vec::len), Some(100));
    assert_eq!(l.full_duration, Some(86_400));
    let _ = server.stop.take().map(|s| s.send(()));
}

/// A seasonal check's label carries the check's last 24 h, from which the
/// learn service makes the echo profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seasonal_checks_label_carries_its_echo_series() {
    let day = check();
    let c = LabelledCheck {
        full_duration: 604_800,
        series: (0..1008)
            .map(|i| (1_700_000_000 - 604_800 + i * 600, (i % 11) as f64))
            .collect(),
        echo_series: Some(day.series.clone()),
        ..day
    };
    let mut server = start(Some("s3cret"), vec![c.clone()], ProfileStore::new()).await;
    let body = format!(
        r#"{{"check_id":"{}","not_anomalous":true,"operator":"ops"}}"#,
        c.check_id
    );
    let (status, json) = post(server.addr, "/api/v1/labels", Some("s3cret"), &body).await;
    assert_eq!(status, 201, "{json}");
    let labels: Vec<Label> = common::read_all(&server.kafka, &server.topics.labels, 1).await;
    assert_eq!(labels.len(), 1);
    let l = &labels[0];
    assert_eq!(l.full_duration, Some(604_800));
    assert_eq!(l.series.as_ref().map(Vec::len), Some(1008));
    let echo: Option<Vec<(i64, f64)>> = l
        .echo_series
        .as_ref()
        .map(|s| s.iter().map(|p| (p.timestamp, p.value)).collect());
    assert_eq!(echo, c.echo_series);
    let _ = server.stop.take().map(|s| s.send(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_configured_token_the_api_refuses_everything() {
    let c = check();
    let mut server = start(None, vec![c.clone()], ProfileStore::new()).await;
    let body = format!(
        r#"{{"check_id":"{}","not_anomalous":true,"operator":"ops"}}"#,
        c.check_id
    );
    let (status, json) = post(server.addr, "/api/v1/labels", Some("anything"), &body).await;
    assert_eq!(status, 403);
    assert!(json["error"].as_str().unwrap().contains("api_token"));
    assert!(
        common::read_all::<Label>(&server.kafka, &server.topics.labels, 0)
            .await
            .is_empty()
    );
    let _ = server.stop.take().map(|s| s.send(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_and_validate_produce_profile_events() {
    // A profile with a learnt child and grandchild.
    let c = check();
    let label = learn::label_for_check(
        &learn::LabelRequest {
            check_id: c.check_id,
            not_anomalous: true,
            learn: true,
            layers_json: None,
            description: None,
            operator: "ops".into(),
        },
        &c,
        0,
    )
    .unwrap();
    let settings = learn::LearnPolicy::default().for_metric(&c.metric);
    let root = learn::profile_from_label(&label, &settings, "v1").unwrap();
    let mut store = ProfileStore::new();
    store.apply(&root);
    let mut parent = root.clone();
    let mut ids = vec![root.profile_id];
    for generation in 1..=2 {
        let e = ProfileEvent {
            id: Uuid::now_v7(),
            profile_id: Uuid::now_v7(),
            action: ProfileAction::Learnt,
            parent_id: Some(parent.profile_id),
            generation,
            ..parent.clone()
        };
        store.apply(&e);
        ids.push(e.profile_id);
        parent = e;
    }
    let mut server = start(Some("t"), vec![], store).await;

    let path = format!("/api/v1/profiles/{}/disable", ids[0]);
    assert_eq!(post(server.addr, &path, None, "").await.0, 401);
    let (status, json) = post(server.addr, &path, Some("t"), r#"{"operator":"alice"}"#).await;
    assert_eq!(status, 200, "{json}");
    let mut disabled: Vec<Uuid> = json["disabled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    disabled.sort();
    ids.sort();
    assert_eq!(disabled, ids);

    let path = format!("/api/v1/profiles/{}/validate", ids[1]);
    let (status, _) = post(server.addr, &path, Some("t"), "").await;
    assert_eq!(status, 200);
    let unknown = format!("/api/v1/profiles/{}/validate", Uuid::now_v7());
    assert_eq!(post(server.addr, &unknown, Some("t"), "").await.0, 404);
    assert_eq!(
        post(server.addr, "/api/v1/profiles/nope/disable", Some("t"), "")
            .await
            .0,
        400
    );

    let events: Vec<ProfileEvent> =
        common::read_all(&server.kafka, &server.topics.profiles, 4).await;
    assert_eq!(events.len(), 4);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == ProfileAction::Disabled)
            .count(),
        3
    );
    assert!(events
        .iter()
        .filter(|e| e.action == ProfileAction::Disabled)
        .all(|e| e.operator.as_deref() == Some("alice")));
    assert_eq!(events[3].action, ProfileAction::Validated);
    let _ = server.stop.take().map(|s| s.send(()));
}
