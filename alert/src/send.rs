//! One attempt at handing an alert to its receiver: a mail through an SMTP
//! server, a POST to a webhook, Slack or PagerDuty. Every answer becomes an
//! [`Attempt`]; nothing here retries (that is [`crate::retry`]'s decision).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::Tls;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use topics::{AlertEvent, SeriesPoint, SystemEvent};

use crate::config::{AlerterConfig, SmtpConfig, SmtpTls, WebhookConfig};
use crate::message::{self, Links};
use crate::retry::Attempt;

/// Size of the graph in mails, in pixels.
pub const GRAPH_SIZE: (u32, u32) = (800, 360);

/// Content-ID of the inline graph.
pub const GRAPH_CID: &str = "graph";

/// An alerter that can be attempted: its configuration and its connection.
pub struct Transport {
    config: AlerterConfig,
    links: Links,
    http: reqwest::Client,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

/// An alerter that cannot be built (an SMTP relay name lettre refuses, an
/// HTTP client that cannot start).
#[derive(Debug, thiserror::Error)]
#[error("alerter {alerter}: {message}")]
pub struct TransportError {
    /// The alerter's name.
    pub alerter: String,
    /// What went wrong.
    pub message: String,
}

impl Transport {
    /// Builds the alerter's client. No connection is opened yet.
    pub fn new(config: &AlerterConfig, links: Links) -> Result<Transport, TransportError> {
        let err = |message: String| TransportError {
            alerter: config.name().to_owned(),
            message,
        };
        let timeout = config.delivery().timeout();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("skyline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| err(e.to_string()))?;
        let smtp = match config {
            AlerterConfig::Smtp(c) => Some(smtp_transport(c, timeout).map_err(err)?),
            _ => None,
        };
        Ok(Transport {
            config: config.clone(),
            links,
            http,
            smtp,
        })
    }

    /// The alerter's configuration.
    pub fn config(&self) -> &AlerterConfig {
        &self.config
    }

    /// Posts `body` to a webhook: JSON, `Idempotency-Key` the id of what
    /// it carries, signed when the webhook has a secret.
    async fn webhook(&self, c: &WebhookConfig, id: uuid::Uuid, body: String) -> Attempt {
        let mut request = self
            .http
            .post(&c.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", id.to_string());
        if let Some(secret) = &c.secret {
            request = request.header(
                "X-Skyline-Signature",
                message::signature(secret, body.as_bytes()),
            );
        }
        self.post(request.body(body)).await
    }

    /// One attempt at delivering `alert`.
    pub async fn attempt(&self, alert: &AlertEvent) -> Attempt {
        match (&self.config, &self.smtp) {
            (AlerterConfig::Smtp(c), Some(mailer)) => self.mail(c, mailer, alert).await,
            (AlerterConfig::Webhook(c), _) => {
                let body = message::webhook_payload(alert, &self.links).to_string();
                self.webhook(c, alert.id, body).await
            }
            (AlerterConfig::Slack(c), _) => {
                let body = message::slack_payload(alert, &self.links);
                self.post(self.http.post(&c.url).json(&body)).await
            }
            (AlerterConfig::Pagerduty(c), _) => {
                let body = message::pagerduty_payload(alert, &c.routing_key, &self.links);
                self.post(self.http.post(&c.url).json(&body)).await
            }
            (AlerterConfig::Topic(_), _) => Attempt::Delivered("on the alerts topic".into()),
            (AlerterConfig::Smtp(_), None) => Attempt::Permanent("no SMTP transport".into()),
        }
    }

    /// One attempt at delivering one of skyline's own notices (a stall, a
    /// recovery, a stale metric): the same receivers, the notice's own
    /// texts and payloads ([`message::system_subject`] and the
    /// `system_*` payloads); the webhook's `Idempotency-Key` and the mail's
    /// Message-ID are the event's id.
    pub async fn attempt_system(&self, event: &SystemEvent) -> Attempt {
        match (&self.config, &self.smtp) {
            (AlerterConfig::Smtp(c), Some(mailer)) => {
                let email = match compose_system_mail(c, event) {
                    Ok(m) => m,
                    Err(reason) => return Attempt::Permanent(reason),
                };
                send_mail(mailer, email).await
            }
            (AlerterConfig::Webhook(c), _) => {
                let body = message::system_webhook_payload(event).to_string();
                self.webhook(c, event.id, body).await
            }
            (AlerterConfig::Slack(c), _) => {
                let body = message::system_slack_payload(event);
                self.post(self.http.post(&c.url).json(&body)).await
            }
            (AlerterConfig::Pagerduty(c), _) => {
                let body = message::system_pagerduty_payload(event, &c.routing_key);
                self.post(self.http.post(&c.url).json(&body)).await
            }
            (AlerterConfig::Topic(_), _) => Attempt::Delivered("on the system topic".into()),
            (AlerterConfig::Smtp(_), None) => Attempt::Permanent("no SMTP transport".into()),
        }
    }

    async fn post(&self, request: reqwest::RequestBuilder) -> Attempt {
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                Attempt::from_status(status, body.trim())
            }
            // Timeouts, refused connections, resets: the receiver may be
            // back soon.
            Err(e) => Attempt::Transient(error_chain(&e)),
        }
    }

    async fn mail(
        &self,
        config: &SmtpConfig,
        mailer: &AsyncSmtpTransport<Tokio1Executor>,
        alert: &AlertEvent,
    ) -> Attempt {
        // Drawing the graph blocks (a few milliseconds, bounded by the
        // graph's budget): off the executor.
        let (c, a, l) = (config.clone(), alert.clone(), self.links.clone());
        let email = match tokio::task::spawn_blocking(move || compose_mail(&c, &a, &l)).await {
            Ok(Ok(m)) => m,
            Ok(Err(reason)) => return Attempt::Permanent(reason),
            Err(e) => return Attempt::Transient(format!("composing the mail: {e}")),
        };
        send_mail(mailer, email).await
    }
}

/// Hands `email` to the SMTP server.
async fn send_mail(mailer: &AsyncSmtpTransport<Tokio1Executor>, email: Message) -> Attempt {
    match mailer.send(email).await {
        Ok(response) => Attempt::Delivered(format!(
            "SMTP {}: {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        )),
        // 5xx: the server refused for good (an unknown recipient, a
        // refused sender); anything else may pass on another try.
        Err(e) if e.is_permanent() => Attempt::Permanent(error_chain(&e)),
        Err(e) => Attempt::Transient(error_chain(&e)),
    }
}

/// The plain-text mail of a notice, to the recipients of its subject (a
/// check or a metric, matched as a metric name: the defaults unless a
/// pattern says otherwise); its Message-ID is the event's id.
pub fn compose_system_mail(config: &SmtpConfig, event: &SystemEvent) -> Result<Message, String> {
    mail_to(
        config,
        &event.subject,
        message::system_subject(event),
        event.id,
    )?
    .singlepart(SinglePart::plain(message::system_plain_body(event)))
    .map_err(|e| e.to_string())
}

/// A mail's headers: from the sender, to the first recipient of `subject`
/// (a metric or a check, matched as a metric name), Cc the others, with
/// `title` and a Message-ID of `id` (a mail sent twice, after a crash
/// between sending and recording, is recognisably the same mail).
fn mail_to(
    config: &SmtpConfig,
    subject: &str,
    title: String,
    id: uuid::Uuid,
) -> Result<lettre::message::MessageBuilder, String> {
    let recipients = config.recipients_of(subject);
    let Some((to, cc)) = recipients.split_first() else {
        return Err(format!("no recipient for {subject}"));
    };
    let mailbox = |a: &str| {
        a.parse::<Mailbox>()
            .map_err(|e| format!("address {a:?}: {e}"))
    };
    let mut builder = Message::builder()
        .from(mailbox(&config.sender)?)
        .to(mailbox(to)?)
        .subject(title)
        .message_id(Some(format!("<{id}@skyline>")));
    for a in cc {
        builder = builder.cc(mailbox(a)?);
    }
    Ok(builder)
}

fn smtp_transport(
    c: &SmtpConfig,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match c.tls {
        SmtpTls::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host).tls(Tls::None)
        }
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host)
            .map_err(|e| format!("host {:?}: {e}", c.host))?,
        SmtpTls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host)
            .map_err(|e| format!("host {:?}: {e}", c.host))?,
    };
    let mut builder = builder.port(c.port()).timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&c.user, &c.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// The mail of `alert`: To the first recipient of the metric, Cc the
/// others; a plain part and an HTML part with the graph inline (CID), or
/// without it when the alert carries no series. The Message-ID is the
/// alert's id, so a mail sent twice (a crash between sending and recording)
/// is recognisably the same mail.
pub fn compose_mail(
    config: &SmtpConfig,
    alert: &AlertEvent,
    links: &Links,
) -> Result<Message, String> {
    let builder = mail_to(config, &alert.metric, message::subject(alert), alert.id)?;
    let graph = graph_png(alert);
    let html = message::html_body(alert, links, graph.as_ref().map(|_| GRAPH_CID));
    let html_part = match graph {
        Some(png) => MultiPart::related()
            .singlepart(SinglePart::html(html))
            .singlepart(Attachment::new_inline(GRAPH_CID.to_owned()).body(
                png,
                ContentType::parse("image/png").map_err(|e| e.to_string())?,
            )),
        None => MultiPart::related().singlepart(SinglePart::html(html)),
    };
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(message::plain_body(alert, links)))
                .multipart(html_part),
        )
        .map_err(|e| e.to_string())
}

/// The PNG of the window the alert was judged on, with the mean, the ±3σ
/// band and the anomalous point marked; `None` when the alert carries no
/// series or drawing fails (the mail goes without it, logged).
pub fn graph_png(alert: &AlertEvent) -> Option<Vec<u8>> {
    let series = SeriesPoint::pairs(alert.series.as_deref()?);
    if series.is_empty() {
        return None;
    }
    let options = graph::GraphOptions {
        width: GRAPH_SIZE.0,
        height: GRAPH_SIZE.1,
        ..graph::GraphOptions::alert((alert.timestamp, alert.value))
    }
    .with_title(format!(
        "{} - ALERT - at {} hours - {} - anomalous value: {}",
        message::context(alert),
        alert.full_duration.unwrap_or(86_400) / 3600,
        alert.metric,
        message::format_value(alert.value)
    ));
    match graph::series_png(&series, &options) {
        Ok(png) => Some(png),
        Err(e) => {
            tracing::warn!(alert = %alert.id, error = %e, "alert graph not drawn; mailing without it");
            None
        }
    }
}

/// An error and its causes on one line (reqwest and lettre put the useful
/// part — "connection refused", "timed out" — in the source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
