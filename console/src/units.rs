//! The unit of a metric's values, for the graphs' value axis.
//!
//! Datapoints carry no unit, so a unit is known in two ways, the first
//! that gives one wins:
//!
//! 1. `[[console.units]]` in the configuration: a metric pattern (as the
//!    console's filters take it: with `*` a glob over the whole name, else
//!    a substring) and its unit, tried in order;
//! 2. the name's last word, when it is a unit's name (the convention of
//!    Prometheus and most Graphite schemes): the words of the name's last
//!    dot-separated part, split at `_` and `-`, a trailing `total` (a
//!    counter's) skipped, then `seconds` → s, `milliseconds`/`ms` → ms,
//!    `microseconds`/`us` → µs, `nanoseconds`/`ns` → ns, `bytes` → B,
//!    `bits` → bit, `percent`/`pct` → %, `celsius` → °C.
//!
//! Otherwise the axis shows no unit: a guess from anything vaguer (`cpu`,
//! `utilization`) could be a ratio as well as a percentage.

use serde::{Deserialize, Serialize};

/// One `[[console.units]]`: metrics matching `pattern` are in `unit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitRule {
    /// With `*` a glob over the whole name (`*` = any run of characters),
    /// else a substring of it.
    pub pattern: String,
    /// As the axis shows it: `ms`, `req/s`, `%`…
    pub unit: String,
}

/// Unit names a metric's last word may be.
const UNIT_WORDS: [(&[&str], &str); 9] = [
    (&["seconds"], "s"),
    (&["milliseconds", "ms"], "ms"),
    (&["microseconds", "us"], "µs"),
    (&["nanoseconds", "ns"], "ns"),
    (&["bytes"], "B"),
    (&["bits"], "bit"),
    (&["percent", "pct"], "%"),
    (&["celsius"], "°C"),
    (&["fahrenheit"], "°F"),
];

/// The unit of `metric`'s values, if known (see the module's comment).
pub fn unit_of(rules: &[UnitRule], metric: &str) -> Option<String> {
    rules
        .iter()
        .find(|r| metric_matches(&r.pattern, metric))
        .map(|r| r.unit.clone())
        .or_else(|| unit_from_name(metric).map(str::to_owned))
}

fn unit_from_name(metric: &str) -> Option<&'static str> {
    let last = metric.rsplit('.').next()?.to_ascii_lowercase();
    let mut words = last.rsplit(['_', '-']).filter(|w| !w.is_empty());
    let word = match words.next()? {
        "total" => words.next()?,
        w => w,
    };
    UNIT_WORDS
        .iter()
        .find(|(names, _)| names.contains(&word))
        .map(|(_, unit)| *unit)
}

/// Whether `metric` matches an operator's `pattern`: with `*` a glob
/// anchored at both ends, else a substring. An empty pattern matches
/// nothing.
pub fn metric_matches(pattern: &str, metric: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    if !pattern.contains('*') {
        return metric.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    // Both checked before slicing: the cuts are then character boundaries.
    if !metric.starts_with(first)
        || !metric.ends_with(last)
        || metric.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &metric[first.len()..metric.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_anchored_globs_or_substrings() {
        assert!(metric_matches("web*.cpu", "web01.cpu"));
        assert!(metric_matches("web*.cpu", "web.cpu"));
        assert!(!metric_matches("web*.cpu", "web01.cpu.idle"));
        assert!(!metric_matches("web*.cpu", "xweb01.cpu"));
        assert!(metric_matches("*", "anything"));
        assert!(metric_matches("a*b*c", "a-b-c"));
        assert!(!metric_matches("a*b*c", "a-c"));
        assert!(!metric_matches("ab*ba", "aba"), "the ends may not overlap");
        assert!(metric_matches("cpu", "web01.cpu.idle"));
        assert!(!metric_matches("", "web01.cpu"));
        assert!(!metric_matches("é*x", "éé"), "no cut inside a character");
        assert!(metric_matches("*é", "aé"));
    }

    #[test]
    fn a_configured_rule_wins_then_the_name_says() {
        let rules = vec![
            UnitRule {
                pattern: "*.requests".into(),
                unit: "req/s".into(),
            },
            UnitRule {
                pattern: "temp_".into(),
                unit: "K".into(),
            },
        ];
        assert_eq!(unit_of(&rules, "web01.requests").as_deref(), Some("req/s"));
        assert_eq!(unit_of(&rules, "lab.temp_celsius").as_deref(), Some("K"));
        for (metric, unit) in [
            ("http_request_duration_seconds", Some("s")),
            ("api.latency_ms", Some("ms")),
            ("disk.sda.read_bytes_total", Some("B")),
            ("web01.cpu.percent", Some("%")),
            ("room-temperature-celsius", Some("°C")),
            ("web01.cpu", None),
            ("ec2_cpu_utilization_825cc2", None),
            ("stats.ms.count", None),
            ("requests_total", None),
            ("", None),
        ] {
            assert_eq!(unit_of(&[], metric).as_deref(), unit, "{metric}");
        }
    }
}
