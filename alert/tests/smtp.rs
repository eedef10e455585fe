//! Alert mails through a real SMTP server (aiosmtpd, from the reference
//! venv, `pyref/smtp_sink.py`) and a real Kafka-protocol broker: the
//! recipients per pattern, the reference's subject, the plain and HTML
//! parts with the training link, the graph inline as a PNG that decodes,
//! and a refused recipient given up without a retry.

mod common;

use std::path::Path;

use alert::config::AlerterConfig;
use mail_parser::{MessageParser, MimeHeaders};
use topics::{AlertEvent, DeliveryOutcome, SeriesPoint};

use common::smtp_sink::SmtpSink;
use common::{deliveries_until, outcomes, Alerter};

/// An alert of `metric` to `ops-mail` with a day of 10-minute points of a
/// real series shape, the last anomalous.
fn alert(metric: &str) -> AlertEvent {
    let base = common::alert(metric, "ops-mail");
    let series: Vec<SeriesPoint> = (0..144)
        .map(|i| SeriesPoint {
            timestamp: base.timestamp - (144 - i) * 600,
            value: 40.0 + 8.0 * (i as f64 / 23.0).sin(),
        })
        .chain([SeriesPoint {
            timestamp: base.timestamp,
            value: 120.0,
        }])
        .collect();
    AlertEvent {
        value: 120.0,
        triggered_algorithms: vec!["histogram_bins".into(), "stddev_from_average".into()],
        series: Some(series),
        ..base
    }
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
        let (kafka, names, producer) = common::setup().await;

        let web = alert("stats.web01.requests");
        let db = alert("stats.db01.queries");
        let broken = alert("stats.broken01.x");
        for a in [&web, &db, &broken] {
            common::send(&producer, &names.alerts, &a.metric, a).await;
        }
        let alerter =
            Alerter::linking_to("https://skyline.example.org", &config, &kafka, &names).await;
        let got = deliveries_until(&kafka, &names.deliveries, |d| d.len() >= 3).await;
        alerter.stop().await;

        let outcome = |a: &AlertEvent| outcomes(&got, a.id);
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
