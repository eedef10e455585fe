//! Rematch (`skyline rematch`): past fingerprint checks re-judged against
//! the profiles as they are now. A report only: nothing is published. The
//! rows are what the fingerprint service replaying the same checks would
//! decide (the same match ids), sorted by timestamp, metric and check id
//! and free of wall-clock values, so two runs over the same log agree.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;
use topics::codec::decode;
use topics::kafka::{read_to_end, Error as KafkaError, KafkaConfig, Record};
use topics::names::TopicNames;
use topics::{CheckRequest, CheckTarget, MatchMethod, MatchResult};
use uuid::Uuid;

use crate::matching::{MatchSettings, Profile};
use crate::service::{decide, judge_check, profiles_for};
use profiles::load_profiles;

/// Which checks to re-judge.
#[derive(Debug, Clone, Default)]
pub struct RematchQuery {
    /// Checks of anomalies at or after this (unix seconds).
    pub since: i64,
    /// Only this metric's checks.
    pub metric: Option<String>,
}

/// Why a rematch could not run.
#[derive(Debug, Error)]
pub enum RematchError {
    /// A topic could not be read.
    #[error("reading the {topic} topic")]
    Read {
        /// The topic.
        topic: String,
        /// Why.
        #[source]
        source: KafkaError,
    },
    /// The judging task failed.
    #[error("judging task: {0}")]
    Judging(#[from] tokio::task::JoinError),
}

/// Verdict of a check, then or now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Matched a profile: no alert.
    Deflected,
    /// Matched nothing: its alerts go out.
    Alerts,
}

impl Outcome {
    fn of(matched: bool) -> Outcome {
        if matched {
            Outcome::Deflected
        } else {
            Outcome::Alerts
        }
    }
}

/// One re-judged check.
#[derive(Debug, Serialize)]
pub struct RematchRow {
    /// The anomaly's timestamp.
    pub timestamp: i64,
    /// The metric.
    pub metric: String,
    /// The anomaly.
    pub anomaly_id: Uuid,
    /// The check.
    pub check_id: Uuid,
    /// The verdict's id had the service judged it now.
    pub match_id: Uuid,
    /// The verdict now.
    pub now: Outcome,
    /// How it matched now (`none` when it did not).
    pub method: MatchMethod,
    /// The profile that matched now.
    pub profile_id: Option<Uuid>,
    /// Alerters that would be sent to (empty when deflected).
    pub alerters: Vec<String>,
    /// The latest verdict on the matches topic, if any.
    pub original: Option<Outcome>,
    /// The profile of that verdict.
    pub original_profile_id: Option<Uuid>,
    /// The verdict now differs from the original (`None`: no original).
    pub changed: Option<bool>,
}

/// The counts over every re-judged check.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Checks re-judged.
    pub checks: usize,
    /// Deflected now.
    pub deflected: usize,
    /// Alerting now.
    pub alerting: usize,
    /// Alerted when judged, deflected now.
    pub newly_deflected: usize,
    /// Deflected when judged, alerting now.
    pub newly_alerting: usize,
    /// The same verdict as when judged.
    pub unchanged: usize,
    /// No verdict on the matches topic.
    pub without_original: usize,
}

/// A method as the report words it.
fn method_words(m: MatchMethod) -> &'static str {
    match m {
        MatchMethod::FeaturesProfile => "features profile",
        MatchMethod::MinMax => "min-max",
        MatchMethod::Layers => "layers",
        MatchMethod::Motif => "motif",
        MatchMethod::None => "none",
    }
}

/// The report's text line for a check: when, what, the verdict now and
/// whether it changed. No wall-clock value, so the same log prints the
/// same bytes.
impl std::fmt::Display for RematchRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let when = chrono::DateTime::from_timestamp(self.timestamp, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| self.timestamp.to_string());
        write!(f, "{when}  {}  anomaly {}  ", self.metric, self.anomaly_id)?;
        let method = method_words(self.method);
        match (self.now, self.profile_id) {
            (Outcome::Deflected, Some(p)) => {
                write!(f, "would now be deflected by profile {p} ({method})")?
            }
            (Outcome::Deflected, None) => write!(f, "would now be deflected ({method})")?,
            // A training check (its metric had no profile then) carries no
            // alerts: the analyzer sent them itself.
            (Outcome::Alerts, _) if self.alerters.is_empty() => {
                write!(f, "would not be deflected")?
            }
            (Outcome::Alerts, _) => write!(
                f,
                "would not be deflected: alerts {}",
                self.alerters.join(", ")
            )?,
        }
        match (self.original, self.changed) {
            (None, _) => write!(f, "; no verdict on record"),
            (Some(Outcome::Deflected), Some(true)) => {
                write!(f, "; a change: it was deflected when judged")
            }
            (Some(Outcome::Alerts), Some(true)) => {
                write!(f, "; a change: it was not deflected when judged")
            }
            (Some(_), _) => write!(f, "; as when judged"),
        }
    }
}

/// The report's closing line: the counts.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} checks: {} would now be deflected, {} would not; {} newly deflected, {} no longer deflected, {} unchanged, {} with no verdict on record",
            self.checks,
            self.deflected,
            self.alerting,
            self.newly_deflected,
            self.newly_alerting,
            self.unchanged,
            self.without_original
        )
    }
}

/// Every record of `topic` on the log when the read began
/// ([`read_to_end`]; `idle` is its fallback end).
async fn read_topic(
    kafka: &KafkaConfig,
    topic: &str,
    idle: Duration,
) -> Result<Vec<Record>, RematchError> {
    let mut records = Vec::new();
    let reader = format!("rematch-{}", Uuid::now_v7());
    read_to_end(kafka, &reader, topic, idle, |batch| {
        records.extend(batch);
        async { Ok::<(), KafkaError>(()) }
    })
    .await
    .map_err(|source| RematchError::Read {
        topic: topic.to_owned(),
        source,
    })?;
    Ok(records)
}

/// Re-judges the fingerprint checks `query` selects against the profiles
/// on `names.profiles` as they are now, beside each check's latest verdict
/// on `names.matches`.
pub async fn rematch(
    kafka: &KafkaConfig,
    names: &TopicNames,
    settings: &MatchSettings,
    query: &RematchQuery,
    idle: Duration,
) -> Result<(Vec<RematchRow>, Summary), RematchError> {
    let (checks, matches, profiles) = tokio::try_join!(
        read_topic(kafka, &names.checks, idle),
        read_topic(kafka, &names.matches, idle),
        async {
            load_profiles::<crate::matching::Profile>(kafka, &names.profiles, idle)
                .await
                .map_err(|source| RematchError::Read {
                    topic: names.profiles.clone(),
                    source,
                })
        },
    )?;
    let (store, _) = profiles;

    // The checks asked about, once each (a re-published check is the same).
    let mut wanted: BTreeMap<(i64, String, Uuid), CheckRequest> = BTreeMap::new();
    let mut unreadable = 0usize;
    for r in &checks {
        let Ok(c) = decode::<CheckRequest>(r.payload()) else {
            unreadable += 1;
            continue;
        };
        if c.target != CheckTarget::Fingerprint
            || c.timestamp < query.since
            || query.metric.as_deref().is_some_and(|m| m != c.metric)
        {
            continue;
        }
        wanted
            .entry((c.timestamp, c.metric.clone(), c.id))
            .or_insert(c);
    }
    if unreadable > 0 {
        tracing::warn!(unreadable, "unreadable check records skipped");
    }

    // The latest verdict per check: the newest decision, the later record
    // on a tie.
    let mut original: HashMap<Uuid, (i64, i32, i64, MatchResult)> = HashMap::new();
    for r in &matches {
        let Ok(m) = decode::<MatchResult>(r.payload()) else {
            continue;
        };
        let key = (m.decided_at_ms, r.partition, r.offset);
        match original.get(&m.check_id) {
            Some(old) if (old.0, old.1, old.2) >= key => {}
            _ => {
                original.insert(m.check_id, (key.0, key.1, key.2, m));
            }
        }
    }

    let work: Vec<(CheckRequest, Vec<Arc<Profile>>)> = wanted
        .into_values()
        .map(|c| {
            let p = profiles_for(&store, &c.metric);
            (c, p)
        })
        .collect();
    let settings = settings.clone();
    let decisions = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        work.par_iter()
            .map(|(check, profiles)| {
                let verdict = judge_check(check, profiles, &settings);
                // No wall clock: the report must be reproducible.
                (check.alerts.clone(), decide(check, profiles, &verdict, 0))
            })
            .collect::<Vec<_>>()
    })
    .await?;

    let mut summary = Summary::default();
    let rows = decisions
        .into_iter()
        .map(|(routes, d)| {
            let r = d.result;
            let now = Outcome::of(r.matched);
            let was = original.get(&r.check_id).map(|o| &o.3);
            let row = RematchRow {
                timestamp: r.timestamp,
                metric: r.metric,
                anomaly_id: r.anomaly_id,
                check_id: r.check_id,
                match_id: r.id,
                now,
                method: r.method,
                profile_id: r.profile_id,
                alerters: if r.matched {
                    Vec::new()
                } else {
                    routes.into_iter().map(|a| a.alerter).collect()
                },
                original: was.map(|w| Outcome::of(w.matched)),
                original_profile_id: was.and_then(|w| w.profile_id),
                changed: was.map(|w| w.matched != r.matched),
            };
            summary.checks += 1;
            match now {
                Outcome::Deflected => summary.deflected += 1,
                Outcome::Alerts => summary.alerting += 1,
            }
            match (row.original, now) {
                (None, _) => summary.without_original += 1,
                (Some(Outcome::Alerts), Outcome::Deflected) => summary.newly_deflected += 1,
                (Some(Outcome::Deflected), Outcome::Alerts) => summary.newly_alerting += 1,
                _ => summary.unchanged += 1,
            }
            row
        })
        .collect();
    Ok((rows, summary))
}
