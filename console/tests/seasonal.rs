//! Seasonal verdicts on a real console over real projections (SQLite and
//! MariaDB): an anomaly seasonal cleared reads "cleared by seasonal" in
//! the list and on its page, which draws both the 24 h series the Analyzer
//! judged and the week the seasonal check judged; a skipped check says so
//! and why; a confirmed one links to the seasonal anomaly; the state
//! filter selects each; the seasonal page and `GET /api/v1/seasonal` list
//! every verdict with the counts per outcome and reason.

mod common;

use common::*;
use projections::Topic;
use topics::*;
use uuid::Uuid;

/// 7 days at 600 s ending at `end`.
fn week(end: i64) -> Vec<SeriesPoint> {
    (0..1008)
        .map(|k| SeriesPoint {
            timestamp: end - (1007 - k) * 600,
            value: 50.0 + (k as f64 / 144.0 * std::f64::consts::TAU).sin() * 10.0,
        })
        .collect()
}

/// An anomaly of `metric` with its seasonal check (the day it was judged
/// on), and the seasonal verdict on that check.
fn seasonal_anomaly(
    metric: &str,
    day: &[(i64, f64)],
    outcome: SeasonalOutcome,
    reason: &str,
) -> (AnomalyEvent, CheckRequest, SeasonalResult) {
    let (mut a, mut c) = anomaly_with_check(metric, day, false);
    c.id = ids::check_id(a.id, CheckTarget::Seasonal);
    c.target = CheckTarget::Seasonal;
    c.second_order_resolution_hours = Some(168);
    a.check_id = Some(c.id);
    let judged = outcome != SeasonalOutcome::Skipped;
    let confirmed = outcome == SeasonalOutcome::Anomalous;
    let seasonal = ids::anomaly_id(metric, a.timestamp, SourceApp::Seasonal);
    let r = SeasonalResult {
        id: ids::seasonal_result_id(c.id),
        check_id: c.id,
        anomaly_id: a.id,
        metric: metric.into(),
        timestamp: a.timestamp,
        value: a.value,
        hours: 168,
        periodic: false,
        outcome,
        reason: reason.into(),
        algorithms_run: if judged {
            vec![
                "grubbs".into(),
                "ks_test".into(),
                "median_absolute_deviation".into(),
            ]
        } else {
            Vec::new()
        },
        triggered_algorithms: if confirmed {
            vec!["grubbs".into(), "ks_test".into()]
        } else {
            Vec::new()
        },
        resolution: 600,
        full_duration: 7 * 86_400,
        series: if judged {
            week(a.timestamp)
        } else {
            Vec::new()
        },
        seasonal_anomaly_id: confirmed.then_some(seasonal),
        fingerprint_check_id: confirmed.then(|| ids::check_id(seasonal, CheckTarget::Fingerprint)),
        decided_at_ms: a.decided_at_ms + 60_000,
    };
    (a, c, r)
}

/// The HTML of the `<section id="…">` in `body` (empty when absent).
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let Some(at) = body.find(&format!("<section id=\"{id}\"")) else {
        return "";
    };
    let end = body[at..].find("</section>").map_or(body.len(), |e| at + e);
    &body[at..end]
}

struct Seen {
    cleared: AnomalyEvent,
    skipped: AnomalyEvent,
    confirmed: AnomalyEvent,
    confirmed_as: Uuid,
}

async fn fixture(backend: Backend) -> (Fixture, Seen) {
    let mut f = Fixture::start(Options {
        backend,
        ..Options::default()
    })
    .await;
    let series = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let day = &series[..288];
    let (a1, c1, r1) = seasonal_anomaly(
        "web01.cpu.user",
        day,
        SeasonalOutcome::Cleared,
        "daily_peak",
    );
    let (a2, c2, r2) = seasonal_anomaly("web02.cpu.user", day, SeasonalOutcome::Skipped, "stale");
    let (a3, c3, r3) = seasonal_anomaly("db01.load", day, SeasonalOutcome::Anomalous, "consensus");
    // A periodic verdict on a metric with a hostile name: it names no
    // anomaly, the list shows it unlinked and escaped.
    let mut p = r1.clone();
    p.metric = "<script>alert(1)</script>".into();
    p.anomaly_id = ids::periodic_anomaly_id(&p.metric, p.timestamp);
    p.check_id = ids::check_id(p.anomaly_id, CheckTarget::Seasonal);
    p.id = ids::seasonal_result_id(p.check_id);
    p.periodic = true;
    p.outcome = SeasonalOutcome::Cleared;
    p.reason = "consensus".into();
    p.decided_at_ms += 5;
    f.fold(&[
        rec(Topic::Anomalies, &a1),
        rec(Topic::Checks, &c1),
        rec(Topic::Anomalies, &a2),
        rec(Topic::Checks, &c2),
        rec(Topic::Anomalies, &a3),
        rec(Topic::Checks, &c3),
        rec(Topic::Seasonal, &r1),
        rec(Topic::Seasonal, &r2),
        rec(Topic::Seasonal, &r3),
        rec(Topic::Seasonal, &p),
    ])
    .await;
    let confirmed_as = r3.seasonal_anomaly_id.unwrap();
    (
        f,
        Seen {
            cleared: a1,
            skipped: a2,
            confirmed: a3,
            confirmed_as,
        },
    )
}

async fn pages_show_the_verdicts(backend: Backend) {
    let (f, s) = fixture(backend).await;
    let client = Client::default();
    let session = client.login(&f).await;
    let get = |path: String| {
        let client = &client;
        let session = &session;
        let url = f.url(&path);
        async move { client.get(&url, Some(session)).await }
    };

    // Cleared: the badge, the verdict, and both graphs.
    let page = get(format!("/anomalies/{}", s.cleared.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("cleared by seasonal"), "no badge");
    assert!(page.body.contains("cleared at 168 h (daily peak)"));
    let judged = section(&page.body, "judged");
    assert_eq!(judged.matches("<svg").count(), 1, "the 24 h graph");
    let seasonal = section(&page.body, "seasonal");
    assert_eq!(seasonal.matches("<svg").count(), 1, "the seasonal graph");
    assert!(seasonal.contains("seasonal: 168 h at 600 s"), "{seasonal}");
    assert!(seasonal.contains("1008 points at 600 s"), "{seasonal}");

    // Skipped: said, with why, and no graph to draw.
    let page = get(format!("/anomalies/{}", s.skipped.id)).await;
    assert!(page.body.contains("seasonal check skipped"), "no badge");
    let seasonal = section(&page.body, "seasonal");
    assert!(
        seasonal.contains("seasonal check skipped: stale"),
        "{seasonal}"
    );
    assert_eq!(seasonal.matches("<svg").count(), 0);
    assert_eq!(section(&page.body, "judged").matches("<svg").count(), 1);

    // Confirmed: linked to the seasonal anomaly.
    let page = get(format!("/anomalies/{}", s.confirmed.id)).await;
    let seasonal = section(&page.body, "seasonal");
    assert!(
        seasonal.contains("confirmed by seasonal at 168 h"),
        "{seasonal}"
    );
    assert!(seasonal.contains(&format!("href=\"/anomalies/{}\"", s.confirmed_as)));

    // The list, filtered by each state.
    for (state, id) in [
        ("cleared_by_seasonal", s.cleared.id),
        ("seasonal_skipped", s.skipped.id),
        ("confirmed_by_seasonal", s.confirmed.id),
    ] {
        let list = get(format!("/anomalies?state={state}")).await;
        assert_eq!(list.status, 200, "{}", list.body);
        let rows: Vec<&str> = list.body.split("data-anomaly=\"").skip(1).collect();
        assert_eq!(rows.len(), 1, "{state}: {}", list.body);
        assert!(rows[0].starts_with(&id.to_string()), "{state}");
        assert!(list.body.contains(&format!("class=\"state {state}\"")));
        assert!(list
            .body
            .contains(&format!("<option value=\"{state}\" selected")));
    }

    // The seasonal page: linked from the nav, every verdict, the counts.
    let page = get("/seasonal".into()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("href=\"/seasonal\" class=\"active\""));
    assert_eq!(page.body.matches("data-result=\"").count(), 4);
    assert!(page.body.contains("cleared at 168 h (daily peak)"));
    assert!(page.body.contains("seasonal check skipped: stale"));
    assert!(page.body.contains("confirmed by seasonal at 168 h"));
    assert!(page
        .body
        .contains(&format!("href=\"/anomalies/{}\"", s.cleared.id)));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains("<script>alert(1)"), "escaped");
    assert!(page.body.contains("(periodic)"));
    let counts = section(&page.body, "seasonal-counts");
    for (outcome, reason) in [
        ("anomalous", "consensus"),
        ("cleared", "consensus"),
        ("cleared", "daily_peak"),
        ("skipped", "stale"),
    ] {
        assert!(
            counts.contains(&format!(
                "data-outcome=\"{outcome}\" data-reason=\"{reason}\""
            )),
            "{outcome}/{reason}: {counts}"
        );
    }
    f.stop().await;
}

async fn the_api_answers_the_same(backend: Backend) {
    let (f, s) = fixture(backend).await;
    let client = Client::default();

    let r = client
        .http_get_bearer(&f.url("/api/v1/seasonal"), TOKEN)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let recent = v["recent"].as_array().unwrap();
    assert_eq!(recent.len(), 4);
    // Newest decision first: the periodic one (decided 5 ms later).
    assert_eq!(recent[0]["periodic"], true);
    assert!(recent.iter().all(|r| r["series"] == serde_json::json!([])));
    let cleared = recent
        .iter()
        .find(|r| r["anomaly_id"] == s.cleared.id.to_string())
        .unwrap();
    assert_eq!(cleared["outcome"], "cleared");
    assert_eq!(cleared["reason"], "daily_peak");
    assert_eq!(cleared["hours"], 168);
    assert_eq!(cleared["series_points"], 1008);
    let counts: Vec<(String, String, i64)> = v["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["outcome"].as_str().unwrap().to_owned(),
                c["reason"].as_str().unwrap().to_owned(),
                c["results"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("anomalous".into(), "consensus".into(), 1),
            ("cleared".into(), "consensus".into(), 1),
            ("cleared".into(), "daily_peak".into(), 1),
            ("skipped".into(), "stale".into(), 1),
        ]
    );

    // The anomaly's JSON carries its state and the series judged.
    let r = client
        .http_get_bearer(
            &f.url(&format!("/api/v1/anomalies/{}", s.cleared.id)),
            TOKEN,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["detail"]["anomaly"]["state"], "cleared_by_seasonal");
    let seasonal = &v["detail"]["seasonal"][0];
    assert_eq!(seasonal["series"].as_array().unwrap().len(), 1008);
    assert_eq!(
        seasonal["check_id"],
        s.cleared.check_id.unwrap().to_string()
    );
    let r = client
        .http_get_bearer(
            &f.url("/api/v1/anomalies?state=confirmed_by_seasonal"),
            TOKEN,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["rows"][0]["id"], s.confirmed.id.to_string());
    let r = client
        .http_get_bearer(&f.url("/api/v1/anomalies?state=cleared"), TOKEN)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("cleared_by_seasonal"), "{}", r.body);

    // Without the token or a session: refused, as every API read.
    let r = client.get(&f.url("/api/v1/seasonal"), None).await;
    assert_eq!(r.status, 401, "{}", r.body);
    f.stop().await;
}

#[tokio::test]
async fn pages_show_the_seasonal_verdicts_on_sqlite() {
    pages_show_the_verdicts(Backend::Sqlite).await;
}

#[tokio::test]
async fn pages_show_the_seasonal_verdicts_on_mariadb() {
    pages_show_the_verdicts(Backend::MariaDb).await;
}

#[tokio::test]
async fn the_seasonal_api_answers_on_sqlite_and_mariadb() {
    the_api_answers_the_same(Backend::Sqlite).await;
    the_api_answers_the_same(Backend::MariaDb).await;
}
