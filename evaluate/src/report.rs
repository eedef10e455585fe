//! What a run amounts to: counts and NAB scores per series and in total,
//! the untrained run beside the trained one.
//!
//! * **alerts**: points that alerted (on any alerter: several alerters on
//!   one point are one detection, as NAB counts detections);
//! * **true alerts**: windows with an alert inside — the first alert in a
//!   window is the true one, later ones in it are neither true nor false;
//! * **false alerts**: alerts outside every window (and of those, the ones
//!   the operator labelled: each label answers a false alert);
//! * **missed windows**: windows without an alert;
//! * **deflections**: fingerprint verdicts that matched (the anomaly's
//!   alerts were not sent); **wrong** when the anomaly is inside a window;
//! * **labels**: the operator's labels applied; **profiles**: profiles
//!   made from them and learnt;
//! * **nab_standard / nab_low_fp / nab_low_fn**: the alert stream's NAB
//!   score under each cost profile ([`crate::nab`]), normalised (null
//!   detector 0, perfect 100); `null` where a series has no window.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use topics::{MatchMethod, ProfileAction};

use crate::nab::{self, NabScore};
use crate::operator::in_any;
use crate::pipeline::Log;
use crate::windows_file::Window;

/// The NAB scores of one alert stream, one per cost profile, in
/// [`nab::PROFILES`] order (standard, low FP, low FN).
pub type NabScores = [NabScore; 3];

/// The counts of one run of one series (or of all, added).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Points that alerted.
    pub alerts: usize,
    /// Windows with an alert inside.
    pub true_alerts: usize,
    /// Alerts outside every window.
    pub false_alerts: usize,
    /// Of those, the ones the operator labelled: a label follows a false
    /// alert, so these cannot be saved by training.
    pub false_alerts_labelled: usize,
    /// Windows without an alert.
    pub missed_windows: usize,
    /// Labelled windows.
    pub windows: usize,
    /// Fingerprint verdicts that matched.
    pub deflections: usize,
    /// Of those, inside a window.
    pub wrong_deflections: usize,
    /// Deflections by the method that matched, and of those the wrong ones.
    pub deflected_by: DeflectedBy,
    /// Labels the operator applied.
    pub labels: usize,
    /// Profiles made (from labels, echo included) and learnt.
    pub profiles: usize,
    /// Raw, null and perfect NAB scores per cost profile.
    #[serde(skip)]
    pub nab: NabScores,
}

impl Counts {
    /// The counts of `log` over the series `timestamps` with `windows`.
    pub fn of(timestamps: &[i64], windows: &[Window], log: &Log) -> Counts {
        let detections: BTreeSet<i64> = log
            .alerts
            .iter()
            .filter(|a| !a.test)
            .map(|a| a.timestamp)
            .collect();
        let detections: Vec<i64> = detections.into_iter().collect();
        let labelled: BTreeSet<uuid::Uuid> =
            log.labels.iter().filter_map(|l| l.anomaly_id).collect();
        let false_labelled: BTreeSet<i64> = log
            .alerts
            .iter()
            .filter(|a| {
                !a.test && labelled.contains(&a.anomaly_id) && !in_any(windows, a.timestamp)
            })
            .map(|a| a.timestamp)
            .collect();
        let true_alerts = windows
            .iter()
            .filter(|w| detections.iter().any(|t| w.start <= *t && *t <= w.end))
            .count();
        // One verdict per check counts (a check is judged once per run).
        let mut deflected: BTreeMap<uuid::Uuid, (i64, MatchMethod)> = BTreeMap::new();
        for m in log.matches.iter().filter(|m| m.matched) {
            deflected
                .entry(m.check_id)
                .or_insert((m.timestamp, m.method));
        }
        let mut deflected_by = DeflectedBy::default();
        for (t, method) in deflected.values() {
            if let Some(d) = deflected_by.method(*method) {
                d.all += 1;
                d.wrong += usize::from(in_any(windows, *t));
            }
        }
        let nab = nab::PROFILES.map(|p| nab::score(timestamps, windows, &detections, &p));
        Counts {
            alerts: detections.len(),
            true_alerts,
            false_alerts: detections.iter().filter(|t| !in_any(windows, **t)).count(),
            false_alerts_labelled: false_labelled.len(),
            missed_windows: windows.len() - true_alerts,
            windows: windows.len(),
            deflections: deflected.len(),
            wrong_deflections: deflected
                .values()
                .filter(|(t, _)| in_any(windows, *t))
                .count(),
            deflected_by,
            labels: log.labels.len(),
            profiles: log
                .profiles
                .iter()
                .filter(|p| matches!(p.action, ProfileAction::Created | ProfileAction::Learnt))
                .count(),
            nab,
        }
    }

    /// Adds `other` (totals: NAB scores add raw, null and perfect, then
    /// normalise, as NAB sums a corpus).
    pub fn add(&mut self, other: &Counts) {
        self.alerts += other.alerts;
        self.true_alerts += other.true_alerts;
        self.false_alerts += other.false_alerts;
        self.false_alerts_labelled += other.false_alerts_labelled;
        self.missed_windows += other.missed_windows;
        self.windows += other.windows;
        self.deflections += other.deflections;
        self.wrong_deflections += other.wrong_deflections;
        self.deflected_by.add(&other.deflected_by);
        self.labels += other.labels;
        self.profiles += other.profiles;
        for (a, b) in self.nab.iter_mut().zip(other.nab) {
            *a += b;
        }
    }

    /// The normalised standard, low-FP and low-FN scores.
    pub fn nab_normalised(&self) -> [Option<f64>; 3] {
        self.nab.map(|s| s.normalised())
    }
}

/// Deflections (right and wrong) per matching method: which deflection
/// path fired, and which fired inside a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DeflectedBy {
    /// A features profile's features (the check's own or its echo).
    pub features_profile: Deflected,
    /// Min-max scaled features.
    pub minmax: Deflected,
    /// An operator's layers.
    pub layers: Deflected,
    /// A motif (shape) found in a profile's series.
    pub motif: Deflected,
}

/// How many deflections one method made, and how many inside a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Deflected {
    /// Deflections.
    pub all: usize,
    /// Of those, inside a window.
    pub wrong: usize,
}

impl DeflectedBy {
    fn method(&mut self, method: MatchMethod) -> Option<&mut Deflected> {
        match method {
            MatchMethod::FeaturesProfile => Some(&mut self.features_profile),
            MatchMethod::MinMax => Some(&mut self.minmax),
            MatchMethod::Layers => Some(&mut self.layers),
            MatchMethod::Motif => Some(&mut self.motif),
            MatchMethod::None => None,
        }
    }

    fn add(&mut self, other: &DeflectedBy) {
        for (a, b) in [
            (&mut self.features_profile, other.features_profile),
            (&mut self.minmax, other.minmax),
            (&mut self.layers, other.layers),
            (&mut self.motif, other.motif),
        ] {
            a.all += b.all;
            a.wrong += b.wrong;
        }
    }
}

/// One run's counts as the JSON report shows them.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(flatten)]
    counts: Counts,
    nab_standard: Option<f64>,
    nab_low_fp: Option<f64>,
    nab_low_fn: Option<f64>,
    /// The raw, null and perfect scores, per cost profile.
    nab_raw: NabRaw,
}

#[derive(Debug, Clone, Serialize)]
struct NabRaw {
    standard: NabScore,
    low_fp: NabScore,
    low_fn: NabScore,
}

impl From<&Counts> for RunReport {
    fn from(c: &Counts) -> RunReport {
        let [standard, low_fp, low_fn] = c.nab_normalised();
        RunReport {
            counts: *c,
            nab_standard: standard,
            nab_low_fp: low_fp,
            nab_low_fn: low_fn,
            nab_raw: NabRaw {
                standard: c.nab[0],
                low_fp: c.nab[1],
                low_fn: c.nab[2],
            },
        }
    }
}

/// A series' two runs.
#[derive(Debug, Clone)]
pub struct SeriesReport {
    /// The series' key in the windows file (or its file name).
    pub key: String,
    /// Points in the series.
    pub points: usize,
    /// The untrained run (nobody labels).
    pub untrained: Counts,
    /// The trained run (the simulated operator labels).
    pub trained: Counts,
}

/// The whole report: every series and the total.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per series, in the order given.
    pub series: Vec<SeriesReport>,
}

impl Report {
    /// The untrained and trained totals.
    pub fn total(&self) -> (Counts, Counts) {
        let mut untrained = Counts::default();
        let mut trained = Counts::default();
        for s in &self.series {
            untrained.add(&s.untrained);
            trained.add(&s.trained);
        }
        (untrained, trained)
    }

    /// The JSON object: `"total"` with `"untrained"` and `"trained"`, and
    /// `"series"`, each series with its key, points and both runs; plus
    /// whatever `about` describes of the run (settings, operator).
    pub fn to_json(&self, about: serde_json::Value) -> serde_json::Value {
        let (untrained, trained) = self.total();
        let series: Vec<serde_json::Value> = self
            .series
            .iter()
            .map(|s| {
                serde_json::json!({
                    "series": s.key,
                    "points": s.points,
                    "untrained": RunReport::from(&s.untrained),
                    "trained": RunReport::from(&s.trained),
                })
            })
            .collect();
        serde_json::json!({
            "about": about,
            "total": {
                "untrained": RunReport::from(&untrained),
                "trained": RunReport::from(&trained),
            },
            "series": series,
        })
    }

    /// The table for a terminal: one line per series and the total, the
    /// untrained run beside the trained one.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let name_width = self
            .series
            .iter()
            .map(|s| s.key.len())
            .max()
            .unwrap_or(5)
            .clamp(5, 60);
        let _ = writeln!(
            out,
            "{:<name_width$}  {:>3} | {:>6} {:>4} {:>5} {:>6} {:>7} | {:>6} {:>4} {:>5} {:>6} {:>8} {:>6} {:>8} {:>7}",
            "series",
            "win",
            "alerts",
            "true",
            "false",
            "missed",
            "NAB",
            "alerts",
            "true",
            "false",
            "missed",
            "deflect",
            "labels",
            "profiles",
            "NAB",
        );
        let _ = writeln!(
            out,
            "{:<name_width$}  {:>3} | {:^35} | {:^72}",
            "", "", "untrained", "trained"
        );
        let line = |out: &mut String, name: &str, u: &Counts, t: &Counts| {
            let name: String = if name.len() > name_width {
                format!("…{}", &name[name.len() - (name_width - 1)..])
            } else {
                name.to_owned()
            };
            let _ = writeln!(
                out,
                "{:<name_width$}  {:>3} | {:>6} {:>4} {:>5} {:>6} {:>7} | {:>6} {:>4} {:>5} {:>6} {:>8} {:>6} {:>8} {:>7}",
                name,
                u.windows,
                u.alerts,
                u.true_alerts,
                u.false_alerts,
                u.missed_windows,
                score(u.nab[0].normalised()),
                t.alerts,
                t.true_alerts,
                t.false_alerts,
                t.missed_windows,
                format!("{}({})", t.deflections, t.wrong_deflections),
                t.labels,
                t.profiles,
                score(t.nab[0].normalised()),
            );
        };
        for s in &self.series {
            line(&mut out, &s.key, &s.untrained, &s.trained);
        }
        let (u, t) = self.total();
        line(&mut out, "TOTAL", &u, &t);
        let [us, ufp, ufn] = u.nab_normalised();
        let [ts, tfp, tfn] = t.nab_normalised();
        let _ = writeln!(
            out,
            "NAB (standard / low FP / low FN): untrained {} / {} / {}, trained {} / {} / {}",
            score(us),
            score(ufp),
            score(ufn),
            score(ts),
            score(tfp),
            score(tfn),
        );
        let d = &t.deflected_by;
        let _ = writeln!(
            out,
            "trained deflections by method (wrong): features profile {} ({}), min-max {} ({}), layers {} ({}), motif {} ({})",
            d.features_profile.all,
            d.features_profile.wrong,
            d.minmax.all,
            d.minmax.wrong,
            d.layers.all,
            d.layers.wrong,
            d.motif.all,
            d.motif.wrong,
        );
        if u.false_alerts > 0 {
            let kept = if u.true_alerts > 0 {
                100.0 * t.true_alerts as f64 / u.true_alerts as f64
            } else {
                100.0
            };
            let _ = writeln!(
                out,
                "false alerts {} -> {} ({:+.1} %; {} of them labelled), true alerts kept {:.1} %, deflections {} ({} wrong), labels {}",
                u.false_alerts,
                t.false_alerts,
                100.0 * (t.false_alerts as f64 - u.false_alerts as f64) / u.false_alerts as f64,
                t.false_alerts_labelled,
                kept,
                t.deflections,
                t.wrong_deflections,
                t.labels,
            );
        }
        out
    }
}

fn score(s: Option<f64>) -> String {
    s.map_or_else(|| "-".to_owned(), |s| format!("{s:.1}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use topics::{AlertEvent, MatchMethod, MatchResult, SourceApp};
    use uuid::Uuid;

    fn alert(timestamp: i64, alerter: &str) -> AlertEvent {
        AlertEvent {
            id: Uuid::from_u128(timestamp as u128 + 1_000),
            anomaly_id: Uuid::from_u128(timestamp as u128),
            metric: "m".to_owned(),
            timestamp,
            value: 1.0,
            source: SourceApp::Analyzer,
            alerter: alerter.to_owned(),
            rule: ".*".to_owned(),
            triggered_algorithms: Vec::new(),
            decided_at_ms: 0,
            series: None,
            full_duration: None,
            expiration_time: None,
            boundary: None,
            fingerprinted: false,
            test: false,
        }
    }

    fn matched(timestamp: i64, check: u128) -> MatchResult {
        MatchResult {
            id: Uuid::from_u128(timestamp as u128 + 1_000),
            check_id: Uuid::from_u128(check),
            anomaly_id: Uuid::from_u128(check),
            metric: "m".to_owned(),
            timestamp,
            matched: true,
            method: MatchMethod::FeaturesProfile,
            profile_id: None,
            layer_id: None,
            percent_different: None,
            distance: None,
            decided_at_ms: 0,
            echo: false,
            profiles_checked: 1,
            features_sum: None,
            common_features: None,
            approx_close: false,
            motif: None,
        }
    }

    #[test]
    fn counts_follow_the_windows() {
        let windows = [
            Window {
                start: 100,
                end: 200,
            },
            Window {
                start: 500,
                end: 600,
            },
        ];
        let log = Log {
            // Two alerters on one point are one alert; two alerts in the
            // first window are one true alert; 300 and 700 are false; the
            // second window is missed.
            alerts: vec![
                alert(50, "a"),
                alert(120, "a"),
                alert(120, "b"),
                alert(150, "a"),
                alert(300, "a"),
                alert(700, "a"),
            ],
            matches: vec![matched(400, 1), matched(550, 2)],
            ..Log::default()
        };
        let timestamps: Vec<i64> = (0..80).map(|i| i * 10).collect();
        let c = Counts::of(&timestamps, &windows, &log);
        assert_eq!(c.alerts, 5);
        assert_eq!(c.true_alerts, 1);
        assert_eq!(c.false_alerts, 3);
        assert_eq!(c.missed_windows, 1);
        assert_eq!(c.windows, 2);
        assert_eq!(c.deflections, 2);
        assert_eq!(c.wrong_deflections, 1);
        let mut total = c;
        total.add(&c);
        assert_eq!(total.false_alerts, 6);
        assert_eq!(total.nab[0].null, 2.0 * c.nab[0].null);
    }
}
