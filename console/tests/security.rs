//! Who may do what, on a real console over a real SQLite projections file
//! and the real broker: every write endpoint — the pages' forms and the
//! JSON API — refuses a request without a session (401) or with a missing
//! or wrong CSRF token (403), and nothing reaches the log; the login form
//! has its own CSRF token; reads need a login unless `anonymous_read`,
//! which never opens a write; metric names with HTML, JS and SQL
//! metacharacters are shown escaped and stored intact.

mod common;

use common::*;
use projections::Topic;
use topics::{Label, MuteEvent, ProfileEvent};

/// Metric names an attacker (or an unlucky naming scheme) could send.
const NASTY: [&str; 4] = [
    "web<script>alert('x')</script>.cpu",
    "db'; DROP TABLE anomalies; --",
    "a\"b&c<i>%_!\\.load",
    "<img src=x onerror=alert(1)>",
];

struct Seeded {
    fixture: Fixture,
    anomaly: uuid::Uuid,
    check: uuid::Uuid,
    profile: uuid::Uuid,
}

async fn seeded(options: Options) -> Seeded {
    let mut fixture = Fixture::start(options).await;
    let series = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let mut events = Vec::new();
    let mut first = None;
    for (i, metric) in NASTY.iter().enumerate() {
        let window = &series[i * 10..i * 10 + 288];
        let (a, c) = anomaly_with_check(metric, window, true);
        events.push(rec(Topic::Anomalies, &a));
        events.push(rec(Topic::Checks, &c));
        if first.is_none() {
            first = Some((a.id, c.clone()));
        }
    }
    let (anomaly, check) = first.unwrap();
    let profile = profile_of(&check);
    events.push(rec(Topic::Profiles, &profile));
    fixture.fold(&events).await;
    Seeded {
        fixture,
        anomaly,
        check: check.id,
        profile: profile.profile_id,
    }
}

/// Every write, as (what, method-and-path, is it a form).
fn writes(s: &Seeded) -> Vec<(String, bool)> {
    vec![
        (format!("/anomalies/{}/label", s.anomaly), true),
        (format!("/profiles/{}/disable", s.profile), true),
        (format!("/profiles/{}/validate", s.profile), true),
        ("/logout".to_owned(), true),
        ("/api/v1/labels".to_owned(), false),
        (format!("/api/v1/profiles/{}/disable", s.profile), false),
        (format!("/api/v1/profiles/{}/validate", s.profile), false),
        ("/mutes".to_owned(), true),
        (format!("/mutes/{}/unmute", s.profile), true),
        ("/api/v1/mutes".to_owned(), false),
        (format!("/api/v1/mutes/{}/unmute", s.profile), false),
    ]
}

fn label_body(s: &Seeded) -> String {
    format!(
        r#"{{"check_id":"{}","not_anomalous":true,"learn":true,"operator":"mallory"}}"#,
        s.check
    )
}

async fn assert_nothing_produced(f: &Fixture) {
    assert!(
        f.read_all::<Label>(&f.topics.labels, 0).await.is_empty(),
        "a refused write produced a label"
    );
    assert!(
        f.read_all::<ProfileEvent>(&f.topics.profiles, 0)
            .await
            .is_empty(),
        "a refused write produced a profile event"
    );
    assert!(
        f.read_all::<MuteEvent>(&f.topics.mutes, 0).await.is_empty(),
        "a refused write produced a mute"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_needs_a_session_and_its_csrf_token() {
    let s = seeded(Options {
        api_token: None,
        ..Options::default()
    })
    .await;
    let f = &s.fixture;
    let client = Client::default();
    let session = client.login(f).await;
    let csrf = client.csrf(f, &session).await;
    // Another session's token is as wrong as none.
    let other = client.login(f).await;
    let other_csrf = client.csrf(f, &other).await;
    assert_ne!(csrf, other_csrf);

    let check = s.check.to_string();
    let form = |token: &str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf", token.to_owned()),
            ("check_id", check.clone()),
            ("action", "learn".to_owned()),
        ]
    };
    for (path, is_form) in writes(&s) {
        let url = f.url(&path);
        let cases: [(&str, Option<&str>, Option<&str>, u16); 4] = [
            ("no session", None, None, 401),
            ("a session without a token", Some(&session), None, 403),
            (
                "a session with another's token",
                Some(&session),
                Some(&other_csrf),
                403,
            ),
            (
                "a session with a made-up token",
                Some(&session),
                Some("AAAA"),
                403,
            ),
        ];
        for (case, cookie, token, want) in cases {
            let r = if is_form {
                let fields = match token {
                    Some(t) => form(t),
                    None => form("")[1..].to_vec(),
                };
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                client.post_form(&url, cookie, &fields).await
            } else {
                let mut headers = Vec::new();
                if let Some(c) = cookie {
                    headers.push(("cookie", c));
                }
                if let Some(t) = token {
                    headers.push(("x-csrf-token", t));
                }
                client.post_json(&url, &headers, &label_body(&s)).await
            };
            assert_eq!(r.status, want, "{path} with {case}: {}", r.body);
        }
        // A bearer token where none is configured is refused too.
        if !is_form {
            let r = client
                .post_json(&url, &[("authorization", "Bearer guess")], &label_body(&s))
                .await;
            assert_eq!(r.status, 403, "{path} with a bearer token: {}", r.body);
        }
    }
    assert_nothing_produced(f).await;

    // The same requests with the session's own token go through.
    let r = client
        .post_json(
            &f.url("/api/v1/labels"),
            &[("cookie", &session), ("x-csrf-token", &csrf)],
            &label_body(&s),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fields = form(&csrf);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let label_url = f.url(&format!("/anomalies/{}/label", s.anomaly));
    let label_form = || client.post_form(&label_url, Some(&session), &fields);
    let r = label_form().await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().contains("labelled="), "{}", r.location());
    let labels: Vec<Label> = f.read_all(&f.topics.labels, 2).await;
    assert_eq!(labels.len(), 2);
    assert!(
        labels.iter().all(|l| l.operator == USER),
        "a session labels as its operator, whatever the body says: {labels:#?}"
    );
    assert_eq!(labels[0].metric, NASTY[0], "stored intact");

    // Logging out removes the cookie from this browser and revokes the
    // session: a copy of the old cookie can no longer write.
    let r = client
        .post_form(&f.url("/logout"), Some(&session), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.cookie("skyline_session").as_deref(), Some(""));
    let r = label_form().await;
    // (A 401 produces nothing: see the loop above.)
    assert_eq!(r.status, 401, "a logged-out session wrote: {}", r.body);
    s.fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_has_its_own_csrf_token_and_wrong_passwords_fail() {
    let s = seeded(Options::default()).await;
    let f = &s.fixture;
    let client = Client::default();
    let page = client.get(&f.url("/login"), None).await;
    let nonce = page.cookie("skyline_login").unwrap();
    let token = page.field("csrf").unwrap();
    let cookie = format!("skyline_login={nonce}");
    let attempt = |cookie: Option<String>, token: String, password: &'static str| {
        let client = &client;
        let url = f.url("/login");
        async move {
            client
                .post_form(
                    &url,
                    cookie.as_deref(),
                    &[("csrf", &token), ("username", USER), ("password", password)],
                )
                .await
        }
    };
    // A cross-site login (no login cookie) or a forged token: refused.
    assert_eq!(attempt(None, token.clone(), PASSWORD).await.status, 403);
    assert_eq!(
        attempt(Some(cookie.clone()), "forged".into(), PASSWORD)
            .await
            .status,
        403
    );
    let wrong = attempt(Some(cookie.clone()), token.clone(), "wrong").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong name or password"));
    assert!(wrong.cookie("skyline_session").is_none());
    let ok = attempt(Some(cookie), token, PASSWORD).await;
    assert_eq!(ok.status, 303);
    let set = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("skyline_session="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    // `next` never leaves the console.
    let page = client.get(&f.url("/login"), None).await;
    let cookie = format!("skyline_login={}", page.cookie("skyline_login").unwrap());
    let r = client
        .post_form(
            &f.url("/login"),
            Some(&cookie),
            &[
                ("csrf", &page.field("csrf").unwrap()),
                ("username", USER),
                ("password", PASSWORD),
                ("next", "//evil.example/phish"),
            ],
        )
        .await;
    assert_eq!((r.status, r.location()), (303, "/anomalies"));
    s.fixture.stop().await;
}

/// `next` forms that lead off-site once a browser has read them (tabs and
/// newlines dropped, `\` read as `/`), or cannot be sent as a header.
const OFF_SITE: [&str; 9] = [
    "/\t/evil.example/x",
    "/\\/evil.example/x",
    "/\\evil.example/x",
    "//evil.example/x",
    "https://evil.example/x",
    "https:evil.example/x",
    "/x\r\nSet-Cookie: planted=1",
    "/x\nLocation: //evil.example",
    "/\r/evil.example",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_login_next_never_leaves_the_console() {
    let s = seeded(Options::default()).await;
    let f = &s.fixture;
    let client = Client::default();
    for next in OFF_SITE {
        // Posted by a forged form…
        let r = client.login_to(f, USER, PASSWORD, next).await;
        assert_eq!(
            (r.status, r.location()),
            (303, console::DEFAULT_NEXT),
            "next {next:?}: {}",
            r.body
        );
        assert!(r.cookie("skyline_session").is_some(), "next {next:?}");
        // …or carried by a link to the login page: the form it serves
        // names the default page instead.
        let q: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let page = client.get(&f.url(&format!("/login?next={q}")), None).await;
        assert_eq!(page.status, 200, "next {next:?}");
        assert_eq!(
            page.field("next").as_deref(),
            Some(console::DEFAULT_NEXT),
            "next {next:?}"
        );
    }
    // A path on the console is kept.
    let r = client
        .login_to(f, USER, PASSWORD, "/profiles?metric=web01.cpu")
        .await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/profiles?metric=web01.cpu")
    );
    s.fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_need_a_login_unless_anonymous_read_which_never_opens_a_write() {
    let closed = seeded(Options::default()).await;
    let client = Client::default();
    let f = &closed.fixture;
    let r = client.get(&f.url("/anomalies?metric=web"), None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/login?next=%2Fanomalies%3Fmetric%3Dweb");
    for path in [
        "/api/v1/anomalies".to_owned(),
        format!("/api/v1/anomalies/{}", closed.anomaly),
        "/api/v1/profiles".to_owned(),
        format!("/api/v1/profiles/{}", closed.profile),
        "/api/v1/matches".to_owned(),
    ] {
        assert_eq!(client.get(&f.url(&path), None).await.status, 401, "{path}");
        let r = client
            .post_json(&f.url("/api/v1/labels"), &[], &label_body(&closed))
            .await;
        assert_eq!(r.status, 401);
    }
    // The bearer token reads.
    let r = client
        .http_get_bearer(&f.url("/api/v1/anomalies"), TOKEN)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    closed.fixture.stop().await;

    let open = seeded(Options {
        anonymous_read: true,
        ..Options::default()
    })
    .await;
    let f = &open.fixture;
    let page = client
        .get(&f.url(&format!("/anomalies/{}", open.anomaly)), None)
        .await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("id=\"label-form\""),
        "no form for anonymous readers"
    );
    assert!(page.body.contains("to label this anomaly"));
    let profile = client
        .get(&f.url(&format!("/profiles/{}", open.profile)), None)
        .await;
    assert_eq!(profile.status, 200);
    assert!(!profile.body.contains("id=\"disable\""));
    for (path, is_form) in writes(&open) {
        let r = if is_form {
            client
                .post_form(
                    &f.url(&path),
                    None,
                    &[("check_id", &open.check.to_string())],
                )
                .await
        } else {
            client
                .post_json(&f.url(&path), &[], &label_body(&open))
                .await
        };
        assert_eq!(r.status, 401, "{path} anonymously: {}", r.body);
    }
    assert_nothing_produced(f).await;
    open.fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_metric_names_are_shown_escaped_and_stored_intact() {
    let s = seeded(Options::default()).await;
    let f = &s.fixture;
    let client = Client::default();
    let session = client.login(f).await;
    let list = client.get(&f.url("/anomalies"), Some(&session)).await;
    assert_eq!(list.status, 200);
    for raw in ["<script>", "<img src=x", "<i>"] {
        assert!(!list.body.contains(raw), "{raw} reached the page unescaped");
    }
    assert!(list
        .body
        .contains("web&lt;script&gt;alert('x')&lt;/script&gt;.cpu"));
    assert!(list.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let training = client
        .get(&f.url(&format!("/anomalies/{}", s.anomaly)), Some(&session))
        .await;
    assert_eq!(training.status, 200);
    assert!(!training.body.contains("<script>alert"));
    assert!(training.body.contains("<title>web&lt;script&gt;"));

    // The JSON has the names exactly; the SQL metacharacters are data.
    let json = client
        .get(&f.url("/api/v1/anomalies?per_page=500"), Some(&session))
        .await
        .json();
    let mut names: Vec<String> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metric"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = NASTY.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(names, want);
    for name in NASTY {
        let q: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
        let r = client
            .get(
                &f.url(&format!("/api/v1/anomalies?metric={q}")),
                Some(&session),
            )
            .await
            .json();
        let rows = r["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "filtering by {name:?}: {r}");
        assert_eq!(rows[0]["metric"], name);
    }
    let stored: Vec<String> = sqlx::query_scalar("SELECT name FROM metrics ORDER BY name")
        .fetch_all(f.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, want, "the metrics table holds the names intact");
    assert_eq!(f.db.count("anomalies").await.unwrap(), 4, "nothing dropped");
    s.fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_throttle_that_address_for_that_name_only() {
    let s = seeded(Options::default()).await;
    let f = &s.fixture;
    let here = Client::default();
    for _ in 0..console::auth::MAX_FAILED_LOGINS {
        assert_eq!(here.try_login(f, USER, "guess").await.status, 401);
    }
    // Now even the right password is refused from here, and no session
    // is made.
    let locked = here.try_login(f, USER, PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains("Too many failed logins"));
    let wait: i64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= console::auth::THROTTLE_WINDOW);
    assert!(locked.cookie("skyline_session").is_none());
    // Another name from here is still checked (wrong: 401, not 429)…
    assert_eq!(here.try_login(f, "someone-else", "guess").await.status, 401);
    // …and the operator, from another address, still logs in: wrong
    // passwords sent from elsewhere do not lock them out.
    let elsewhere = Client::from_address([127, 0, 0, 2].into());
    let r = elsewhere.try_login(f, USER, PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.cookie("skyline_session").is_some());
    s.fixture.stop().await;
}
