//! Which metrics may learn repetitive patterns:
//! `IONOSPHERE_REPETITIVE_PATTERNS_INCLUDE` and `_EXCLUDE` (`spec/learn.md`
//! §6).
//!
//! Both settings are nested tables ([`NestedPatterns`]):
//!
//! ```text
//! { primary: { secondary: [items...] } }                          list form
//! { primary: { secondary: { label: [values...], ...,
//!                           "_NOT": { label: [values...], ... } } } }  label form
//! ```
//!
//! # Pattern test
//!
//! Every key, item, label and value is a pattern tested with the analyzer's
//! `matched_or_regexed_in_list` rule, [`MetricPattern::matches`]: equal to
//! the metric, a substring of it, every dot-separated element of the pattern
//! among the metric's elements, or a regex matching at the metric's start.
//! For a labelled (Prometheus style) metric `name{label="value",...}` the
//! elements are the name plus every label name and value rather than the
//! dot-split string (label values hold dots, e.g. IP addresses); the other
//! three tests still run on the whole labelled string. A name that does not
//! parse as labelled is treated as a plain dotted name.
//! The regex test is anchored at the start of the whole name, so a regex
//! meant for a label value has to say so: `.*status="5\d\d"`.
//!
//! # Matching rule
//!
//! The reference counts hits against a target for each primary key that
//! matches the metric: the primary counts one hit and raises the target from
//! 1 to 3 (primary, secondary, and one further condition). Then, for each
//! secondary key that also matches (one more hit):
//!
//! * list form: a hit when any item matches; an empty list means the
//!   secondary key itself, which has already matched. Three hits reach the
//!   target of 3: the metric is selected.
//! * label form: each `label: [values]` entry adds 1 to the target and a hit
//!   when one of its values matches (the label name itself is not tested, as
//!   in the reference); an entry with no values counts the label itself;
//! * `_NOT`: when **all** of its entries match (the label, and one of its
//!   values, or the label alone when it has no values) the metric is removed
//!   from this operation, whatever any other primary or secondary selected.
//!
//! Where this module had to interpret (the reference carries a "TODO - Need
//! to debug and fix" on this code):
//!
//! 1. The reference keeps one running count across all secondaries of a
//!    primary, so a failed secondary changes the outcome of a later one and
//!    the result depends on the order of the keys. Here each secondary is an
//!    independent alternative: target = 2 (primary, secondary) + 1 for the
//!    list form or + the number of label entries, hits counted alike, and a
//!    metric is selected when any matching secondary of any matching primary
//!    reaches its target. For the list form, and for a single secondary,
//!    this is the reference's count.
//! 2. In the reference a label-form secondary starts from the target of 3
//!    meant for the list form and adds one per entry, while hits can only
//!    reach 2 + entries: a label-form secondary could never select on its
//!    own. Here its target is 2 + entries, i.e. the primary, the secondary
//!    and **every** label entry must hit. A label form with only `_NOT`
//!    therefore selects the metrics the secondary matches, minus the `_NOT`
//!    ones ("these, except ...").
//! 3. The reference nests the label entries one level deeper than §6 writes
//!    them (`secondary: { key: { label: [values] } }`); this module follows
//!    the §6 shape, where an empty values list plays the part of the
//!    reference's empty table ("counts the label itself"). An empty label
//!    table (`secondary: {}`) means, like an empty list, the secondary key
//!    itself.
//! 4. An empty `_NOT` table is ignored; the reference's "all of no entries
//!    match" would remove every metric the secondary matches.
//! 5. `_NOT` is evaluated for every matching secondary of every matching
//!    primary; the reference skips it once an earlier list-form secondary
//!    already reached the target.
//!
//! INCLUDE is applied first (empty = every metric), then EXCLUDE on the
//! included metrics (empty = nothing excluded). A `_NOT` in INCLUDE keeps a
//! metric out; a `_NOT` in EXCLUDE keeps it in.

use std::collections::BTreeMap;

use analyze::pattern::MetricPattern;
use serde::{Deserialize, Serialize};

/// The label-form key whose entries remove a metric instead of selecting it.
pub const NOT_KEY: &str = "_NOT";

/// One nested INCLUDE or EXCLUDE definition: primary pattern → secondary
/// pattern → condition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NestedPatterns(pub BTreeMap<String, BTreeMap<String, Secondary>>);

impl NestedPatterns {
    /// True when no primary pattern is defined.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a metric matching a secondary pattern must also match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Secondary {
    /// Any one of the patterns; an empty list means the secondary pattern
    /// itself.
    List(Vec<String>),
    /// Every label entry, and not all of the `_NOT` entries; an empty table
    /// means the secondary pattern itself.
    Labels(BTreeMap<String, LabelValues>),
}

/// The value of one label-form entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelValues {
    /// An ordinary label's values (any one must match; empty means the
    /// label itself). Any key but `_NOT` takes this form.
    Values(Vec<String>),
    /// The `_NOT` entry: label → values, all of which must match to remove
    /// the metric. Only `_NOT` takes this form.
    Not(BTreeMap<String, Vec<String>>),
}

/// A nested definition that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// A pattern is not a valid regular expression.
    #[error("repetitive patterns {location}: pattern {pattern:?} is not a valid regex: {source}")]
    InvalidPattern {
        /// Where the pattern sits, e.g. `exclude / "^skyline\\." / "run_time"`.
        location: String,
        /// The pattern as written.
        pattern: String,
        /// The regex compiler's complaint.
        source: regex::Error,
    },
    /// `_NOT` given a list, or an ordinary label given a table.
    #[error("repetitive patterns {location}: {problem}")]
    Shape {
        /// Where the entry sits.
        location: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// The INCLUDE / EXCLUDE pair, compiled.
#[derive(Debug, Clone)]
pub struct RepetitiveFilter {
    include: NestedPatterns,
    exclude: NestedPatterns,
    compiled_include: Vec<Primary>,
    compiled_exclude: Vec<Primary>,
}

impl RepetitiveFilter {
    /// Compiles both definitions. A pattern that is not a valid regex, a
    /// `_NOT` that is not a table, or a label whose values are a table is an
    /// error naming where it sits.
    pub fn new(
        include: NestedPatterns,
        exclude: NestedPatterns,
    ) -> Result<RepetitiveFilter, FilterError> {
        let compiled_include = compile("include", &include)?;
        let compiled_exclude = compile("exclude", &exclude)?;
        Ok(RepetitiveFilter {
            include,
            exclude,
            compiled_include,
            compiled_exclude,
        })
    }

    /// The reference's default EXCLUDE: Skyline's own bookkeeping metrics
    /// (errors, run times, anomaly totals, breakdowns, sparsity, alerter and
    /// discard counts) and carbon's error and drop counters. The reference's
    /// further entries for one tenant's Prometheus http metrics are specific
    /// to its own deployment and left out.
    pub fn default_exclude() -> NestedPatterns {
        let entry = |namespace: &str, items: &[&str]| {
            let secondary = Secondary::List(items.iter().map(|item| (*item).to_owned()).collect());
            (
                namespace.to_owned(),
                BTreeMap::from([(namespace.to_owned(), secondary)]),
            )
        };
        NestedPatterns(BTreeMap::from([
            entry(
                r"^skyline\.",
                &[
                    "logged_errors",
                    "run_time",
                    "total_anomalies",
                    "exceptions",
                    ".*_breakdown",
                    "metrics_sparsity",
                    "http_alerter",
                    "discarded",
                ],
            ),
            entry(
                r"^carbon\.",
                &["errors", "droppedCreates", "fullQueueDrops"],
            ),
        ]))
    }

    /// The INCLUDE definition as given.
    pub fn include(&self) -> &NestedPatterns {
        &self.include
    }

    /// The EXCLUDE definition as given.
    pub fn exclude(&self) -> &NestedPatterns {
        &self.exclude
    }

    /// Whether `metric` may learn repetitive patterns: included (or INCLUDE
    /// empty) and not excluded.
    pub fn selects(&self, metric: &str) -> bool {
        let metric = Metric::new(metric);
        let included =
            self.compiled_include.is_empty() || selected_by(&self.compiled_include, &metric);
        included && !selected_by(&self.compiled_exclude, &metric)
    }
}

/// A primary pattern and its secondaries.
#[derive(Debug, Clone)]
struct Primary {
    pattern: MetricPattern,
    secondaries: Vec<SecondaryRule>,
}

/// A secondary pattern and the condition under it.
#[derive(Debug, Clone)]
struct SecondaryRule {
    pattern: MetricPattern,
    condition: Condition,
}

#[derive(Debug, Clone)]
enum Condition {
    /// List form; empty = the secondary pattern itself.
    AnyOf(Vec<MetricPattern>),
    /// Label form.
    Labels {
        required: Vec<LabelTest>,
        not: Vec<LabelTest>,
    },
}

/// One `label: [values]` entry; no values = the label itself.
#[derive(Debug, Clone)]
struct LabelTest {
    label: MetricPattern,
    values: Vec<MetricPattern>,
}

impl LabelTest {
    /// A label-form hit: one of the values matches (the label itself when
    /// there are none).
    fn hits(&self, metric: &Metric) -> bool {
        if self.values.is_empty() {
            metric.matches(&self.label)
        } else {
            self.values.iter().any(|value| metric.matches(value))
        }
    }

    /// A `_NOT` entry matches: the label, and one of its values.
    fn matches_not(&self, metric: &Metric) -> bool {
        metric.matches(&self.label) && self.hits(metric)
    }
}

/// Whether one compiled operation selects `metric` (see the module doc).
fn selected_by(primaries: &[Primary], metric: &Metric) -> bool {
    let mut selected = false;
    for primary in primaries.iter().filter(|p| metric.matches(&p.pattern)) {
        for secondary in primary
            .secondaries
            .iter()
            .filter(|s| metric.matches(&s.pattern))
        {
            // Hits so far: the primary and the secondary (2 of the target).
            match &secondary.condition {
                // Target 3: one more hit from any item, or from the
                // secondary itself when the list is empty.
                Condition::AnyOf(items) => {
                    if items.is_empty() || items.iter().any(|item| metric.matches(item)) {
                        selected = true;
                    }
                }
                Condition::Labels { required, not } => {
                    // A removal overrides every selection of this operation.
                    if !not.is_empty() && not.iter().all(|entry| entry.matches_not(metric)) {
                        return false;
                    }
                    // Target 2 + entries, hits 2 + entries hit: every entry.
                    if required.iter().all(|entry| entry.hits(metric)) {
                        selected = true;
                    }
                }
            }
        }
    }
    selected
}

fn compile(operation: &str, patterns: &NestedPatterns) -> Result<Vec<Primary>, FilterError> {
    patterns
        .0
        .iter()
        .map(|(primary, secondaries)| {
            let at_primary = format!("{operation} / {primary:?}");
            let secondaries = secondaries
                .iter()
                .map(|(secondary, condition)| {
                    let at_secondary = format!("{at_primary} / {secondary:?}");
                    Ok(SecondaryRule {
                        pattern: pattern(&at_secondary, secondary)?,
                        condition: compile_condition(&at_secondary, condition)?,
                    })
                })
                .collect::<Result<_, FilterError>>()?;
            Ok(Primary {
                pattern: pattern(&at_primary, primary)?,
                secondaries,
            })
        })
        .collect()
}

fn compile_condition(location: &str, condition: &Secondary) -> Result<Condition, FilterError> {
    match condition {
        Secondary::List(items) => Ok(Condition::AnyOf(patterns(location, items)?)),
        Secondary::Labels(entries) => {
            let mut required = Vec::new();
            let mut not = Vec::new();
            for (label, values) in entries {
                let at_label = format!("{location} / {label:?}");
                match (label == NOT_KEY, values) {
                    (false, LabelValues::Values(values)) => {
                        required.push(label_test(&at_label, label, values)?);
                    }
                    (true, LabelValues::Not(entries)) => {
                        for (not_label, values) in entries {
                            let at_not = format!("{at_label} / {not_label:?}");
                            not.push(label_test(&at_not, not_label, values)?);
                        }
                    }
                    (true, LabelValues::Values(_)) => {
                        return Err(FilterError::Shape {
                            location: at_label,
                            problem: "`_NOT` must be a table of label -> values",
                        })
                    }
                    (false, LabelValues::Not(_)) => {
                        return Err(FilterError::Shape {
                            location: at_label,
                            problem: "a label takes a list of values (only `_NOT` takes a table)",
                        })
                    }
                }
            }
            Ok(Condition::Labels { required, not })
        }
    }
}

fn label_test(location: &str, label: &str, values: &[String]) -> Result<LabelTest, FilterError> {
    Ok(LabelTest {
        label: pattern(location, label)?,
        values: patterns(location, values)?,
    })
}

fn patterns(location: &str, texts: &[String]) -> Result<Vec<MetricPattern>, FilterError> {
    texts.iter().map(|text| pattern(location, text)).collect()
}

fn pattern(location: &str, text: &str) -> Result<MetricPattern, FilterError> {
    MetricPattern::new(text).map_err(|source| FilterError::InvalidPattern {
        location: location.to_owned(),
        pattern: text.to_owned(),
        source,
    })
}

/// A metric name ready for pattern tests.
struct Metric<'a> {
    name: &'a str,
    /// For a labelled name: the name, label names and values.
    labelled_elements: Option<Vec<String>>,
}

impl<'a> Metric<'a> {
    fn new(name: &'a str) -> Self {
        Metric {
            name,
            labelled_elements: labelled_elements(name),
        }
    }

    /// `matched_or_regexed_in_list` for one pattern. A labelled metric also
    /// matches when every dotted element of the pattern is one of its
    /// elements (`MetricPattern` splits the whole string on dots, which for
    /// a labelled name cuts through the quoted values).
    fn matches(&self, pattern: &MetricPattern) -> bool {
        pattern.matches(self.name)
            || self.labelled_elements.as_ref().is_some_and(|elements| {
                pattern
                    .as_str()
                    .split('.')
                    .all(|part| elements.iter().any(|element| element == part))
            })
    }
}

/// Parses `name{label="value",...}` into `[name, label, value, ...]`.
/// `None` when `metric` is not of that form (a plain dotted name, or a
/// malformed labelled one). In values, `\x` stands for `x` (so `\"` and
/// `\\`) and `\n` for a newline, as in the Prometheus text format.
fn labelled_elements(metric: &str) -> Option<Vec<String>> {
    let open = metric.find('{')?;
    let name = &metric[..open];
    let body = metric[open + 1..].strip_suffix('}')?;
    if name.is_empty() {
        return None;
    }
    let mut elements = vec![name.to_owned()];
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let (label, after_label) = rest.split_once('=')?;
        let label = label.trim();
        if label.is_empty() {
            return None;
        }
        let quoted = after_label.trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        let closing = loop {
            match chars.next()? {
                (_, '\\') => match chars.next()? {
                    (_, 'n') => value.push('\n'),
                    (_, escaped) => value.push(escaped),
                },
                (at, '"') => break at,
                (_, c) => value.push(c),
            }
        };
        elements.push(label.to_owned());
        elements.push(value);
        let after_value = quoted[closing + 1..].trim_start();
        rest = match after_value.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if after_value.is_empty() => after_value,
            None => return None,
        };
    }
    Some(elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Secondary {
        Secondary::List(items.iter().map(|s| (*s).to_owned()).collect())
    }

    fn values(items: &[&str]) -> LabelValues {
        LabelValues::Values(items.iter().map(|s| (*s).to_owned()).collect())
    }

    fn not(entries: &[(&str, &[&str])]) -> LabelValues {
        LabelValues::Not(
            entries
                .iter()
                .map(|(label, vs)| {
                    (
                        (*label).to_owned(),
                        vs.iter().map(|s| (*s).to_owned()).collect(),
                    )
                })
                .collect(),
        )
    }

    fn labels(entries: Vec<(&str, LabelValues)>) -> Secondary {
        Secondary::Labels(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    fn nested(primaries: Vec<(&str, Vec<(&str, Secondary)>)>) -> NestedPatterns {
        NestedPatterns(
            primaries
                .into_iter()
                .map(|(p, secondaries)| {
                    (
                        p.to_owned(),
                        secondaries
                            .into_iter()
                            .map(|(s, c)| (s.to_owned(), c))
                            .collect(),
                    )
                })
                .collect(),
        )
    }

    /// A filter with `include` only.
    fn including(include: NestedPatterns) -> RepetitiveFilter {
        RepetitiveFilter::new(include, NestedPatterns::default()).unwrap()
    }

    #[test]
    fn parses_labelled_names() {
        assert_eq!(labelled_elements("stats.web01.cpu"), None);
        assert_eq!(
            labelled_elements(r#"http_requests_total{_tenant_id="1",instance="10.0.0.1:9100"}"#),
            Some(vec![
                "http_requests_total".to_owned(),
                "_tenant_id".to_owned(),
                "1".to_owned(),
                "instance".to_owned(),
                "10.0.0.1:9100".to_owned(),
            ])
        );
        // Escaped quote and backslash, spaces, a trailing comma.
        assert_eq!(
            labelled_elements(r#"up{ path = "a\"b\\c" , }"#),
            Some(vec![
                "up".to_owned(),
                "path".to_owned(),
                r#"a"b\c"#.to_owned()
            ])
        );
        assert_eq!(labelled_elements("up{}"), Some(vec!["up".to_owned()]));
        // Malformed: unquoted value, unterminated value, no closing brace,
        // no name, garbage after a value.
        assert_eq!(labelled_elements("up{a=b}"), None);
        assert_eq!(labelled_elements(r#"up{a="b}"#), None);
        assert_eq!(labelled_elements(r#"up{a="b""#), None);
        assert_eq!(labelled_elements(r#"{a="b"}"#), None);
        assert_eq!(labelled_elements(r#"up{a="b" c="d"}"#), None);
    }

    #[test]
    fn list_form_needs_one_item() {
        let f = including(nested(vec![(
            "stats",
            vec![("web01", list(&["cpu", "mem"]))],
        )]));
        assert!(f.selects("stats.web01.cpu"));
        assert!(f.selects("stats.web01.mem.free"));
        assert!(!f.selects("stats.web01.disk"), "no item matches");
        assert!(!f.selects("stats.web02.cpu"), "secondary does not match");
        assert!(!f.selects("host.web01.cpu"), "primary does not match");
    }

    #[test]
    fn empty_list_means_the_secondary_itself() {
        let f = including(nested(vec![("stats", vec![("web01", list(&[]))])]));
        assert!(f.selects("stats.web01.anything"));
        assert!(!f.selects("stats.web02.anything"));
    }

    #[test]
    fn the_four_pattern_tests() {
        let f = including(nested(vec![(
            "stats",
            vec![(
                "stats",
                list(&["stats.web01.cpu", "load", "db.replica", r"stats\.cache\d+"]),
            )],
        )]));
        assert!(f.selects("stats.web01.cpu"), "exact");
        assert!(f.selects("stats.web02.load_avg"), "substring");
        assert!(
            f.selects("stats.db.host1.replica.lag"),
            "dotted parts, not adjacent"
        );
        assert!(
            !f.selects("stats.db01.primary.lag"),
            "a dotted part missing"
        );
        assert!(f.selects("stats.cache42.hits"), "regex at the start");
        assert!(!f.selects("stats.web03.cpu"));
        // The regex is anchored at the start of the name.
        let anchored = including(nested(vec![(
            "stats",
            vec![("stats", list(&[r"cache\d+"]))],
        )]));
        assert!(!anchored.selects("stats.cache42.hits"));
        let unanchored = including(nested(vec![(
            "stats",
            vec![("stats", list(&[r".*cache\d+"]))],
        )]));
        assert!(unanchored.selects("stats.cache42.hits"));
    }

    #[test]
    fn any_secondary_may_select() {
        // The first secondary fails on its items; the second still selects,
        // whatever order the keys come in.
        let f = including(nested(vec![(
            "stats",
            vec![("a_web", list(&["disk"])), ("b_web", list(&["cpu"]))],
        )]));
        assert!(f.selects("stats.a_web.b_web.cpu"));
        // More than one primary: either may select.
        let f = including(nested(vec![
            ("stats", vec![("web", list(&[]))]),
            ("host", vec![("db", list(&[]))]),
        ]));
        assert!(f.selects("stats.web.cpu"));
        assert!(f.selects("host.db.cpu"));
        assert!(!f.selects("host.web.cpu"));
    }

    const PROD_OK: &str = r#"http_requests{_tenant_id="1",env="prod",status="200"}"#;
    const PROD_ERR: &str = r#"http_requests{_tenant_id="1",env="prod",status="503"}"#;
    const DEV_OK: &str = r#"http_requests{_tenant_id="1",env="dev",status="200"}"#;

    #[test]
    fn label_form_needs_every_entry() {
        let f = including(nested(vec![(
            "_tenant_id.1",
            vec![(
                "http_requests",
                labels(vec![
                    ("env", values(&["prod", "staging"])),
                    ("status", values(&["200"])),
                ]),
            )],
        )]));
        assert!(f.selects(PROD_OK));
        assert!(!f.selects(PROD_ERR), "status entry misses");
        assert!(!f.selects(DEV_OK), "env entry misses");
        // The primary uses the labelled elements: tenant 2 is not selected.
        assert!(!f.selects(r#"http_requests{_tenant_id="2",env="prod",status="200"}"#));
        // A plain dotted name with the same parts works too.
        assert!(f.selects("_tenant_id.1.http_requests.prod.200"));
    }

    #[test]
    fn empty_values_mean_the_label_and_empty_table_the_secondary() {
        let f = including(nested(vec![(
            "http_requests",
            vec![("http_requests", labels(vec![("env", values(&[]))]))],
        )]));
        assert!(f.selects(PROD_OK));
        assert!(
            !f.selects(r#"http_requests{_tenant_id="1",status="200"}"#),
            "no env label"
        );

        let f = including(nested(vec![(
            "http_requests",
            vec![("env", labels(vec![]))],
        )]));
        assert!(f.selects(PROD_OK));
        assert!(!f.selects(r#"http_requests{_tenant_id="1",status="200"}"#));
    }

    #[test]
    fn not_removes_when_all_its_entries_match() {
        let definition = nested(vec![(
            "http_requests",
            vec![(
                "http_requests",
                labels(vec![
                    ("env", values(&["prod"])),
                    (
                        NOT_KEY,
                        not(&[("status", &[r#".*"5\d\d""#]), ("_tenant_id", &["1"])]),
                    ),
                ]),
            )],
        )]);
        let f = including(definition);
        assert!(f.selects(PROD_OK), "status entry of _NOT misses");
        assert!(!f.selects(PROD_ERR), "both _NOT entries match");
        assert!(
            f.selects(r#"http_requests{_tenant_id="2",env="prod",status="503"}"#),
            "the tenant entry of _NOT misses"
        );
        assert!(!f.selects(DEV_OK), "env entry misses");
    }

    #[test]
    fn not_overrides_other_selections_and_only_not_selects_the_rest() {
        // One primary selects everything; another's `_NOT` removes errors.
        let f = including(nested(vec![
            ("http_requests", vec![("http_requests", list(&[]))]),
            (
                "_tenant_id",
                vec![(
                    "status",
                    labels(vec![(NOT_KEY, not(&[("status", &["503"])]))]),
                )],
            ),
        ]));
        assert!(f.selects(PROD_OK));
        assert!(f.selects(DEV_OK));
        assert!(!f.selects(PROD_ERR));
        // A `_NOT` label with no values removes on the label alone; an empty
        // `_NOT` removes nothing.
        let f = including(nested(vec![(
            "http_requests",
            vec![
                ("env", labels(vec![(NOT_KEY, not(&[("status", &[])]))])),
                ("_tenant_id", labels(vec![(NOT_KEY, not(&[]))])),
            ],
        )]));
        assert!(!f.selects(PROD_OK));
        assert!(f.selects(r#"http_requests{_tenant_id="1",env="prod"}"#));
    }

    #[test]
    fn include_then_exclude() {
        let everything =
            RepetitiveFilter::new(NestedPatterns::default(), NestedPatterns::default()).unwrap();
        assert!(everything.selects("anything.at.all"));

        let include = nested(vec![("stats", vec![("stats", list(&["cpu", "mem"]))])]);
        let exclude = nested(vec![("stats", vec![("db", list(&[]))])]);
        let f = RepetitiveFilter::new(include, exclude).unwrap();
        assert!(f.selects("stats.web.cpu"));
        assert!(!f.selects("stats.db.cpu"), "included, then excluded");
        assert!(!f.selects("stats.web.disk"), "never included");
        assert!(!f.selects("host.db.cpu"), "never included");

        // Exclude only: everything but the excluded; a `_NOT` in EXCLUDE
        // keeps a metric in.
        let exclude = nested(vec![(
            "http_requests",
            vec![(
                "status",
                labels(vec![
                    ("status", values(&[r#".*"5\d\d""#])),
                    (NOT_KEY, not(&[("env", &["dev"])])),
                ]),
            )],
        )]);
        let f = RepetitiveFilter::new(NestedPatterns::default(), exclude).unwrap();
        assert!(f.selects(PROD_OK));
        assert!(!f.selects(PROD_ERR));
        assert!(f.selects(r#"http_requests{_tenant_id="1",env="dev",status="503"}"#));
        assert!(f.selects("stats.web.cpu"));
    }

    #[test]
    fn default_exclude() {
        let f = RepetitiveFilter::new(
            NestedPatterns::default(),
            RepetitiveFilter::default_exclude(),
        )
        .unwrap();
        for excluded in [
            "skyline.analyzer.host1.logged_errors",
            "skyline.analyzer.host1.run_time",
            "skyline.analyzer.host1.total_anomalies",
            "skyline.analyzer.host1.exceptions.Boring",
            "skyline.analyzer.host1.algorithm_breakdown.histogram_bins.timing.times_run",
            "skyline.analyzer.host1.metrics_sparsity.avg_sparsity",
            "skyline.analyzer.host1.http_alerter.sent",
            "skyline.horizon.host1.discarded.too_long",
            "carbon.agents.host1.errors",
            "carbon.agents.host1.droppedCreates",
            "carbon.relays.host1.destinations.x.fullQueueDrops",
        ] {
            assert!(!f.selects(excluded), "{excluded} should be excluded");
        }
        for kept in [
            "skyline.analyzer.host1.total_metrics",
            "skyline.analyzer.host1.projected_run_seconds",
            "carbon.agents.host1.cpuUsage",
            "stats.host1.errors",
            "stats.web01.cpu.user",
            "myapp.skyline.run_time",
        ] {
            assert!(f.selects(kept), "{kept} should be kept");
        }
    }

    #[test]
    fn toml_round_trip() {
        let written = r#"
['^stats\.']
web = ["cpu", "mem"]
db = []

['^stats\.'.requests]
env = ["prod"]
region = []
_NOT = { status = ['5\d\d'], method = ["POST"] }

['^host\.'.any]
"#;
        let parsed: NestedPatterns = toml::from_str(written).unwrap();
        let expected = nested(vec![
            (
                r"^stats\.",
                vec![
                    ("web", list(&["cpu", "mem"])),
                    ("db", list(&[])),
                    (
                        "requests",
                        labels(vec![
                            ("env", values(&["prod"])),
                            ("region", values(&[])),
                            (
                                NOT_KEY,
                                not(&[("status", &[r"5\d\d"]), ("method", &["POST"])]),
                            ),
                        ]),
                    ),
                ],
            ),
            (r"^host\.", vec![("any", labels(vec![]))]),
        ]);
        assert_eq!(parsed, expected);
        let again: NestedPatterns = toml::from_str(&toml::to_string(&parsed).unwrap()).unwrap();
        assert_eq!(again, expected);
        assert!(RepetitiveFilter::new(again, NestedPatterns::default()).is_ok());
    }

    #[test]
    fn bad_definitions_are_refused_with_their_place() {
        let bad_regex = nested(vec![("stats", vec![("web", list(&["cpu", "web[01"]))])]);
        let err = RepetitiveFilter::new(NestedPatterns::default(), bad_regex).unwrap_err();
        assert!(matches!(&err, FilterError::InvalidPattern { pattern, .. } if pattern == "web[01"));
        let message = err.to_string();
        assert!(
            message.contains("web[01")
                && message.contains("exclude")
                && message.contains("\"web\"")
        );

        let bad_primary = nested(vec![("(stats", vec![])]);
        let err = RepetitiveFilter::new(bad_primary, NestedPatterns::default()).unwrap_err();
        assert!(err.to_string().contains("(stats") && err.to_string().contains("include"));

        let not_as_list = nested(vec![(
            "stats",
            vec![("web", labels(vec![(NOT_KEY, values(&["x"]))]))],
        )]);
        assert!(matches!(
            RepetitiveFilter::new(not_as_list, NestedPatterns::default()),
            Err(FilterError::Shape { .. })
        ));
        let label_as_table = nested(vec![(
            "stats",
            vec![("web", labels(vec![("env", not(&[]))]))],
        )]);
        assert!(matches!(
            RepetitiveFilter::new(label_as_table, NestedPatterns::default()),
            Err(FilterError::Shape { .. })
        ));
    }
}
