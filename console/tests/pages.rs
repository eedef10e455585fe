//! The pages and their JSON twins over real projections — a SQLite file
//! and a MariaDB database, the same checks on each — with anomalies in
//! every state, a profile with a learnt child and its matches folded in by
//! the projections' own fold. Also: every path of `console/openapi.json` is
//! served, and bad parameters get a 400 that says what is wrong.

mod common;

use common::*;
use projections::Topic;
use topics::*;
use uuid::Uuid;

const WEB: &str = "web01.cpu";
const DB: &str = "db02.load";

struct Seeded {
    fixture: Fixture,
    /// web01.cpu anomalies: by profile, by layer, alerted, pending, not alerted.
    web: Vec<(AnomalyEvent, CheckRequest)>,
    profile: ProfileEvent,
    child: ProfileEvent,
}

fn a_match(
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

fn alert(a: &AnomalyEvent) -> AlertEvent {
    AlertEvent {
        id: Uuid::new_v5(&a.id, b"alert"),
        anomaly_id: a.id,
        metric: a.metric.clone(),
        timestamp: a.timestamp,
        value: a.value,
        source: SourceApp::Analyzer,
        alerter: "smtp".into(),
        rule: "web".into(),
        triggered_algorithms: a.triggered_algorithms.clone(),
        decided_at_ms: a.decided_at_ms,
    }
}

async fn seeded(backend: Backend) -> Seeded {
    let mut fixture = Fixture::start(Options {
        backend,
        ..Options::default()
    })
    .await;
    let series = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let mut events = Vec::new();
    let web: Vec<(AnomalyEvent, CheckRequest)> = (0..5)
        .map(|i| anomaly_with_check(WEB, &series[i * 300..i * 300 + 288], i == 3))
        .collect();
    for (a, c) in &web {
        events.push(rec(Topic::Anomalies, a));
        events.push(rec(Topic::Checks, c));
    }
    let profile = profile_of(&web[0].1);
    let child = ProfileEvent {
        id: Uuid::new_v5(&profile.id, b"child-event"),
        profile_id: Uuid::new_v5(&profile.profile_id, b"child"),
        action: ProfileAction::Learnt,
        parent_id: Some(profile.profile_id),
        generation: 1,
        validated: false,
        ..profile.clone()
    };
    events.push(rec(Topic::Profiles, &profile));
    events.push(rec(Topic::Profiles, &child));
    let p = Some(profile.profile_id);
    events.push(rec(
        Topic::Matches,
        &a_match(&web[0].1, MatchMethod::FeaturesProfile, p, true),
    ));
    events.push(rec(
        Topic::Matches,
        &a_match(&web[1].1, MatchMethod::Layers, p, true),
    ));
    events.push(rec(
        Topic::Matches,
        &a_match(&web[2].1, MatchMethod::None, None, false),
    ));
    events.push(rec(Topic::Alerts, &alert(&web[2].0)));
    for i in 0..60 {
        let (a, c) = anomaly_with_check(DB, &series[2000 + i * 10..2000 + i * 10 + 50], false);
        events.push(rec(Topic::Anomalies, &a));
        events.push(rec(Topic::Checks, &c));
    }
    fixture.fold(&events).await;
    Seeded {
        fixture,
        web,
        profile,
        child,
    }
}

fn rows(page: &Reply) -> usize {
    page.body.matches("<tr data-anomaly=").count()
}

async fn pages_show_what_the_projections_hold(backend: Backend) {
    let s = seeded(backend).await;
    let f = &s.fixture;
    let client = Client::default();
    let session = client.login(f).await;
    let get = |path: String| {
        let client = &client;
        let session = session.clone();
        let url = f.url(&path);
        async move { client.get(&url, Some(&session)).await }
    };

    // The list: newest first, 50 a page, filters.
    let first = get("/anomalies".into()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(rows(&first), 50);
    assert!(
        first.body.contains("Page 1 of 2 · 65 in all"),
        "{}",
        first.body
    );
    assert_eq!(rows(&get("/anomalies?page=2".into()).await), 15);
    assert_eq!(rows(&get("/anomalies?page=3".into()).await), 0);
    let web = get("/anomalies?metric=web*".into()).await;
    assert_eq!(rows(&web), 5);
    for state in [
        "deflected_by_profile",
        "deflected_by_layer",
        "alerted",
        "pending",
    ] {
        let page = get(format!("/anomalies?metric=web&state={state}")).await;
        assert_eq!(rows(&page), 1, "state {state}");
        assert!(page.body.contains(&format!("class=\"state {state}\"")));
    }
    assert_eq!(
        rows(&get("/anomalies?metric=web&state=not_alerted".into()).await),
        1
    );
    let ts = s.web[2].0.timestamp;
    let window = get(format!("/anomalies?metric=web&since={ts}&until={ts}")).await;
    assert_eq!(rows(&window), 1);
    assert!(window.body.contains(&s.web[2].0.id.to_string()));

    // Bad parameters say what is wrong.
    for (query, words) in [
        ("state=nope", "state"),
        ("since=yesterday", "yesterday"),
        ("since=2&until=1", "after until"),
        ("page=0", "page"),
        ("page=abc", "page"),
    ] {
        let r = get(format!("/anomalies?{query}")).await;
        assert_eq!(r.status, 400, "{query}");
        assert!(r.body.contains(words), "{query}: {}", r.body);
        let api = get(format!("/api/v1/anomalies?{query}")).await;
        assert_eq!(api.status, 400, "{query}");
        assert!(
            api.json()["error"].as_str().unwrap().contains(words),
            "{query}"
        );
    }

    // The training page of the anomaly the profile deflected.
    let (a, c) = &s.web[0];
    let training = get(format!("/anomalies/{}", a.id)).await;
    assert_eq!(training.status, 200);
    let t = &training.body;
    assert!(t.contains("<svg") && t.contains("mean ± 3σ"));
    assert!(t.contains("stddev_from_average — triggered"));
    assert!(t.contains("least_squares</li>"), "ran but did not fire");
    assert!(t.contains(&format!("/profiles/{}", s.profile.profile_id)));
    assert!(
        t.contains("(from this anomaly)"),
        "the profile made from its check"
    );
    assert!(t.contains("id=\"label-form\""));
    let last = &t[t.find("id=\"last-datapoints\"").unwrap()..];
    assert_eq!(
        last[..last.find("</table>").unwrap()]
            .matches("<tr>")
            .count(),
        31
    );
    assert_eq!(
        get(format!("/anomalies/{}", Uuid::now_v7())).await.status,
        404
    );
    assert_eq!(get("/anomalies/not-an-id".into()).await.status, 400);

    // Its JSON twin carries the judged series exactly.
    let json = get(format!("/api/v1/anomalies/{}", a.id)).await.json();
    let judged: Vec<(i64, f64)> = serde_json::from_value(json["check"]["series"].clone()).unwrap();
    let sent: Vec<(i64, f64)> = c.series.iter().map(|p| (p.timestamp, p.value)).collect();
    assert_eq!(judged, sent);
    assert_eq!(json["detail"]["anomaly"]["state"], "deflected_by_profile");
    assert_eq!(json["windows_available"], false);

    // A bad layers form comes back with the reason and what was typed.
    let csrf = training.field("csrf").unwrap();
    let r = client
        .post_form(
            &f.url(&format!("/anomalies/{}/label", a.id)),
            Some(&session),
            &[
                ("csrf", &csrf),
                ("check_id", &c.id.to_string()),
                ("action", "learn"),
                ("layers", "1"),
                ("d_condition", ">"),
                ("d_boundary", "100"),
                ("e_condition", "<="),
                ("e_boundary", "12.5"),
                ("e_times", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Layer E needs times in row"), "{}", r.body);
    assert!(
        r.body.contains("value=\"12.5\""),
        "the form keeps what was typed"
    );

    // Profiles: the index, the metric's cards, a profile, the comparison.
    let index = get("/profiles".into()).await;
    assert!(index.body.contains(&format!(">{WEB}</a>")));
    let cards = get(format!("/profiles?metric={WEB}")).await;
    assert_eq!(cards.body.matches("<article class=\"card\"").count(), 2);
    let page = get(format!("/profiles/{}", s.profile.profile_id)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<dd>1 descendant profile</dd>"));
    assert!(page.body.contains("also disables its 1 descendant"));
    assert!(
        page.body
            .contains("Matched</dt><dd>2 times (features 1, min-max 0, layers 1, motif 0)"),
        "{}",
        page.body
    );
    assert_eq!(
        page.body.matches("<div class=\"pair\">").count(),
        2,
        "what it matched, both series"
    );
    let compare = get(format!("/profiles/{}/compare", s.child.profile_id)).await;
    assert_eq!(compare.status, 200);
    assert!(compare.body.contains("Parent"));
    assert_eq!(compare.body.matches("<svg").count(), 2);
    let api = get(format!("/api/v1/profiles/{}", s.profile.profile_id))
        .await
        .json();
    assert_eq!(api["descendants"].as_array().unwrap().len(), 1);
    assert_eq!(api["detail"]["children"][0], s.child.profile_id.to_string());

    // Matches, with their filters.
    let all = get("/matches".into()).await;
    assert_eq!(all.body.matches("<article class=\"match-row\"").count(), 3);
    let deflected = get("/matches?matched=1".into()).await;
    assert_eq!(
        deflected
            .body
            .matches("<article class=\"match-row\"")
            .count(),
        2
    );
    let by_profile = get(format!("/matches?profile={}", s.profile.profile_id)).await;
    assert_eq!(
        by_profile
            .body
            .matches("<article class=\"match-row\"")
            .count(),
        2
    );
    assert!(by_profile.body.contains("Features differ by 0.42 %"));
    assert_eq!(get("/matches?profile=nope".into()).await.status, 400);
    s.fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_on_sqlite() {
    pages_show_what_the_projections_hold(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_on_mariadb() {
    pages_show_what_the_projections_hold(Backend::MariaDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_path_is_served() {
    let s = seeded(Backend::Sqlite).await;
    let f = &s.fixture;
    let client = Client::default();
    let spec: serde_json::Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let served = client
        .http_get_bearer(&f.url("/api/v1/openapi.json"), TOKEN)
        .await
        .json();
    assert_eq!(
        served, spec,
        "the console serves the file in the repository"
    );
    let paths = spec["paths"].as_object().unwrap();
    for want in [
        "/api/v1/anomalies",
        "/api/v1/anomalies/{id}",
        "/api/v1/profiles",
        "/api/v1/profiles/{id}",
        "/api/v1/matches",
        "/api/v1/labels",
        "/api/v1/profiles/{id}/disable",
        "/api/v1/profiles/{id}/validate",
    ] {
        assert!(paths.contains_key(want), "{want} is not documented");
    }
    for (path, ops) in paths {
        let anomaly = s.web[0].0.id.to_string();
        let profile = s.profile.profile_id.to_string();
        let id = if path.starts_with("/api/v1/anomalies") {
            anomaly
        } else {
            profile
        };
        let url = f.url(&path.replace("{id}", &id));
        if ops.get("get").is_some() {
            let r = client.http_get_bearer(&url, TOKEN).await;
            assert_eq!(r.status, 200, "GET {path}: {}", r.body);
            assert!(serde_json::from_str::<serde_json::Value>(&r.body).is_ok());
        }
        if ops.get("post").is_some() {
            // Without credentials: routed (401 from the console, not a 404
            // or 405 from the router), and nothing happens.
            let r = client.post_json(&url, &[], "{}").await;
            assert_eq!(r.status, 401, "POST {path}: {}", r.body);
        }
    }
    s.fixture.stop().await;
}
