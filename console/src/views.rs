//! What each page shows, gathered once for both its HTML page and its JSON
//! twin: the projections' rows, the windows' longer durations and the
//! profile store's lineage. Nothing here renders or writes.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use learn::decide::learn_series;
use learn::repetitive::REPETITIVE_DESCRIPTION;
use projections::alerting::{self, delivery_summaries, DeliveryRow, DeliverySummary, MuteRow};
use projections::browse::{
    self, AnomalyDetail, AnomalyFilter, AnomalyListRow, AnomalyState, CheckKind, CheckRow,
    MatchFilter, MatchRow, Page, ProfileDetail,
};
use projections::query::{profiles_of, ProfileRow};
use projections::seasonal::{OutcomeCount, SeasonalRow};
use projections::Database;
use serde::{Deserialize, Serialize};
use topics::ids::learnt_profile_id;
use uuid::Uuid;
use windows::Windows;

use crate::graph::mean_and_sigma;
use crate::units::{unit_of, UnitRule};

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
    /// `deflected_by_layer`, `motif`, `pending`, `cleared_by_seasonal`,
    /// `confirmed_by_seasonal`, `seasonal_skipped`, `not_alerted`).
    pub state: Option<String>,
    /// From (inclusive): unix seconds, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`
    /// (UTC).
    pub since: Option<String>,
    /// Until (inclusive), the same forms.
    pub until: Option<String>,
    /// The page, from 1.
    pub page: Option<u32>,
    /// Rows per page (default [`PER_PAGE`]).
    pub per_page: Option<u32>,
}

/// The query string of the matches list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchQuery {
    /// Verdicts on which checks: `ionosphere` (the default), `training`
    /// or `all` (see [`CheckKind`]).
    pub checks: Option<String>,
    /// Metric pattern: a substring, or a glob with `*`.
    pub metric: Option<String>,
    /// Only the matches of this profile (its id).
    pub profile: Option<String>,
    /// `1`/`true`: only matches that deflected.
    pub matched: Option<String>,
    /// From (inclusive), as [`AnomalyQuery::since`].
    pub since: Option<String>,
    /// Until (inclusive), the same forms.
    pub until: Option<String>,
    /// The page, from 1.
    pub page: Option<u32>,
    /// Matches per page (default [`MATCHES_PER_PAGE`]).
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
    /// The query it answers.
    pub query: AnomalyQuery,
    /// The page of anomalies (its rows, the total and the paging).
    #[serde(flatten)]
    pub page: Page<AnomalyListRow>,
}

/// The anomalies `query` asks for, newest first.
pub async fn anomalies(db: &Database, query: AnomalyQuery) -> Result<AnomaliesView, ViewError> {
    let (since, until) = bounds(&query.since, &query.until)?;
    let state = match non_empty(&query.state) {
        None => None,
        Some(s) => Some(AnomalyState::parse(s).ok_or_else(|| {
            ViewError::BadRequest(format!(
                "state: {s:?} is not one of {}",
                AnomalyState::names()
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

/// The query string of the metrics list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsQuery {
    /// Metric pattern: a substring, or a glob with `*`.
    pub metric: Option<String>,
    /// The page, from 1.
    pub page: Option<u32>,
    /// Rows per page (default [`PER_PAGE`]).
    pub per_page: Option<u32>,
}

/// Every metric received (the `activity` projection), a page at a time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsView {
    /// The query it answers.
    pub query: MetricsQuery,
    /// The page of metrics (its rows, the total and the paging).
    #[serde(flatten)]
    pub page: Page<browse::MetricActivityRow>,
    /// Each row's points in its full-resolution window, when the console
    /// can read the windows (`null` otherwise).
    pub points_in_window: Vec<Option<usize>>,
}

/// The metrics `query` asks for, with their points in the window when
/// `windows` can be read.
pub async fn metrics(
    db: &Database,
    windows: Option<&Windows>,
    query: MetricsQuery,
) -> Result<MetricsView, ViewError> {
    let page = browse::metric_activity(
        db,
        non_empty(&query.metric),
        page_number(query.page)?,
        query.per_page.unwrap_or(PER_PAGE),
    )
    .await?;
    let points_in_window = match windows {
        Some(w) => {
            let names: Vec<&str> = page.rows.iter().map(|r| r.name.as_str()).collect();
            w.windows(&names)
                .await
                .map_err(|e| ViewError::Unavailable(format!("the windows: {e}")))?
                .iter()
                .map(|w| Some(w.len()))
                .collect()
        }
        None => vec![None; page.rows.len()],
    };
    Ok(MetricsView {
        query,
        page,
        points_in_window,
    })
}

/// Where the training page's graphs of the metric sit in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphsAt {
    /// Around the anomaly: the 7 h and 24 h graphs centred on it (what
    /// came before and after), the 7 d and 30 d graphs ending at it (the
    /// history it broke from; learning reads the 30 d before it too).
    #[default]
    Anomaly,
    /// Ending at the metric's newest data (the current view).
    Now,
}

impl GraphsAt {
    /// `now` → [`GraphsAt::Now`]; anything else, or nothing, the anomaly.
    pub fn parse(text: Option<&str>) -> GraphsAt {
        match text.map(str::trim) {
            Some("now") => GraphsAt::Now,
            _ => GraphsAt::Anomaly,
        }
    }
}

/// The metric over one duration, for a graph.
#[derive(Debug, Clone, Serialize)]
pub struct LongerSeries {
    /// `7h`, `24h`, `7d`, `30d`.
    pub label: &'static str,
    /// The duration, in seconds.
    pub seconds: i64,
    /// The time range drawn, unix seconds, inclusive: its start…
    pub from: i64,
    /// …and its end.
    pub to: i64,
    /// `centred` (on the anomaly), `ending` (at the anomaly) or `latest`
    /// (ending at the newest data).
    pub placement: &'static str,
    /// `full` (full resolution: the judged series and the full window),
    /// `rollup` (the long window's bucket means), `mixed` (full resolution
    /// where there is some, bucket means elsewhere) or `none`.
    pub resolution: &'static str,
    /// The points drawn, `(timestamp, value)`.
    pub series: Vec<(i64, f64)>,
}

/// The durations the training page graphs, beside the judged series.
const DURATIONS: [(&str, i64); 4] = [
    ("7h", 7 * 3600),
    ("24h", 86_400),
    ("7d", 7 * 86_400),
    ("30d", 30 * 86_400),
];

/// Durations up to this are drawn at full resolution where there is some;
/// longer ones from the long window alone (a day of full resolution in a
/// month of means would read as a change of the metric).
const FULL_RESOLUTION_UP_TO: i64 = 86_400;

/// The training page of an anomaly.
#[derive(Debug, Clone, Serialize)]
pub struct TrainingView {
    /// The anomaly, its checks, alerts, matches and labels.
    pub detail: AnomalyDetail,
    /// The check an operator labels: its fingerprint check, else any check
    /// with a series.
    pub check: Option<CheckRow>,
    /// Mean of the judged series…
    pub mean: Option<f64>,
    /// …and its σ.
    pub sigma: Option<f64>,
    /// Where the durations' graphs sit in time.
    pub graphs_at: GraphsAt,
    /// The metric over 7 h, 24 h, 7 d and 30 d, from the judged series and
    /// the windows (see [`GraphsAt`]).
    pub longer: Vec<LongerSeries>,
    /// Seconds per bucket of the long window, when the console reads it.
    pub rollup_resolution: Option<i64>,
    /// Whether the console can read the windows at all.
    pub windows_available: bool,
    /// The unit of the metric's values, when known (see [`crate::units`]).
    pub unit: Option<String>,
    /// The metric's profiles, oldest first.
    pub profiles: Vec<ProfileRow>,
    /// Profiles made from labelling this anomaly's check.
    pub resulting_profiles: Vec<Uuid>,
    /// Where each of its alerts stands with each alerter: the latest
    /// attempt's outcome and the attempts made (the attempts themselves
    /// are `detail.deliveries`).
    pub delivery_outcomes: Vec<DeliverySummary>,
    /// The mutes in force now whose pattern matches the metric: its alerts
    /// are held back while one holds.
    pub muted_by: Vec<MuteRow>,
}

/// Anomaly `id` and the check an operator labels: its fingerprint check,
/// else any check with a series (`None`: no check carried one). The
/// training page and the anomaly's graph (`graph.png`) draw that series.
pub async fn judged(
    db: &Database,
    id: Uuid,
) -> Result<(AnomalyDetail, Option<CheckRow>), ViewError> {
    let detail = browse::anomaly(db, id)
        .await?
        .ok_or_else(|| ViewError::NotFound(format!("no anomaly {id} in the projections")))?;
    let check = detail
        .checks
        .iter()
        .find(|c| c.target == "fingerprint" && !c.series.is_empty())
        .or_else(|| detail.checks.iter().find(|c| !c.series.is_empty()))
        .cloned();
    Ok((detail, check))
}

/// The training page of anomaly `id`, its durations' graphs placed as
/// `graphs_at` says.
pub async fn training(
    db: &Database,
    windows: Option<&Arc<Windows>>,
    units: &[UnitRule],
    id: Uuid,
    graphs_at: GraphsAt,
) -> Result<TrainingView, ViewError> {
    let (detail, check) = judged(db, id).await?;
    let (mean, sigma) = check
        .as_ref()
        .and_then(|c| mean_and_sigma(c.series.iter().map(|p| p.1)))
        .map_or((None, None), |(m, s)| (Some(m), Some(s)));
    let metric = detail.anomaly.metric.clone();
    let sources = match windows {
        Some(w) => Sources::read(w, &metric).await?,
        None => Sources::default(),
    };
    let judged = check.as_ref().map_or(&[][..], |c| &c.series[..]);
    let longer = durations(judged, &sources, detail.anomaly.timestamp, graphs_at);
    let profiles = profiles_of(db, &metric).await?;
    let resulting_profiles = match &check {
        Some(c) => browse::profiles_from_check(db, c.id).await?,
        None => Vec::new(),
    };
    let delivery_outcomes = delivery_summaries(&detail.deliveries);
    let muted_by = mutes_matching(db, &metric).await?;
    Ok(TrainingView {
        unit: unit_of(units, &metric),
        detail,
        check,
        mean,
        sigma,
        graphs_at,
        longer,
        rollup_resolution: windows.map(|w| w.settings().rollup_resolution),
        windows_available: windows.is_some(),
        profiles,
        resulting_profiles,
        delivery_outcomes,
        muted_by,
    })
}

/// The mutes in force now that match `metric` (as the alerter matches
/// them; a pattern that is not a valid regex matches nothing, as the
/// alerter skips it).
async fn mutes_matching(db: &Database, metric: &str) -> Result<Vec<MuteRow>, ViewError> {
    let active = alerting::active_mutes(db, topics::clock::now_ms()).await?;
    Ok(active
        .into_iter()
        .filter(|m| {
            analyze::pattern::MetricPattern::new(&m.pattern).is_ok_and(|p| p.matches(metric))
        })
        .collect())
}

/// What the windows hold of a metric.
#[derive(Debug, Default)]
struct Sources {
    /// The full-resolution window.
    full: Vec<(i64, f64)>,
    /// The long window's bucket means, by bucket start.
    rollup: Vec<(i64, f64)>,
    rollup_resolution: i64,
}

impl Sources {
    async fn read(windows: &Windows, metric: &str) -> Result<Sources, ViewError> {
        let unavailable = |e: windows::WindowError| {
            ViewError::Unavailable(format!("reading the windows of {metric}: {e}"))
        };
        let full = windows
            .windows(&[metric])
            .await
            .map_err(unavailable)?
            .pop()
            .unwrap_or_default();
        let rollup = windows.rollup(metric).await.map_err(unavailable)?;
        Ok(Sources {
            full,
            rollup,
            rollup_resolution: windows.settings().rollup_resolution.max(1),
        })
    }
}

/// The points of `points` in `[from, to]`.
fn within(points: &[(i64, f64)], (from, to): (i64, i64)) -> Vec<(i64, f64)> {
    points
        .iter()
        .filter(|p| (from..=to).contains(&p.0))
        .copied()
        .collect()
}

/// The metric over each of [`DURATIONS`], placed as `at` says, from the
/// judged series (full resolution, up to the anomaly) and the windows.
fn durations(
    judged: &[(i64, f64)],
    sources: &Sources,
    anomaly: i64,
    at: GraphsAt,
) -> Vec<LongerSeries> {
    // Full resolution: the judged series and the full window, one point
    // per timestamp, and the spans each covers.
    let mut full: Vec<(i64, f64)> = judged.iter().chain(&sources.full).copied().collect();
    full.sort_by_key(|p| p.0);
    full.dedup_by_key(|p| p.0);
    let spans: Vec<(i64, i64)> = [judged, &sources.full[..]]
        .iter()
        .filter_map(|s| Some((s.first()?.0, s.last()?.0)))
        .collect();
    let newest = [full.last(), sources.rollup.last()]
        .into_iter()
        .flatten()
        .map(|p| p.0)
        .fold(anomaly, i64::max);
    let bucket = sources.rollup_resolution.max(1);
    DURATIONS
        .iter()
        .map(|&(label, seconds)| {
            let (range, placement) = match at {
                GraphsAt::Now => ((newest.saturating_sub(seconds), newest), "latest"),
                GraphsAt::Anomaly if seconds <= FULL_RESOLUTION_UP_TO => {
                    let half = seconds / 2;
                    (
                        (anomaly.saturating_sub(half), anomaly.saturating_add(half)),
                        "centred",
                    )
                }
                GraphsAt::Anomaly => ((anomaly.saturating_sub(seconds), anomaly), "ending"),
            };
            let full_part = within(&full, range);
            let rollup_part = within(&sources.rollup, range);
            let (series, resolution) = if seconds <= FULL_RESOLUTION_UP_TO {
                // Bucket means only where no full-resolution source reaches.
                let uncovered: Vec<(i64, f64)> = rollup_part
                    .into_iter()
                    .filter(|(b, _)| {
                        !spans
                            .iter()
                            .any(|&(a, z)| *b <= z && b.saturating_add(bucket) > a)
                    })
                    .collect();
                match (full_part.is_empty(), uncovered.is_empty()) {
                    (true, true) => (Vec::new(), "none"),
                    (false, true) => (full_part, "full"),
                    (true, false) => (uncovered, "rollup"),
                    (false, false) => {
                        let mut merged = full_part;
                        merged.extend(uncovered);
                        merged.sort_by_key(|p| p.0);
                        (merged, "mixed")
                    }
                }
            } else if !rollup_part.is_empty() {
                (rollup_part, "rollup")
            } else if !full_part.is_empty() {
                (full_part, "full")
            } else {
                (Vec::new(), "none")
            };
            LongerSeries {
                label,
                seconds,
                from: range.0,
                to: range.1,
                placement,
                resolution,
                series,
            }
        })
        .collect()
}

/// The profiles index: metrics with profiles, or one metric's profiles.
#[derive(Debug, Clone, Serialize)]
pub struct ProfilesView {
    /// The metric (or pattern) asked for.
    pub metric: Option<String>,
    /// Metrics that have profiles (matching `metric` as a pattern when no
    /// metric of that exact name has any).
    pub metrics: Vec<String>,
    /// The profiles of `metric` (with their series), when it names one
    /// exactly.
    pub profiles: Vec<ProfileDetail>,
}

/// The metrics that have profiles, or `metric`'s profiles.
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
    /// The match.
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

/// Where an operator's LEARN profile is in learning its first learnt
/// profile, as the learn service decides it (`learn::service`, a human
/// profile's work, and `learn::decide::learn_series`): once the anomaly is
/// `valid_ts_older_than` old, it learns from the `learn_full_duration`
/// of the metric's long window *before* the anomaly — nothing later — and
/// skips the anomaly when the window does not reach back that far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Learning {
    /// Seconds of data it learns from (`learn_full_duration_days`).
    pub full_duration: i64,
    /// When the learn service takes it up: the anomaly's timestamp plus
    /// `valid_ts_older_than` (wall clock).
    pub due: i64,
    /// Whether that is still to come.
    pub waiting: bool,
    /// The data it learns from: `(from, to]`, ending at the anomaly.
    pub from: i64,
    /// The end of that data: the anomaly's timestamp.
    pub to: i64,
    /// The learnt profile, once made.
    pub learnt: Option<Uuid>,
    /// The metric's long window now, when this console reads the windows:
    /// where it begins, and whether it holds enough of the duration for
    /// the learn service (`learn_series`).
    pub window_begins: Option<i64>,
    /// Whether the window holds enough of the duration (see
    /// `window_begins`).
    pub window_holds_it: Option<bool>,
}

/// The [`Learning`] of profile `id`: only an active operator's profile
/// (generation 0) made with LEARN, whose anomaly and learn settings the
/// profile records.
async fn learning(
    store: &fingerprint::SharedProfiles,
    windows: Option<&Arc<Windows>>,
    id: Uuid,
    now: i64,
) -> Result<Option<Learning>, ViewError> {
    let found = store.read().ok().and_then(|s| {
        let p = s.get(id)?;
        let human = p.generation == 0 && p.parent_id.is_none() && p.learn && s.is_active(id);
        let (timestamp, settings) = (p.anomaly_timestamp?, p.learn_settings?);
        let child = learnt_profile_id(id, timestamp, settings.full_duration);
        human.then(|| {
            (
                p.metric.clone(),
                timestamp,
                settings,
                s.get(child).map(|_| child),
            )
        })
    });
    let Some((metric, timestamp, settings, learnt)) = found else {
        return Ok(None);
    };
    let window = match windows {
        Some(w) => Some(w.rollup(&metric).await.map_err(|e| {
            ViewError::Unavailable(format!("reading the long window of {metric}: {e}"))
        })?),
        None => None,
    };
    let due = timestamp.saturating_add(settings.valid_ts_older_than);
    Ok(Some(Learning {
        full_duration: settings.full_duration,
        due,
        waiting: due > now,
        from: timestamp.saturating_sub(settings.full_duration),
        to: timestamp,
        learnt,
        window_begins: window.as_ref().and_then(|w| w.first()).map(|p| p.0),
        window_holds_it: window
            .as_ref()
            .map(|w| learn_series(w, timestamp, settings.full_duration).is_some()),
    }))
}

/// The page of a profile.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileView {
    /// The profile, its series and its features.
    pub detail: ProfileDetail,
    /// Its learning, when it is an operator's LEARN profile.
    pub learning: Option<Learning>,
    /// Its parent, for the side-by-side view of a learnt profile.
    pub parent: Option<ProfileDetail>,
    /// Every profile disabling this one disables too (all branches).
    pub descendants: Vec<Uuid>,
    /// Its latest matches that deflected, with both series.
    pub matched: Vec<MatchWithSeries>,
    /// When it was learnt from a repetitive pattern: every profile of that
    /// pattern (its lineage), by anomaly timestamp.
    pub pattern: Vec<PatternProfile>,
}

/// One profile of a repetitive pattern and the anomaly it was learnt from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternProfile {
    /// The profile.
    pub id: Uuid,
    /// Its anomaly's timestamp (unix seconds).
    pub anomaly_timestamp: Option<i64>,
    /// Whether it is active (enabled, its ancestors too).
    pub active: bool,
}

/// The profiles of the repetitive pattern profile `id` was learnt from:
/// its lineage from the first profile of the pattern, every branch, by
/// anomaly timestamp. Empty when `id` was not learnt from a repetitive
/// pattern.
pub fn repetitive_pattern(store: &fingerprint::ProfileStore, id: Uuid) -> Vec<PatternProfile> {
    let repetitive = |id: Uuid| {
        store
            .get(id)
            .is_some_and(|p| p.description.as_deref() == Some(REPETITIVE_DESCRIPTION))
    };
    if !repetitive(id) {
        return Vec::new();
    }
    let mut root = id;
    while let Some(parent) = store
        .get(root)
        .and_then(|p| p.parent_id)
        .filter(|parent| repetitive(*parent))
    {
        root = parent;
    }
    let mut pattern: Vec<PatternProfile> = std::iter::once(root)
        .chain(store.descendants(root))
        .filter_map(|id| {
            let p = store.get(id)?;
            Some(PatternProfile {
                id,
                anomaly_timestamp: p.anomaly_timestamp,
                active: store.is_active(id),
            })
        })
        .collect();
    pattern.sort_by_key(|p| (p.anomaly_timestamp, p.id));
    pattern
}

/// The page of profile `id`.
pub async fn profile(
    db: &Database,
    store: &fingerprint::SharedProfiles,
    windows: Option<&Arc<Windows>>,
    id: Uuid,
) -> Result<ProfileView, ViewError> {
    let detail = browse::profile(db, id)
        .await?
        .ok_or_else(|| ViewError::NotFound(format!("no profile {id} in the projections")))?;
    let parent = match detail.profile.parent {
        Some(p) => browse::profile(db, p).await?,
        None => None,
    };
    let (descendants, pattern) = store
        .read()
        .map(|s| (s.descendants(id), repetitive_pattern(&s, id)))
        .unwrap_or_default();
    let rows = browse::matches(
        db,
        &MatchFilter {
            checks: CheckKind::All,
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
    let now = chrono::Utc::now().timestamp();
    Ok(ProfileView {
        learning: learning(store, windows, id, now).await?,
        detail,
        parent,
        descendants,
        matched,
        pattern,
    })
}

/// The matches list.
#[derive(Debug, Clone, Serialize)]
pub struct MatchesView {
    /// The query it answers.
    pub query: MatchQuery,
    /// Verdicts on which checks are listed.
    pub checks: CheckKind,
    /// Matches in all (every page).
    pub total: i64,
    /// This page, from 1.
    pub page: u32,
    /// Matches per page.
    pub per_page: u32,
    /// This page's matches, newest first, with their series.
    pub rows: Vec<MatchWithSeries>,
}

/// The matches `query` asks for, newest first.
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
    let checks = match non_empty(&query.checks) {
        None | Some("ionosphere") => CheckKind::Ionosphere,
        Some("training") => CheckKind::Training,
        Some("all") => CheckKind::All,
        Some(other) => {
            return Err(ViewError::BadRequest(format!(
                "checks: {other:?} is not ionosphere, training or all"
            )))
        }
    };
    let filter = MatchFilter {
        checks,
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
        checks,
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

    /// A metric with a minute's resolution whose data ends a week after
    /// its anomaly: the judged day before it, the full window's last day,
    /// and 30 days of 10-minute means.
    fn week_old_anomaly() -> (Vec<(i64, f64)>, Sources, i64, i64) {
        let anomaly = 1_700_000_040;
        let end = anomaly + 7 * 86_400;
        let minutes = |from: i64, to: i64| -> Vec<(i64, f64)> {
            (from / 60..=to / 60)
                .map(|m| (m * 60, (m % 97) as f64))
                .collect()
        };
        let judged = minutes(anomaly - 86_400 + 60, anomaly);
        let full = minutes(end - 86_400 + 60, end);
        let rollup = (bucket(end - 30 * 86_400 + 600)..=end)
            .step_by(600)
            .map(|b| (b, 1.0))
            .collect();
        let sources = Sources {
            full,
            rollup,
            rollup_resolution: 600,
        };
        (judged, sources, anomaly, end)
    }

    fn bucket(ts: i64) -> i64 {
        ts - ts.rem_euclid(600)
    }

    #[test]
    fn around_the_anomaly_the_graphs_contain_it() {
        let (judged, sources, anomaly, _) = week_old_anomaly();
        let graphs = durations(&judged, &sources, anomaly, GraphsAt::Anomaly);
        let got: Vec<(&str, i64, i64, &str, &str)> = graphs
            .iter()
            .map(|g| (g.label, g.from, g.to, g.placement, g.resolution))
            .collect();
        assert_eq!(
            got,
            [
                ("7h", anomaly - 12_600, anomaly + 12_600, "centred", "mixed"),
                (
                    "24h",
                    anomaly - 43_200,
                    anomaly + 43_200,
                    "centred",
                    "mixed"
                ),
                ("7d", anomaly - 7 * 86_400, anomaly, "ending", "rollup"),
                ("30d", anomaly - 30 * 86_400, anomaly, "ending", "rollup"),
            ]
        );
        for g in &graphs {
            let before = g.series.iter().filter(|p| p.0 <= anomaly).count();
            assert!(before > 0, "{}: data up to the anomaly", g.label);
            assert!(g.series.iter().all(|p| (g.from..=g.to).contains(&p.0)));
            assert!(g.series.windows(2).all(|w| w[0].0 < w[1].0), "{}", g.label);
        }
        // Centred: the judged minutes up to the anomaly, then 10-minute
        // means (the full window is a week later).
        let seven = &graphs[0].series;
        assert!(seven.contains(&(anomaly, judged[judged.len() - 1].1)));
        assert!(seven
            .iter()
            .filter(|p| p.0 > anomaly)
            .all(|p| p.0 % 600 == 0 && p.1 == 1.0));
        assert!(seven.iter().any(|p| p.0 > anomaly + 3 * 3600));
    }

    #[test]
    fn now_the_graphs_end_at_the_newest_data() {
        let (judged, sources, anomaly, end) = week_old_anomaly();
        let graphs = durations(&judged, &sources, anomaly, GraphsAt::Now);
        for g in &graphs {
            assert_eq!((g.to, g.placement), (end, "latest"), "{}", g.label);
        }
        assert_eq!(graphs[0].resolution, "full", "the full window's last day");
        assert_eq!(graphs[3].resolution, "rollup");
        // Without windows, the judged series alone.
        let none = Sources::default();
        let alone = durations(&judged, &none, anomaly, GraphsAt::Anomaly);
        assert!(alone.iter().all(|g| g.resolution == "full"));
        assert_eq!(alone[3].series.len(), judged.len());
    }

    #[test]
    fn bounds_refuse_an_empty_range_and_ignore_blanks() {
        assert!(bounds(&Some("2".into()), &Some("1".into())).is_err());
        assert_eq!(bounds(&Some(" ".into()), &None).unwrap(), (None, None));
        assert!(page_number(Some(0)).is_err());
    }
}

/// How many ended mutes the mutes page lists.
pub const ENDED_MUTES: u32 = 20;

/// How many delivery attempts the mutes page lists.
pub const LATEST_DELIVERIES: u32 = 50;

/// The mutes page (`/mutes`, `GET /api/v1/mutes`): the mutes in force, the
/// latest ended ones, and the latest delivery attempts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MutesView {
    /// When the page was gathered (unix milliseconds).
    pub now_ms: i64,
    /// The mutes in force, soonest-ending first.
    pub active: Vec<MuteRow>,
    /// The latest [`ENDED_MUTES`] ended (or ended early), latest first.
    pub ended: Vec<MuteRow>,
    /// The latest [`LATEST_DELIVERIES`] delivery attempts, newest first.
    pub deliveries: Vec<DeliveryRow>,
}

/// The mutes in force now, the latest ended and the latest deliveries.
pub async fn mutes(db: &Database) -> Result<MutesView, ViewError> {
    let now_ms = topics::clock::now_ms();
    Ok(MutesView {
        now_ms,
        active: alerting::active_mutes(db, now_ms).await?,
        ended: alerting::ended_mutes(db, now_ms, ENDED_MUTES).await?,
        deliveries: alerting::latest_deliveries(db, LATEST_DELIVERIES).await?,
    })
}

/// How many system events the System page lists.
pub const LATEST_SYSTEM_EVENTS: u32 = 50;

/// The System page (`/system`, `GET /api/v1/system`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemView {
    /// When the page was gathered (unix milliseconds).
    pub now_ms: i64,
    /// Each service process's newest heartbeat.
    pub heartbeats: Vec<projections::system::HeartbeatRow>,
    /// The checks stalled now.
    pub stalls: Vec<projections::system::SystemEventRow>,
    /// The metrics stale or about to go stale now.
    pub stale: Vec<projections::system::SystemEventRow>,
    /// The Analyzers' sparsity figures from their heartbeats: `(instance,
    /// figure, value)` for each figure whose name starts with
    /// `metrics_sparsity` (the sweep's gauges).
    pub sparsity: Vec<(String, String, f64)>,
    /// The latest [`LATEST_SYSTEM_EVENTS`] events, newest first.
    pub latest: Vec<projections::system::SystemEventRow>,
}

/// The services' heartbeats, what is stalled and stale now, and the
/// latest system events.
pub async fn system(db: &Database) -> Result<SystemView, ViewError> {
    use projections::system;
    let heartbeats = system::heartbeats(db).await?;
    let sparsity = heartbeats
        .iter()
        .filter(|h| h.service == "analyze")
        .flat_map(|h| {
            h.figures
                .iter()
                .filter(|(name, _)| name.starts_with("metrics_sparsity"))
                .map(|(name, v)| (h.instance.clone(), name.clone(), *v))
        })
        .collect();
    Ok(SystemView {
        now_ms: topics::clock::now_ms(),
        heartbeats,
        stalls: system::active_stalls(db).await?,
        stale: system::stale_metrics(db).await?,
        sparsity,
        latest: system::latest_events(db, LATEST_SYSTEM_EVENTS).await?,
    })
}

/// How many verdicts the seasonal page lists.
pub const LATEST_SEASONAL: u32 = 100;

/// The seasonal page (`/seasonal`, `GET /api/v1/seasonal`): how many
/// verdicts of each outcome and reason, and the latest verdicts (without
/// their series: an anomaly's page draws its own).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonalView {
    /// Verdicts per outcome and reason, by outcome then reason.
    pub counts: Vec<OutcomeCount>,
    /// The latest [`LATEST_SEASONAL`] verdicts, newest decision first.
    pub recent: Vec<SeasonalRow>,
}

/// The seasonal verdicts' counts and the latest ones.
pub async fn seasonal(db: &Database) -> Result<SeasonalView, ViewError> {
    Ok(SeasonalView {
        counts: projections::seasonal::outcome_counts(db).await?,
        recent: projections::seasonal::latest_results(db, LATEST_SEASONAL).await?,
    })
}
