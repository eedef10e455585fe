//! The `[[alerters]]` tables: each names one alerter, its kind and the
//! kind's own keys, and how hard to try ([`DeliverySettings`]). Alert rules
//! and Boundary rules send to alerters by name (`"ops-mail|ops-hook"`).

use std::collections::HashSet;
use std::time::Duration;

use analyze::pattern::MetricPattern;
use serde::{Deserialize, Serialize};

/// One declared alerter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AlerterConfig {
    /// Email through an SMTP server, with the graph inline.
    Smtp(SmtpConfig),
    /// An HTTP POST of the alert as JSON, signed.
    Webhook(WebhookConfig),
    /// A Slack incoming webhook.
    Slack(SlackConfig),
    /// PagerDuty's Events API v2.
    Pagerduty(PagerDutyConfig),
    /// Nothing sent: the alert on `skyline.alerts` is the delivery (for
    /// downstream consumers of the topic).
    Topic(TopicConfig),
}

/// How hard an alerter tries (`[alerters.delivery]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliverySettings {
    /// Seconds after the alert was decided when retrying stops and the
    /// alert is recorded `gave_up`.
    pub give_up_after: u64,
    /// Milliseconds before the first retry; each further wait doubles, up
    /// to `max_backoff_ms`.
    pub first_backoff_ms: u64,
    /// Longest wait between two attempts, in milliseconds.
    pub max_backoff_ms: u64,
    /// Seconds one attempt may take (connect, send, answer).
    pub timeout: u64,
    /// Alerts of this alerter being delivered at once.
    pub concurrency: usize,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            give_up_after: 86_400,
            first_backoff_ms: 1_000,
            max_backoff_ms: 60_000,
            timeout: 10,
            concurrency: 16,
        }
    }
}

impl DeliverySettings {
    /// One attempt's time limit.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a relay on the same host or network).
    None,
    /// STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
}

/// Who gets the mail of metrics matching `pattern`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    /// Metrics covered (as an alert rule's pattern); the first matching
    /// entry wins.
    pub pattern: MetricPattern,
    /// Addresses.
    pub to: Vec<String>,
}

/// An SMTP alerter (`kind = "smtp"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The alerter's name, as alert rules write it.
    pub name: String,
    /// The SMTP server.
    pub host: String,
    /// Its port (default 587 with STARTTLS, 465 implicit TLS, 25 plain).
    #[serde(default)]
    pub port: Option<u16>,
    /// `none`, `starttls` (default) or `implicit`.
    #[serde(default)]
    pub tls: SmtpTls,
    /// Login, when the server wants one.
    #[serde(default)]
    pub user: Option<String>,
    /// Its password.
    #[serde(default)]
    pub password: Option<String>,
    /// The From address (`SMTP_OPTS['sender']`).
    pub sender: String,
    /// Recipients per metric pattern, first match wins
    /// (`SMTP_OPTS['recipients']`).
    #[serde(default)]
    pub recipients: Vec<Recipients>,
    /// Recipients of metrics no pattern matches
    /// (`SMTP_OPTS['default_recipient']`).
    #[serde(default)]
    pub default_recipients: Vec<String>,
    /// Whether skyline's own notices go here too (stall alerts and
    /// recoveries from the watchdog, stale metrics from the Analyzer's
    /// sweep: every `skyline.system` event asking for delivery); default
    /// true.
    #[serde(default = "yes")]
    pub system: bool,
    /// Retries and deadline.
    #[serde(default)]
    pub delivery: DeliverySettings,
}

impl SmtpConfig {
    /// The port used: the configured one or the usual one for `tls`.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Implicit => 465,
        })
    }

    /// Who gets `metric`'s mail: the first matching pattern's addresses,
    /// else the defaults.
    pub fn recipients_of(&self, metric: &str) -> &[String] {
        self.recipients
            .iter()
            .find(|r| r.pattern.matches(metric))
            .map_or(&self.default_recipients[..], |r| &r.to[..])
    }
}

/// A webhook alerter (`kind = "webhook"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The alerter's name.
    pub name: String,
    /// Where the JSON is POSTed.
    pub url: String,
    /// Key of the `X-Skyline-Signature` HMAC-SHA256 of the body; unset: no
    /// signature header.
    #[serde(default)]
    pub secret: Option<String>,
    /// Whether skyline's own notices go here too (stall alerts and
    /// recoveries from the watchdog, stale metrics from the Analyzer's
    /// sweep: every `skyline.system` event asking for delivery); default
    /// true.
    #[serde(default = "yes")]
    pub system: bool,
    /// Retries and deadline.
    #[serde(default)]
    pub delivery: DeliverySettings,
}

/// A Slack alerter (`kind = "slack"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The alerter's name.
    pub name: String,
    /// The incoming webhook's URL.
    pub url: String,
    /// Whether skyline's own notices go here too (stall alerts and
    /// recoveries from the watchdog, stale metrics from the Analyzer's
    /// sweep: every `skyline.system` event asking for delivery); default
    /// true.
    #[serde(default = "yes")]
    pub system: bool,
    /// Retries and deadline.
    #[serde(default)]
    pub delivery: DeliverySettings,
}

fn yes() -> bool {
    true
}

/// The Events API v2 endpoint.
pub const PAGERDUTY_EVENTS_URL: &str = "https://events.pagerduty.com/v2/enqueue";

fn pagerduty_url() -> String {
    PAGERDUTY_EVENTS_URL.to_owned()
}

/// A PagerDuty alerter (`kind = "pagerduty"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    /// The alerter's name.
    pub name: String,
    /// The service integration's routing key.
    pub routing_key: String,
    /// The Events API endpoint (default PagerDuty's own).
    #[serde(default = "pagerduty_url")]
    pub url: String,
    /// Whether skyline's own notices go here too (stall alerts and
    /// recoveries from the watchdog, stale metrics from the Analyzer's
    /// sweep: every `skyline.system` event asking for delivery); default
    /// true.
    #[serde(default = "yes")]
    pub system: bool,
    /// Retries and deadline.
    #[serde(default)]
    pub delivery: DeliverySettings,
}

/// A topic alerter (`kind = "topic"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    /// The alerter's name.
    pub name: String,
}

impl AlerterConfig {
    /// The alerter's name.
    pub fn name(&self) -> &str {
        match self {
            AlerterConfig::Smtp(c) => &c.name,
            AlerterConfig::Webhook(c) => &c.name,
            AlerterConfig::Slack(c) => &c.name,
            AlerterConfig::Pagerduty(c) => &c.name,
            AlerterConfig::Topic(c) => &c.name,
        }
    }

    /// `smtp`, `webhook`, `slack`, `pagerduty` or `topic`.
    pub fn kind(&self) -> &'static str {
        match self {
            AlerterConfig::Smtp(_) => "smtp",
            AlerterConfig::Webhook(_) => "webhook",
            AlerterConfig::Slack(_) => "slack",
            AlerterConfig::Pagerduty(_) => "pagerduty",
            AlerterConfig::Topic(_) => "topic",
        }
    }

    /// Whether skyline's own notices (`skyline.system` events asking for
    /// delivery) go through it: its `system` key; never for a topic
    /// alerter (they are on `skyline.system` already).
    pub fn system(&self) -> bool {
        match self {
            AlerterConfig::Smtp(c) => c.system,
            AlerterConfig::Webhook(c) => c.system,
            AlerterConfig::Slack(c) => c.system,
            AlerterConfig::Pagerduty(c) => c.system,
            AlerterConfig::Topic(_) => false,
        }
    }

    /// Its retries and deadline (a topic alerter never retries).
    pub fn delivery(&self) -> DeliverySettings {
        match self {
            AlerterConfig::Smtp(c) => c.delivery.clone(),
            AlerterConfig::Webhook(c) => c.delivery.clone(),
            AlerterConfig::Slack(c) => c.delivery.clone(),
            AlerterConfig::Pagerduty(c) => c.delivery.clone(),
            AlerterConfig::Topic(_) => DeliverySettings::default(),
        }
    }

    /// The `topic` alerter every configuration has unless it declares one
    /// of that name: alerts to it are delivered by being on the topic.
    pub fn implicit_topic() -> AlerterConfig {
        AlerterConfig::Topic(TopicConfig {
            name: "topic".to_owned(),
        })
    }
}

/// A declared alerter that cannot work, named by its position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlerterError {
    /// Two alerters share a name.
    #[error("alerters[{index}].name {name:?} is declared twice")]
    DuplicateName {
        /// Position of the second.
        index: usize,
        /// The name.
        name: String,
    },
    /// A name is empty or holds `|` (which separates names in rules).
    #[error("alerters[{index}].name {name:?} must be non-empty and must not contain '|'")]
    BadName {
        /// Position.
        index: usize,
        /// The name.
        name: String,
    },
    /// A key's value is unusable.
    #[error("alerters[{index}].{key} = {value:?}: {reason}")]
    BadValue {
        /// Position.
        index: usize,
        /// The key.
        key: &'static str,
        /// Its value.
        value: String,
        /// Why.
        reason: String,
    },
}

/// Checks what serde cannot: unique names, URLs and addresses that parse,
/// an SMTP alerter with somewhere to send, settings that allow a delivery.
pub fn validate(alerters: &[AlerterConfig]) -> Result<(), AlerterError> {
    let mut seen = HashSet::new();
    for (index, alerter) in alerters.iter().enumerate() {
        let name = alerter.name();
        if name.trim().is_empty() || name.contains('|') {
            return Err(AlerterError::BadName {
                index,
                name: name.to_owned(),
            });
        }
        if !seen.insert(name) {
            return Err(AlerterError::DuplicateName {
                index,
                name: name.to_owned(),
            });
        }
        let bad = |key: &'static str, value: &str, reason: String| AlerterError::BadValue {
            index,
            key,
            value: value.to_owned(),
            reason,
        };
        let check_url = |key: &'static str, value: &str| -> Result<(), AlerterError> {
            let url = url::Url::parse(value).map_err(|e| bad(key, value, e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad(key, value, "must be an http or https URL".into()));
            }
            Ok(())
        };
        let check_address = |key: &'static str, value: &str| -> Result<(), AlerterError> {
            value
                .parse::<lettre::message::Mailbox>()
                .map(|_| ())
                .map_err(|e| bad(key, value, e.to_string()))
        };
        match alerter {
            AlerterConfig::Smtp(c) => {
                if c.host.trim().is_empty() {
                    return Err(bad("host", &c.host, "must name the SMTP server".into()));
                }
                check_address("sender", &c.sender)?;
                for r in &c.recipients {
                    if r.to.is_empty() {
                        return Err(bad(
                            "recipients.to",
                            r.pattern.as_str(),
                            "lists no address".into(),
                        ));
                    }
                    for to in &r.to {
                        check_address("recipients.to", to)?;
                    }
                }
                for to in &c.default_recipients {
                    check_address("default_recipients", to)?;
                }
                if c.default_recipients.is_empty() && c.recipients.is_empty() {
                    return Err(bad(
                        "default_recipients",
                        "",
                        "an smtp alerter needs default_recipients or recipients".into(),
                    ));
                }
                if c.user.is_some() != c.password.is_some() {
                    return Err(bad(
                        "user",
                        c.user.as_deref().unwrap_or(""),
                        "user and password go together".into(),
                    ));
                }
            }
            AlerterConfig::Webhook(c) => check_url("url", &c.url)?,
            AlerterConfig::Slack(c) => check_url("url", &c.url)?,
            AlerterConfig::Pagerduty(c) => {
                check_url("url", &c.url)?;
                if c.routing_key.trim().is_empty() {
                    return Err(bad("routing_key", "", "must not be empty".into()));
                }
            }
            AlerterConfig::Topic(_) => {}
        }
        let d = alerter.delivery();
        if d.concurrency == 0 {
            return Err(bad(
                "delivery.concurrency",
                "0",
                "must be at least 1".into(),
            ));
        }
        if d.timeout == 0 {
            return Err(bad(
                "delivery.timeout",
                "0",
                "must be at least 1 second".into(),
            ));
        }
        if d.first_backoff_ms == 0 || d.max_backoff_ms < d.first_backoff_ms {
            return Err(bad(
                "delivery.max_backoff_ms",
                &d.max_backoff_ms.to_string(),
                format!(
                    "needs 0 < first_backoff_ms ({}) <= max_backoff_ms",
                    d.first_backoff_ms
                ),
            ));
        }
    }
    Ok(())
}

/// The alerters in effect: the declared ones, plus the implicit `topic`
/// alerter unless one of that name is declared.
pub fn effective(declared: &[AlerterConfig]) -> Vec<AlerterConfig> {
    let mut all = declared.to_vec();
    if !all.iter().any(|a| a.name() == "topic") {
        all.push(AlerterConfig::implicit_topic());
    }
    all
}

/// The names in a rule's `alerter` (`"ops-mail|ops-hook"`), trimmed.
pub fn names_in(alerter: &str) -> impl Iterator<Item = &str> {
    alerter.split('|').map(str::trim).filter(|n| !n.is_empty())
}

/// The first name in `rule_alerter` that no alerter in `alerters` has.
pub fn undeclared<'a>(alerters: &[AlerterConfig], rule_alerter: &'a str) -> Option<&'a str> {
    names_in(rule_alerter).find(|n| !alerters.iter().any(|a| a.name() == *n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<Vec<AlerterConfig>, String> {
        #[derive(Deserialize)]
        struct File {
            alerters: Vec<AlerterConfig>,
        }
        let f: File = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        validate(&f.alerters).map_err(|e| e.to_string())?;
        Ok(f.alerters)
    }

    #[test]
    fn kinds_parse_with_their_defaults() {
        let a = parse(
            r#"
[[alerters]]
name = "ops-mail"
kind = "smtp"
host = "mail.example.com"
sender = "skyline@example.com"
default_recipients = ["ops@example.com"]
recipients = [{ pattern = "stats.web", to = ["web@example.com", "b@example.com"] }]

[[alerters]]
name = "ops-hook"
kind = "webhook"
url = "https://hooks.example.com/skyline"
secret = "s3cret"
delivery = { give_up_after = 600, max_backoff_ms = 5000 }

[[alerters]]
name = "pd"
kind = "pagerduty"
routing_key = "R0UT1NG"
"#,
        )
        .unwrap();
        let AlerterConfig::Smtp(smtp) = &a[0] else {
            panic!("{a:?}")
        };
        assert_eq!(smtp.port(), 587);
        assert_eq!(smtp.recipients_of("stats.web.cpu").len(), 2);
        assert_eq!(smtp.recipients_of("other"), ["ops@example.com"]);
        assert_eq!(a[1].delivery().give_up_after, 600);
        assert_eq!(a[1].delivery().first_backoff_ms, 1_000);
        let AlerterConfig::Pagerduty(pd) = &a[2] else {
            panic!()
        };
        assert_eq!(pd.url, PAGERDUTY_EVENTS_URL);
        let all = effective(&a);
        assert_eq!(all.len(), 4);
        assert_eq!(undeclared(&all, "ops-mail | topic"), None);
        assert_eq!(undeclared(&all, "ops-mail|nope"), Some("nope"));
    }

    #[test]
    fn bad_alerters_are_named() {
        let e = parse("[[alerters]]\nname = \"x\"\nkind = \"fax\"\n").unwrap_err();
        assert!(e.contains("fax"), "{e}");
        let e = parse("[[alerters]]\nname = \"x\"\nkind = \"webhook\"\nurl = \"not a url\"\n")
            .unwrap_err();
        assert!(e.contains("alerters[0].url"), "{e}");
        let e = parse(
            "[[alerters]]\nname = \"x\"\nkind = \"topic\"\n[[alerters]]\nname = \"x\"\nkind = \"topic\"\n",
        )
        .unwrap_err();
        assert!(
            e.contains("alerters[1].name \"x\" is declared twice"),
            "{e}"
        );
        let e = parse(
            "[[alerters]]\nname = \"m\"\nkind = \"smtp\"\nhost = \"h\"\nsender = \"not an address\"\ndefault_recipients = [\"a@b.c\"]\n",
        )
        .unwrap_err();
        assert!(e.contains("alerters[0].sender"), "{e}");
        let e = parse("[[alerters]]\nname = \"m\"\nkind = \"webhook\"\nurl = \"http://h/\"\nsecrets = \"typo\"\n")
            .unwrap_err();
        assert!(e.contains("secrets"), "{e}");
        let e = parse("[[alerters]]\nname = \"a|b\"\nkind = \"topic\"\n").unwrap_err();
        assert!(e.contains("must not contain '|'"), "{e}");
    }
}
