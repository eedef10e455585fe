//! An existing Skyline's training, as profile events (`skyline
//! import-skyline`): its features profiles (`ionosphere`, with each
//! profile's stored features from `z_fp_<metric_id>` and series from
//! `z_ts_<metric_id>`), their metrics' learn settings (`metrics`) and their
//! layers (`ionosphere_layers`, `layers_algorithms`), read by the binary,
//! turned into events here, purely.
//!
//! * Each profile keeps its generation, its parent (the parent's imported
//!   id), its duration, anomaly timestamp, validated flag and its metric's
//!   learn settings; an operator's profile (generation 0) is `Created`, a
//!   learnt one `Learnt`; a disabled or deleted profile is followed by its
//!   `Disabled` event. An echo profile keeps the description `echo` (what
//!   fingerprint compares seasonal checks' last day with); every other one
//!   says where it came from: `imported from Skyline features profile 17`,
//!   then its label. The original id also fixes the imported id
//!   ([`topics::ids::imported_profile_id`]): importing twice makes the same
//!   events.
//! * Features are recomputed by our fingerprint on the stored series —
//!   what later checks are compared with — and compared with the stored
//!   values: the report names each profile's worst relative difference.
//! * A profile whose series is missing is reported and not imported (its
//!   features alone cannot be matched by min-max, echo or motifs, and we
//!   do not guess); so are its descendants. Layers that do not read as a
//!   definition are reported and the profile imported without them.

use std::collections::{BTreeMap, HashMap};

use fingerprint::matching::profile_features;
use fingerprint::{Features, FEATURE_NAMES};
use serde::Serialize;
use topics::ids::imported_profile_id;
use topics::{LearnSettings, ProfileAction, ProfileEvent, SeriesPoint};
use uuid::Uuid;

use crate::label::{feature_values, profile_event_id};
use crate::ECHO_DESCRIPTION;

/// A row of Skyline's `metrics` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SkylineMetric {
    /// `metrics.id`.
    pub id: i64,
    /// The metric's name.
    pub name: String,
    /// `learn_full_duration_days`, `learn_valid_ts_older_than`,
    /// `max_generations`, `max_percent_diff_from_origin`.
    pub learn: LearnSettings,
}

/// A features profile as Skyline stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct SkylineProfile {
    /// `ionosphere.id`.
    pub id: i64,
    /// `ionosphere.metric_id`.
    pub metric_id: i64,
    /// Seconds of data it describes.
    pub full_duration: i64,
    /// The anomaly it was made from (unix seconds).
    pub anomaly_timestamp: i64,
    /// `enabled = 1` and not deleted.
    pub enabled: bool,
    /// `parent_id` (0: none).
    pub parent_id: i64,
    /// `generation`.
    pub generation: u32,
    /// `validated > 0`.
    pub validated: bool,
    /// `echo_fp = 1`.
    pub echo: bool,
    /// `label`.
    pub label: Option<String>,
    /// `created_timestamp` (unix milliseconds).
    pub created_at_ms: i64,
    /// `layers_id` (0: none).
    pub layers_id: i64,
    /// Its `z_fp_<metric_id>` rows: `(feature_id, value)`.
    pub features: Vec<(u16, f64)>,
    /// Its `z_ts_<metric_id>` rows, oldest first; `None` when the table or
    /// the rows are missing.
    pub series: Option<Vec<(i64, f64)>>,
}

/// A row of `layers_algorithms`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRow {
    /// `layer`: D, D1, E, Es, F1 or F2.
    pub layer: String,
    /// `condition`: `>`, `<`, `==`, `!=`, `in`, ….
    pub condition: String,
    /// `layer_boundary`.
    pub boundary: String,
    /// `times_in_row`.
    pub times_in_row: Option<i64>,
}

/// An `ionosphere_layers` row with its algorithms.
#[derive(Debug, Clone, PartialEq)]
pub struct SkylineLayers {
    /// `ionosphere_layers.id`.
    pub id: i64,
    /// `enabled = 1` and not deleted.
    pub enabled: bool,
    /// Its `layers_algorithms` rows.
    pub rows: Vec<LayerRow>,
}

/// What became of one Skyline profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileReport {
    /// `ionosphere.id`.
    pub skyline_id: i64,
    /// The metric's name (or `metric <id>` when its row is missing).
    pub metric: String,
    /// The imported profile's id; `None` when not imported.
    pub profile_id: Option<Uuid>,
    /// Why it was not imported, or what was left out of it.
    pub problem: Option<String>,
    /// The stored feature furthest from ours: `(name, stored, ours,
    /// relative difference)`.
    pub worst_feature: Option<(String, f64, f64, f64)>,
    /// Stored features compared with ours.
    pub features_compared: usize,
}

/// What an import makes.
#[derive(Debug, Clone, Default)]
pub struct Import {
    /// The events, parents before children, each profile's Disabled after it.
    pub events: Vec<ProfileEvent>,
    /// One report per Skyline profile, by id.
    pub reports: Vec<ProfileReport>,
}

impl Import {
    /// The worst relative feature difference over every imported profile.
    pub fn worst_feature(&self) -> Option<&ProfileReport> {
        self.reports
            .iter()
            .filter(|r| r.worst_feature.is_some())
            .max_by(|a, b| {
                let d = |r: &ProfileReport| r.worst_feature.as_ref().map_or(0.0, |w| w.3);
                d(a).total_cmp(&d(b))
            })
    }
}

/// `|a − b| / max(|a|, |b|)`, 0 when both are 0; NaN on both sides is equal,
/// on one side the largest difference (1).
pub fn relative_difference(a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => 0.0,
        (true, false) | (false, true) => 1.0,
        _ if a == b => 0.0,
        _ => (a - b).abs() / a.abs().max(b.abs()),
    }
}

/// The stored feature furthest from `ours`, and how many were compared
/// (stored ids we also compute).
fn compare(stored: &[(u16, f64)], ours: &Features) -> (Option<(String, f64, f64, f64)>, usize) {
    let mut worst: Option<(String, f64, f64, f64)> = None;
    let mut compared = 0;
    for &(id, value) in stored {
        let Some(our) = ours.get(id) else { continue };
        compared += 1;
        let d = relative_difference(value, our);
        if worst.as_ref().is_none_or(|w| d > w.3) {
            let name = FEATURE_NAMES
                .get(usize::from(id).wrapping_sub(1))
                .map_or_else(|| format!("feature {id}"), |n| (*n).to_owned());
            worst = Some((name, value, our, d));
        }
    }
    (worst, compared)
}

/// Skyline's layers rows as our definition's JSON (`fingerprint::matching::
/// Layers`): D and E are required; D1, Es (days) and F1/F2 (times of day)
/// are kept when present.
pub fn layers_json(rows: &[LayerRow]) -> Result<String, String> {
    let by_layer: HashMap<String, &LayerRow> = rows
        .iter()
        .map(|r| (r.layer.trim().to_ascii_lowercase(), r))
        .collect();
    let number = |r: &LayerRow| {
        r.boundary.trim().parse::<f64>().map_err(|_| {
            format!(
                "layer {}: boundary {:?} is not a number",
                r.layer, r.boundary
            )
        })
    };
    let rule = |name: &str, in_row: bool| -> Result<Option<serde_json::Value>, String> {
        let Some(r) = by_layer.get(name) else {
            return Ok(None);
        };
        let mut v = serde_json::json!({
            "condition": r.condition.trim(),
            "boundary": number(r)?,
        });
        if in_row {
            v["times_in_row"] = serde_json::json!(r.times_in_row.unwrap_or(1).max(1));
        }
        Ok(Some(v))
    };
    let mut json = serde_json::Map::new();
    json.insert(
        "d".into(),
        rule("d", false)?.ok_or("no D layer (discard) in the layers")?,
    );
    json.insert(
        "e".into(),
        rule("e", true)?.ok_or("no E layer (expected) in the layers")?,
    );
    if let Some(d1) = rule("d1", true)? {
        json.insert("d1".into(), d1);
    }
    if let Some(es) = by_layer.get("es") {
        let days: Vec<String> = es
            .boundary
            .split([',', ' ', '[', ']', '\'', '"'])
            .filter(|d| !d.is_empty())
            .map(|d| d.chars().take(3).collect::<String>().to_ascii_lowercase())
            .collect();
        json.insert("es".into(), serde_json::json!(days));
    }
    for name in ["f1", "f2"] {
        if let Some(r) = by_layer.get(name) {
            json.insert(name.into(), serde_json::json!(time_of_day(&r.boundary)));
        }
    }
    let json = serde_json::Value::Object(json).to_string();
    fingerprint::matching::Layers::from_json(&json).map_err(|e| e.to_string())?;
    Ok(json)
}

/// `HHMM`, `HH:MM` or `HH:MM:SS` as `HH:MM` (anything else as given, for
/// the validation to name).
fn time_of_day(text: &str) -> String {
    let t = text.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    match (t.contains(':'), digits.len()) {
        (false, 4) => format!("{}:{}", &digits[..2], &digits[2..]),
        (true, 4 | 6) => format!("{}:{}", &digits[..2], &digits[2..4]),
        (true, 3 | 5) => format!("0{}:{}", &digits[..1], &digits[1..3]),
        _ => t.to_owned(),
    }
}

/// Makes the events of an import: `profiles` (any order) of `metrics`, with
/// `layers` by `ionosphere_layers.id`. CPU-bound: one features extraction
/// per profile.
pub fn import(
    metrics: &[SkylineMetric],
    profiles: &[SkylineProfile],
    layers: &BTreeMap<i64, SkylineLayers>,
) -> Import {
    let metric_of: HashMap<i64, &SkylineMetric> = metrics.iter().map(|m| (m.id, m)).collect();
    // Parents first: by generation, then id.
    let mut order: Vec<&SkylineProfile> = profiles.iter().collect();
    order.sort_by_key(|p| (p.generation, p.id));
    let mut imported: HashMap<i64, Uuid> = HashMap::new();
    let mut out = Import::default();
    for p in order {
        let name = metric_of
            .get(&p.metric_id)
            .map_or_else(|| format!("metric {}", p.metric_id), |m| m.name.clone());
        let mut report = ProfileReport {
            skyline_id: p.id,
            metric: name.clone(),
            profile_id: None,
            problem: None,
            worst_feature: None,
            features_compared: 0,
        };
        let Some(metric) = metric_of.get(&p.metric_id) else {
            report.problem = Some(format!(
                "its metric (id {}) is not in `metrics`",
                p.metric_id
            ));
            out.reports.push(report);
            continue;
        };
        let parent = match p.parent_id {
            0 => None,
            id => match imported.get(&id) {
                Some(uuid) => Some(*uuid),
                None => {
                    report.problem = Some(format!("its parent, profile {id}, was not imported"));
                    out.reports.push(report);
                    continue;
                }
            },
        };
        let Some(series) = p.series.as_ref().filter(|s| s.len() >= 3) else {
            report.problem = Some(format!(
                "its series is missing from z_ts_{} (features alone are not imported)",
                p.metric_id
            ));
            out.reports.push(report);
            continue;
        };
        let values: Vec<f64> = series.iter().map(|s| s.1).collect();
        let (features, features_sum) = profile_features(&values);
        (report.worst_feature, report.features_compared) = compare(&p.features, &features);
        let layers_json = match p.layers_id {
            0 => None,
            id => match layers.get(&id) {
                Some(l) if l.enabled => match layers_json(&l.rows) {
                    Ok(json) => Some(json),
                    Err(e) => {
                        report.problem = Some(format!("layers {id} left out: {e}"));
                        None
                    }
                },
                Some(_) => None,
                None => {
                    report.problem = Some(format!("layers {id} not found: left out"));
                    None
                }
            },
        };
        let profile_id = imported_profile_id(&metric.name, p.id);
        let description = if p.echo {
            ECHO_DESCRIPTION.to_owned()
        } else {
            let from = format!("imported from Skyline features profile {}", p.id);
            match p.label.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
                Some(label) => format!("{from}: {label}"),
                None => from,
            }
        };
        let action = if p.generation == 0 {
            ProfileAction::Created
        } else {
            ProfileAction::Learnt
        };
        let event = ProfileEvent {
            id: profile_event_id(profile_id, "imported"),
            profile_id,
            action,
            metric: metric.name.clone(),
            parent_id: parent,
            generation: p.generation,
            full_duration: p.full_duration,
            features: feature_values(&features),
            features_sum,
            series: SeriesPoint::from_pairs(series),
            layers_json,
            label_id: None,
            at_ms: p.created_at_ms,
            validated: p.validated,
            learn: false,
            learn_settings: Some(metric.learn),
            description: Some(description),
            operator: None,
            anomaly_timestamp: Some(p.anomaly_timestamp),
            check_id: None,
            disabled_with: None,
        };
        if !p.enabled {
            let disabled = ProfileEvent {
                id: profile_event_id(profile_id, "imported-disabled"),
                action: ProfileAction::Disabled,
                features: Vec::new(),
                series: Vec::new(),
                layers_json: None,
                ..event.clone()
            };
            out.events.push(event);
            out.events.push(disabled);
        } else {
            out.events.push(event);
        }
        imported.insert(p.id, profile_id);
        report.profile_id = Some(profile_id);
        out.reports.push(report);
    }
    out.reports.sort_by_key(|r| r.skyline_id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(layer: &str, condition: &str, boundary: &str, times: Option<i64>) -> LayerRow {
        LayerRow {
            layer: layer.into(),
            condition: condition.into(),
            boundary: boundary.into(),
            times_in_row: times,
        }
    }

    #[test]
    fn layers_rows_become_a_definition() {
        let json = layers_json(&[
            row("D", ">", "100", None),
            row("E", "<", "50.5", Some(5)),
            row("D1", "<", "1", Some(3)),
            row("Es", "in", "Monday,Tuesday", None),
            row("F1", ">", "0800", None),
            row("F2", "<", "18:30:00", None),
        ])
        .unwrap();
        let layers = fingerprint::matching::Layers::from_json(&json).unwrap();
        assert_eq!(layers.d.boundary, 100.0);
        assert_eq!(layers.e.times_in_row, 5);
        assert_eq!(layers.d1.unwrap().times_in_row, 3);
        assert_eq!(layers.es.unwrap(), vec!["mon", "tue"]);
        assert_eq!(layers.f1.as_deref(), Some("08:00"));
        assert_eq!(layers.f2.as_deref(), Some("18:30"));
        let e = layers_json(&[row("E", "<", "1", Some(1))]).unwrap_err();
        assert!(e.contains("no D layer"), "{e}");
        let e =
            layers_json(&[row("D", ">", "lots", None), row("E", "<", "1", Some(1))]).unwrap_err();
        assert!(e.contains("\"lots\""), "{e}");
    }

    #[test]
    fn relative_differences() {
        assert_eq!(relative_difference(0.0, 0.0), 0.0);
        assert_eq!(relative_difference(f64::NAN, f64::NAN), 0.0);
        assert_eq!(relative_difference(f64::NAN, 1.0), 1.0);
        assert!((relative_difference(100.0, 99.0) - 0.01).abs() < 1e-12);
    }

    fn metric() -> SkylineMetric {
        SkylineMetric {
            id: 3,
            name: "stats.web01.cpu".into(),
            learn: LearnSettings {
                full_duration: 30 * 86_400,
                valid_ts_older_than: 3661,
                max_generations: 5,
                max_percent_diff_from_origin: 7.0,
            },
        }
    }

    fn profile(id: i64, parent_id: i64, generation: u32, series: bool) -> SkylineProfile {
        let day: Vec<(i64, f64)> = crate::test_data::nab_series()[..288].to_vec();
        SkylineProfile {
            id,
            metric_id: 3,
            full_duration: 86_400,
            anomaly_timestamp: day.last().unwrap().0,
            enabled: true,
            parent_id,
            generation,
            validated: true,
            echo: false,
            label: Some("nightly backup".into()),
            created_at_ms: 1_600_000_000_000,
            layers_id: 0,
            features: vec![(1, -5.0)],
            series: series.then_some(day),
        }
    }

    #[test]
    fn lineage_ids_and_missing_series() {
        let mut disabled = profile(9, 7, 1, true);
        disabled.enabled = false;
        let profiles = vec![
            disabled,
            profile(7, 0, 0, true),
            profile(8, 0, 0, false),
            profile(10, 8, 1, true),
        ];
        let once = import(&[metric()], &profiles, &BTreeMap::new());
        let again = import(&[metric()], &profiles, &BTreeMap::new());
        assert_eq!(once.events, again.events, "deterministic");
        // 7 (Created), 9 (Learnt, then Disabled); 8 has no series, 10 is
        // its child.
        let kinds: Vec<(ProfileAction, u32)> = once
            .events
            .iter()
            .map(|e| (e.action, e.generation))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (ProfileAction::Created, 0),
                (ProfileAction::Learnt, 1),
                (ProfileAction::Disabled, 1)
            ]
        );
        let root = imported_profile_id("stats.web01.cpu", 7);
        assert_eq!(once.events[0].profile_id, root);
        assert_eq!(once.events[1].parent_id, Some(root));
        assert_eq!(
            once.events[0].description.as_deref(),
            Some("imported from Skyline features profile 7: nightly backup")
        );
        assert_eq!(once.events[0].learn_settings, Some(metric().learn));
        let problems: Vec<(i64, bool)> = once
            .reports
            .iter()
            .map(|r| (r.skyline_id, r.problem.is_some()))
            .collect();
        assert_eq!(
            problems,
            vec![(7, false), (8, true), (9, false), (10, true)]
        );
        assert!(once.reports[1]
            .problem
            .as_deref()
            .unwrap()
            .contains("z_ts_3"));
        // Feature 1 (a 0/1 flag) stored as -5 against ours: compared, far off.
        assert_eq!(once.reports[0].features_compared, 1);
        assert!(once.reports[0].worst_feature.as_ref().unwrap().3 > 0.5);
    }
}
