//! Topic configs against the real test broker: what skyline sends in
//! CreateTopics is what DescribeConfigs reads back, an existing topic's
//! configs are never overwritten, and the start-up verdict on them.
//!
//! tansu 0.6 (the test and embedded broker) keeps the configs a topic was
//! created with and answers DescribeConfigs with exactly those (no broker
//! defaults): a topic created without configs reports none.

use topics::kafka::{describe_retention, ensure_topics, ensure_topics_with_configs, TopicSpec};
use topics::names::TopicNames;
use topics::retention::{
    judge, plan, Keep, Need, RetentionSettings, TopicRetention, Verdict, DAY_MS,
};
use topics::testing::{config, in_time, unique};

fn run_names() -> TopicNames {
    let id = unique("retention");
    TopicNames::default().renamed(|name| format!("{name}.{id}"))
}

fn datapoints_need() -> Need {
    Need {
        keep: Keep::Days(32),
        why: "to rebuild the windows".to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_topics_carry_their_retention() {
    in_time(created_topics()).await;
}

async fn created_topics() {
    let kafka = config();
    let names = run_names();
    let planned = plan(&names, &RetentionSettings::default(), datapoints_need());
    let specs: Vec<TopicSpec<'_>> = planned.iter().map(TopicRetention::spec).collect();
    ensure_topics_with_configs(&kafka, &specs, Some(1))
        .await
        .expect("creating the topics");
    let all: Vec<&str> = names.all().to_vec();
    let reported = describe_retention(&kafka, &all)
        .await
        .expect("the broker describes topic configs");
    assert_eq!(reported.len(), all.len());
    let ms = |topic: &str| {
        let found = reported[topic].as_ref().expect("no error for the topic");
        (
            found.retention_ms.clone(),
            found.retention_bytes.clone(),
            found.cleanup_policy.clone(),
        )
    };
    let forever = (
        Some("-1".to_owned()),
        Some("-1".to_owned()),
        Some("delete".to_owned()),
    );
    for topic in [&names.labels, &names.profiles, &names.mutes] {
        assert_eq!(ms(topic), forever, "{topic}");
    }
    assert_eq!(
        ms(&names.datapoints).0,
        Some((32 * DAY_MS).to_string()),
        "datapoints at the need"
    );
    assert_eq!(ms(&names.anomalies).0, Some((400 * DAY_MS).to_string()));
    assert_eq!(ms(&names.seasonal).0, Some((400 * DAY_MS).to_string()));
    assert_eq!(ms(&names.deadletter).0, Some((30 * DAY_MS).to_string()));
    // What skyline created is what it needs: every verdict is enough.
    for wanted in &planned {
        let found = reported[&wanted.topic].as_ref().unwrap();
        assert_eq!(judge(wanted, found), Verdict::Enough, "{}", wanted.topic);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_topic_keeps_its_configs_and_is_judged_short() {
    in_time(existing_topic()).await;
}

async fn existing_topic() {
    let kafka = config();
    let names = run_names();
    let week = (7 * DAY_MS).to_string();
    // An operator's labels topic, made with a week's retention.
    ensure_topics_with_configs(
        &kafka,
        &[TopicSpec {
            name: &names.labels,
            configs: vec![("retention.ms", week.clone())],
        }],
        Some(1),
    )
    .await
    .unwrap();
    // skyline asks for it forever: the existing topic is left as it is.
    let planned = plan(&names, &RetentionSettings::default(), datapoints_need());
    let labels = planned.iter().find(|t| t.topic == names.labels).unwrap();
    ensure_topics_with_configs(
        &kafka,
        &[TopicSpec {
            name: &labels.topic,
            configs: labels.topic_configs(),
        }],
        Some(1),
    )
    .await
    .unwrap();
    let reported = describe_retention(&kafka, &[&names.labels]).await.unwrap();
    let found = reported[&names.labels].as_ref().unwrap();
    assert_eq!(found.retention_ms.as_deref(), Some(week.as_str()));
    let Verdict::TooShort(short) = judge(labels, found) else {
        panic!("a week of labels must be too short: {found:?}");
    };
    assert!(
        short
            .to_string()
            .starts_with(&format!("topic {} keeps 7 days (retention.ms=604800000) but skyline needs it forever (retention.ms=-1)", names.labels)),
        "{short}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_created_without_configs_reports_none_on_tansu() {
    in_time(without_configs()).await;
}

/// What the degraded path rests on: a topic the broker gives no
/// `retention.ms` for is not judged (a warning), not refused. On tansu a
/// topic created with the broker's defaults reports no configs; on Kafka
/// it reports the broker's defaults, which are then judged.
async fn without_configs() {
    let kafka = config();
    let names = run_names();
    ensure_topics(&kafka, &[&names.profiles], Some(1))
        .await
        .unwrap();
    let reported = describe_retention(&kafka, &[&names.profiles])
        .await
        .unwrap();
    let found = reported[&names.profiles].as_ref().unwrap();
    let planned = plan(&names, &RetentionSettings::default(), datapoints_need());
    let profiles = planned.iter().find(|t| t.topic == names.profiles).unwrap();
    match (&found.retention_ms, judge(profiles, found)) {
        (None, Verdict::Unreported(why)) => assert!(why.contains("no retention.ms"), "{why}"),
        // A broker reporting its default (Kafka: 7 days) is judged.
        (Some(ms), verdict) if ms != "-1" => {
            assert!(matches!(verdict, Verdict::TooShort(_)), "{verdict:?}")
        }
        (ms, verdict) => panic!("unexpected report {ms:?}: {verdict:?}"),
    }
}
