//! Topic names. The defaults below are what `skyline up` creates; a
//! deployment sharing a cluster with others can rename any of them in its
//! configuration ([`TopicNames`]), e.g. to prefix them.

use serde::{Deserialize, Serialize};

/// Every value of every metric ([`crate::Datapoint`]).
pub const DATAPOINTS: &str = "skyline.datapoints";
/// Metrics judged anomalous ([`crate::AnomalyEvent`]).
pub const ANOMALIES: &str = "skyline.anomalies";
/// Anomalies handed on for a further judgement ([`crate::CheckRequest`]).
pub const CHECKS: &str = "skyline.checks";
/// Fingerprint verdicts on checks ([`crate::MatchResult`]).
pub const MATCHES: &str = "skyline.matches";
/// Operators' judgements ([`crate::Label`]).
pub const LABELS: &str = "skyline.labels";
/// Features-profile lifecycle ([`crate::ProfileEvent`]).
pub const PROFILES: &str = "skyline.profiles";
/// Alerts sent ([`crate::AlertEvent`]).
pub const ALERTS: &str = "skyline.alerts";
/// Each alert delivery attempt's outcome ([`crate::DeliveryEvent`]).
pub const DELIVERIES: &str = "skyline.deliveries";
/// Operators' mutes of alerts ([`crate::MuteEvent`]).
pub const MUTES: &str = "skyline.mutes";
/// The seasonal re-check's verdicts ([`crate::SeasonalResult`]).
pub const SEASONAL: &str = "skyline.seasonal";
/// Anomalies that are over ([`crate::AnomalyEnded`]).
pub const ANOMALY_ENDS: &str = "skyline.anomaly_ends";
/// Messages a consumer refused ([`crate::DeadLetter`]).
pub const DEADLETTER: &str = "skyline.deadletter";
/// What skyline says about itself: heartbeats, stalls, stale metrics
/// ([`crate::SystemEvent`]).
pub const SYSTEM: &str = "skyline.system";

/// The topic names a deployment uses. Every field defaults to the constant of
/// the same name, so a config only lists what it renames; an unknown key is an
/// error, so a misspelt topic is caught at start-up instead of silently
/// using the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicNames {
    /// Datapoints, keyed by metric (default `skyline.datapoints`).
    pub datapoints: String,
    /// Anomalies, keyed by metric (default `skyline.anomalies`).
    pub anomalies: String,
    /// Check requests, keyed by metric (default `skyline.checks`).
    pub checks: String,
    /// Match results, keyed by metric (default `skyline.matches`).
    pub matches: String,
    /// Labels, keyed by metric (default `skyline.labels`).
    pub labels: String,
    /// Profile events, keyed by metric (default `skyline.profiles`).
    pub profiles: String,
    /// Alerts, keyed by metric (default `skyline.alerts`).
    pub alerts: String,
    /// Dead letters, keyed by the topic they came from (default
    /// `skyline.deadletter`).
    pub deadletter: String,
    /// Delivery outcomes, keyed by metric (default `skyline.deliveries`).
    pub deliveries: String,
    /// Mutes, keyed by pattern (default `skyline.mutes`).
    pub mutes: String,
    /// Seasonal verdicts, keyed by metric (default `skyline.seasonal`).
    pub seasonal: String,
    /// Anomaly ends, keyed by metric (default `skyline.anomaly_ends`).
    pub anomaly_ends: String,
    /// Heartbeats, stalls and stale metrics, keyed by subject (a stall by
    /// the service its check is judged from) (default `skyline.system`).
    pub system: String,
}

impl Default for TopicNames {
    fn default() -> Self {
        TopicNames {
            datapoints: DATAPOINTS.to_owned(),
            anomalies: ANOMALIES.to_owned(),
            checks: CHECKS.to_owned(),
            matches: MATCHES.to_owned(),
            labels: LABELS.to_owned(),
            profiles: PROFILES.to_owned(),
            alerts: ALERTS.to_owned(),
            deadletter: DEADLETTER.to_owned(),
            deliveries: DELIVERIES.to_owned(),
            mutes: MUTES.to_owned(),
            seasonal: SEASONAL.to_owned(),
            anomaly_ends: ANOMALY_ENDS.to_owned(),
            system: SYSTEM.to_owned(),
        }
    }
}

impl TopicNames {
    /// The same set with every name passed through `rename`, e.g. to give
    /// one test run its own topics.
    pub fn renamed(&self, rename: impl Fn(&str) -> String) -> TopicNames {
        TopicNames {
            datapoints: rename(&self.datapoints),
            anomalies: rename(&self.anomalies),
            checks: rename(&self.checks),
            matches: rename(&self.matches),
            labels: rename(&self.labels),
            profiles: rename(&self.profiles),
            alerts: rename(&self.alerts),
            deadletter: rename(&self.deadletter),
            deliveries: rename(&self.deliveries),
            mutes: rename(&self.mutes),
            seasonal: rename(&self.seasonal),
            anomaly_ends: rename(&self.anomaly_ends),
            system: rename(&self.system),
        }
    }

    /// Every topic, e.g. to create them all at start-up.
    pub fn all(&self) -> [&str; 13] {
        [
            &self.datapoints,
            &self.anomalies,
            &self.checks,
            &self.matches,
            &self.labels,
            &self.profiles,
            &self.alerts,
            &self.deadletter,
            &self.deliveries,
            &self.mutes,
            &self.seasonal,
            &self.anomaly_ends,
            &self.system,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_gives_defaults() {
        let names: TopicNames = serde_json::from_str("{}").unwrap();
        assert_eq!(names, TopicNames::default());
        assert_eq!(names.datapoints, "skyline.datapoints");
        assert_eq!(names.deadletter, "skyline.deadletter");
    }

    #[test]
    fn a_rename_keeps_the_other_defaults() {
        let names: TopicNames = serde_json::from_str(r#"{"alerts": "team.alerts"}"#).unwrap();
        assert_eq!(names.alerts, "team.alerts");
        assert_eq!(names.anomalies, ANOMALIES);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<TopicNames>(r#"{"alert": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn defaults_are_distinct() {
        let names = TopicNames::default();
        let mut all = names.all().to_vec();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 13);
    }
}
