//! Metric name patterns as the reference matches them
//! (`matched_or_regexed_in_list`): used by alert rules, custom stale periods,
//! skip lists and monotonic namespaces.

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A pattern a metric name is tested against. It matches when, in order,
/// it equals the name, is a substring of the name, has every dot-separated
/// element present among the name's elements, or is a regular expression
/// matching at the start of the name.
#[derive(Debug, Clone)]
pub struct MetricPattern {
    text: String,
    elements: Vec<String>,
    regex: Regex,
}

impl MetricPattern {
    /// Compiles `text`. A pattern that is not a valid regular expression is
    /// refused rather than silently matched only literally, so a typo in a
    /// config file is seen when it is loaded.
    pub fn new(text: &str) -> Result<Self, regex::Error> {
        // `re.match` anchors at the start only.
        let regex = Regex::new(&format!("^(?:{text})"))?;
        Ok(MetricPattern {
            text: text.to_owned(),
            elements: text.split('.').map(str::to_owned).collect(),
            regex,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `metric` matches: equal, substring, every dot-separated element
    /// present, or the regex matching at its start.
    pub fn matches(&self, metric: &str) -> bool {
        if self.text == metric || metric.contains(&self.text) {
            return true;
        }
        let all_elements_present = self
            .elements
            .iter()
            .all(|e| metric.split('.').any(|m| m == e));
        all_elements_present || self.regex.is_match(metric)
    }
}

impl PartialEq for MetricPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Serialize for MetricPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for MetricPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        MetricPattern::new(&text).map_err(|e| {
            serde::de::Error::custom(format!("pattern {text:?} is not a valid regex: {e}"))
        })
    }
}

/// True when any pattern matches `metric`.
pub fn any_matches(patterns: &[MetricPattern], metric: &str) -> bool {
    patterns.iter().any(|p| p.matches(metric))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, metric: &str) -> bool {
        MetricPattern::new(p).unwrap().matches(metric)
    }

    #[test]
    fn the_four_rules() {
        assert!(m("stats.web01.cpu", "stats.web01.cpu")); // exact
        assert!(m("web01", "stats.web01.cpu")); // substring
        assert!(m("stats.cpu", "stats.web01.cpu")); // dotted elements
        assert!(!m("stats.mem", "stats.web01.cpu"));
        assert!(m(r"stats\.web\d+\.cpu", "stats.web01.cpu")); // regex
        assert!(!m(r"web\d+", "stats.web01.cpu")); // regex anchored at start...
        assert!(m(r".*web\d+", "stats.web01.cpu")); // ...unless it says so
    }

    #[test]
    fn invalid_regex_is_refused() {
        assert!(MetricPattern::new("foo[bar").is_err());
    }
}
