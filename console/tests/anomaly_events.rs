//! One anomaly per event in the console: the list and the anomaly page show
//! how many anomalous points an anomaly folded and how long it lasted (or
//! that it goes on), and the JSON API carries count, last_timestamp,
//! max_deviation and end_timestamp — folded by the projections' own fold
//! from the anomaly's re-published versions and its `AnomalyEnded`.

mod common;

use common::*;
use projections::Topic;
use topics::ids::anomaly_ended_id;
use topics::*;

const METRIC: &str = "web03.latency";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_and_the_page_show_count_and_duration() {
    let mut f = Fixture::start(Options::default()).await;
    let series = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let (mut ended, check) = anomaly_with_check(METRIC, &series[..288], false);
    let (ongoing, other_check) = anomaly_with_check(METRIC, &series[300..588], false);
    let first_version = ended.clone();
    // Extended by two later points, the last 10 minutes after the first.
    ended.count = 3;
    ended.last_timestamp = ended.timestamp + 600;
    ended.max_deviation = 4.5;
    let end = AnomalyEnded {
        id: anomaly_ended_id(ended.id),
        anomaly_id: ended.id,
        metric: METRIC.into(),
        source: SourceApp::Analyzer,
        timestamp: ended.timestamp,
        end_timestamp: ended.timestamp + 3900,
        count: 3,
        decided_at_ms: 0,
    };
    f.fold(&[
        rec(Topic::Anomalies, &first_version),
        rec(Topic::Checks, &check),
        rec(Topic::Anomalies, &ended),
        rec(Topic::Anomalies, &ongoing),
        rec(Topic::Checks, &other_check),
        rec(Topic::AnomalyEnds, &end),
    ])
    .await;

    let client = Client::default();
    let session = client.login(&f).await;
    let list = client.get(&f.url("/anomalies"), Some(&session)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        list.body.matches("<tr data-anomaly=").count(),
        2,
        "one row per anomaly"
    );
    assert!(
        list.body.contains("<th class=\"num\">Points</th>"),
        "{}",
        list.body
    );
    // 3900 s: 1 h 5 min.
    assert!(
        list.body.contains("<td class=\"duration\">1 h 5 min</td>"),
        "{}",
        list.body
    );
    assert!(
        list.body.contains("<td class=\"duration\">ongoing</td>"),
        "{}",
        list.body
    );
    assert!(
        list.body.contains("<td class=\"num count\">3</td>"),
        "{}",
        list.body
    );

    let page = client
        .get(&f.url(&format!("/anomalies/{}", ended.id)), Some(&session))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<strong class=\"count\">3</strong> anomalous points"),
        "{}",
        page.body
    );
    assert!(page.body.contains("4.50 σ"), "{}", page.body);
    assert!(
        page.body
            .contains("<strong class=\"duration\">1 h 5 min</strong>"),
        "{}",
        page.body
    );
    let page = client
        .get(
            &f.url(&format!("/anomalies/{}", ongoing.id)),
            Some(&session),
        )
        .await;
    assert!(
        page.body
            .contains("<strong class=\"duration\">ongoing</strong>"),
        "{}",
        page.body
    );

    let api = client
        .http_get_bearer(&f.url("/api/v1/anomalies"), TOKEN)
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let json = api.json();
    let rows = json["page"]["rows"]
        .as_array()
        .or_else(|| json["rows"].as_array())
        .unwrap_or_else(|| panic!("no rows in {json}"));
    let row = rows
        .iter()
        .find(|r| r["id"] == ended.id.to_string())
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(row["count"], 3);
    assert_eq!(row["last_timestamp"], ended.timestamp + 600);
    assert_eq!(row["max_deviation"], 4.5);
    assert_eq!(row["end_timestamp"], ended.timestamp + 3900);
    let row = rows
        .iter()
        .find(|r| r["id"] == ongoing.id.to_string())
        .unwrap();
    assert_eq!(
        (row["count"].as_i64(), row["end_timestamp"].is_null()),
        (Some(1), true)
    );
    let detail = client
        .http_get_bearer(&f.url(&format!("/api/v1/anomalies/{}", ended.id)), TOKEN)
        .await
        .json();
    assert!(
        detail.to_string().contains("\"end_timestamp\":"),
        "{detail}"
    );
    f.stop().await;
}
