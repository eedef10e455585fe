//! The alerter service against a real Kafka-protocol broker and real HTTP
//! receivers (axum on a local port): retries of a failing webhook with one
//! idempotency key and a verifiable signature, no retry of a refusal,
//! mutes, and a restart that does not deliver twice.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert::config::AlerterConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use topics::kafka::KafkaConfig;
use topics::{AlertEvent, DeliveryOutcome};
use uuid::Uuid;

use common::{alert, deliveries_until, outcomes, send, setup, Alerter};

/// What a receiver got: its headers and raw body, per request.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// Statuses to answer, in order; 200 once they run out.
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    fn requests(&self) -> Vec<(HeaderMap, Bytes)> {
        self.got.lock().unwrap().clone()
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.got.lock().unwrap().push((headers, body));
    let mut answers = r.answers.lock().unwrap();
    let status = if answers.is_empty() {
        200
    } else {
        answers.remove(0)
    };
    StatusCode::from_u16(status).unwrap()
}

/// A webhook receiver on a free local port answering `answers` in turn.
async fn receiver(answers: &[u16]) -> (Receiver, SocketAddr) {
    let r = Receiver {
        answers: Arc::new(Mutex::new(answers.to_vec())),
        ..Receiver::default()
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, addr)
}

/// The webhook alerter `hook` posting to `addr`, retrying fast; `extra`
/// adds keys to its `[delivery]` table.
fn webhook(addr: SocketAddr, extra: &str) -> AlerterConfig {
    webhook_delivering(
        addr,
        &format!("first_backoff_ms = 50\nmax_backoff_ms = 200\ntimeout = 5\n{extra}"),
    )
}

/// The webhook alerter `hook` posting to `addr` with `delivery` as its
/// `[delivery]` table.
fn webhook_delivering(addr: SocketAddr, delivery: &str) -> AlerterConfig {
    toml::from_str(&format!(
        "kind = \"webhook\"\nname = \"hook\"\nurl = \"http://{addr}/hook\"\nsecret = \"s3cret\"\n[delivery]\n{delivery}\n"
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_webhook_is_retried_with_one_key_until_it_accepts() {
    topics::testing::in_time(async {
        let (hook, addr) = receiver(&[500, 503, 500]).await;
        let (kafka, names, producer) = setup().await;
        let alerter = Alerter::start(&webhook(addr, ""), &kafka, &names).await;
        let sent = alert("stats.web01.requests", "hook");
        send(&producer, &names.alerts, &sent.metric, &sent).await;
        // Another alerter's alert is not this one's to deliver.
        let other = alert("stats.web01.requests", "ops-mail");
        send(&producer, &names.alerts, &other.metric, &other).await;

        let deliveries = deliveries_until(&kafka, &names.deliveries, |d| {
            d.iter().any(|d| d.outcome == DeliveryOutcome::Delivered)
        })
        .await;
        alerter.stop().await;

        use DeliveryOutcome::*;
        assert_eq!(
            outcomes(&deliveries, sent.id),
            [(Failed, 1), (Failed, 2), (Failed, 3), (Delivered, 4)]
        );
        assert!(outcomes(&deliveries, other.id).is_empty());
        let d = &deliveries[0];
        assert_eq!(
            (d.alerter.as_str(), d.kind.as_str(), d.anomaly_id),
            ("hook", "webhook", sent.anomaly_id)
        );
        assert!(
            d.detail.as_deref().unwrap_or_default().contains("500"),
            "{:?}",
            d.detail
        );

        let requests = hook.requests();
        assert_eq!(requests.len(), 4);
        for (headers, body) in &requests {
            assert_eq!(headers["idempotency-key"], sent.id.to_string().as_str());
            // The receiver's check: HMAC-SHA256 of the raw body, recomputed.
            assert_eq!(
                headers["x-skyline-signature"],
                alert::message::signature("s3cret", body).as_str()
            );
        }
        let payload: serde_json::Value = serde_json::from_slice(&requests[3].1).unwrap();
        assert_eq!(payload["alert"]["metric"], "stats.web01.requests");
        assert_eq!(payload["alert"]["value"], 95.0);
        assert_eq!(
            payload["links"]["training"],
            format!("http://console.test/anomalies/{}", sent.anomaly_id)
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_is_not_retried_and_a_mute_holds_alerts_back() {
    topics::testing::in_time(async {
        let (hook, addr) = receiver(&[400]).await;
        let (kafka, names, producer) = setup().await;
        let now = topics::clock::now_ms();
        let mute = alert::mutes::mute_event(
            "stats.db*",
            now - 1_000,
            3_600_000,
            Some("maintenance".into()),
            Some("ops".into()),
        );
        send(&producer, &names.mutes, &mute.pattern, &mute).await;
        let alerter = Alerter::start(&webhook(addr, ""), &kafka, &names).await;

        let refused = alert("stats.web01.requests", "hook");
        let muted = alert("stats.db01.queries", "hook");
        send(&producer, &names.alerts, &refused.metric, &refused).await;
        send(&producer, &names.alerts, &muted.metric, &muted).await;
        let deliveries = deliveries_until(&kafka, &names.deliveries, |d| d.len() >= 2).await;
        // Nothing more comes of either (no retry of the refusal).
        tokio::time::sleep(Duration::from_millis(800)).await;
        alerter.stop().await;

        use DeliveryOutcome::*;
        assert_eq!(outcomes(&deliveries, refused.id), [(GaveUp, 1)]);
        assert_eq!(outcomes(&deliveries, muted.id), [(Muted, 0)]);
        let detail = deliveries
            .iter()
            .find(|d| d.alert_id == muted.id)
            .and_then(|d| d.detail.clone())
            .unwrap_or_default();
        assert!(
            detail.contains("stats.db*") && detail.contains("maintenance"),
            "{detail}"
        );
        assert_eq!(hook.requests().len(), 1, "the muted alert was not posted");
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_alerter_does_not_deliver_again() {
    topics::testing::in_time(async {
        let (hook, addr) = receiver(&[]).await;
        let (kafka, names, producer) = setup().await;
        let config = webhook(addr, "");
        let first = alert("stats.web01.requests", "hook");
        send(&producer, &names.alerts, &first.metric, &first).await;
        let alerter = Alerter::start(&config, &kafka, &names).await;
        deliveries_until(&kafka, &names.deliveries, |d| !d.is_empty()).await;
        alerter.stop().await;

        // A new consumer group (committed offsets lost): it reads the
        // alerts topic from the start again, and the deliveries topic
        // tells it the first alert went.
        let kafka = KafkaConfig {
            group_id_prefix: format!("t{}", Uuid::now_v7().simple()),
            ..kafka
        };
        let second = alert("stats.web02.requests", "hook");
        send(&producer, &names.alerts, &second.metric, &second).await;
        let alerter = Alerter::start(&config, &kafka, &names).await;
        let deliveries = deliveries_until(&kafka, &names.deliveries, |d| {
            d.iter().any(|d| d.alert_id == second.id)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        alerter.stop().await;

        assert_eq!(
            outcomes(&deliveries, first.id),
            [(DeliveryOutcome::Delivered, 1)]
        );
        assert_eq!(
            outcomes(&deliveries, second.id),
            [(DeliveryOutcome::Delivered, 1)]
        );
        assert_eq!(hook.requests().len(), 2, "each alert posted once");
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_receiver_is_given_up_at_the_deadline() {
    topics::testing::in_time(async {
        // A port nothing listens on: connection refused, every try.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let (kafka, names, producer) = setup().await;
        // The service reads the deliveries and mutes topics before it
        // consumes (seconds): the deadline leaves room for a few tries after.
        let config = webhook(addr, "give_up_after = 8");
        let alerter = Alerter::start(&config, &kafka, &names).await;
        let sent = alert("stats.web01.requests", "hook");
        send(&producer, &names.alerts, &sent.metric, &sent).await;
        let deliveries = deliveries_until(&kafka, &names.deliveries, |d| {
            d.iter().any(|d| d.outcome == DeliveryOutcome::GaveUp)
        })
        .await;
        alerter.stop().await;

        let seen = outcomes(&deliveries, sent.id);
        let (last, failed) = seen.split_last().expect("attempts recorded");
        assert_eq!(last.0, DeliveryOutcome::GaveUp, "{seen:?}");
        assert!(failed.len() >= 2, "retried before giving up: {seen:?}");
        assert!(failed.iter().all(|f| f.0 == DeliveryOutcome::Failed));
        let detail = deliveries
            .last()
            .unwrap()
            .detail
            .clone()
            .unwrap_or_default();
        assert!(detail.to_lowercase().contains("connect"), "{detail}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_down_for_a_minute_gets_every_alert_when_it_returns() {
    topics::testing::in_time(async {
        // The receiver's port, with nothing on it yet.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (kafka, names, producer) = setup().await;
        // Backing off to 5 s between tries, as an hour's outage would.
        let config = webhook_delivering(addr, "first_backoff_ms = 200\nmax_backoff_ms = 5000");
        let alerter = Alerter::start(&config, &kafka, &names).await;
        let sent: Vec<AlertEvent> = (0..50)
            .map(|i| alert(&format!("stats.web{i:02}.requests"), "hook"))
            .collect();
        for a in &sent {
            send(&producer, &names.alerts, &a.metric, a).await;
        }
        // Down for a minute, then back.
        tokio::time::sleep(Duration::from_secs(60)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let hook = Receiver::default();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(hook.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let deliveries = deliveries_until(&kafka, &names.deliveries, |d| {
            d.iter()
                .filter(|d| d.outcome == DeliveryOutcome::Delivered)
                .count()
                >= sent.len()
        })
        .await;
        alerter.stop().await;

        for a in &sent {
            let seen = outcomes(&deliveries, a.id);
            let (last, before) = seen.split_last().expect("attempts recorded");
            assert_eq!(last.0, DeliveryOutcome::Delivered, "{seen:?}");
            assert!(
                !before.is_empty() && before.iter().all(|b| b.0 == DeliveryOutcome::Failed),
                "{seen:?}"
            );
        }
        let keys: std::collections::HashSet<String> = hook
            .requests()
            .iter()
            .map(|(h, _)| h["idempotency-key"].to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            keys.len(),
            sent.len(),
            "every alert posted once it was back"
        );
        assert_eq!(hook.requests().len(), sent.len(), "and only once");
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_go_out_again_once_a_mute_expires_or_is_ended() {
    topics::testing::in_time(async {
        let (hook, addr) = receiver(&[]).await;
        let (kafka, names, producer) = setup().await;
        let now = topics::clock::now_ms();
        let short = alert::mutes::mute_event("stats.web*", now, 6_000, None, None);
        let long = alert::mutes::mute_event("stats.db*", now, 3_600_000, None, None);
        for m in [&short, &long] {
            send(&producer, &names.mutes, &m.pattern, m).await;
        }
        let alerter = Alerter::start(&webhook(addr, ""), &kafka, &names).await;
        let during = alert("stats.web01.requests", "hook");
        send(&producer, &names.alerts, &during.metric, &during).await;
        deliveries_until(&kafka, &names.deliveries, |d| !d.is_empty()).await;

        // The mute made while the alerter runs is followed too.
        let ended =
            alert::mutes::unmute_event(long.id, &long.pattern, topics::clock::now_ms(), None);
        send(&producer, &names.mutes, &ended.pattern, &ended).await;
        let wait = (short.until_ms - topics::clock::now_ms()).max(0) as u64 + 200;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let after = alert("stats.web01.requests", "hook");
        let unmuted = alert("stats.db01.queries", "hook");
        for a in [&after, &unmuted] {
            send(&producer, &names.alerts, &a.metric, a).await;
        }
        let deliveries = deliveries_until(&kafka, &names.deliveries, |d| d.len() >= 3).await;
        alerter.stop().await;

        use DeliveryOutcome::*;
        assert_eq!(outcomes(&deliveries, during.id), [(Muted, 0)]);
        assert_eq!(outcomes(&deliveries, after.id), [(Delivered, 1)]);
        assert_eq!(outcomes(&deliveries, unmuted.id), [(Delivered, 1)]);
        assert_eq!(hook.requests().len(), 2);
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_and_pagerduty_alerters_post_their_documented_payloads() {
    topics::testing::in_time(async {
        let (slack_hook, slack_addr) = receiver(&[]).await;
        let (pd_hook, pd_addr) = receiver(&[429]).await;
        let (kafka, names, producer) = setup().await;
        let slack: AlerterConfig = toml::from_str(&format!(
            "kind = \"slack\"\nname = \"hook\"\nurl = \"http://{slack_addr}/hook\"\n"
        ))
        .unwrap();
        let pagerduty: AlerterConfig = toml::from_str(&format!(
            "kind = \"pagerduty\"\nname = \"pager\"\nrouting_key = \"R0UT1NG\"\nurl = \"http://{pd_addr}/hook\"\n[delivery]\nfirst_backoff_ms = 50\n"
        ))
        .unwrap();
        let a = Alerter::start(&slack, &kafka, &names).await;
        let b = Alerter::start(&pagerduty, &kafka, &names).await;
        let to_slack = alert("stats.web01.requests", "hook");
        let to_pager = alert("stats.web01.requests", "pager");
        for x in [&to_slack, &to_pager] {
            send(&producer, &names.alerts, &x.metric, x).await;
        }
        let deliveries = deliveries_until(&kafka, &names.deliveries, |d| {
            d.iter()
                .filter(|d| d.outcome == DeliveryOutcome::Delivered)
                .count()
                >= 2
        })
        .await;
        a.stop().await;
        b.stop().await;

        use DeliveryOutcome::*;
        assert_eq!(outcomes(&deliveries, to_slack.id), [(Delivered, 1)]);
        // 429: PagerDuty's rate limit, retried.
        assert_eq!(
            outcomes(&deliveries, to_pager.id),
            [(Failed, 1), (Delivered, 2)]
        );

        let slack_body: serde_json::Value =
            serde_json::from_slice(&slack_hook.requests()[0].1).unwrap();
        assert_eq!(
            slack_body["text"],
            "[Skyline alert] - Analyzer ALERT - stats.web01.requests"
        );
        let blocks = slack_body["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        let training = format!("http://console.test/anomalies/{}", to_slack.anomaly_id);
        assert!(
            blocks.iter().any(|b| b["text"]["text"]
                .as_str()
                .is_some_and(|t| t.contains(&training))),
            "{slack_body}"
        );

        let requests = pd_hook.requests();
        assert_eq!(requests.len(), 2);
        let pd: serde_json::Value = serde_json::from_slice(&requests[1].1).unwrap();
        assert_eq!(pd["routing_key"], "R0UT1NG");
        assert_eq!(pd["event_action"], "trigger");
        assert_eq!(pd["dedup_key"], "stats.web01.requests|stats.*");
        assert_eq!(pd["payload"]["severity"], "error");
        assert_eq!(pd["payload"]["source"], "stats.web01.requests");
        assert_eq!(
            pd["payload"]["custom_details"]["alert_id"],
            to_pager.id.to_string()
        );
        assert_eq!(requests[0].1, requests[1].1, "a retry sends the same event");
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_smtp_server_does_not_delay_the_webhook() {
    topics::testing::in_time(async {
        // An SMTP server that accepts connections and never greets: every
        // mail waits for its timeout.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let smtp_port = silent.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        let (hook, addr) = receiver(&[]).await;
        let (kafka, names, producer) = setup().await;
        let smtp: AlerterConfig = toml::from_str(&format!(
            "kind = \"smtp\"\nname = \"ops-mail\"\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\n\
             sender = \"skyline@example.org\"\ndefault_recipients = [\"ops@example.org\"]\n\
             [delivery]\ntimeout = 30\n"
        ))
        .unwrap();
        let mail = Alerter::start(&smtp, &kafka, &names).await;
        let web = Alerter::start(&webhook(addr, ""), &kafka, &names).await;
        let mut to_hook = Vec::new();
        for i in 0..20 {
            let metric = format!("stats.web{i:02}.requests");
            let m = alert(&metric, "ops-mail");
            let h = alert(&metric, "hook");
            send(&producer, &names.alerts, &metric, &m).await;
            send(&producer, &names.alerts, &metric, &h).await;
            to_hook.push(h.id);
        }
        let deliveries = deliveries_until(&kafka, &names.deliveries, |d| {
            d.iter()
                .filter(|d| d.alerter == "hook" && d.outcome == DeliveryOutcome::Delivered)
                .count()
                >= to_hook.len()
        })
        .await;
        mail.stop().await;
        web.stop().await;

        for id in &to_hook {
            assert_eq!(outcomes(&deliveries, *id), [(DeliveryOutcome::Delivered, 1)]);
        }
        assert_eq!(hook.requests().len(), to_hook.len());
        // Every webhook alert went while every mail was still waiting on
        // the silent server (30 s each): no mail attempt had ended.
        assert!(
            !deliveries.iter().any(|d| d.alerter == "ops-mail"),
            "no mail attempt ended yet"
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_stop_finishes_what_it_is_sending_and_sends_nothing_twice() {
    topics::testing::in_time(async {
        // A receiver that takes 300 ms to answer: a stop always finds
        // posts under way.
        #[derive(Clone, Default)]
        struct Slow(Arc<Mutex<Vec<String>>>);
        async fn slow(State(s): State<Slow>, headers: HeaderMap) -> StatusCode {
            let key = headers["idempotency-key"].to_str().unwrap().to_owned();
            s.0.lock().unwrap().push(key);
            tokio::time::sleep(Duration::from_millis(300)).await;
            StatusCode::OK
        }
        let got = Slow::default();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(slow))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let (kafka, names, producer) = setup().await;
        let config = webhook(addr, "");
        let sent: Vec<AlertEvent> = (0..40)
            .map(|i| alert(&format!("stats.web{i:02}.requests"), "hook"))
            .collect();
        for a in &sent {
            send(&producer, &names.alerts, &a.metric, a).await;
        }
        let alerter = Alerter::start(&config, &kafka, &names).await;
        while got.0.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        alerter.stop().await;
        let before_restart = got.0.lock().unwrap().len();
        assert!(before_restart < sent.len(), "stopped mid-way");

        let alerter = Alerter::start(&config, &kafka, &names).await;
        deliveries_until(&kafka, &names.deliveries, |d| {
            d.iter()
                .filter(|d| d.outcome == DeliveryOutcome::Delivered)
                .count()
                >= sent.len()
        })
        .await;
        alerter.stop().await;

        let keys = got.0.lock().unwrap().clone();
        let distinct: std::collections::HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), sent.len(), "every alert delivered");
        assert_eq!(
            keys.len(),
            sent.len(),
            "none twice ({before_restart} posted before the stop)"
        );
    })
    .await
}
