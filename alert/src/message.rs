//! What each alerter says: subjects, mail bodies and the JSON payloads of
//! the webhook, Slack and PagerDuty — pure functions of the alert, so they
//! are tested without a receiver.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use topics::{AlertEvent, SourceApp, SystemEvent, SystemKind};

/// Version of the webhook payload ([`webhook_payload`]); a receiver checks
/// it before reading the rest. Fields are only ever added within a version.
pub const WEBHOOK_VERSION: u32 = 1;

/// Where an alert's links point: the console's public address.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// `[console] public_url`, without a trailing slash; `None`: no links.
    pub public_url: Option<String>,
}

impl Links {
    /// The console's public address, trimmed of a trailing `/`.
    pub fn new(public_url: Option<&str>) -> Links {
        Links {
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
        }
    }

    /// The anomaly's page, where an operator labels it (the training page).
    pub fn training(&self, alert: &AlertEvent) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{base}/anomalies/{}", alert.anomaly_id))
    }

    /// The anomaly's graph as a PNG the console draws.
    pub fn graph(&self, alert: &AlertEvent) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{base}/anomalies/{}/graph.png", alert.anomaly_id))
    }
}

/// The mail subject, in the reference's forms (alerts.md §3.1):
/// `[Skyline alert] - Analyzer ALERT - <metric>`, `… - Ionosphere ALERT - …`
/// when fingerprinting found no profile that matched, `[Skyline] - Mirage -
/// <metric>` from the seasonal re-check, `[Skyline alert] Boundary ALERT -
/// <ALGORITHM> - <metric>`; `TEST - ` before any of them for a test alert.
pub fn subject(alert: &AlertEvent) -> String {
    let m = &alert.metric;
    let body = match (alert.source, alert.fingerprinted) {
        (SourceApp::Boundary, _) => {
            let algorithm = alert
                .boundary
                .as_ref()
                .map_or("BOUNDARY".to_owned(), |b| b.algorithm.to_uppercase());
            format!("[Skyline alert] Boundary ALERT - {algorithm} - {m}")
        }
        (SourceApp::Seasonal, true) => format!("[Skyline] - Ionosphere - {m}"),
        (SourceApp::Seasonal, false) => format!("[Skyline] - Mirage - {m}"),
        (_, true) | (SourceApp::Fingerprint, _) => {
            format!("[Skyline alert] - Ionosphere ALERT - {m}")
        }
        (SourceApp::Analyzer, false) => format!("[Skyline alert] - Analyzer ALERT - {m}"),
    };
    if alert.test {
        format!("TEST - {body}")
    } else {
        body
    }
}

/// The context name of the app that alerted, as bodies and payloads say it.
pub fn context(alert: &AlertEvent) -> &'static str {
    match (alert.source, alert.fingerprinted) {
        (SourceApp::Boundary, _) => "Boundary",
        (SourceApp::Seasonal, false) => "Mirage",
        (_, true) | (SourceApp::Fingerprint, _) => "Ionosphere",
        (SourceApp::Analyzer, false) => "Analyzer",
    }
}

/// Mean, sample standard deviation (ddof 1) and the 3σ band of the judged
/// window: `mean ± 3s`, as the reference's alert graph draws it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation, `s = sqrt(Σ(v - mean)² / (n - 1))`.
    pub sigma: f64,
}

impl Band {
    /// The band of the alert's series, when it has at least two finite
    /// values.
    pub fn of(alert: &AlertEvent) -> Option<Band> {
        let values: Vec<f64> = alert
            .series
            .as_deref()?
            .iter()
            .map(|p| p.value)
            .filter(|v| v.is_finite())
            .collect();
        if values.len() < 2 {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        Some(Band {
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean,
            sigma: var.sqrt(),
        })
    }

    /// `mean + 3s`.
    pub fn upper(&self) -> f64 {
        self.mean + 3.0 * self.sigma
    }

    /// `mean - 3s`.
    pub fn lower(&self) -> f64 {
        self.mean - 3.0 * self.sigma
    }
}

/// The lines every body lists, label and value (mail, plain and HTML).
pub fn facts(alert: &AlertEvent) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("Metric", alert.metric.clone()),
        ("Anomalous value", format_value(alert.value)),
        ("Anomaly timestamp", alert.timestamp.to_string()),
        ("Anomalous at", topics::clock::utc(alert.timestamp)),
        ("Source", context(alert).to_owned()),
    ];
    if let Some(seconds) = alert.full_duration {
        facts.push(("At hours", format_value(seconds as f64 / 3600.0)));
    }
    if !alert.triggered_algorithms.is_empty() {
        facts.push((
            "Algorithms triggered",
            alert.triggered_algorithms.join(", "),
        ));
    }
    if let Some(b) = &alert.boundary {
        facts.push((
            "Boundary",
            format!(
                "{} {} ({} times in a row)",
                b.algorithm,
                format_value(b.trigger_value),
                b.alert_threshold
            ),
        ));
    }
    if let Some(band) = Band::of(alert) {
        facts.push((
            "min | max | mean",
            format!(
                "{} | {} | {}",
                format_value(band.min),
                format_value(band.max),
                format_value(band.mean)
            ),
        ));
        facts.push(("3-sigma", format_value(3.0 * band.sigma)));
        facts.push((
            "3-sigma bounds",
            format!(
                "{} .. {}",
                format_value(band.lower()),
                format_value(band.upper())
            ),
        ));
    }
    if let Some(expiry) = alert.expiration_time {
        facts.push(("Next alert in", format!("{expiry} seconds")));
    }
    facts.push(("Rule", alert.rule.clone()));
    facts
}

/// The plain-text part of the mail.
pub fn plain_body(alert: &AlertEvent, links: &Links) -> String {
    let mut text = String::new();
    if alert.test {
        text.push_str("TEST ALERT\n\n");
    }
    text.push_str(&format!("Skyline {} alert\n\n", context(alert)));
    for (label, value) in facts(alert) {
        text.push_str(&format!("{label}: {value}\n"));
    }
    if let Some(link) = links.training(alert) {
        text.push_str(&format!(
            "\nNot anomalous? Train skyline on this anomaly: {link}\n"
        ));
    }
    text
}

/// The HTML part of the mail; `graph_cid` is the Content-ID of the inline
/// graph when there is one.
pub fn html_body(alert: &AlertEvent, links: &Links, graph_cid: Option<&str>) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><body style=\"font-family: sans-serif; font-size: 14px\">",
    );
    html.push_str(&format!(
        "<h2 style=\"color: #1a73e8\">Skyline {} alert</h2>",
        escape(context(alert))
    ));
    if alert.test {
        html.push_str("<p style=\"color: #d00; font-weight: bold\">TEST ALERT</p>");
    }
    html.push_str("<table>");
    for (label, value) in facts(alert) {
        html.push_str(&format!(
            "<tr><td><b>{}</b></td><td>{}</td></tr>",
            escape(label),
            escape(&value)
        ));
    }
    html.push_str("</table>");
    if let Some(cid) = graph_cid {
        html.push_str(&format!(
            "<p>The data judged, with the mean and the 3-sigma boundaries:</p>\
             <p><img src=\"cid:{}\" alt=\"graph of {}\"></p>",
            escape(cid),
            escape(&alert.metric)
        ));
    }
    if let Some(link) = links.training(alert) {
        html.push_str(&format!(
            "<p>Not anomalous? <a href=\"{0}\">Train skyline on this anomaly</a> ({0})</p>",
            escape(&link)
        ));
    }
    html.push_str("</body></html>");
    html
}

/// The webhook's JSON body (version [`WEBHOOK_VERSION`]): the alert's facts
/// under `alert`, the links, and the 3σ band of the judged window. The
/// reference's http_alerter field names are kept where they exist
/// (`metric`, `timestamp`, `value`, `full_duration`, `expiry`, `source`,
/// `anomaly_id`, `3sigma_upper`, `3sigma_lower`, `triggered_algorithms`).
pub fn webhook_payload(alert: &AlertEvent, links: &Links) -> Value {
    let band = Band::of(alert);
    json!({
        "version": WEBHOOK_VERSION,
        "alert": {
            "id": alert.id.to_string(),
            "anomaly_id": alert.anomaly_id.to_string(),
            "metric": alert.metric,
            "timestamp": alert.timestamp,
            "value": finite(alert.value),
            "source": alert.source.as_str(),
            "context": context(alert),
            "alerter": alert.alerter,
            "rule": alert.rule,
            "triggered_algorithms": alert.triggered_algorithms,
            "full_duration": alert.full_duration,
            "expiry": alert.expiration_time,
            "decided_at_ms": alert.decided_at_ms,
            "fingerprinted": alert.fingerprinted,
            "test_alert": alert.test,
            "boundary": alert.boundary.as_ref().map(|b| json!({
                "algorithm": b.algorithm,
                "metric_trigger": finite(b.trigger_value),
                "alert_threshold": b.alert_threshold,
            })),
            "3sigma_upper": band.map(|b| finite(b.upper())),
            "3sigma_lower": band.map(|b| finite(b.lower())),
            "mean": band.map(|b| finite(b.mean)),
        },
        "links": {
            "training": links.training(alert),
            "graph": links.graph(alert),
        },
    })
}

/// The `X-Skyline-Signature` value: `sha256=<hex HMAC-SHA256(secret, body)>`,
/// which a receiver recomputes over the raw body it got.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A Slack incoming-webhook message: a header, the facts as fields and the
/// training link (Slack's `blocks`, with `text` as the notification's
/// fallback).
pub fn slack_payload(alert: &AlertEvent, links: &Links) -> Value {
    let title = subject(alert);
    let fields: Vec<Value> = facts(alert)
        .into_iter()
        .take(10) // Slack allows at most 10 fields in a section.
        .map(|(label, value)| json!({"type": "mrkdwn", "text": format!("*{label}*\n{value}")}))
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&title, 150)}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let Some(link) = links.training(alert) {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("<{link}|Not anomalous? Train skyline on this anomaly>")},
        }));
    }
    if let Some(graph) = links.graph(alert) {
        blocks.push(json!({"type": "image", "image_url": graph, "alt_text": format!("graph of {}", alert.metric)}));
    }
    json!({"text": title, "blocks": blocks})
}

/// PagerDuty Events API v2 `trigger`. `dedup_key` is the metric and rule,
/// so repeated alerts of one metric under one rule fold into one incident.
pub fn pagerduty_payload(alert: &AlertEvent, routing_key: &str, links: &Links) -> Value {
    let summary = format!(
        "Skyline - {} alert - {} - {}",
        context(alert),
        format_value(alert.value),
        alert.metric
    );
    let mut links_out = Vec::new();
    if let Some(link) = links.training(alert) {
        links_out.push(json!({"href": link, "text": "Train skyline on this anomaly"}));
    }
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": pagerduty_dedup_key(alert),
        "payload": {
            "summary": truncate(&if alert.test { format!("TEST - {summary}") } else { summary }, 1024),
            "source": alert.metric,
            "severity": "error",
            "timestamp": chrono::DateTime::from_timestamp(alert.timestamp, 0).map(|t| t.to_rfc3339()),
            "component": alert.metric,
            "group": alert.rule,
            "class": context(alert),
            "custom_details": {
                "value": finite(alert.value),
                "triggered_algorithms": alert.triggered_algorithms,
                "anomaly_id": alert.anomaly_id.to_string(),
                "alert_id": alert.id.to_string(),
                "test_alert": alert.test,
            },
        },
        "links": links_out,
    })
}

/// `<metric>|<rule>`: one PagerDuty incident per metric and rule.
pub fn pagerduty_dedup_key(alert: &AlertEvent) -> String {
    format!("{}|{}", alert.metric, alert.rule)
}

/// `since` as bodies write it: UTC, or `unknown`.
fn since_text(e: &SystemEvent) -> String {
    e.since
        .map_or_else(|| "unknown".to_owned(), topics::clock::utc)
}

/// The subject of one of skyline's own notices: `[skyline] STALLED
/// <check> since <UTC>`, `[skyline] RECOVERED <check> after <N> s`,
/// `[skyline] stale metric <m>, no data since <UTC>`, `[skyline] metric
/// <m> about to go stale, no data since <UTC>`, `[skyline] metric <m>
/// sends again`.
pub fn system_subject(e: &SystemEvent) -> String {
    let s = &e.subject;
    match e.kind {
        SystemKind::Stalled => format!("[skyline] STALLED {s} since {}", since_text(e)),
        SystemKind::Recovered => {
            let down_for = e
                .figure("down_for")
                .map(|d| d as i64)
                .or_else(|| e.since.map(|since| e.at - since))
                .unwrap_or(0);
            format!("[skyline] RECOVERED {s} after {down_for} s")
        }
        SystemKind::Stale => format!(
            "[skyline] stale metric {s}, no data since {}",
            since_text(e)
        ),
        SystemKind::AboutToGoStale => format!(
            "[skyline] metric {s} about to go stale, no data since {}",
            since_text(e)
        ),
        SystemKind::Fresh => format!("[skyline] metric {s} sends again"),
        SystemKind::Heartbeat => format!("[skyline] heartbeat of {s}"),
    }
}

/// The lines a notice's bodies list, label and value.
pub fn system_facts(e: &SystemEvent) -> Vec<(String, String)> {
    let mut facts = vec![
        ("Kind".to_owned(), e.kind.as_str().to_owned()),
        (
            match e.kind {
                SystemKind::Stalled | SystemKind::Recovered | SystemKind::Heartbeat => "Check",
                _ => "Metric",
            }
            .to_owned(),
            e.subject.clone(),
        ),
        ("Since".to_owned(), since_text(e)),
        ("At".to_owned(), topics::clock::utc(e.at)),
        (
            "Said by".to_owned(),
            format!("{} on {}", e.service, e.instance),
        ),
    ];
    if !e.reason.is_empty() {
        facts.push(("Reason".to_owned(), e.reason.clone()));
    }
    for f in &e.figures {
        facts.push((f.name.clone(), format_value(f.value)));
    }
    facts
}

/// The plain-text mail of a notice.
pub fn system_plain_body(e: &SystemEvent) -> String {
    let mut text = format!("{}\n\n", system_subject(e));
    for (label, value) in system_facts(e) {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text
}

/// The webhook's JSON body of a notice (version [`WEBHOOK_VERSION`]): under
/// `system`, the event's id, kind, subject, since, at, reason, who said it
/// and its figures by name. A receiver tells it from an alert by the key.
pub fn system_webhook_payload(e: &SystemEvent) -> Value {
    let figures: serde_json::Map<String, Value> = e
        .figures
        .iter()
        .map(|f| (f.name.clone(), finite(f.value)))
        .collect();
    json!({
        "version": WEBHOOK_VERSION,
        "system": {
            "id": e.id.to_string(),
            "kind": e.kind.as_str(),
            "subject": e.subject,
            "since": e.since,
            "at": e.at,
            "reason": e.reason,
            "service": e.service,
            "instance": e.instance,
            "figures": figures,
            "decided_at_ms": e.decided_at_ms,
            "text": system_subject(e),
        },
    })
}

/// A Slack message of a notice: the subject as header and text, the facts.
pub fn system_slack_payload(e: &SystemEvent) -> Value {
    let title = system_subject(e);
    let fields: Vec<Value> = system_facts(e)
        .into_iter()
        .take(10)
        .map(|(label, value)| json!({"type": "mrkdwn", "text": format!("*{label}*\n{value}")}))
        .collect();
    json!({
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": truncate(&title, 150)}},
            {"type": "section", "fields": fields},
        ],
    })
}

/// PagerDuty Events API v2 of a notice: `trigger` for a stall, a stale
/// metric or one about to go stale, `resolve` for a recovery or a metric
/// sending again, with the same dedup key ([`system_dedup_key`]) so the
/// incident a stall opened is the one its recovery closes.
pub fn system_pagerduty_payload(e: &SystemEvent, routing_key: &str) -> Value {
    let action = match e.kind {
        SystemKind::Recovered | SystemKind::Fresh => "resolve",
        _ => "trigger",
    };
    json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": system_dedup_key(e),
        "payload": {
            "summary": truncate(&system_subject(e), 1024),
            "source": e.instance,
            "severity": match e.kind {
                SystemKind::Stalled => "critical",
                SystemKind::Stale | SystemKind::AboutToGoStale => "warning",
                _ => "info",
            },
            "timestamp": chrono::DateTime::from_timestamp(e.at, 0).map(|t| t.to_rfc3339()),
            "component": e.subject,
            "group": e.service,
            "class": e.kind.as_str(),
            "custom_details": {
                "since": e.since,
                "reason": e.reason,
                "event_id": e.id.to_string(),
            },
        },
    })
}

/// `skyline|stall|<check>` for stalls and recoveries, `skyline|stale|<metric>`
/// for staleness and freshness: one PagerDuty incident per check or metric.
pub fn system_dedup_key(e: &SystemEvent) -> String {
    let family = match e.kind {
        SystemKind::Stalled | SystemKind::Recovered => "stall",
        SystemKind::Stale | SystemKind::AboutToGoStale | SystemKind::Fresh => "stale",
        SystemKind::Heartbeat => "heartbeat",
    };
    format!("skyline|{family}|{}", e.subject)
}

/// A value as bodies write it: integers without a fraction, others to six
/// significant digits.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// JSON has no NaN or infinity: those become `null`.
fn finite(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Minimal HTML escaping of text put in element content or attributes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use topics::{BoundaryTrigger, SeriesPoint};
    use uuid::Uuid;

    pub(crate) fn alert() -> AlertEvent {
        AlertEvent {
            id: Uuid::from_u128(1),
            anomaly_id: Uuid::from_u128(2),
            metric: "stats.web.cpu".into(),
            timestamp: 1_700_000_000,
            value: 97.5,
            source: SourceApp::Analyzer,
            alerter: "ops-mail".into(),
            rule: "stats".into(),
            triggered_algorithms: vec!["grubbs".into(), "histogram_bins".into()],
            decided_at_ms: 1_700_000_001_000,
            series: Some(
                [1.0, 2.0, 3.0, 4.0]
                    .iter()
                    .enumerate()
                    .map(|(i, v)| SeriesPoint {
                        timestamp: 1_700_000_000 - 60 * (3 - i as i64),
                        value: *v,
                    })
                    .collect(),
            ),
            full_duration: Some(86_400),
            expiration_time: Some(3600),
            boundary: None,
            fingerprinted: false,
            test: false,
        }
    }

    #[test]
    fn subjects_follow_the_reference_forms() {
        let mut a = alert();
        assert_eq!(
            subject(&a),
            "[Skyline alert] - Analyzer ALERT - stats.web.cpu"
        );
        a.fingerprinted = true;
        assert_eq!(
            subject(&a),
            "[Skyline alert] - Ionosphere ALERT - stats.web.cpu"
        );
        a.source = SourceApp::Seasonal;
        assert_eq!(subject(&a), "[Skyline] - Ionosphere - stats.web.cpu");
        a.fingerprinted = false;
        assert_eq!(subject(&a), "[Skyline] - Mirage - stats.web.cpu");
        a.source = SourceApp::Boundary;
        a.boundary = Some(BoundaryTrigger {
            algorithm: "less_than".into(),
            trigger_value: 5.0,
            alert_threshold: 3,
        });
        a.test = true;
        assert_eq!(
            subject(&a),
            "TEST - [Skyline alert] Boundary ALERT - LESS_THAN - stats.web.cpu"
        );
    }

    #[test]
    fn band_is_mean_and_sample_sigma() {
        // 1, 2, 3, 4: mean 2.5, s = sqrt(5/3) (numpy.std(ddof=1)).
        let b = Band::of(&alert()).unwrap();
        assert_eq!(b.mean, 2.5);
        assert!((b.sigma - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((b.min, b.max), (1.0, 4.0));
    }

    #[test]
    fn bodies_carry_the_facts_and_the_link() {
        let links = Links::new(Some("https://sky.example.com/"));
        let a = alert();
        let plain = plain_body(&a, &links);
        for needle in [
            "Metric: stats.web.cpu",
            "Anomalous value: 97.5",
            "Algorithms triggered: grubbs, histogram_bins",
            "Next alert in: 3600 seconds",
            "Source: Analyzer",
            "https://sky.example.com/anomalies/00000000-0000-0000-0000-000000000002",
        ] {
            assert!(plain.contains(needle), "{needle} not in {plain}");
        }
        let html = html_body(&a, &links, Some("graph"));
        assert!(html.contains("src=\"cid:graph\""), "{html}");
        let mut evil = alert();
        evil.metric = "<script>".into();
        assert!(!html_body(&evil, &links, None).contains("<script>"));
    }

    #[test]
    fn payloads() {
        let links = Links::new(Some("http://c"));
        let a = alert();
        let w = webhook_payload(&a, &links);
        assert_eq!(w["version"], 1);
        assert_eq!(w["alert"]["metric"], "stats.web.cpu");
        assert_eq!(w["alert"]["expiry"], 3600);
        assert_eq!(
            w["links"]["graph"],
            "http://c/anomalies/00000000-0000-0000-0000-000000000002/graph.png"
        );
        let p = pagerduty_payload(&a, "KEY", &links);
        assert_eq!(p["event_action"], "trigger");
        assert_eq!(p["dedup_key"], "stats.web.cpu|stats");
        assert_eq!(p["routing_key"], "KEY");
        let s = slack_payload(&a, &links);
        assert_eq!(s["blocks"][0]["type"], "header");
        assert!(s["blocks"][2]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("http://c/anomalies/"));
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    fn notice(kind: SystemKind) -> SystemEvent {
        SystemEvent {
            id: Uuid::from_u128(9),
            kind,
            subject: "ingest.received".into(),
            service: "watchdog".into(),
            instance: "h1".into(),
            at: 1_700_000_600,
            since: Some(1_700_000_000),
            ready: None,
            alert: true,
            reason: "no datapoint".into(),
            figures: vec![topics::SystemFigure {
                name: "down_for".into(),
                value: 600.0,
            }],
            decided_at_ms: 0,
        }
    }

    #[test]
    fn notices_say_what_stalled_recovered_or_went_stale() {
        let stalled = notice(SystemKind::Stalled);
        assert_eq!(
            system_subject(&stalled),
            "[skyline] STALLED ingest.received since 2023-11-14 22:13:20 UTC"
        );
        let recovered = notice(SystemKind::Recovered);
        assert_eq!(
            system_subject(&recovered),
            "[skyline] RECOVERED ingest.received after 600 s"
        );
        let mut stale = notice(SystemKind::Stale);
        stale.subject = "stats.web.cpu".into();
        assert!(system_subject(&stale)
            .starts_with("[skyline] stale metric stats.web.cpu, no data since "));
        let w = system_webhook_payload(&stalled);
        assert_eq!(w["system"]["kind"], "stalled");
        assert_eq!(w["system"]["subject"], "ingest.received");
        assert_eq!(w["system"]["since"], 1_700_000_000);
        assert_eq!(w["system"]["at"], 1_700_000_600);
        let (t, r) = (
            system_pagerduty_payload(&stalled, "K"),
            system_pagerduty_payload(&recovered, "K"),
        );
        assert_eq!(
            (t["event_action"].as_str(), r["event_action"].as_str()),
            (Some("trigger"), Some("resolve"))
        );
        assert_eq!(t["dedup_key"], r["dedup_key"]);
        assert!(system_plain_body(&stalled).contains("Reason: no datapoint"));
        assert_eq!(
            system_slack_payload(&recovered)["text"],
            system_subject(&recovered)
        );
    }
}
