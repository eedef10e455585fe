//! The retention each topic is created with and the start-up check of the
//! retention found, from the configuration (`[retention]`, and the windows,
//! learn and seasonal durations `skyline.datapoints` must cover). What a
//! topic needs and the comparison are `topics::retention`'s; the broker is
//! asked here, at the edge.

use anyhow::{bail, Result};
use topics::retention::{self, describe_ms, Keep, Need, Shortfall, TopicRetention, Verdict};

use crate::Config;

const DAY: i64 = 86_400;

/// The longest span of datapoints any service reads back (seconds), and the
/// key that sets it: what `skyline.datapoints` must keep, before the margin,
/// for a replay of the topic to rebuild everything read from it.
///
/// - the full-resolution window and its grace (`windows.full_duration +
///   windows.grace`) and the roll-up (`windows.rollup_duration`): the
///   Analyzer's in-memory windows and `skyline replay windows` are rebuilt
///   from the topic;
/// - learn's `learn_full_duration_days` (0 means 30), default and per
///   namespace: what a profile is learnt from;
/// - each alert rule's `second_order_resolution_hours`: what the seasonal
///   check judges;
/// - 30 days when `seasonal.irregular_unstable` is on: the seasonal check
///   judges 30 days instead of 7 for irregular metrics (spec §8.1).
///
/// The first key of the longest span wins a tie.
pub fn longest_replayed_span(config: &Config) -> (i64, String) {
    let learn_days = |days: i64| if days <= 0 { 30 } else { days };
    let w = &config.windows;
    let mut spans: Vec<(i64, String)> = vec![
        (w.rollup_duration, "windows.rollup_duration".to_owned()),
        (
            w.full_duration.saturating_add(w.grace),
            "windows.full_duration + windows.grace".to_owned(),
        ),
        (
            learn_days(config.learn.learn_full_duration_days).saturating_mul(DAY),
            "learn.learn_full_duration_days".to_owned(),
        ),
    ];
    spans.extend(config.learn.namespaces.iter().enumerate().map(|(i, n)| {
        (
            learn_days(n.learn_full_duration_days).saturating_mul(DAY),
            format!("learn.namespaces[{i}].learn_full_duration_days"),
        )
    }));
    spans.extend(config.alerts.iter().enumerate().filter_map(|(i, rule)| {
        rule.second_order_resolution_hours.map(|hours| {
            (
                i64::from(hours) * 3_600,
                format!("alerts[{i}].second_order_resolution_hours"),
            )
        })
    }));
    if config.seasonal.irregular_unstable {
        spans.push((
            seasonal::LONG_SPAN,
            "seasonal.irregular_unstable".to_owned(),
        ));
    }
    spans.into_iter().fold((0, String::new()), |longest, span| {
        if span.0 > longest.0 {
            span
        } else {
            longest
        }
    })
}

/// What `skyline.datapoints` must keep: the longest span read back from it
/// ([`longest_replayed_span`]) in whole days, rounded up, plus
/// `retention.datapoints_margin_days`.
///
/// The margin is there because the windows count back from each metric's
/// newest point while the broker expires by the time a record was written:
/// a metric silent for a weekend, or a replay started late, still needs the
/// whole window behind its last point.
pub fn datapoints_need(config: &Config) -> Need {
    let (span, key) = longest_replayed_span(config);
    let margin = config.retention.datapoints_margin_days;
    // ceil(span / DAY) for a positive span; u32 bounds it (a span past
    // 11 million years is not a window anyone asked for).
    let days = u32::try_from((span.max(0) + DAY - 1) / DAY)
        .unwrap_or(u32::MAX)
        .saturating_add(margin)
        .max(1);
    Need {
        keep: Keep::Days(days),
        why: format!(
            "to rebuild the windows learn and seasonal read ({key}: {}, plus retention.datapoints_margin_days: {margin})",
            describe_ms(span.saturating_mul(1000))
        ),
    }
}

/// Every topic skyline creates, with the retention it is created with and
/// what skyline needs of it ([`retention::plan`]).
pub fn plan(config: &Config) -> Vec<TopicRetention> {
    retention::plan(&config.topics, &config.retention, datapoints_need(config))
}

/// Refuses a configured `retention.datapoints` below what skyline replays
/// from the topic.
pub fn validate(config: &Config) -> Result<()> {
    let need = datapoints_need(config);
    if let Some(configured) = config.retention.datapoints {
        if !configured.covers(need.keep) {
            bail!(
                "retention.datapoints = {configured} is below the {} skyline needs of {} {}; raise it, or remove it to use that minimum",
                need.keep,
                config.topics.datapoints,
                need.why
            );
        }
    }
    Ok(())
}

/// The one line a service refusing to start prints: the first topic too
/// short, the others too short, how to raise it, and the override.
pub fn refusal(short: &[Shortfall], bootstrap_servers: &str) -> String {
    format!(
        "{} or pass --allow-short-retention",
        shortfalls(short, bootstrap_servers)
    )
}

/// The topics too short and how to raise the first: the refusal without
/// its override, as the warning of a start with `--allow-short-retention`
/// says it.
fn shortfalls(short: &[Shortfall], bootstrap_servers: &str) -> String {
    let Some(first) = short.first() else {
        return String::new();
    };
    let also = if short.len() > 1 {
        let others: Vec<&str> = short[1..].iter().map(|s| s.topic.as_str()).collect();
        format!("; also too short: {}", others.join(", "))
    } else {
        String::new()
    };
    format!(
        "{first}{also}; raise it (kafka-configs.sh --bootstrap-server {bootstrap_servers} --alter --entity-type topics --entity-name {} --add-config {})",
        first.topic,
        first.fixes.join(",")
    )
}

/// Reads the retention of every topic skyline creates from the broker and
/// refuses to go on when one keeps less than skyline replays from it
/// (`--allow-short-retention`: a warning instead). A broker that cannot say
/// (DescribeConfigs refused or unimplemented, a topic's retention not
/// reported) is a warning, once: an operator cannot fix that.
pub async fn check(config: &Config) -> Result<()> {
    let plan = plan(config);
    let names: Vec<&str> = plan.iter().map(|t| t.topic.as_str()).collect();
    let servers = &config.kafka.bootstrap_servers;
    let reported = match topics::kafka::describe_retention(&config.kafka, &names).await {
        Ok(reported) => reported,
        Err(e) => {
            tracing::warn!(
                broker = %servers,
                answer = %e,
                "the broker did not describe the topics' configs: their retention is not checked"
            );
            return Ok(());
        }
    };
    let mut short = Vec::new();
    let mut unreported = Vec::new();
    for wanted in &plan {
        match reported.get(&wanted.topic) {
            None => unreported.push(format!("{}: not in the answer", wanted.topic)),
            Some(Err(code)) => unreported.push(format!("{}: {code}", wanted.topic)),
            Some(Ok(found)) => match retention::judge(wanted, found) {
                Verdict::TooShort(shortfall) => short.push(shortfall),
                Verdict::Unreported(why) => unreported.push(why),
                Verdict::Shorter(why) => tracing::warn!("{why}"),
                Verdict::Enough => {}
            },
        }
    }
    if !unreported.is_empty() {
        tracing::warn!(
            broker = %servers,
            answer = %unreported.join("; "),
            "the broker did not report the retention of {} topic(s): it is not checked",
            unreported.len()
        );
    }
    if short.is_empty() {
        return Ok(());
    }
    if config.allow_short_retention {
        tracing::warn!(
            "{}; starting anyway (--allow-short-retention)",
            shortfalls(&short, servers)
        );
        Ok(())
    } else {
        bail!(refusal(&short, servers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analyze::alert_rules::AlertRule;
    use topics::retention::Reported;

    #[test]
    fn defaults_keep_datapoints_thirty_two_days() {
        let config = Config::default();
        let (span, key) = longest_replayed_span(&config);
        assert_eq!(span, 30 * DAY);
        assert_eq!(key, "windows.rollup_duration");
        let need = datapoints_need(&config);
        assert_eq!(need.keep, Keep::Days(32));
        assert_eq!(
            need.why,
            "to rebuild the windows learn and seasonal read (windows.rollup_duration: 30 days, plus retention.datapoints_margin_days: 2)"
        );
        let planned = plan(&config);
        assert_eq!(planned[0].topic, "skyline.datapoints");
        assert_eq!(planned[0].keep, Keep::Days(32));
    }

    #[test]
    fn the_longest_of_windows_learn_and_seasonal_wins() {
        let mut config = Config::default();
        config.learn.learn_full_duration_days = 45;
        assert_eq!(
            longest_replayed_span(&config),
            (45 * DAY, "learn.learn_full_duration_days".to_owned())
        );
        config.learn.namespaces = vec![learn::NamespaceLearn {
            pattern: "stats".into(),
            learn_full_duration_days: 60,
            valid_ts_older_than: 3661,
            max_generations: 16,
            max_percent_diff_from_origin: 100.0,
        }];
        assert_eq!(longest_replayed_span(&config).0, 60 * DAY);
        let mut rule = AlertRule::catch_all();
        rule.second_order_resolution_hours = Some(24 * 90);
        config.alerts = vec![AlertRule::catch_all(), rule];
        assert_eq!(
            longest_replayed_span(&config),
            (
                90 * DAY,
                "alerts[1].second_order_resolution_hours".to_owned()
            )
        );
        config.windows.rollup_duration = 100 * DAY + 1;
        assert_eq!(datapoints_need(&config).keep, Keep::Days(101 + 2));
        config.retention.datapoints_margin_days = 0;
        assert_eq!(datapoints_need(&config).keep, Keep::Days(101));
    }

    #[test]
    fn irregular_seasonal_checks_read_thirty_days() {
        let mut config = Config::default();
        config.windows.rollup_duration = 7 * DAY;
        config.learn.learn_full_duration_days = 7;
        assert_eq!(
            longest_replayed_span(&config),
            (30 * DAY, "seasonal.irregular_unstable".to_owned())
        );
        config.seasonal.irregular_unstable = false;
        assert_eq!(
            longest_replayed_span(&config),
            (7 * DAY, "windows.rollup_duration".to_owned())
        );
    }

    #[test]
    fn a_configured_datapoints_retention_below_the_need_is_refused() {
        let mut config = Config::default();
        config.retention.datapoints = Some(Keep::Days(20));
        let e = validate(&config).unwrap_err().to_string();
        assert_eq!(
            e,
            "retention.datapoints = 20 days is below the 32 days skyline needs of skyline.datapoints to rebuild the windows learn and seasonal read (windows.rollup_duration: 30 days, plus retention.datapoints_margin_days: 2); raise it, or remove it to use that minimum"
        );
        config.retention.datapoints = Some(Keep::Days(32));
        validate(&config).unwrap();
        config.retention.datapoints = Some(Keep::Forever);
        validate(&config).unwrap();
        assert_eq!(plan(&config)[0].keep, Keep::Forever);
    }

    #[test]
    fn the_refusal_is_one_line_with_the_fix_and_the_override() {
        let config = Config::default();
        let planned = plan(&config);
        let week = Reported {
            retention_ms: Some("604800000".into()),
            ..Reported::default()
        };
        let short: Vec<Shortfall> = (planned.iter())
            .filter_map(|t| match retention::judge(t, &week) {
                Verdict::TooShort(s) => Some(s),
                _ => None,
            })
            .collect();
        let names: Vec<&str> = short.iter().map(|s| s.topic.as_str()).collect();
        assert_eq!(
            names,
            [
                "skyline.datapoints",
                "skyline.labels",
                "skyline.profiles",
                "skyline.mutes"
            ]
        );
        let line = refusal(&short[1..], "kafka:9092");
        assert_eq!(
            line,
            "topic skyline.labels keeps 7 days (retention.ms=604800000) but skyline needs it forever (retention.ms=-1) to replay training (learn, retrain); also too short: skyline.profiles, skyline.mutes; raise it (kafka-configs.sh --bootstrap-server kafka:9092 --alter --entity-type topics --entity-name skyline.labels --add-config retention.ms=-1) or pass --allow-short-retention"
        );
        assert_eq!(line.lines().count(), 1);
    }
}
