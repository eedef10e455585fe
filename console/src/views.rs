//! What each page shows, gathered once for both its HTML page and its JSON
//! twin: the projections' rows, the windows' longer durations and the
//! profile store's lineage. Nothing here renders or writes.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use ingest::windows::Windows;
use projections::browse::{
    self, AnomalyDetail, AnomalyFilter, AnomalyListRow, AnomalyState, CheckRow, MatchFilter,
    MatchRow, Page, ProfileDetail,
};
use projections::query::{profiles_of, ProfileRow};
use projections::Database;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::graph::mean_and_sigma;

/// Why a view could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The request's parameters are wrong (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// No such anomaly, profile… (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The projections or the windows failed (HTTP 503).
    #[error("{0}")]
    Unavailable(String),
}

impl From<projections::Error> for ViewError {
    fn from(e: projections::Error) -> Self {
        ViewError::Unavailable(format!("the projections database: {e}"))
    }
}

/// Rows per page of the lists.
pub const PER_PAGE: u32 = 50;
/// Matches per page (each draws two graphs).
pub const MATCHES_PER_PAGE: u32 = 20;

/// The query string of the anomalies list (and its JSON twin).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnomalyQuery {
    /// Metric pattern: a substring, or a glob with `*`.
    pub metric: Option<String>,
    /// Only anomalies in this state (`alerted`, `deflected_by_profile`,
    /// `deflected_by_layer`, `motif`, `pending`, `not_alerted`).
    pub state: Option<String>,
    /// From (inclusive): unix seconds, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`
    /// (UTC).
    pub since: Option<String>,
    /// Until (inclusive), the same forms.
    pub until: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The query string of the matches list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchQuery {
    pub metric: Option<String>,
    pub profile: Option<String>,
    /// `1`/`true`: only matches that deflected.
    pub matched: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses a time bound: unix seconds, a date or a date and time (UTC).
/// `end_of_day` makes a bare date mean its last second (for `until`).
pub fn parse_time(field: &str, text: &str, end_of_day: bool) -> Result<i64, ViewError> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<i64>() {
        return Ok(secs);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Ok(Utc.from_utc_datetime(&dt).timestamp());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let start = Utc
            .from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .timestamp();
        return Ok(if end_of_day { start + 86_399 } else { start });
    }
    Err(ViewError::BadRequest(format!(
        "{field}: {t:?} is not a time (unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC)"
    )))
}

fn bounds(
    since: &Option<String>,
    until: &Option<String>,
) -> Result<(Option<i64>, Option<i64>), ViewError> {
    let since = non_empty(since)
        .map(|s| parse_time("since", s, false))
        .transpose()?;
    let until = non_empty(until)
        .map(|s| parse_time("until", s, true))
        .transpose()?;
    if let (Some(a), Some(b)) = (since, until) {
        if a > b {
            return Err(ViewError::BadRequest(format!(
                "since ({a}) is after until ({b})"
            )));
        }
    }
    Ok((since, until))
}

fn page_number(page: Option<u32>) -> Result<u32, ViewError> {
    match page {
        Some(0) => Err(ViewError::BadRequest("page numbers start at 1".into())),
        p => Ok(p.unwrap_or(1)),
    }
}

/// The anomalies list.
#[derive(Debug, Clone, Serialize)]
pub struct AnomaliesView {
    pub query: AnomalyQuery,
    #[serde(flatten)]
    pub page: Page<AnomalyListRow>,
}

pub async fn anomalies(db: &Database, query: AnomalyQuery) -> Result<AnomaliesView, ViewError> {
    let (since, until) = bounds(&query.since, &query.until)?;
    let state = match non_empty(&query.state) {
        None => None,
        Some(s) => Some(AnomalyState::parse(s).ok_or_else(|| {
            ViewError::BadRequest(format!(
                "state: {s:?} is not one of alerted, deflected_by_profile, deflected_by_layer, motif, pending, not_alerted"
            ))
        })?),
    };
    let filter = AnomalyFilter {
        metric: non_empty(&query.metric).map(str::to_owned),
        state,
        since,
        until,
        page: page_number(query.page)?,
        per_page: query.per_page.unwrap_or(PER_PAGE),
    };
    let page = browse::anomalies(db, &filter).await?;
    Ok(AnomaliesView { query, page })
}

/// A series over a longer duration, from the windows.
#[derive(Debug, Clone, Serialize)]
pub struct LongerSeries {
    /// `24h`, `7d`, `30d`.
    pub label: &'static str,
    pub seconds: i64,
    /// `full` (the full-resolution window) or `rollup` (10-minute means).
    pub resolution: &'static str,
    pub series: Vec<(i64, f64)>,
}

/// The durations the training page shows beside the judged series.
const LONGER: [(&str, i64); 3] = [("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400)];

/// The training page of an anomaly.
#[derive(Debug, Clone, Serialize)]
pub struct TrainingView {
    pub detail: AnomalyDetail,
    /// The check an operator labels: its fingerprint check, else any check
    /// with a series.
    pub check: Option<CheckRow>,
    /// Mean and σ of the judged series.
    pub mean: Option<f64>,
    pub sigma: Option<f64>,
    /// Longer durations of the same metric from the windows, newest
    /// `seconds` each; empty when the console has no windows.
    pub longer: Vec<LongerSeries>,
    /// Whether the console can read the windows at all.
    pub windows_available: bool,
    /// The metric's profiles, oldest first.
    pub profiles: Vec<ProfileRow>,
    /// Profiles made from labelling this anomaly's check.
    pub resulting_profiles: Vec<Uuid>,
}

pub async fn training(
    db: &Database,
    windows: Option<&Arc<Windows>>,
    id: Uuid,
) -> Result<TrainingView, ViewError> {
    let detail = browse::anomaly(db, id)
        .await?
        .ok_or_else(|| ViewError::NotFound(format!("no anomaly {id} in the projections")))?;
    let check = detail
        .checks
        .iter()
        .find(|c| c.target == "fingerprint" && !c.series.is_empty())
        .or_else(|| detail.checks.iter().find(|c| !c.series.is_empty()))
        .cloned();
    let (mean, sigma) = check
        .as_ref()
        .and_then(|c| mean_and_sigma(c.series.iter().map(|p| p.1)))
        .map_or((None, None), |(m, s)| (Some(m), Some(s)));
    let metric = detail.anomaly.metric.clone();
    let longer = match windows {
        Some(w) => longer_series(w, &metric).await?,
        None => Vec::new(),
    };
    let profiles = profiles_of(db, &metric).await?;
    let resulting_profiles = match &check {
        Some(c) => browse::profiles_from_check(db, c.id).await?,
        None => Vec::new(),
    };
    Ok(TrainingView {
        detail,
        check,
        mean,
        sigma,
        longer,
        windows_available: windows.is_some(),
        profiles,
        resulting_profiles,
    })
}

async fn longer_series(windows: &Windows, metric: &str) -> Result<Vec<LongerSeries>, ViewError> {
    let unavailable = |e: ingest::windows::WindowError| {
        ViewError::Unavailable(format!("reading the windows of {metric}: {e}"))
    };
    let full = windows
        .windows(&[metric])
        .await
        .map_err(unavailable)?
        .pop()
        .unwrap_or_default();
    let rollup = windows.rollup(metric).await.map_err(unavailable)?;
    let full_span = match (full.first(), full.last()) {
        (Some(a), Some(b)) => b.0 - a.0,
        _ => 0,
    };
    Ok(LONGER
        .iter()
        .map(|&(label, seconds)| {
            // The full-resolution window when it covers the duration, else
            // the roll-up (which reaches back 30 days).
            let (resolution, source) = if seconds <= full_span.max(86_400) && !full.is_empty() {
                ("full", &full)
            } else {
                ("rollup", &rollup)
            };
            let newest = source.last().map_or(0, |p| p.0);
            let series = source
                .iter()
                .copied()
                .filter(|p| p.0 > newest - seconds)
                .collect();
            LongerSeries {
                label,
                seconds,
                resolution,
                series,
            }
        })
        .collect())
}

/// The profiles index: metrics with profiles, or one metric's profiles.
#[derive(Debug, Clone, Serialize)]
pub struct ProfilesView {
    pub metric: Option<String>,
    /// Metrics that have profiles (matching `metric` as a pattern when no
    /// metric of that exact name has any).
    pub metrics: Vec<String>,
    /// The profiles of `metric` (with their series), when it names one
    /// exactly.
    pub profiles: Vec<ProfileDetail>,
}

pub async fn profiles(db: &Database, metric: Option<String>) -> Result<ProfilesView, ViewError> {
    let metric = metric
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty());
    let rows = match &metric {
        Some(m) => profiles_of(db, m).await?,
        None => Vec::new(),
    };
    let mut profiles = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(d) = browse::profile(db, r.id).await? {
            profiles.push(d);
        }
    }
    let metrics = if profiles.is_empty() {
        let with = projections::query::metrics_with_profiles(db).await?;
        match &metric {
            Some(m) => {
                let named: Vec<String> = browse::metrics(db, Some(m), 10_000).await?;
                with.into_iter().filter(|x| named.contains(x)).collect()
            }
            None => with,
        }
    } else {
        metric.iter().cloned().collect()
    };
    Ok(ProfilesView {
        metric,
        metrics,
        profiles,
    })
}

/// A match with the two series it compared.
#[derive(Debug, Clone, Serialize)]
pub struct MatchWithSeries {
    #[serde(flatten)]
    pub row: MatchRow,
    /// The series the check judged.
    pub check_series: Vec<(i64, f64)>,
    /// The profile's series (empty for a match of no profile).
    pub profile_series: Vec<(i64, f64)>,
}

async fn with_series(
    db: &Database,
    rows: Vec<MatchRow>,
) -> Result<Vec<MatchWithSeries>, ViewError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut profile_series: std::collections::HashMap<Uuid, Vec<(i64, f64)>> = Default::default();
    for row in rows {
        let check_series = projections::query::check_for_label(db, row.check_id)
            .await?
            .map(|c| c.series)
            .unwrap_or_default();
        let series = match row.profile_id {
            Some(p) => match profile_series.get(&p) {
                Some(s) => s.clone(),
                None => {
                    let s = browse::profile_series(db, p).await?;
                    profile_series.insert(p, s.clone());
                    s
                }
            },
            None => Vec::new(),
        };
        out.push(MatchWithSeries {
            row,
            check_series,
            profile_series: series,
        });
    }
    Ok(out)
}

/// The page of a profile.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    pub detail: ProfileDetail,
    /// Its parent, for the side-by-side view of a learnt profile.
    pub parent: Option<ProfileDetail>,
    /// Every profile disabling this one disables too (all branches).
    pub descendants: Vec<Uuid>,
    /// Its latest matches that deflected, with both series.
    pub matched: Vec<MatchWithSeries>,
}

pub async fn profile(
    db: &Database,
    store: &fingerprint::follow::SharedProfiles,
    id: Uuid,
) -> Result<ProfileView, ViewError> {
    let detail = browse::profile(db, id)
        .await?
        .ok_or_else(|| ViewError::NotFound(format!("no profile {id} in the projections")))?;
    let parent = match detail.profile.parent {
        Some(p) => browse::profile(db, p).await?,
        None => None,
    };
    let descendants = store.read().map(|s| s.descendants(id)).unwrap_or_default();
    let rows = browse::matches(
        db,
        &MatchFilter {
            metric: None,
            profile: Some(id),
            matched_only: true,
            since: None,
            until: None,
            page: 1,
            per_page: 6,
        },
    )
    .await?
    .rows;
    let matched = with_series(db, rows).await?;
    Ok(ProfileView {
        detail,
        parent,
        descendants,
        matched,
    })
}

/// The matches list.
#[derive(Debug, Clone, Serialize)]
pub struct MatchesView {
    pub query: MatchQuery,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub rows: Vec<MatchWithSeries>,
}

pub async fn matches(db: &Database, query: MatchQuery) -> Result<MatchesView, ViewError> {
    let (since, until) = bounds(&query.since, &query.until)?;
    let profile = non_empty(&query.profile)
        .map(|p| {
            Uuid::parse_str(p)
                .map_err(|e| ViewError::BadRequest(format!("profile: {p:?} is not an id: {e}")))
        })
        .transpose()?;
    let matched_only = match non_empty(&query.matched) {
        None | Some("0") | Some("false") => false,
        Some("1") | Some("true") | Some("on") => true,
        Some(other) => {
            return Err(ViewError::BadRequest(format!(
                "matched: {other:?} is not 1 or 0"
            )))
        }
    };
    let filter = MatchFilter {
        metric: non_empty(&query.metric).map(str::to_owned),
        profile,
        matched_only,
        since,
        until,
        page: page_number(query.page)?,
        per_page: query.per_page.unwrap_or(MATCHES_PER_PAGE).min(100),
    };
    let page = browse::matches(db, &filter).await?;
    let rows = with_series(db, page.rows).await?;
    Ok(MatchesView {
        query,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_documented_form() {
        assert_eq!(
            parse_time("since", "1700000000", false).unwrap(),
            1_700_000_000
        );
        assert_eq!(
            parse_time("since", "2023-11-14", false).unwrap(),
            1_699_920_000
        );
        assert_eq!(
            parse_time("until", "2023-11-14", true).unwrap(),
            1_699_920_000 + 86_399
        );
        assert_eq!(
            parse_time("since", "2023-11-14T22:13", false).unwrap(),
            1_700_000_000 - 20
        );
        let e = parse_time("since", "yesterday", false).unwrap_err();
        assert!(e.to_string().contains("since") && e.to_string().contains("yesterday"));
    }

    #[test]
    fn bounds_refuse_an_empty_range_and_ignore_blanks() {
        assert!(bounds(&Some("2".into()), &Some("1".into())).is_err());
        assert_eq!(bounds(&Some(" ".into()), &None).unwrap(), (None, None));
        assert!(page_number(Some(0)).is_err());
    }
}
