//! How long each topic keeps its events, by design.
//!
//! Retention is part of skyline's correctness, not a tuning knob: the
//! windows are folds of `skyline.datapoints`, the profiles of
//! `skyline.labels`, the mutes in force of `skyline.mutes`, and services
//! rebuild them by reading those topics from offset 0. A topic that expires
//! events under them silently loses training, or windows shorter than the
//! analysis reads. So every topic skyline creates carries explicit configs
//! ([`TopicRetention::topic_configs`]) and, at start, a topic found keeping
//! less than skyline replays from it stops the service ([`judge`]).
//!
//! Log compaction (`cleanup.policy=compact`) fits none of skyline's topics:
//! compaction keeps only the latest event per key, and skyline's keys are
//! metrics (or mute patterns) with many events each whose *history* is the
//! point — every label of a metric trains a profile, a profile's lineage is
//! its created/learnt/validated/disabled events in order, a pattern's mutes
//! and unmutes are a timeline. Compacting any of them loses history just as
//! expiry does, so skyline creates every topic with `cleanup.policy=delete`
//! and refuses a compacted topic it replays.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::names::TopicNames;

/// One day in milliseconds, the unit of `retention.ms`.
pub const DAY_MS: i64 = 86_400_000;

/// How long a topic keeps its events: forever, or a number of whole days.
/// In the configuration: `"forever"` or a number of days (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Never expire (`retention.ms=-1`).
    Forever,
    /// Expire events older than this many days.
    Days(u32),
}

impl Keep {
    /// The topic's `retention.ms`: −1 for forever.
    pub fn retention_ms(self) -> i64 {
        match self {
            Keep::Forever => -1,
            Keep::Days(days) => i64::from(days) * DAY_MS,
        }
    }

    /// Whether a topic whose `retention.ms` is `ms` keeps at least this long
    /// (Kafka: any negative `retention.ms` means no time limit).
    pub fn covered_by_ms(self, ms: i64) -> bool {
        match self {
            _ if ms < 0 => true,
            Keep::Forever => false,
            Keep::Days(_) => ms >= self.retention_ms(),
        }
    }

    /// Whether this keeps at least as long as `other`.
    pub fn covers(self, other: Keep) -> bool {
        other.covered_by_ms(self.retention_ms())
    }
}

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keep::Forever => f.write_str("forever"),
            Keep::Days(1) => f.write_str("1 day"),
            Keep::Days(days) => write!(f, "{days} days"),
        }
    }
}

impl Serialize for Keep {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Keep::Forever => serializer.serialize_str("forever"),
            Keep::Days(days) => serializer.serialize_u32(*days),
        }
    }
}

impl<'de> Deserialize<'de> for Keep {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keep, D::Error> {
        struct KeepVisitor;

        impl Visitor<'_> for KeepVisitor {
            type Value = Keep;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"forever\" or a number of days (at least 1)")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Keep, E> {
                if v.trim().eq_ignore_ascii_case("forever") {
                    return Ok(Keep::Forever);
                }
                match v.trim().parse::<i64>() {
                    Ok(days) => self.visit_i64(days),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Keep, E> {
                match u32::try_from(v) {
                    Ok(days) if days >= 1 => Ok(Keep::Days(days)),
                    _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Keep, E> {
                match u32::try_from(v) {
                    Ok(days) if days >= 1 => Ok(Keep::Days(days)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                }
            }
        }

        deserializer.deserialize_any(KeepVisitor)
    }
}

/// The `[retention]` section: how long the topics skyline creates keep their
/// events. Labels, profiles and mutes are not here: they are always kept
/// forever (see [`plan`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// `skyline.datapoints`: unset means the least skyline replays (the
    /// longest window, learn or seasonal duration plus the margin); a value
    /// below that is a configuration error.
    pub datapoints: Option<Keep>,
    /// Days kept beyond the longest window skyline replays from
    /// `skyline.datapoints` (see the stack crate's `datapoints_need`).
    pub datapoints_margin_days: u32,
    /// `skyline.anomalies`.
    pub anomalies: Keep,
    /// `skyline.anomaly_ends`.
    pub anomaly_ends: Keep,
    /// `skyline.system`: heartbeats, stalls and stale metrics.
    pub system: Keep,
    /// `skyline.checks`.
    pub checks: Keep,
    /// `skyline.matches`.
    pub matches: Keep,
    /// `skyline.alerts`.
    pub alerts: Keep,
    /// `skyline.deliveries`.
    pub deliveries: Keep,
    /// `skyline.seasonal`.
    pub seasonal: Keep,
    /// `skyline.deadletter`.
    pub deadletter: Keep,
}

/// What the history topics (anomalies and their ends, checks, matches,
/// alerts, deliveries, seasonal verdicts) keep by default: a year and a month, so that a
/// `skyline replay projections` still rebuilds the same month of last year
/// (a year-on-year look at anomalies and deflections) and `skyline rematch
/// --since` reaches a full year of checks, at the cost of a year of events
/// that are small beside the datapoints.
pub const HISTORY_DAYS: u32 = 400;

/// What the dead letters keep by default: long enough for an operator back
/// from a holiday to look at what was refused.
pub const DEADLETTER_DAYS: u32 = 30;

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            datapoints: None,
            datapoints_margin_days: 2,
            anomalies: Keep::Days(HISTORY_DAYS),
            anomaly_ends: Keep::Days(HISTORY_DAYS),
            checks: Keep::Days(HISTORY_DAYS),
            matches: Keep::Days(HISTORY_DAYS),
            alerts: Keep::Days(HISTORY_DAYS),
            deliveries: Keep::Days(HISTORY_DAYS),
            seasonal: Keep::Days(HISTORY_DAYS),
            deadletter: Keep::Days(DEADLETTER_DAYS),
            system: Keep::Days(DEADLETTER_DAYS),
        }
    }
}

/// The least a topic must keep for skyline to replay it, and what for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// At least this long.
    pub keep: Keep,
    /// What is replayed from it, as the end of a sentence ("to replay
    /// training").
    pub why: String,
}

/// One topic skyline creates: what it is created with, and what skyline
/// relies on it keeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicRetention {
    /// The topic's name.
    pub topic: String,
    /// What it is created with (the configured retention).
    pub keep: Keep,
    /// What skyline replays from it; `None` when nothing is decided from its
    /// old events (a short topic then only shortens history: a warning).
    pub need: Option<Need>,
}

impl TopicRetention {
    /// The topic configs it is created with: its retention in time, no size
    /// limit (time is what skyline reasons in; a size limit would expire
    /// events at a rate no one chose), and deletion, never compaction (see
    /// the module's documentation).
    pub fn topic_configs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("retention.ms", self.keep.retention_ms().to_string()),
            ("retention.bytes", "-1".to_owned()),
            ("cleanup.policy", "delete".to_owned()),
        ]
    }

    /// The topic as [`crate::kafka::ensure_topics_with_configs`] creates it.
    pub fn spec(&self) -> crate::kafka::TopicSpec<'_> {
        crate::kafka::TopicSpec {
            name: &self.topic,
            configs: self.topic_configs(),
        }
    }
}

/// Every topic skyline creates with its retention: labels, profiles and
/// mutes forever (they are replayed from offset 0 by learn, fingerprint,
/// `skyline retrain`, the console and the alerters), datapoints `datapoints`
/// (what the windows, learn and seasonal replay; at least
/// `datapoints_need.keep`), the others as configured.
pub fn plan(
    names: &TopicNames,
    settings: &RetentionSettings,
    datapoints_need: Need,
) -> Vec<TopicRetention> {
    let forever = |topic: &str, why: &str| TopicRetention {
        topic: topic.to_owned(),
        keep: Keep::Forever,
        need: Some(Need {
            keep: Keep::Forever,
            why: why.to_owned(),
        }),
    };
    let configured = |topic: &str, keep: Keep| TopicRetention {
        topic: topic.to_owned(),
        keep,
        need: None,
    };
    vec![
        TopicRetention {
            topic: names.datapoints.clone(),
            keep: settings.datapoints.unwrap_or(datapoints_need.keep),
            need: Some(datapoints_need),
        },
        forever(&names.labels, "to replay training (learn, retrain)"),
        forever(
            &names.profiles,
            "to replay the profiles (fingerprint, learn, console)",
        ),
        forever(&names.mutes, "to replay the mutes in force (alert)"),
        configured(&names.anomalies, settings.anomalies),
        configured(&names.anomaly_ends, settings.anomaly_ends),
        configured(&names.checks, settings.checks),
        configured(&names.matches, settings.matches),
        configured(&names.alerts, settings.alerts),
        configured(&names.deliveries, settings.deliveries),
        configured(&names.seasonal, settings.seasonal),
        configured(&names.deadletter, settings.deadletter),
        configured(&names.system, settings.system),
    ]
}

/// What a broker reported of one topic's configs (DescribeConfigs), as
/// text; `None` where it did not report the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reported {
    /// `retention.ms`.
    pub retention_ms: Option<String>,
    /// `retention.bytes`.
    pub retention_bytes: Option<String>,
    /// `cleanup.policy` (`delete`, `compact` or both, comma-separated).
    pub cleanup_policy: Option<String>,
}

/// A topic keeping less than skyline replays from it: why, and the configs
/// that would fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// The topic.
    pub topic: String,
    /// What it keeps and what skyline needs, one clause each.
    pub problems: Vec<String>,
    /// What is replayed from it.
    pub why: String,
    /// The configs that fix it (`retention.ms=-1`, ...), for
    /// `kafka-configs.sh --add-config`.
    pub fixes: Vec<String>,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "topic {} {} {}",
            self.topic,
            self.problems.join(" and "),
            self.why
        )
    }
}

/// How a topic's reported retention compares with what skyline needs and
/// what the config asks for, worst first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It keeps less than skyline replays from it: the service must not
    /// start (unless told to anyway).
    TooShort(Shortfall),
    /// The broker did not report what it keeps (this key is missing or
    /// unreadable): nothing can be judged.
    Unreported(String),
    /// It keeps enough for what skyline replays, but less than the config
    /// asks, or with a size limit that may expire events sooner: a warning.
    Shorter(String),
    /// It keeps at least what is needed and configured.
    Enough,
}

/// Judges a topic's reported configs against what skyline needs and what
/// it is configured to keep. Pure: the caller asks the broker.
///
/// - `retention.ms` below the need (any negative value is no limit) is too
///   short; below the configured value only shorter.
/// - A finite `retention.bytes` (≥ 0) is too short where forever is needed
///   (a size cap expires old events however long the time limit); where a
///   number of days is needed it may or may not bite first, so it is only
///   reported as shorter.
/// - `cleanup.policy` with `compact` keeps one event per key: too short
///   for any topic skyline replays.
pub fn judge(wanted: &TopicRetention, reported: &Reported) -> Verdict {
    let topic = &wanted.topic;
    let ms = match reported.retention_ms.as_deref().map(str::trim) {
        None => return Verdict::Unreported(format!("{topic}: no retention.ms")),
        Some(text) => match text.parse::<i64>() {
            Ok(ms) => ms,
            Err(_) => {
                return Verdict::Unreported(format!(
                    "{topic}: retention.ms={text:?} is not a number"
                ))
            }
        },
    };
    // A missing or unreadable retention.bytes is Kafka's default: no limit.
    let bytes = (reported.retention_bytes.as_deref())
        .and_then(|b| b.trim().parse::<i64>().ok())
        .filter(|b| *b >= 0);
    let compacted = (reported.cleanup_policy.as_deref())
        .is_some_and(|p| p.split(',').any(|p| p.trim() == "compact"));

    let mut problems = Vec::new();
    let mut fixes = Vec::new();
    let mut warnings = Vec::new();
    if let Some(need) = &wanted.need {
        if !need.keep.covered_by_ms(ms) {
            problems.push(format!(
                "keeps {} (retention.ms={ms}) but skyline needs {} (retention.ms={})",
                describe_ms(ms),
                needs(need.keep),
                need.keep.retention_ms()
            ));
            fixes.push(format!("retention.ms={}", wanted.keep.retention_ms()));
        }
        match bytes {
            Some(b) if need.keep == Keep::Forever => {
                problems.push(format!(
                    "keeps at most {b} bytes per partition (retention.bytes={b}) but skyline needs it forever (retention.bytes=-1)"
                ));
                fixes.push("retention.bytes=-1".to_owned());
            }
            Some(b) => warnings.push(format!(
                "{topic} is capped at {b} bytes per partition (retention.bytes={b}), which may expire events before the {} skyline replays",
                need.keep
            )),
            None => {}
        }
        if compacted {
            problems.push(
                "is compacted (cleanup.policy=compact: one event per key) but skyline needs every event".to_owned(),
            );
            fixes.push("cleanup.policy=delete".to_owned());
        }
        if !problems.is_empty() {
            return Verdict::TooShort(Shortfall {
                topic: topic.clone(),
                problems,
                why: need.why.clone(),
                fixes,
            });
        }
    } else {
        if let Some(b) = bytes {
            warnings.push(format!(
                "{topic} is capped at {b} bytes per partition (retention.bytes={b})"
            ));
        }
        if compacted {
            warnings.push(format!(
                "{topic} is compacted (cleanup.policy=compact): it keeps only the latest event per key"
            ));
        }
    }
    if !wanted.keep.covered_by_ms(ms) {
        warnings.insert(
            0,
            format!(
                "{topic} keeps {} (retention.ms={ms}), less than the {} configured",
                describe_ms(ms),
                wanted.keep
            ),
        );
    }
    if warnings.is_empty() {
        Verdict::Enough
    } else {
        Verdict::Shorter(warnings.join("; "))
    }
}

/// "it forever" or "at least 32 days".
fn needs(keep: Keep) -> String {
    match keep {
        Keep::Forever => "it forever".to_owned(),
        days => format!("at least {days}"),
    }
}

/// A `retention.ms` in words: "forever", "7 days", "36 hours", "90 minutes"
/// or "500 ms", whichever is whole.
pub fn describe_ms(ms: i64) -> String {
    const HOUR_MS: i64 = 3_600_000;
    const MINUTE_MS: i64 = 60_000;
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    match ms {
        _ if ms < 0 => "forever".to_owned(),
        0 => "0 ms".to_owned(),
        _ if ms % DAY_MS == 0 => plural(ms / DAY_MS, "day"),
        _ if ms % HOUR_MS == 0 => plural(ms / HOUR_MS, "hour"),
        _ if ms % MINUTE_MS == 0 => plural(ms / MINUTE_MS, "minute"),
        _ => format!("{ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reported(ms: &str) -> Reported {
        Reported {
            retention_ms: Some(ms.to_owned()),
            retention_bytes: Some("-1".to_owned()),
            cleanup_policy: Some("delete".to_owned()),
        }
    }

    fn labels() -> TopicRetention {
        plan(
            &TopicNames::default(),
            &RetentionSettings::default(),
            datapoints_need(32),
        )
        .into_iter()
        .find(|t| t.topic == "skyline.labels")
        .unwrap()
    }

    fn datapoints_need(days: u32) -> Need {
        Need {
            keep: Keep::Days(days),
            why: "to rebuild the windows".to_owned(),
        }
    }

    fn datapoints(configured: Option<Keep>) -> TopicRetention {
        let settings = RetentionSettings {
            datapoints: configured,
            ..RetentionSettings::default()
        };
        plan(&TopicNames::default(), &settings, datapoints_need(32))
            .into_iter()
            .find(|t| t.topic == "skyline.datapoints")
            .unwrap()
    }

    #[test]
    fn seven_day_labels_are_too_short_with_the_fix() {
        let Verdict::TooShort(short) = judge(&labels(), &reported("604800000")) else {
            panic!("a 7-day labels topic must be too short");
        };
        assert_eq!(
            short.to_string(),
            "topic skyline.labels keeps 7 days (retention.ms=604800000) but skyline needs it forever (retention.ms=-1) to replay training (learn, retrain)"
        );
        assert_eq!(short.fixes, ["retention.ms=-1"]);
    }

    #[test]
    fn forever_is_any_negative_retention() {
        assert_eq!(judge(&labels(), &reported("-1")), Verdict::Enough);
        assert!(Keep::Forever.covered_by_ms(-5));
        assert!(!Keep::Forever.covered_by_ms(i64::MAX));
    }

    #[test]
    fn a_size_cap_is_short_where_forever_is_needed() {
        let mut r = reported("-1");
        r.retention_bytes = Some("1073741824".to_owned());
        let Verdict::TooShort(short) = judge(&labels(), &r) else {
            panic!("a size-capped labels topic must be too short");
        };
        assert!(
            short.to_string().contains(
                "keeps at most 1073741824 bytes per partition (retention.bytes=1073741824) but skyline needs it forever"
            ),
            "{short}"
        );
        assert_eq!(short.fixes, ["retention.bytes=-1"]);
        // On a topic needed for days, a size cap cannot be judged: a warning.
        let Verdict::Shorter(why) = judge(&datapoints(None), &r) else {
            panic!("a size-capped datapoints topic is a warning");
        };
        assert!(why.contains("retention.bytes=1073741824"), "{why}");
    }

    #[test]
    fn compaction_loses_history_of_replayed_topics() {
        let mut r = reported("-1");
        r.cleanup_policy = Some("compact,delete".to_owned());
        let Verdict::TooShort(short) = judge(&labels(), &r) else {
            panic!("a compacted labels topic must be too short");
        };
        assert_eq!(short.fixes, ["cleanup.policy=delete"]);
        // Every problem is named, with every fix.
        r.retention_ms = Some("86400000".to_owned());
        let Verdict::TooShort(short) = judge(&labels(), &r) else {
            panic!()
        };
        assert_eq!(short.problems.len(), 2);
        assert_eq!(short.fixes, ["retention.ms=-1", "cleanup.policy=delete"]);
    }

    #[test]
    fn datapoints_need_their_minimum_and_warn_below_the_configured() {
        let at = |days: i64| reported(&(days * DAY_MS).to_string());
        // The minimum, 32 days: 31 is too short, naming the need.
        let Verdict::TooShort(short) = judge(&datapoints(None), &at(31)) else {
            panic!("31 days of datapoints must be too short");
        };
        assert_eq!(
            short.to_string(),
            "topic skyline.datapoints keeps 31 days (retention.ms=2678400000) but skyline needs at least 32 days (retention.ms=2764800000) to rebuild the windows"
        );
        assert_eq!(judge(&datapoints(None), &at(32)), Verdict::Enough);
        // Configured 60: 40 is enough to replay but less than asked.
        let sixty = datapoints(Some(Keep::Days(60)));
        let Verdict::Shorter(why) = judge(&sixty, &at(40)) else {
            panic!("40 of 60 configured days is a warning");
        };
        assert_eq!(
            why,
            "skyline.datapoints keeps 40 days (retention.ms=3456000000), less than the 60 days configured"
        );
        // The fix asks for the configured value, not just the minimum.
        let Verdict::TooShort(short) = judge(&sixty, &at(7)) else {
            panic!()
        };
        assert_eq!(short.fixes, [format!("retention.ms={}", 60 * DAY_MS)]);
        assert_eq!(judge(&sixty, &reported("-1")), Verdict::Enough);
    }

    #[test]
    fn history_topics_only_warn() {
        let anomalies = plan(
            &TopicNames::default(),
            &RetentionSettings::default(),
            datapoints_need(32),
        )
        .into_iter()
        .find(|t| t.topic == "skyline.anomalies")
        .unwrap();
        assert_eq!(anomalies.keep, Keep::Days(HISTORY_DAYS));
        assert!(matches!(
            judge(&anomalies, &reported("604800000")),
            Verdict::Shorter(_)
        ));
        assert_eq!(
            judge(&anomalies, &reported(&(400 * DAY_MS).to_string())),
            Verdict::Enough
        );
    }

    #[test]
    fn a_missing_or_garbled_retention_cannot_be_judged() {
        assert!(matches!(
            judge(&labels(), &Reported::default()),
            Verdict::Unreported(_)
        ));
        assert!(matches!(
            judge(&labels(), &reported("a week")),
            Verdict::Unreported(_)
        ));
    }

    #[test]
    fn every_topic_is_planned_and_created_with_explicit_configs() {
        let names = TopicNames::default();
        let planned = plan(&names, &RetentionSettings::default(), datapoints_need(32));
        let mut topics: Vec<&str> = planned.iter().map(|t| t.topic.as_str()).collect();
        let mut all = names.all().to_vec();
        topics.sort_unstable();
        all.sort_unstable();
        assert_eq!(topics, all);
        let forever: Vec<&str> = (planned.iter())
            .filter(|t| t.keep == Keep::Forever)
            .map(|t| t.topic.as_str())
            .collect();
        assert_eq!(
            forever,
            ["skyline.labels", "skyline.profiles", "skyline.mutes"]
        );
        let configs = planned[1].topic_configs();
        assert_eq!(
            configs,
            [
                ("retention.ms", "-1".to_owned()),
                ("retention.bytes", "-1".to_owned()),
                ("cleanup.policy", "delete".to_owned())
            ]
        );
        assert_eq!(planned[0].keep, Keep::Days(32));
        assert_eq!(planned[0].topic_configs()[0].1, (32 * DAY_MS).to_string());
    }

    #[test]
    fn keep_reads_forever_or_days() {
        #[derive(Deserialize, Serialize, PartialEq, Debug)]
        struct T {
            keep: Keep,
        }
        let read = |json: &str| serde_json::from_str::<T>(json).map(|t| t.keep);
        assert_eq!(read(r#"{"keep": "forever"}"#).unwrap(), Keep::Forever);
        assert_eq!(read(r#"{"keep": 400}"#).unwrap(), Keep::Days(400));
        assert_eq!(read(r#"{"keep": "30"}"#).unwrap(), Keep::Days(30));
        for bad in [r#"{"keep": 0}"#, r#"{"keep": -1}"#, r#"{"keep": "week"}"#] {
            let err = read(bad).unwrap_err().to_string();
            assert!(err.contains("\"forever\" or a number of days"), "{err}");
        }
        let text = serde_json::to_string(&T {
            keep: Keep::Forever,
        })
        .unwrap();
        assert_eq!(text, r#"{"keep":"forever"}"#);
        assert_eq!(
            serde_json::to_string(&T {
                keep: Keep::Days(7)
            })
            .unwrap(),
            r#"{"keep":7}"#
        );
    }

    #[test]
    fn keep_orders_forever_above_days() {
        assert!(Keep::Forever.covers(Keep::Days(u32::MAX)));
        assert!(Keep::Days(40).covers(Keep::Days(32)));
        assert!(!Keep::Days(31).covers(Keep::Days(32)));
        assert!(!Keep::Days(u32::MAX).covers(Keep::Forever));
    }

    #[test]
    fn retention_reads_in_words() {
        assert_eq!(describe_ms(604_800_000), "7 days");
        assert_eq!(describe_ms(86_400_000), "1 day");
        assert_eq!(describe_ms(36 * 3_600_000), "36 hours");
        assert_eq!(describe_ms(90 * 60_000), "90 minutes");
        assert_eq!(describe_ms(1_500), "1500 ms");
        assert_eq!(describe_ms(-1), "forever");
    }
}
