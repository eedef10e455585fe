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
        series: None,
        full_duration: None,
        expiration_time: None,
        boundary: None,
        fingerprinted: false,
        test: false,
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
        if i == 0 {
            // db02.load has no profile: its check is a training check (no
            // alerts), and its verdict checked no profile.
            let training = MatchResult {
                profiles_checked: 0,
                ..a_match(&c, MatchMethod::None, None, false)
            };
            events.push(rec(Topic::Matches, &training));
        }
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

    // Its graph as a PNG, for the links alerts carry.
    let png = get(format!("/anomalies/{}/graph.png", a.id)).await;
    assert_eq!(png.status, 200);
    assert_eq!(png.headers["content-type"], "image/png");
    assert!(png.body.contains("PNG") && png.body.contains("IHDR"));
    assert_eq!(
        get(format!("/anomalies/{}/graph.png", Uuid::now_v7()))
            .await
            .status,
        404
    );

    // Its JSON twin carries the judged series exactly.
    let json = get(format!("/api/v1/anomalies/{}", a.id)).await.json();
    let judged: Vec<(i64, f64)> = serde_json::from_value(json["check"]["series"].clone()).unwrap();
    let sent: Vec<(i64, f64)> = c.series.iter().map(|p| (p.timestamp, p.value)).collect();
    assert_eq!(judged, sent);
    assert_eq!(json["detail"]["anomaly"]["state"], "deflected_by_profile");
    assert_eq!(json["windows_available"], false);

    // A bad layers form comes back with the reason and what was typed.
    let csrf = training.field("csrf").unwrap();
    let (label_url, check_id) = (
        f.url(&format!("/anomalies/{}/label", a.id)),
        c.id.to_string(),
    );
    let label = |fields: &'static [(&'static str, &'static str)]| {
        let mut all = vec![("csrf", csrf.as_str()), ("check_id", check_id.as_str())];
        all.extend_from_slice(fields);
        let (client, session, url) = (&client, session.clone(), label_url.clone());
        async move { client.post_form(&url, Some(&session), &all).await }
    };
    let r = label(&[
        ("action", "learn"),
        ("layers", "1"),
        ("d_condition", ">"),
        ("d_boundary", "100"),
        ("e_condition", "<="),
        ("e_boundary", "12.5"),
        ("e_times", "0"),
    ])
    .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Layer E needs times in row"), "{}", r.body);
    assert!(
        r.body.contains("value=\"12.5\""),
        "the form keeps what was typed"
    );
    assert!(
        r.body
            .contains("name=\"e_boundary\" placeholder=\"boundary\" value=\"12.5\" required"),
        "sent with layers, the layer inputs come back required"
    );
    // Without "With layers" ticked, the layer inputs are neither required
    // nor read, whatever they hold.
    assert!(
        !t.contains(" required data-layer-required"),
        "a fresh form requires no layer input"
    );
    let r = label(&[
        ("action", "not_anomalous"),
        ("d_condition", ">"),
        ("d_boundary", ""),
        ("e_condition", "<="),
        ("e_boundary", ""),
        ("e_times", "0"),
    ])
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().contains("labelled="), "{}", r.location());
    let labels: Vec<Label> = f.read_all(&f.topics.labels, 1).await;
    assert_eq!(labels.len(), 1);
    assert_eq!(
        (
            labels[0].check_id,
            labels[0].learn,
            labels[0].layers_json.as_deref()
        ),
        (Some(c.id), false, None)
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

    // Matches, with their filters: verdicts on ionosphere checks only…
    let all = get("/matches".into()).await;
    assert_eq!(all.body.matches("<article class=\"match-row\"").count(), 3);
    assert!(
        !all.body.contains(DB),
        "no training check among the matches"
    );
    // …and the training checks apart, as what to label.
    let training = get("/matches?checks=training".into()).await;
    assert_eq!(training.status, 200);
    assert_eq!(
        training
            .body
            .matches("<article class=\"training-row\"")
            .count(),
        1
    );
    assert!(!training.body.contains("match-row"));
    assert!(!training.body.contains("Profiles checked"));
    assert!(training.body.contains(DB) && training.body.contains("Label it"));
    let api = get("/api/v1/matches?checks=training".into()).await.json();
    assert_eq!(api["checks"], "training");
    assert_eq!(api["rows"].as_array().unwrap().len(), 1);
    assert_eq!(api["rows"][0]["metric"], DB);
    let everything = get("/api/v1/matches?checks=all".into()).await.json();
    assert_eq!(everything["total"], 4);
    assert_eq!(get("/matches?checks=nope".into()).await.status, 400);
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
        "/api/v1/mutes",
        "/api/v1/mutes/{id}/unmute",
        "/api/v1/seasonal",
        "/api/v1/system",
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

/// A day of points 5 minutes apart ending at `end`, from a real series.
fn day_ending(end: i64) -> Vec<(i64, f64)> {
    let values = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    (0..288)
        .map(|i| (end - (287 - i) * 300, values[i as usize].1))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learn_profile_says_when_and_from_what_it_learns() {
    let mut f = Fixture::start(Options {
        windows: true,
        ..Options::default()
    })
    .await;
    let now = chrono::Utc::now().timestamp();
    let now = now - now % 300;
    // A metric first seen a day ago, labelled with LEARN just now: its
    // learnt profile is due in an hour, from 30 days the window lacks.
    let young = "learn.young";
    let (a, c) = anomaly_with_check(young, &day_ending(now), true);
    let waiting = profile_of(&c);
    // A metric with 31 days of history, labelled 2 hours ago: due, and the
    // long window holds its 30 days.
    let old = "learn.old";
    let (b, d) = anomaly_with_check(old, &day_ending(now - 7200), true);
    let due = profile_of(&d);
    let history: Vec<(i64, f64)> = (0..31 * 24)
        .map(|h| (now - 31 * 86_400 + h * 3600, (h % 24) as f64))
        .collect();
    f.fold_points(young, &day_ending(now)).await;
    f.fold_points(old, &history).await;
    f.fold(&[
        rec(Topic::Anomalies, &a),
        rec(Topic::Checks, &c),
        rec(Topic::Anomalies, &b),
        rec(Topic::Checks, &d),
        rec(Topic::Profiles, &waiting),
        rec(Topic::Profiles, &due),
    ])
    .await;
    let client = Client::default();
    let session = client.login(&f).await;
    let base = f.url("/profiles/");
    let page = |id: Uuid| {
        let (client, session) = (&client, session.clone());
        let url = format!("{base}{id}");
        async move { client.get(&url, Some(&session)).await.body }
    };
    let learning = |body: &str| -> String {
        let at = body
            .find("id=\"learning\"")
            .expect("the learning paragraph");
        body[at..at + body[at..].find("</p>").unwrap()].to_owned()
    };
    let utc = |ts: i64| {
        chrono::DateTime::from_timestamp(ts, 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string()
    };

    let young_page = learning(&page(waiting.profile_id).await);
    assert!(
        young_page.contains(&format!(
            "Learning at 30 d</strong> — waits until <strong>{}",
            utc(now + 3661)
        )),
        "{young_page}"
    );
    assert!(
        young_page.contains(&utc(now - 30 * 86_400)),
        "the data it learns from"
    );
    assert!(
        young_page.contains(&format!(
            "long window begins {}",
            utc(now - 86_400 + 300 - (now - 86_400 + 300) % 600)
        )),
        "{young_page}"
    );
    assert!(young_page.contains("will skip it"));

    let due_page = learning(&page(due.profile_id).await);
    assert!(
        due_page.contains(&format!("due since <strong>{}", utc(now - 7200 + 3661))),
        "{due_page}"
    );
    assert!(
        due_page.contains("which the long window holds"),
        "{due_page}"
    );

    // Once learnt, it says so.
    let child_id = topics::ids::learnt_profile_id(due.profile_id, d.timestamp, 30 * 86_400);
    let child = ProfileEvent {
        id: Uuid::new_v5(&child_id, b"learnt"),
        profile_id: child_id,
        action: ProfileAction::Learnt,
        parent_id: Some(due.profile_id),
        generation: 1,
        ..due.clone()
    };
    f.fold(&[rec(Topic::Profiles, &child)]).await;
    let learnt = learning(&page(due.profile_id).await);
    assert!(
        learnt.contains(&format!("learnt: <a href=\"/profiles/{child_id}\">")),
        "{learnt}"
    );
    // The JSON twin says the same; a profile made without LEARN has none.
    let json = client
        .get(
            &f.url(&format!("/api/v1/profiles/{}", waiting.profile_id)),
            Some(&session),
        )
        .await
        .json();
    assert_eq!(json["learning"]["due"], now + 3661);
    assert_eq!(json["learning"]["waiting"], true);
    assert_eq!(json["learning"]["window_holds_it"], false);
    let child_json = client
        .get(
            &f.url(&format!("/api/v1/profiles/{child_id}")),
            Some(&session),
        )
        .await
        .json();
    assert!(
        child_json["learning"].is_null(),
        "a learnt profile: {child_json}"
    );
    f.stop().await;
}

/// The metrics page lists every metric received (the datapoints topic's
/// projection), with its points in the window, whether it is
/// ionosphere-enabled and its anomalies in its last 24 hours; its JSON twin
/// says the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_page_lists_every_metric_received() {
    let mut f = Fixture::start(Options {
        windows: true,
        ..Options::default()
    })
    .await;
    let series = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let day = &series[..288];
    let last = day[day.len() - 1].0;
    let point = |metric: &str, (timestamp, value): (i64, f64)| Datapoint {
        metric: metric.into(),
        timestamp,
        value,
    };
    let mut events: Vec<_> = day
        .iter()
        .map(|p| rec(Topic::Datapoints, &point(WEB, *p)))
        .collect();
    events.push(rec(Topic::Datapoints, &point(DB, day[0])));
    let (a, c) = anomaly_with_check(WEB, &day[200..], false);
    events.push(rec(Topic::Anomalies, &a));
    events.push(rec(Topic::Checks, &c));
    events.push(rec(Topic::Profiles, &profile_of(&c)));
    f.fold(&events).await;
    f.fold_points(WEB, day).await;

    let client = Client::default();
    let session = client.login(&f).await;
    let page = client.get(&f.url("/metrics"), Some(&session)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body.matches("<tr data-metric=").count(),
        2,
        "{}",
        page.body
    );
    let web_row = page
        .body
        .split(&format!("<tr data-metric=\"{WEB}\">"))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row for {WEB}: {}", page.body));
    for cell in [
        "<td class=\"num\">288</td>",
        "enabled",
        "<td class=\"num\">1</td>",
    ] {
        assert!(web_row.contains(cell), "{cell} not in {web_row}");
    }
    let glob = client
        .get(&f.url("/metrics?metric=db*"), Some(&session))
        .await;
    assert_eq!(glob.body.matches("<tr data-metric=").count(), 1);
    assert!(glob.body.contains("not yet"), "{}", glob.body);

    let json = client
        .http_get_bearer(&f.url("/api/v1/metrics?metric=web01"), TOKEN)
        .await;
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["rows"][0]["name"], WEB, "{v}");
    assert_eq!(v["rows"][0]["last_seen"], last);
    assert_eq!(v["rows"][0]["datapoints"], 288);
    assert_eq!(v["rows"][0]["ionosphere_enabled"], true);
    assert_eq!(v["rows"][0]["anomalies_24h"], 1);
    assert_eq!(v["points_in_window"][0], 288);
}

/// A profile learnt from a repetitive pattern says so on its page, with
/// every anomaly of the pattern and a link to each of its profiles; its
/// JSON twin lists them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repetitive_pattern_profile_shows_the_anomalies_it_came_from() {
    let mut f = Fixture::start(Options::default()).await;
    let metric = "cron.backup.duration";
    // On the 5-minute grid.
    let t0 = 1_700_000_100;
    // Three checks a day apart of the same real day: alike, so the daily
    // rule learns the three as one chain.
    let checks: Vec<learn::repetitive::TrainingCheck> = (0..3)
        .map(|d| {
            let end = t0 + d * 86_400;
            learn::repetitive::TrainingCheck {
                anomaly_timestamp: end,
                series: day_ending(end),
                check_id: None,
            }
        })
        .collect();
    let settings = learn::LearnPolicy::default().for_metric(metric);
    let chain = learn::repetitive::learn_repetitive(
        metric,
        &checks,
        86_400,
        &fingerprint::ProfileStore::new(),
        &settings,
        t0 * 1000,
    )
    .expect("a pattern");
    assert_eq!(chain.len(), 3);
    let records: Vec<_> = chain.iter().map(|e| rec(Topic::Profiles, e)).collect();
    f.fold(&records).await;

    let client = Client::default();
    let session = client.login(&f).await;
    let middle = chain[1].profile_id;
    let body = client
        .get(&f.url(&format!("/profiles/{middle}")), Some(&session))
        .await
        .body;
    let at = body.find("id=\"pattern\"").expect("the pattern section");
    let section = &body[at..at + body[at..].find("</section>").unwrap()];
    assert!(
        section.contains("Learnt from a repetitive pattern"),
        "{section}"
    );
    for (i, e) in chain.iter().enumerate() {
        let t = chrono::DateTime::from_timestamp(e.anomaly_timestamp.unwrap(), 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string();
        assert!(section.contains(&t), "anomaly {i}: {section}");
        if i != 1 {
            assert!(
                section.contains(&format!("href=\"/profiles/{}\"", e.profile_id)),
                "{section}"
            );
        }
    }
    assert!(section.contains("this profile"));

    let json = client
        .get(
            &f.url(&format!("/api/v1/profiles/{middle}")),
            Some(&session),
        )
        .await
        .json();
    let ids: Vec<&str> = json["pattern"]
        .as_array()
        .expect("a pattern list")
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = chain.iter().map(|e| e.profile_id.to_string()).collect();
    assert_eq!(ids, expected);
    f.stop().await;
}
