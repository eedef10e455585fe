//! Alert mails through a real SMTP server (aiosmtpd, from the reference
//! venv, `pyref/smtp_sink.py`) and a real Kafka-protocol broker: the
//! recipients per pattern, the reference's subject, the plain and HTML
//! parts with the training link, the graph inline as a PNG that decodes,
//! and a refused recipient given up without a retry.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use alert::config::AlerterConfig;
use alert::{AlertService, Links, Transport};
use mail_parser::{MessageParser, MimeHeaders};
use runtime::Runtime;
use topics::codec::{decode, encode};
use topics::kafka::{ensure_topics, Consumer, KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::{AlertEvent, DeliveryEvent, DeliveryOutcome, SeriesPoint, SourceApp};
use uuid::Uuid;

use common::smtp_sink::SmtpSink;

fn alert(metric: &str) -> AlertEvent {
    let now_ms = topics::clock::now_ms();
    let t = now_ms / 1000;
    // A day of 10-minute points of a real series shape, the last anomalous.
    let series: Vec<SeriesPoint> = (0..144)
        .map(|i| SeriesPoint {
            timestamp: t - (144 - i) * 600,
            value: 40.0 + 8.0 * (i as f64 / 23.0).sin(),
        })
        .chain([SeriesPoint {
            timestamp: t,
            value: 120.0,
        }])
        .collect();
    AlertEvent {
        id: Uuid::now_v7(),
        anomaly_id: Uuid::now_v7(),
        metric: metric.to_owned(),
        timestamp: t,
        value: 120.0,
        source: SourceApp::Analyzer,
        alerter: "ops-mail".to_owned(),
        rule: "stats.*".to_owned(),
        triggered_algorithms: vec!["histogram_bins".into(), "stddev_from_average".into()],
        decided_at_ms: now_ms,
        series: Some(series),
        full_duration: Some(86_400),
        expiration_time: Some(3_600),
        boundary: None,
        fingerprinted: false,
        test: false,
    }
}

async fn deliveries(kafka: &KafkaConfig, topic: &str, want: usize) -> Vec<DeliveryEvent> {
    let group = format!("reader-{}", Uuid::now_v7());
    let consumer = Consumer::assigned(kafka, &group, &group, &[(topic.to_owned(), 0, 0)]).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut got = Vec::new();
    while got.len() < want && tokio::time::Instant::now() < deadline {
        if let Ok(batch) =
            tokio::time::timeout(Duration::from_secs(2), consumer.next_batch(100)).await
        {
            got.extend(
                batch
                    .iter()
                    .filter_map(|r| decode::<DeliveryEvent>(r.payload()).ok()),
            );
        }
    }
    consumer.close().await;
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_mails_reach_an_smtp_server_with_the_graph_inline() {
    topics::testing::in_time(async {
        let sink = SmtpSink::start();
        let config: AlerterConfig = toml::from_str(&format!(
            r#"
            kind = "smtp"
            name = "ops-mail"
            host = "127.0.0.1"
            port = {port}
            tls = "none"
            sender = "skyline@example.org"
            default_recipients = ["ops@example.org"]
            [[recipients]]
            pattern = "stats.web*"
            to = ["web@example.org", "oncall@example.org"]
            [[recipients]]
            pattern = "stats.broken*"
            to = ["refused@example.org"]
            [delivery]
            first_backoff_ms = 50
            "#,
            port = sink.port
        ))
        .unwrap();
        let kafka = KafkaConfig {
            partitions: 1,
            session_timeout_ms: 6_000,
            group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
            ..KafkaConfig::for_brokers(topics::testing::broker())
        };
        let tag = Uuid::now_v7().simple().to_string();
        let names = TopicNames::default().renamed(|n| format!("{n}.{tag}"));
        ensure_topics(&kafka, &names.all(), Some(1)).await.unwrap();
        let producer = Producer::new(&kafka).unwrap();

        let web = alert("stats.web01.requests");
        let db = alert("stats.db01.queries");
        let broken = alert("stats.broken01.x");
        for a in [&web, &db, &broken] {
            producer
                .send(&names.alerts, a.metric.as_bytes(), &encode(a).unwrap())
                .await
                .unwrap();
        }
        let transport =
            Transport::new(&config, Links::new(Some("https://skyline.example.org"))).unwrap();
        let service = AlertService::new(transport, producer.clone(), names.clone());
        let runtime = Runtime::new(Arc::new(service), &kafka, None);
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let run = tokio::spawn(runtime.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        let got = deliveries(&kafka, &names.deliveries, 3).await;
        stop.send_replace(true);
        run.await.unwrap().unwrap();

        let outcome = |a: &AlertEvent| -> Vec<(DeliveryOutcome, i32)> {
            got.iter()
                .filter(|d| d.alert_id == a.id)
                .map(|d| (d.outcome, d.attempt))
                .collect()
        };
        assert_eq!(outcome(&web), [(DeliveryOutcome::Delivered, 1)]);
        assert_eq!(outcome(&db), [(DeliveryOutcome::Delivered, 1)]);
        // 550 on the only recipient: permanent, not retried.
        assert_eq!(outcome(&broken), [(DeliveryOutcome::GaveUp, 1)]);
        let refusal = got.iter().find(|d| d.alert_id == broken.id).unwrap();
        assert!(
            refusal
                .detail
                .as_deref()
                .unwrap_or_default()
                .contains("550"),
            "{:?}",
            refusal.detail
        );

        let mails = sink.mails();
        assert_eq!(mails.len(), 2, "one mail per delivered alert");
        let (envelope, raw) = mails
            .iter()
            .find(|(_, raw)| String::from_utf8_lossy(raw).contains("stats.web01.requests"))
            .expect("the web alert's mail");
        assert_eq!(
            envelope["rcpt_tos"],
            serde_json::json!(["web@example.org", "oncall@example.org"])
        );
        assert_eq!(envelope["mail_from"], "skyline@example.org");
        let mail = MessageParser::default().parse(raw).expect("a MIME message");
        assert_eq!(
            mail.subject(),
            Some("[Skyline alert] - Analyzer ALERT - stats.web01.requests")
        );
        let to: Vec<_> = mail
            .to()
            .unwrap()
            .iter()
            .filter_map(|a| a.address())
            .collect();
        let cc: Vec<_> = mail
            .cc()
            .unwrap()
            .iter()
            .filter_map(|a| a.address())
            .collect();
        assert_eq!(
            (to, cc),
            (vec!["web@example.org"], vec!["oncall@example.org"])
        );
        assert_eq!(
            mail.message_id(),
            Some(format!("{}@skyline", web.id).as_str())
        );

        let training = format!("https://skyline.example.org/anomalies/{}", web.anomaly_id);
        let text = mail.body_text(0).expect("a plain part");
        assert!(
            text.contains("stats.web01.requests") && text.contains("120"),
            "{text}"
        );
        assert!(
            text.contains("histogram_bins") && text.contains(&training),
            "{text}"
        );
        let html = mail.body_html(0).expect("an HTML part");
        assert!(
            html.contains("cid:graph") && html.contains(&training),
            "{html}"
        );

        let graph = mail
            .parts
            .iter()
            .find(|p| p.content_id() == Some("graph"))
            .expect("the inline graph");
        assert_eq!(
            graph.content_type().map(|c| (c.ctype(), c.subtype())),
            Some(("image", Some("png")))
        );
        let png = graph.contents();
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/alert-mail-graph.png");
        let _ = std::fs::write(target, png);
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let info = decoder.read_info().expect("a PNG").info().clone();
        assert_eq!((info.width, info.height), (800, 360));

        let (envelope, _) = mails
            .iter()
            .find(|(_, raw)| String::from_utf8_lossy(raw).contains("stats.db01.queries"))
            .expect("the db alert's mail");
        assert_eq!(envelope["rcpt_tos"], serde_json::json!(["ops@example.org"]));
    })
    .await
}
