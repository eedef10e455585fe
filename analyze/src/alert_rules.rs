//! Alert rules (`settings.ALERTS`): which metrics alert, on which alerter,
//! how often, and which are re-checked by the seasonal analysis.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::pattern::MetricPattern;

/// One rule: `(pattern, alerter, EXPIRATION_TIME[, SECOND_ORDER_RESOLUTION_HOURS])`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Which metrics the rule covers (see [`MetricPattern`]).
    pub pattern: MetricPattern,
    /// Where alerts go: `smtp`, `webhook`, `topic`, ...
    pub alerter: String,
    /// `EXPIRATION_TIME`: seconds during which a metric that alerted does not
    /// alert again on this alerter.
    #[serde(default = "default_expiration_time")]
    pub expiration_time: i64,
    /// `SECOND_ORDER_RESOLUTION_HOURS`: when over 24, anomalies of matching
    /// metrics are re-checked over this many hours by the seasonal analysis
    /// before anyone is alerted.
    #[serde(default)]
    pub second_order_resolution_hours: Option<u32>,
}

/// One hour, the expiration time the reference's examples use.
pub const DEFAULT_EXPIRATION_TIME: i64 = 3600;

fn default_expiration_time() -> i64 {
    DEFAULT_EXPIRATION_TIME
}

impl AlertRule {
    /// The rule as a check carries it: the alert to send unless the check
    /// deflects or clears the anomaly.
    pub fn route(&self) -> topics::AlertRoute {
        topics::AlertRoute {
            alerter: self.alerter.clone(),
            rule: self.pattern.as_str().to_owned(),
            expiration_time: Some(self.expiration_time),
        }
    }

    /// The default rule for skyline's own figures (`skyline.<service>.…`,
    /// the self-metrics), first as in the reference's ALERTS: the `topic`
    /// alerter, at the reference's 1800 s expiry.
    pub fn skyline_itself() -> Self {
        AlertRule {
            pattern: MetricPattern::new(r"^skyline\.").expect("valid regex"),
            alerter: "topic".to_owned(),
            expiration_time: 1800,
            second_order_resolution_hours: None,
        }
    }

    /// The default rule set's last rule: every metric alerts on the
    /// `topic` alerter.
    pub fn catch_all() -> Self {
        AlertRule {
            pattern: MetricPattern::new(".*").expect("valid regex"),
            alerter: "topic".to_owned(),
            expiration_time: DEFAULT_EXPIRATION_TIME,
            second_order_resolution_hours: None,
        }
    }
}

/// A rule that cannot work, named by its position in `alerts`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlertRuleError {
    /// A rule's `expiration_time` is below zero.
    #[error("alerts[{index}].expiration_time = {value} must not be negative")]
    NegativeExpiration {
        /// The rule's position in `alerts`.
        index: usize,
        /// Its `expiration_time` (seconds).
        value: i64,
    },
    /// A rule names no alerter.
    #[error("alerts[{index}].alerter is empty")]
    EmptyAlerter {
        /// The rule's position in `alerts`.
        index: usize,
    },
}

/// Checks what serde cannot.
pub fn validate(rules: &[AlertRule]) -> Result<(), AlertRuleError> {
    for (index, rule) in rules.iter().enumerate() {
        if rule.expiration_time < 0 {
            return Err(AlertRuleError::NegativeExpiration {
                index,
                value: rule.expiration_time,
            });
        }
        if rule.alerter.trim().is_empty() {
            return Err(AlertRuleError::EmptyAlerter { index });
        }
    }
    Ok(())
}

/// The rules with one alerter each: a rule whose `alerter` names several
/// (`"ops-mail|ops-hook"`, as the reference writes `smtp|slack`) becomes one
/// rule per name, in place, so "first match per alerter" holds for each.
pub fn one_per_alerter(rules: &[AlertRule]) -> Vec<AlertRule> {
    rules
        .iter()
        .flat_map(|rule| {
            rule.alerter
                .split('|')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(move |name| AlertRule {
                    alerter: name.to_owned(),
                    ..rule.clone()
                })
        })
        .collect()
}

/// For `metric`, the first matching rule of each alerter, in rule order
/// (later rules of an alerter that already matched never fire: the first
/// match sets the alert key they would find).
pub fn matching_rules<'r>(rules: &'r [AlertRule], metric: &str) -> Vec<&'r AlertRule> {
    let mut chosen: Vec<&AlertRule> = Vec::new();
    for rule in rules {
        if !chosen.iter().any(|c| c.alerter == rule.alerter) && rule.pattern.matches(metric) {
            chosen.push(rule);
        }
    }
    chosen
}

/// Where an anomalous metric goes next.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Re-check over this many hours before alerting (Mirage).
    Seasonal {
        /// The first matching rule's `second_order_resolution_hours` (over 24).
        hours: u32,
    },
    /// Compare with trained profiles before alerting (Ionosphere).
    Fingerprint,
    /// Alert on these rules now.
    Alert(Vec<AlertRule>),
    /// No rule matches: recorded, never alerted.
    Record,
}

impl Route {
    /// The check an anomaly so routed is handed on with: seasonal for the
    /// seasonal route, fingerprint for the fingerprint route and for
    /// alerting (a *training* check, what an operator labels to make the
    /// metric's first profile); none when only recorded.
    pub fn check_target(&self) -> Option<topics::CheckTarget> {
        match self {
            Route::Seasonal { .. } => Some(topics::CheckTarget::Seasonal),
            Route::Fingerprint | Route::Alert(_) => Some(topics::CheckTarget::Fingerprint),
            Route::Record => None,
        }
    }
}

/// Routes an anomalous metric: the **first** matching rule decides whether
/// it is seasonal (`second_order_resolution_hours > 24`); otherwise a metric
/// with enabled features profiles goes to fingerprint; otherwise the matching
/// rules alert.
///
/// The reference keys this on the first matching *smtp* rule and requires
/// smtp rules first; here the first matching rule of any alerter plays that
/// part, since alerters are peers.
pub fn route(rules: &[AlertRule], metric: &str, fingerprint_enabled: bool) -> Route {
    let matched = matching_rules(rules, metric);
    let Some(first) = matched.first() else {
        return Route::Record;
    };
    match first.second_order_resolution_hours {
        Some(hours) if hours > 24 => Route::Seasonal { hours },
        _ if fingerprint_enabled => Route::Fingerprint,
        _ => Route::Alert(matched.into_iter().cloned().collect()),
    }
}

/// One metric's `last_alert.<alerter>.<metric>` keys: when it last alerted
/// on each alerter, so that it alerts at most once per `expiration_time`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertThrottle {
    last_alert: HashMap<String, i64>,
}

impl AlertThrottle {
    /// Whether `rule` fires at `now`; records the alert if so. A rule fires
    /// when its alerter never fired for the metric or its last alert is at
    /// least `expiration_time` old (the key's TTL has run out).
    pub fn fire(&mut self, rule: &AlertRule, now: i64) -> bool {
        self.fire_alerter(&rule.alerter, rule.expiration_time, now)
    }

    /// [`AlertThrottle::fire`] by the alerter's name and the rule's
    /// expiration time (what a check's alert routes carry).
    ///
    /// Checks can come out of time order (the seasonal service judges
    /// real checks before periodic ones): an alert within the expiration
    /// time of the last one, before or after it, does not fire, and the
    /// newest time is kept.
    pub fn fire_alerter(&mut self, alerter: &str, expiration_time: i64, now: i64) -> bool {
        match self.last_alert.get(alerter).copied() {
            Some(last) if now.abs_diff(last) < expiration_time.unsigned_abs() => false,
            last => {
                self.last_alert
                    .insert(alerter.to_owned(), last.map_or(now, |l| l.max(now)));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str, alerter: &str, exp: i64, hours: Option<u32>) -> AlertRule {
        AlertRule {
            pattern: MetricPattern::new(pattern).unwrap(),
            alerter: alerter.into(),
            expiration_time: exp,
            second_order_resolution_hours: hours,
        }
    }

    #[test]
    fn first_match_per_alerter() {
        let rules = [
            rule("stats.web", "smtp", 600, None),
            rule("stats", "smtp", 3600, None),
            rule("stats", "webhook", 60, None),
        ];
        let m = matching_rules(&rules, "stats.web.cpu");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].expiration_time, 600);
        assert_eq!(m[1].alerter, "webhook");
        assert!(matching_rules(&rules, "other.cpu").is_empty());
    }

    #[test]
    fn several_alerters_become_one_rule_each() {
        let rules = [
            rule("stats.web", "mail | hook", 600, None),
            rule("stats", "mail", 3600, None),
        ];
        let one = one_per_alerter(&rules);
        assert_eq!(one.len(), 3);
        assert_eq!(
            (one[0].alerter.as_str(), one[1].alerter.as_str()),
            ("mail", "hook")
        );
        let m = matching_rules(&one, "stats.web.cpu");
        assert_eq!(m.len(), 2);
        assert!(m.iter().all(|r| r.expiration_time == 600));
    }

    #[test]
    fn routing() {
        let rules = [
            rule("seasonal", "smtp", 600, Some(168)),
            rule("stats", "smtp", 600, Some(24)),
        ];
        assert_eq!(
            route(&rules, "seasonal.energy", false),
            Route::Seasonal { hours: 168 }
        );
        // 24 hours is not a second-order resolution
        assert!(matches!(route(&rules, "stats.cpu", false), Route::Alert(_)));
        assert_eq!(route(&rules, "stats.cpu", true), Route::Fingerprint);
        assert_eq!(route(&rules, "nothing", true), Route::Record);
    }

    #[test]
    fn throttle_by_expiration_time() {
        let r = rule("x", "smtp", 1800, None);
        let w = rule("x", "webhook", 1800, None);
        let mut t = AlertThrottle::default();
        assert!(t.fire(&r, 1000));
        assert!(!t.fire(&r, 2799));
        assert!(t.fire(&w, 2799), "per alerter");
        assert!(t.fire(&r, 2800));
        // Out of time order: within the expiration before the last alert
        // does not fire either, and the newest time is kept.
        assert!(!t.fire_alerter("smtp", 1800, 1001));
        assert!(t.fire_alerter("smtp", 1800, 999));
        assert!(!t.fire_alerter("smtp", 1800, 4599));
        assert!(t.fire_alerter("smtp", 1800, 4600));
    }
}
