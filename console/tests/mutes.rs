//! Mutes and delivery outcomes on a real console over real projections
//! (MariaDB and SQLite) and the real broker: the Mute form of the anomaly
//! page produces a MuteEvent as the logged-in operator, the mutes page
//! lists it with an Unmute button that produces the unmute; the JSON API
//! does the same for a script; bad patterns and durations are refused and
//! produce nothing; the anomaly page shows each alerter's delivery outcome
//! once DeliveryEvents are folded.

mod common;

use common::*;
use projections::Topic;
use topics::*;
use uuid::Uuid;

const METRIC: &str = "web01.cpu.user";

async fn with_anomaly(backend: Backend) -> (Fixture, AnomalyEvent) {
    let mut fixture = Fixture::start(Options {
        backend,
        ..Options::default()
    })
    .await;
    let series = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let (a, c) = anomaly_with_check(METRIC, &series[..288], true);
    fixture
        .fold(&[rec(Topic::Anomalies, &a), rec(Topic::Checks, &c)])
        .await;
    (fixture, a)
}

/// The id in `location`'s `param=` query value.
fn id_in(location: &str, param: &str) -> Uuid {
    let at = location.find(&format!("{param}=")).expect(location) + param.len() + 1;
    Uuid::parse_str(&location[at..at + 36]).expect(location)
}

async fn mute_and_unmute(backend: Backend) {
    let (mut f, a) = with_anomaly(backend).await;
    let client = Client::default();
    let session = client.login(&f).await;
    let csrf = client.csrf(&f, &session).await;

    // The anomaly page offers the Mute form, prefilled with the metric.
    let page_path = format!("/anomalies/{}", a.id);
    let page = client.get(&f.url(&page_path), Some(&session)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("action=\"/mutes\""), "no mute form");
    assert_eq!(page.field("pattern").as_deref(), Some(METRIC));
    assert!(page.body.contains("No alert was sent for this anomaly."));

    // Mute through the form: back to the anomaly page, which says so.
    let r = client
        .post_form(
            &f.url("/mutes"),
            Some(&session),
            &[
                ("csrf", &csrf),
                ("next", &page_path),
                ("pattern", METRIC),
                ("duration", "2h"),
                ("reason", "  disk swap <tonight>  "),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.location().starts_with(&format!("{page_path}?muted=")),
        "{}",
        r.location()
    );
    let mute_id = id_in(r.location(), "muted");
    let back = client.get(&f.url(r.location()), Some(&session)).await;
    assert!(back.body.contains("Muted (mute"), "no notice");
    assert!(!back.body.contains("id=\"muted-by\""), "not folded yet");

    let events: Vec<MuteEvent> = f.read_all(&f.topics.mutes, 1).await;
    assert_eq!(events.len(), 1);
    let m = &events[0];
    assert_eq!(m.id, mute_id);
    assert_eq!(m.action, MuteAction::Mute);
    assert_eq!(m.pattern, METRIC);
    assert_eq!(m.operator.as_deref(), Some(USER));
    assert_eq!(m.reason.as_deref(), Some("disk swap <tonight>"));
    assert_eq!(m.until_ms - m.at_ms, 2 * 3_600_000);
    let now = topics::clock::now_ms();
    assert!((now - m.at_ms).abs() < 60_000, "made now: {m:?}");

    // Folded, it is listed in force with an Unmute button.
    f.fold(&[rec(Topic::Mutes, m)]).await;
    let mutes = client.get(&f.url("/mutes"), Some(&session)).await;
    assert_eq!(mutes.status, 200);
    assert!(mutes.body.contains(&format!("data-mute=\"{mute_id}\"")));
    assert!(mutes
        .body
        .contains(&format!("action=\"/mutes/{mute_id}/unmute\"")));
    assert!(mutes.body.contains("disk swap &lt;tonight&gt;"), "escaped");
    let api = client.get(&f.url("/api/v1/mutes"), Some(&session)).await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.json()["active"][0]["id"], mute_id.to_string());
    // The anomaly page says its metric is muted, until when and why.
    let page = client.get(&f.url(&page_path), Some(&session)).await;
    assert!(page.body.contains("id=\"muted-by\""), "{}", page.body);
    assert!(page.body.contains("disk swap &lt;tonight&gt;"));

    // Unmute: back to the mutes page; the unmute carries the mute's id.
    let r = client
        .post_form(
            &f.url(&format!("/mutes/{mute_id}/unmute")),
            Some(&session),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), format!("/mutes?unmuted={mute_id}"));
    let events: Vec<MuteEvent> = f.read_all(&f.topics.mutes, 2).await;
    assert_eq!(events.len(), 2);
    let u = &events[1];
    assert_eq!((u.id, u.action), (mute_id, MuteAction::Unmute));
    assert_eq!(u.pattern, METRIC);
    assert_eq!(u.operator.as_deref(), Some(USER));
    f.fold(&[rec(Topic::Mutes, u)]).await;
    let mutes = client.get(&f.url("/mutes"), Some(&session)).await;
    assert!(mutes.body.contains("No mute is in force"), "{}", mutes.body);
    assert!(mutes.body.contains(&format!("unmuted by {USER}")));
    let page = client.get(&f.url(&page_path), Some(&session)).await;
    assert!(!page.body.contains("id=\"muted-by\""), "unmuted");
    // Ending it again is refused: it is no longer in force.
    let r = client
        .post_form(
            &f.url(&format!("/mutes/{mute_id}/unmute")),
            Some(&session),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);

    // A script mutes and unmutes with the API token.
    let bearer = format!("Bearer {TOKEN}");
    let r = client
        .post_json(
            &f.url("/api/v1/mutes"),
            &[("authorization", &bearer)],
            r#"{"pattern":"db.*","duration":"30m","reason":"failover","operator":"cron"}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let script_mute = Uuid::parse_str(r.json()["id"].as_str().unwrap()).unwrap();
    let events: Vec<MuteEvent> = f.read_all(&f.topics.mutes, 3).await;
    assert_eq!(events[2].id, script_mute);
    assert_eq!(events[2].operator.as_deref(), Some("cron"));
    assert_eq!(events[2].until_ms - events[2].at_ms, 1_800_000);
    f.fold(&[rec(Topic::Mutes, &events[2])]).await;
    // A session's JSON write is the operator's, whatever the body says.
    let r = client
        .post_json(
            &f.url(&format!("/api/v1/mutes/{script_mute}/unmute")),
            &[("cookie", &session), ("x-csrf-token", &csrf)],
            r#"{"operator":"mallory"}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let events: Vec<MuteEvent> = f.read_all(&f.topics.mutes, 4).await;
    assert_eq!(events[3].action, MuteAction::Unmute);
    assert_eq!(events[3].operator.as_deref(), Some(USER));
    // Unknown mutes: 404.
    let r = client
        .post_json(
            &f.url(&format!("/api/v1/mutes/{}/unmute", Uuid::now_v7())),
            &[("authorization", &bearer)],
            "",
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_and_unmute_through_the_forms_and_the_api_on_mariadb() {
    mute_and_unmute(Backend::MariaDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_and_unmute_through_the_forms_and_the_api_on_sqlite() {
    mute_and_unmute(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_mutes_and_unauthenticated_ones_are_refused_and_produce_nothing() {
    let (f, _) = with_anomaly(Backend::Sqlite).await;
    let client = Client::default();
    let session = client.login(&f).await;
    let csrf = client.csrf(&f, &session).await;
    let fields = |csrf: &str, pattern: &str, duration: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("pattern".to_owned(), pattern.to_owned()),
            ("duration".to_owned(), duration.to_owned()),
        ]
    };
    let post = |fields: Vec<(String, String)>, cookie: Option<String>| {
        let client = &client;
        let url = f.url("/mutes");
        async move {
            let pairs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            client.post_form(&url, cookie.as_deref(), &pairs).await
        }
    };
    type Case<'a> = (&'a str, Vec<(String, String)>, Option<String>, u16);
    let cases: [Case; 8] = [
        ("no session", fields(&csrf, METRIC, "2h"), None, 401),
        (
            "no CSRF token",
            fields(&csrf, METRIC, "2h")[1..].to_vec(),
            Some(session.clone()),
            403,
        ),
        (
            "a wrong CSRF token",
            fields("AAAA", METRIC, "2h"),
            Some(session.clone()),
            403,
        ),
        (
            "an invalid regex",
            fields(&csrf, "web[", "2h"),
            Some(session.clone()),
            422,
        ),
        (
            "an empty pattern",
            fields(&csrf, "  ", "2h"),
            Some(session.clone()),
            422,
        ),
        (
            "no duration",
            fields(&csrf, METRIC, ""),
            Some(session.clone()),
            422,
        ),
        (
            "a duration of nothing",
            fields(&csrf, METRIC, "0s"),
            Some(session.clone()),
            422,
        ),
        (
            "a decade",
            fields(&csrf, METRIC, "3650d"),
            Some(session.clone()),
            422,
        ),
    ];
    for (case, fields, cookie, want) in cases {
        let r = post(fields, cookie).await;
        assert_eq!(r.status, want, "{case}: {}", r.body);
    }
    // The JSON API: no session, no token, a wrong token, a bad body.
    let body = r#"{"pattern":"web01.*","duration":"2h"}"#;
    let url = f.url("/api/v1/mutes");
    assert_eq!(client.post_json(&url, &[], body).await.status, 401);
    let r = client.post_json(&url, &[("cookie", &session)], body).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = client
        .post_json(
            &url,
            &[("cookie", &session), ("x-csrf-token", "AAAA")],
            body,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = client
        .post_json(&url, &[("authorization", "Bearer wrong")], body)
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let bearer = format!("Bearer {TOKEN}");
    let r = client
        .post_json(
            &url,
            &[("authorization", &bearer)],
            r#"{"pattern":"x","duration":"2h"}"#,
        )
        .await;
    assert_eq!(r.status, 422, "a script must name its operator: {}", r.body);
    let r = client
        .post_json(&url, &[("authorization", &bearer)], r#"{"pattern":1}"#)
        .await;
    assert!((400..500).contains(&r.status), "{}", r.body);
    let r = client
        .post_json(
            &f.url("/api/v1/mutes/not-an-id/unmute"),
            &[("authorization", &bearer)],
            "",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        f.read_all::<MuteEvent>(&f.topics.mutes, 0).await.is_empty(),
        "a refused mute was produced"
    );
    f.stop().await;
}

fn delivery(
    alert: &AlertEvent,
    alerter: &str,
    kind: &str,
    outcome: DeliveryOutcome,
    attempt: i32,
    detail: Option<&str>,
) -> DeliveryEvent {
    DeliveryEvent {
        id: Uuid::new_v5(&alert.id, format!("{alerter}|{attempt}").as_bytes()),
        alert_id: alert.id,
        anomaly_id: alert.anomaly_id,
        metric: alert.metric.clone(),
        alerter: alerter.into(),
        kind: kind.into(),
        outcome,
        attempt,
        detail: detail.map(str::to_owned),
        at_ms: alert.decided_at_ms + i64::from(attempt) * 1_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anomaly_page_shows_each_alerters_delivery_outcome() {
    let (mut f, a) = with_anomaly(Backend::MariaDb).await;
    let alert = AlertEvent {
        id: Uuid::new_v5(&a.id, b"alert"),
        anomaly_id: a.id,
        metric: a.metric.clone(),
        timestamp: a.timestamp,
        value: a.value,
        source: SourceApp::Analyzer,
        alerter: "ops-hook|ops-mail".into(),
        rule: "web01".into(),
        triggered_algorithms: a.triggered_algorithms.clone(),
        decided_at_ms: a.decided_at_ms,
        series: None,
        full_duration: None,
        expiration_time: None,
        boundary: None,
        fingerprinted: false,
        test: false,
    };
    let client = Client::default();
    let session = client.login(&f).await;
    let path = format!("/anomalies/{}", a.id);
    f.fold(&[rec(Topic::Alerts, &alert)]).await;
    let page = client.get(&f.url(&path), Some(&session)).await;
    assert!(
        page.body.contains("No delivery recorded yet"),
        "{}",
        page.body
    );

    let hook_500 = Some("HTTP 500 Internal Server Error");
    f.fold(&[
        rec(
            Topic::Deliveries,
            &delivery(
                &alert,
                "ops-hook",
                "webhook",
                DeliveryOutcome::Failed,
                1,
                hook_500,
            ),
        ),
        rec(
            Topic::Deliveries,
            &delivery(
                &alert,
                "ops-mail",
                "smtp",
                DeliveryOutcome::GaveUp,
                1,
                Some("550 <no such user>"),
            ),
        ),
        rec(
            Topic::Deliveries,
            &delivery(
                &alert,
                "ops-hook",
                "webhook",
                DeliveryOutcome::Failed,
                2,
                hook_500,
            ),
        ),
        rec(
            Topic::Deliveries,
            &delivery(
                &alert,
                "ops-hook",
                "webhook",
                DeliveryOutcome::Delivered,
                3,
                Some("HTTP 200"),
            ),
        ),
    ])
    .await;
    let page = client.get(&f.url(&path), Some(&session)).await;
    assert_eq!(page.status, 200);
    let row = |alerter: &str| -> String {
        let at = page
            .body
            .find(&format!("data-alerter=\"{alerter}\""))
            .unwrap_or_else(|| panic!("no delivery row for {alerter}: {}", page.body));
        let end = page.body[at..].find("</tr>").unwrap() + at;
        page.body[at..end].to_owned()
    };
    let hook = row("ops-hook");
    assert!(hook.contains("data-outcome=\"delivered\""), "{hook}");
    assert!(
        hook.contains("<td class=\"num\">3</td>"),
        "three attempts: {hook}"
    );
    let mail = row("ops-mail");
    assert!(mail.contains("data-outcome=\"gave_up\""), "{mail}");
    assert!(mail.contains("gave up"), "{mail}");
    assert!(
        mail.contains("550 &lt;no such user&gt;"),
        "the reason, escaped: {mail}"
    );

    // The JSON twin carries the same, and every attempt.
    let api = client
        .get(
            &f.url(&format!("/api/v1/anomalies/{}", a.id)),
            Some(&session),
        )
        .await;
    let json = api.json();
    assert_eq!(json["delivery_outcomes"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        json["detail"]["deliveries"].as_array().map(Vec::len),
        Some(4)
    );
    // The mutes page lists the latest attempts, newest first.
    let mutes = client.get(&f.url("/mutes"), Some(&session)).await;
    let first = mutes.body.find("data-outcome=\"delivered\"").unwrap();
    let failed = mutes.body.find("data-outcome=\"failed\"").unwrap();
    assert!(first < failed, "newest first");
    f.stop().await;
}
