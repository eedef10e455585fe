//! The System page on a real console over real projections (SQLite and
//! MariaDB): the system events folded by the `system` projection — two
//! heartbeats of one service and instance (the newer one kept whatever the
//! order), a stall that recovered and one still on, a stale metric and one
//! sending again — read as each service's health and lag, the checks
//! stalled now and the metrics stale now, on `/system` and
//! `GET /api/v1/system`.

mod common;

use common::*;
use projections::Topic;
use topics::*;

fn event(kind: SystemKind, subject: &str, at: i64, since: Option<i64>) -> SystemEvent {
    SystemEvent {
        id: ids::system_event_id(kind, subject, since.unwrap_or(at)),
        kind,
        subject: subject.into(),
        service: "alert".into(),
        instance: "host-1".into(),
        at,
        since,
        ready: None,
        alert: kind != SystemKind::Fresh,
        reason: String::new(),
        figures: Vec::new(),
        decided_at_ms: at * 1000,
    }
}

fn heartbeat(service: &str, at: i64, ready: bool, lag: f64) -> SystemEvent {
    SystemEvent {
        id: ids::system_event_id(SystemKind::Heartbeat, &format!("{service}/host-1"), at),
        service: service.into(),
        ready: Some(ready),
        alert: false,
        reason: if ready {
            "ok".into()
        } else {
            "redis unreachable".into()
        },
        figures: vec![
            SystemFigure {
                name: "lag_records".into(),
                value: lag,
            },
            SystemFigure {
                name: "metrics_sparsity_mean_percent".into(),
                value: 89.5,
            },
        ],
        ..event(SystemKind::Heartbeat, service, at, None)
    }
}

/// The HTML of the `<section id="…">` in `body` (empty when absent).
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let Some(at) = body.find(&format!("<section id=\"{id}\"")) else {
        return "";
    };
    let end = body[at..].find("</section>").map_or(body.len(), |e| at + e);
    &body[at..end]
}

async fn system_page_shows_what_skyline_says_of_itself(backend: Backend) {
    let mut f = Fixture::start(Options {
        backend,
        ..Options::default()
    })
    .await;
    let t = 1_700_000_000;
    let events = [
        // The newer heartbeat first: the older one folded after it must
        // not replace it.
        heartbeat("analyze", t + 60, false, 42.0),
        heartbeat("analyze", t, true, 0.0),
        heartbeat("ingest", t + 30, true, 0.0),
        event(
            SystemKind::Stalled,
            "ingest.received",
            t + 10,
            Some(t - 300),
        ),
        event(
            SystemKind::Recovered,
            "ingest.received",
            t + 40,
            Some(t - 300),
        ),
        event(
            SystemKind::Stalled,
            "learn.heartbeat",
            t + 50,
            Some(t - 120),
        ),
        event(SystemKind::Stale, "web01.cpu.user", t + 20, Some(t - 600)),
        event(SystemKind::Stale, "db01.disk.free", t + 20, Some(t - 700)),
        event(SystemKind::Fresh, "db01.disk.free", t + 45, Some(t - 700)),
    ];
    let recs: Vec<_> = events.iter().map(|e| rec(Topic::System, e)).collect();
    f.fold(&recs).await;
    // Folding the same events again changes nothing.
    f.fold(&recs).await;

    let client = Client::default();
    let session = client.login(&f).await;
    let page = client.get(&f.url("/system"), Some(&session)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let services = section(&page.body, "services");
    assert!(services.contains("data-service=\"analyze\""), "{services}");
    assert!(
        services.contains("not ready"),
        "the newer heartbeat: {services}"
    );
    assert!(services.contains("redis unreachable"), "{services}");
    assert!(services.contains(">42<"), "its lag: {services}");
    assert!(services.contains("data-service=\"ingest\""), "{services}");
    let stalls = section(&page.body, "stalls");
    assert!(
        stalls.contains("data-subject=\"learn.heartbeat\""),
        "{stalls}"
    );
    assert!(!stalls.contains("ingest.received"), "recovered: {stalls}");
    let stale = section(&page.body, "stale");
    assert!(stale.contains("data-subject=\"web01.cpu.user\""), "{stale}");
    assert!(!stale.contains("db01.disk.free"), "sending again: {stale}");
    assert!(section(&page.body, "sparsity").contains("89.50"));
    assert!(page.body.contains("href=\"/system\""), "in the navigation");

    let api = client.get(&f.url("/api/v1/system"), Some(&session)).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let json = api.json();
    assert_eq!(json["heartbeats"].as_array().unwrap().len(), 2);
    assert_eq!(json["heartbeats"][0]["at"], t + 60);
    assert_eq!(json["heartbeats"][0]["figures"]["lag_records"], 42.0);
    let subjects = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["subject"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(subjects("stalls"), ["learn.heartbeat"]);
    assert_eq!(subjects("stale"), ["web01.cpu.user"]);
    assert_eq!(subjects("latest").len(), 6);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_page_on_sqlite() {
    system_page_shows_what_skyline_says_of_itself(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_page_on_mariadb() {
    system_page_shows_what_skyline_says_of_itself(Backend::MariaDb).await;
}
