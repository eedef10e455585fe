//! Read queries the web console browses: anomalies with what became of
//! each, an anomaly's checks, matches, alerts and labels, matches, profiles
//! and metric names, a page at a time.
//!
//! Cost. Each list query selects one page of ids first (an index scan in
//! `ORDER BY … DESC` order with `LIMIT`/`OFFSET`, in a derived table that
//! neither MySQL nor SQLite merges into the outer query), then computes
//! what a row shows — its state, check, deflecting match and alert count —
//! with correlated subqueries on the indexed `anomaly_id`/`check_id`
//! columns for those rows only. Ties on the timestamp are broken by id
//! descending so the scan is the index's own order on both engines (InnoDB
//! keeps the primary key in every secondary index; a mixed `DESC, id ASC`
//! order made MariaDB sort the whole table for every page).
//!
//! A state filter reads the `anomaly_outcomes` table instead (one row per
//! anomaly with its state, kept by its own projection,
//! [`crate::tables::outcomes`]): its `(state, anomaly_timestamp)` index
//! gives the count and the page of one state without touching the others.
//!
//! Every value from the caller is bound; metric patterns become `LIKE ?
//! ESCAPE '!'` (see [`AnomalyFilter::metric`]).

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};
use uuid::Uuid;

use crate::db::{text, Database, Value};
use crate::query::{
    opt_uuid, profile_row, uuid, ProfileRow, MATCH_COUNTS, PROFILE_COLUMNS, PROFILE_COLUMNS_LEN,
};
use crate::tables::checks::parse_series;
use crate::Error;

/// Most rows a page may hold: a bound on what one request costs.
pub const MAX_PER_PAGE: u32 = 500;

/// Rows per page when a filter does not say.
pub const DEFAULT_PER_PAGE: u32 = 50;

/// What an anomaly came to.
///
/// Derived at query time from the match, alert, check and seasonal rows
/// (never stored), so it is always what the folded log says, and a rebuild
/// gives the same answer. A deflecting match wins over alert rows: if the
/// latest decisive match for the anomaly deflected it, it is deflected even
/// if an earlier decision alerted. The seasonal verdict decides only when
/// none of deflected, alerted and pending holds: an anomaly seasonal
/// confirmed is handed on, and what came of that says more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyState {
    /// A fingerprint match deflected it: method features_profile or min_max.
    DeflectedByProfile,
    /// Deflected by a layers match (method "layers").
    DeflectedByLayer,
    /// Deflected by a motif match (method "motif").
    Motif,
    /// At least one alert row exists for it and no deflecting match.
    Alerted,
    /// A fingerprint check with alerts to send (checks.alerts non-empty JSON
    /// list) exists, but no match result yet.
    Pending,
    /// Its latest seasonal verdict: not anomalous over the long window.
    ClearedBySeasonal,
    /// Its latest seasonal verdict: still anomalous over the long window
    /// (the seasonal anomaly is handed on).
    ConfirmedBySeasonal,
    /// Its latest seasonal verdict: not judged (stale, too short a
    /// history). Shown so that a skipped check is never silently dropped.
    SeasonalSkipped,
    /// None of the above (no rule alerted it).
    NotAlerted,
}

impl AnomalyState {
    /// Every state, in the order the console lists them.
    pub const ALL: [AnomalyState; 9] = [
        AnomalyState::DeflectedByProfile,
        AnomalyState::DeflectedByLayer,
        AnomalyState::Motif,
        AnomalyState::Alerted,
        AnomalyState::Pending,
        AnomalyState::ClearedBySeasonal,
        AnomalyState::ConfirmedBySeasonal,
        AnomalyState::SeasonalSkipped,
        AnomalyState::NotAlerted,
    ];

    /// The state's stable name (its serde name), as the console's API and
    /// query strings carry it.
    pub fn as_str(&self) -> &'static str {
        match self {
            AnomalyState::DeflectedByProfile => "deflected_by_profile",
            AnomalyState::DeflectedByLayer => "deflected_by_layer",
            AnomalyState::Motif => "motif",
            AnomalyState::Alerted => "alerted",
            AnomalyState::Pending => "pending",
            AnomalyState::ClearedBySeasonal => "cleared_by_seasonal",
            AnomalyState::ConfirmedBySeasonal => "confirmed_by_seasonal",
            AnomalyState::SeasonalSkipped => "seasonal_skipped",
            AnomalyState::NotAlerted => "not_alerted",
        }
    }

    /// The state named `s` (as [`AnomalyState::as_str`] writes it).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }

    /// Every state's name, comma-separated, for messages that refuse an
    /// unknown one.
    pub fn names() -> String {
        Self::ALL.map(|s| s.as_str()).join(", ")
    }
}

impl std::fmt::Display for AnomalyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One page of a list, with what the console needs to draw its pager.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// Rows matching the filter on every page.
    pub total: i64,
    /// 1-based, as asked for (a page past the end is empty).
    pub page: u32,
    /// As applied: clamped to `1..=MAX_PER_PAGE`.
    pub per_page: u32,
}

impl<T> Page<T> {
    /// How many pages `total` rows make (0 when there are none).
    pub fn pages(&self) -> i64 {
        let per = i64::from(self.per_page.max(1));
        (self.total + per - 1) / per
    }
}

/// The first `limit` rows of a listing, over as many pages as they take,
/// and the listing's total: `page(n)` fetches its 1-based page `n`.
pub async fn first_rows<T, F, Fut>(limit: usize, mut page: F) -> Result<(Vec<T>, i64), Error>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, Error>>,
{
    let mut rows = Vec::new();
    let mut n = 1;
    loop {
        let p = page(n).await?;
        let full = !p.rows.is_empty() && p.rows.len() == p.per_page as usize;
        rows.extend(p.rows);
        if !full || rows.len() >= limit {
            rows.truncate(limit);
            return Ok((rows, p.total));
        }
        n += 1;
    }
}

/// Which anomalies [`anomalies`] lists.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AnomalyFilter {
    /// Metric pattern: with `*` a glob over the whole name (`*` = any run of
    /// characters), else a substring. Case-insensitive (both backends'
    /// default LIKE). `%`, `_` and `!` in the operator's text match
    /// literally (`LIKE ? ESCAPE '!'`: a backslash escape behaves
    /// differently on MySQL and SQLite). Empty: every metric.
    pub metric: Option<String>,
    /// Only anomalies in this state.
    pub state: Option<AnomalyState>,
    /// Unix seconds, inclusive, on the anomaly's timestamp.
    pub since: Option<i64>,
    /// Unix seconds, inclusive, on the anomaly's timestamp.
    pub until: Option<i64>,
    /// 1-based (0 reads as 1).
    pub page: u32,
    /// Clamped to `1..=MAX_PER_PAGE`.
    pub per_page: u32,
}

impl Default for AnomalyFilter {
    fn default() -> Self {
        AnomalyFilter {
            metric: None,
            state: None,
            since: None,
            until: None,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

/// One anomaly as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyListRow {
    /// The anomaly's id.
    pub id: Uuid,
    /// The metric's name.
    pub metric: String,
    /// The anomalous datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// The anomalous datapoint's value (of the derivative for a counter).
    pub value: f64,
    /// The app that found it (`analyzer`, `seasonal`, `fingerprint`).
    pub source: String,
    /// In the order the detector wrote them.
    pub triggered_algorithms: Vec<String>,
    /// Seconds of data judged.
    pub full_duration: i64,
    /// Its fingerprint check (target `fingerprint`), if any: what an
    /// operator labels.
    pub check_id: Option<Uuid>,
    /// What came of it: deflected, alerted, awaiting its verdict, cleared,
    /// confirmed or skipped by seasonal, or not alerted.
    pub state: AnomalyState,
    /// The profile of the deflecting match.
    pub matched_profile: Option<Uuid>,
    /// Alert rows for it.
    pub alerts: i64,
    /// Anomalous points the anomaly folded (PANORAMA_EXPIRY_TIME: the
    /// first and its repeats within the window).
    pub count: i64,
    /// Its newest anomalous point's timestamp (unix seconds).
    pub last_timestamp: i64,
    /// Its most extreme point's distance from its window's mean, in
    /// standard deviations.
    pub max_deviation: f64,
    /// When it ended (unix seconds): the first not-anomalous analysis after
    /// its last point; `None` while ongoing.
    pub end_timestamp: Option<i64>,
}

impl AnomalyListRow {
    /// How long it lasted (end − start, seconds), once ended.
    pub fn duration(&self) -> Option<i64> {
        self.end_timestamp
            .map(|end| end.saturating_sub(self.timestamp))
    }
}

/// Everything the console shows on an anomaly's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyDetail {
    /// The anomaly as listed.
    pub anomaly: AnomalyListRow,
    /// The algorithms that ran, in order.
    pub algorithms_run: Vec<String>,
    /// The judged window's first timestamp.
    pub from_timestamp: i64,
    /// When the anomaly ended (unix seconds); `None` until a fold records it.
    pub end_timestamp: Option<i64>,
    /// Oldest first, as are matches, alerts and labels: the anomaly's
    /// story in order.
    pub checks: Vec<CheckRow>,
    /// Fingerprint verdicts on its checks.
    pub matches: Vec<MatchRow>,
    /// Alerts sent for it.
    pub alerts: Vec<AlertRow>,
    /// Labels naming the anomaly or one of its checks.
    pub labels: Vec<LabelRow>,
    /// Every attempt to deliver its alerts, oldest first (see
    /// [`crate::alerting::delivery_summaries`] for each alerter's standing).
    pub deliveries: Vec<crate::alerting::DeliveryRow>,
    /// The seasonal verdicts on its seasonal checks, oldest decision first,
    /// with the series each judged.
    pub seasonal: Vec<crate::seasonal::SeasonalRow>,
}

/// A check of an anomaly, with the series it was judged on (to draw it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckRow {
    /// The check's id.
    pub id: Uuid,
    /// `seasonal` or `fingerprint`.
    pub target: String,
    /// The anomalous datapoint's timestamp (unix seconds).
    pub timestamp: i64,
    /// As the check recorded it; `None` for a check of events version 1
    /// (see [`crate::query::CheckForLabel::full_duration`] for its span).
    pub full_duration: Option<i64>,
    /// `(unix seconds, value)`, exact to the bit; empty for a check folded
    /// before migration 0002 kept series.
    pub series: Vec<(i64, f64)>,
    /// The alerters the check would alert unless deflected.
    pub alerts: Vec<String>,
    /// Those alerts with their rules, in the same order.
    pub routes: Vec<RouteRow>,
    /// The anomalous datapoint's value.
    pub value: f64,
}

/// An alert a check carries: who sends it, under which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteRow {
    /// Where the alert goes (`smtp`, `webhook`, `topic`, …).
    pub alerter: String,
    /// The alert rule's metric pattern.
    pub rule: String,
}

/// An alert sent for an anomaly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRow {
    /// The alert's id.
    pub id: Uuid,
    /// Where it was sent.
    pub alerter: String,
    /// The alert rule's metric pattern.
    pub rule: String,
    /// The anomalous datapoint's timestamp (unix seconds).
    pub timestamp: i64,
}

/// An operator's judgement of an anomaly or its check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelRow {
    /// The label's id.
    pub id: Uuid,
    /// The check whose series was labelled, if any.
    pub check_id: Option<Uuid>,
    /// Whether the operator called it not anomalous (which makes a features profile).
    pub not_anomalous: bool,
    /// Whether skyline may learn from it at longer durations.
    pub learn: bool,
    /// The layers definition (JSON) the label attached, if any.
    pub layers_json: Option<String>,
    /// Who labelled.
    pub operator: String,
    /// What the operator wrote.
    pub description: Option<String>,
    /// When it was labelled (unix milliseconds).
    pub labelled_at_ms: i64,
    /// The labelled datapoint's timestamp.
    pub timestamp: i64,
}

/// A fingerprint verdict on a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchRow {
    /// The verdict's id.
    pub id: Uuid,
    /// The check judged.
    pub check_id: Uuid,
    /// The anomaly the check is about.
    pub anomaly_id: Uuid,
    /// The metric's name.
    pub metric: String,
    /// The check's timestamp (unix seconds).
    pub timestamp: i64,
    /// Whether something matched (the anomaly was deflected).
    pub matched: bool,
    /// `features_profile`, `min_max`, `layers`, `motif` or `none`.
    pub method: String,
    /// The profile that matched, if any.
    pub profile_id: Option<Uuid>,
    /// The layers that matched (layers matches).
    pub layer_id: Option<Uuid>,
    /// Percent difference of the features sums (features and min-max matches).
    pub percent_different: Option<f64>,
    /// The motif's z-normalised distance (motif matches).
    pub distance: Option<f64>,
    /// Matched on the 24 h echo series rather than the check's own.
    pub echo: bool,
    /// Profiles compared by features.
    pub profiles_checked: i64,
    /// Where a motif matched, when the motif columns are set.
    pub motif: Option<MotifRow>,
    /// Matched by layers whose boundaries were only approximately met.
    pub approx_close: bool,
    /// Σ of the features of the check's series, if calculated.
    pub features_sum: Option<f64>,
    /// Features common to profile and check (features matches).
    pub common_features: Option<i64>,
    /// When fingerprint decided (unix milliseconds).
    pub decided_at_ms: i64,
}

/// Where in the check a motif matched the profile's series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MotifRow {
    /// Start of the matching subsequence in the profile's series (points).
    pub index: i64,
    /// Its length in points.
    pub size: i64,
    /// `exact` or `all_in_range`.
    pub kind: Option<String>,
    /// Trapezoid area of the check's query window.
    pub area: Option<f64>,
    /// Trapezoid area of the profile's subsequence.
    pub profile_area: Option<f64>,
    /// `|area − profile_area|` in percent of `profile_area`.
    pub area_percent_diff: Option<f64>,
}

/// Which checks' verdicts [`matches`] lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// Every verdict.
    #[default]
    All,
    /// Verdicts on ionosphere checks: judged against the metric's profiles
    /// (at least one checked), or carrying alerts the verdict sends or
    /// deflects.
    Ionosphere,
    /// Verdicts on training checks: a check carrying no alerts that no
    /// profile was checked against — the analyzer's check of a metric not
    /// yet ionosphere-enabled (no enabled profile), kept so that an
    /// operator can label it and make the first profile. Its verdict
    /// (unmatched, by none) says nothing.
    Training,
}

/// Whether match `x` is the verdict on a training check (see
/// [`CheckKind::Training`]).
fn training_verdict(x: &str) -> String {
    format!(
        "({x}.profiles_checked = 0 AND NOT EXISTS (SELECT 1 FROM checks tc \
         WHERE tc.id = {x}.check_id AND {}))",
        alerting_check("tc")
    )
}

/// Which matches [`matches`] lists.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MatchFilter {
    /// Verdicts on which checks.
    pub checks: CheckKind,
    /// A metric pattern, as [`AnomalyFilter::metric`].
    pub metric: Option<String>,
    /// Only matches naming this profile.
    pub profile: Option<Uuid>,
    /// Only matches that deflected their anomaly.
    pub matched_only: bool,
    /// Unix seconds, inclusive, on the match's (its check's) timestamp.
    pub since: Option<i64>,
    /// Unix seconds, inclusive, on the match's timestamp.
    pub until: Option<i64>,
    /// 1-based (0 reads as 1).
    pub page: u32,
    /// Clamped to `1..=MAX_PER_PAGE`.
    pub per_page: u32,
}

impl Default for MatchFilter {
    fn default() -> Self {
        MatchFilter {
            checks: CheckKind::All,
            metric: None,
            profile: None,
            matched_only: false,
            since: None,
            until: None,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

/// Everything the console shows on a profile's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileDetail {
    /// With its match counts.
    pub profile: ProfileRow,
    /// The metric's name.
    pub metric: String,
    /// The series it was made from, by timestamp.
    pub series: Vec<(i64, f64)>,
    /// Its layers definition, if it has one.
    pub layers: Option<LayersRow>,
    /// The check, label and anomaly it was made from (an operator's
    /// profile; learnt ones may have none).
    pub check_id: Option<Uuid>,
    /// The label it was made from.
    pub label_id: Option<Uuid>,
    /// The anomalous datapoint's timestamp it was made from (unix seconds).
    pub anomaly_timestamp: Option<i64>,
    /// The operator who made it (`None` for a learnt profile).
    pub operator: Option<String>,
    /// When an operator validated it (unix milliseconds).
    pub validated_at_ms: Option<i64>,
    /// When it was disabled (unix milliseconds).
    pub disabled_at_ms: Option<i64>,
    /// The profile whose disabling disabled this one.
    pub disabled_with: Option<Uuid>,
    /// Profiles learnt from this one (parent_id), oldest first.
    pub children: Vec<Uuid>,
}

/// A profile's layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayersRow {
    /// The layers' id.
    pub id: Uuid,
    /// The layers as JSON, as the operator defined them.
    pub definition: String,
    /// Whether the layers are enabled (they are disabled with their profile).
    pub enabled: bool,
}

/// Whether match `x` deflects its anomaly.
fn deflecting(x: &str) -> String {
    format!("{x}.matched = 1 AND {x}.method IN ('features_profile', 'min_max', 'layers', 'motif')")
}

/// Whether fingerprint check `x` still waits for its verdict with alerts to
/// send (not counting the match lookup).
fn alerting_check(x: &str) -> String {
    format!(
        "{x}.target = 'fingerprint' AND {x}.alerts IS NOT NULL AND {x}.alerts <> '[]' \
         AND {x}.alerts <> ''"
    )
}

/// The deflecting match of anomaly `a`, from which `col` is selected: the
/// latest decided one (a check re-judged after learning may match again).
fn deflecting_match(col: &str) -> String {
    format!(
        "SELECT dm.{col} FROM matches dm WHERE dm.anomaly_id = a.id AND {} \
         ORDER BY dm.decided_at_ms DESC, dm.id DESC LIMIT 1",
        deflecting("dm")
    )
}

/// The [`AnomalyState`] of anomaly `a`, by name, for the rows of a page.
/// [`state_filter`] selects the same anomalies, written as joins.
fn state_sql() -> String {
    format!(
        "CASE ({}) \
         WHEN 'features_profile' THEN 'deflected_by_profile' \
         WHEN 'min_max' THEN 'deflected_by_profile' \
         WHEN 'layers' THEN 'deflected_by_layer' \
         WHEN 'motif' THEN 'motif' \
         ELSE CASE \
           WHEN EXISTS (SELECT 1 FROM alerts sa WHERE sa.anomaly_id = a.id) THEN 'alerted' \
           WHEN EXISTS (SELECT 1 FROM checks sc WHERE sc.anomaly_id = a.id AND {} \
             AND NOT EXISTS (SELECT 1 FROM matches sm WHERE sm.check_id = sc.id)) \
             THEN 'pending' \
           ELSE CASE (SELECT ss.outcome FROM seasonal_results ss WHERE ss.anomaly_id = a.id \
               AND ss.periodic = 0 ORDER BY ss.decided_at_ms DESC, ss.id DESC LIMIT 1) \
             WHEN 'cleared' THEN 'cleared_by_seasonal' \
             WHEN 'anomalous' THEN 'confirmed_by_seasonal' \
             WHEN 'skipped' THEN 'seasonal_skipped' \
             ELSE 'not_alerted' END \
           END \
         END",
        deflecting_match("method"),
        alerting_check("sc")
    )
}

/// The columns [`anomaly_row`] reads (then algorithms_run, from_timestamp
/// and end_timestamp for the detail), `a` being `anomalies` and `m` its
/// metric.
fn anomaly_columns() -> String {
    format!(
        "a.id, m.name, a.anomaly_timestamp, a.value, a.source_app, a.triggered_algorithms, \
         a.full_duration, \
         (SELECT fc.id FROM checks fc WHERE fc.anomaly_id = a.id AND fc.target = 'fingerprint' \
          ORDER BY fc.check_timestamp DESC, fc.id LIMIT 1), \
         {}, ({}), \
         (SELECT COUNT(*) FROM alerts al WHERE al.anomaly_id = a.id), \
         a.algorithms_run, a.from_timestamp, a.end_timestamp, \
         a.anomaly_count, a.last_timestamp, a.max_deviation",
        state_sql(),
        deflecting_match("profile_id")
    )
}

/// The newest anomalies matching `filter`, a page at a time (newest first:
/// anomaly_timestamp DESC, then id DESC), with what became of each.
pub async fn anomalies(
    db: &Database,
    filter: &AnomalyFilter,
) -> Result<Page<AnomalyListRow>, Error> {
    let paging = Paging::new(filter.page, filter.per_page);
    let mut w = Conditions::default();
    if let Some(pattern) = like_pattern(filter.metric.as_deref()) {
        w.add(
            "a.metric_id IN (SELECT mp.id FROM metrics mp WHERE mp.name LIKE ? ESCAPE '!')",
            pattern,
        );
    }
    if let Some(since) = filter.since {
        w.add("a.anomaly_timestamp >= ?", since);
    }
    if let Some(until) = filter.until {
        w.add("a.anomaly_timestamp <= ?", until);
    }
    if let Some(state) = filter.state {
        return anomalies_in_state(db, filter, state, &paging).await;
    }
    let mut tx = db.pool().begin().await?;
    let total = count(&mut tx, "anomalies a", &w).await?;
    let page_sql = format!(
        "SELECT {} FROM (SELECT a.id, a.anomaly_timestamp FROM anomalies a{} \
         ORDER BY a.anomaly_timestamp DESC, a.id DESC LIMIT ? OFFSET ?) p \
         JOIN anomalies a ON a.id = p.id LEFT JOIN metrics m ON m.id = a.metric_id \
         ORDER BY a.anomaly_timestamp DESC, a.id DESC",
        anomaly_columns(),
        w.sql()
    );
    let rows = page(&mut tx, &page_sql, &w, &paging, total).await?;
    tx.commit().await?;
    Ok(paging.wrap(
        total,
        rows.iter().map(anomaly_row).collect::<Result<_, _>>()?,
    ))
}

/// The anomalies in one state: read from `anomaly_outcomes`
/// ([`crate::tables::outcomes`]), whose `(state, anomaly_timestamp)` index
/// gives both the count and the page without looking at the anomalies in
/// other states. Its rows are folded by their own consumer, so a state
/// filter can trail the newest events by a moment; the state shown on each
/// row is computed from the source tables, as for an unfiltered list.
async fn anomalies_in_state(
    db: &Database,
    filter: &AnomalyFilter,
    state: AnomalyState,
    paging: &Paging,
) -> Result<Page<AnomalyListRow>, Error> {
    let mut w = Conditions::default();
    w.add("o.state = ?", state.as_str());
    if let Some(pattern) = like_pattern(filter.metric.as_deref()) {
        w.add(
            "o.metric_id IN (SELECT mp.id FROM metrics mp WHERE mp.name LIKE ? ESCAPE '!')",
            pattern,
        );
    }
    if let Some(since) = filter.since {
        w.add("o.anomaly_timestamp >= ?", since);
    }
    if let Some(until) = filter.until {
        w.add("o.anomaly_timestamp <= ?", until);
    }
    let mut tx = db.pool().begin().await?;
    let total = count(&mut tx, "anomaly_outcomes o", &w).await?;
    let page_sql = format!(
        "SELECT {} FROM (SELECT o.anomaly_id AS id, o.anomaly_timestamp FROM anomaly_outcomes o{} \
         ORDER BY o.anomaly_timestamp DESC, o.anomaly_id DESC LIMIT ? OFFSET ?) p \
         JOIN anomalies a ON a.id = p.id LEFT JOIN metrics m ON m.id = a.metric_id \
         ORDER BY a.anomaly_timestamp DESC, a.id DESC",
        anomaly_columns(),
        w.sql()
    );
    let rows = page(&mut tx, &page_sql, &w, paging, total).await?;
    tx.commit().await?;
    Ok(paging.wrap(
        total,
        rows.iter().map(anomaly_row).collect::<Result<_, _>>()?,
    ))
}

/// Anomaly `id` with its checks, matches, alerts, labels and deliveries, or `None` if
/// the projections have not seen it.
pub async fn anomaly(db: &Database, id: Uuid) -> Result<Option<AnomalyDetail>, Error> {
    let id_text = id.to_string();
    let mut tx = db.pool().begin().await?;
    let sql = format!(
        "SELECT {} FROM anomalies a LEFT JOIN metrics m ON m.id = a.metric_id WHERE a.id = ?",
        anomaly_columns()
    );
    let Some(r) = sqlx::query(&sql)
        .bind(id_text.clone())
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let anomaly = anomaly_row(&r)?;
    let algorithms_run = split_csv(&text(&r, 11)?.unwrap_or_default());
    let from_timestamp = r.try_get(12)?;
    let end_timestamp = r.try_get(13)?;

    let checks = sqlx::query(
        "SELECT id, target, check_timestamp, full_duration, series, alerts, value \
         FROM checks WHERE anomaly_id = ? ORDER BY check_timestamp, decided_at_ms, id",
    )
    .bind(id_text.clone())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(check_row)
    .collect::<Result<Vec<_>, _>>()?;

    let matches = sqlx::query(&format!(
        "SELECT {MATCH_COLUMNS} FROM matches x LEFT JOIN metrics mt ON mt.id = x.metric_id \
         WHERE x.anomaly_id = ? ORDER BY x.decided_at_ms, x.id"
    ))
    .bind(id_text.clone())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(match_row)
    .collect::<Result<Vec<_>, _>>()?;

    let alerts = sqlx::query(
        "SELECT id, alerter, rule, alert_timestamp FROM alerts WHERE anomaly_id = ? \
         ORDER BY alert_timestamp, decided_at_ms, id",
    )
    .bind(id_text.clone())
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        Ok(AlertRow {
            id: uuid(r, 0, "alert id")?,
            alerter: text(r, 1)?.unwrap_or_default(),
            rule: text(r, 2)?.unwrap_or_default(),
            timestamp: r.try_get(3)?,
        })
    })
    .collect::<Result<Vec<_>, Error>>()?;

    // Labels name the anomaly, or (labels of a check only) one of its
    // checks: two indexed lookups rather than an OR neither engine indexes.
    let mut labels = Vec::new();
    for (sql, binds) in [
        (
            format!("SELECT {LABEL_COLUMNS} FROM labels l WHERE l.anomaly_id = ?"),
            1,
        ),
        (
            format!(
                "SELECT {LABEL_COLUMNS} FROM labels l WHERE l.check_id IN \
                 (SELECT c.id FROM checks c WHERE c.anomaly_id = ?) \
                 AND (l.anomaly_id IS NULL OR l.anomaly_id <> ?)"
            ),
            2,
        ),
    ] {
        let mut query = sqlx::query(&sql);
        for _ in 0..binds {
            query = query.bind(id_text.clone());
        }
        let rows = query.fetch_all(&mut *tx).await?;
        for r in &rows {
            labels.push(label_row(r)?);
        }
    }
    labels.sort_by_key(|l| (l.labelled_at_ms, l.id));
    let deliveries = crate::alerting::deliveries_in(&mut tx, id).await?;
    let seasonal = crate::seasonal::results_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Some(AnomalyDetail {
        anomaly,
        algorithms_run,
        from_timestamp,
        end_timestamp,
        checks,
        matches,
        alerts,
        labels,
        deliveries,
        seasonal,
    }))
}

/// The columns [`match_row`] reads, `x` being `matches` and `mt` its metric
/// (or, if the metrics table lags, the name on its check).
const MATCH_COLUMNS: &str = "x.id, x.check_id, x.anomaly_id, \
     COALESCE(mt.name, (SELECT c.metric FROM checks c WHERE c.id = x.check_id)), \
     x.match_timestamp, x.matched, x.method, x.profile_id, x.layer_id, x.percent_different, \
     x.distance, x.echo, x.profiles_checked, x.motif_index, x.motif_size, x.motif_kind, \
     x.motif_area, x.motif_profile_area, x.motif_area_percent_diff, x.approx_close, \
     x.features_sum, x.common_features, x.decided_at_ms";

/// The newest matches matching `filter`, a page at a time (newest first:
/// match_timestamp DESC, then id DESC).
pub async fn matches(db: &Database, filter: &MatchFilter) -> Result<Page<MatchRow>, Error> {
    let paging = Paging::new(filter.page, filter.per_page);
    let mut w = Conditions::default();
    if let Some(pattern) = like_pattern(filter.metric.as_deref()) {
        w.add(
            "x.metric_id IN (SELECT mp.id FROM metrics mp WHERE mp.name LIKE ? ESCAPE '!')",
            pattern,
        );
    }
    if let Some(profile) = filter.profile {
        w.add("x.profile_id = ?", profile);
    }
    if filter.matched_only {
        w.add_fixed("x.matched = 1");
    }
    match filter.checks {
        CheckKind::All => {}
        CheckKind::Ionosphere => w.add_fixed(&format!("NOT {}", training_verdict("x"))),
        CheckKind::Training => w.add_fixed(&training_verdict("x")),
    }
    if let Some(since) = filter.since {
        w.add("x.match_timestamp >= ?", since);
    }
    if let Some(until) = filter.until {
        w.add("x.match_timestamp <= ?", until);
    }
    let page_sql = format!(
        "SELECT {MATCH_COLUMNS} FROM (SELECT x.id, x.match_timestamp FROM matches x{} \
         ORDER BY x.match_timestamp DESC, x.id DESC LIMIT ? OFFSET ?) p \
         JOIN matches x ON x.id = p.id LEFT JOIN metrics mt ON mt.id = x.metric_id \
         ORDER BY x.match_timestamp DESC, x.id DESC",
        w.sql()
    );
    let mut tx = db.pool().begin().await?;
    let total = count(&mut tx, "matches x", &w).await?;
    let rows = page(&mut tx, &page_sql, &w, &paging, total).await?;
    tx.commit().await?;
    Ok(paging.wrap(total, rows.iter().map(match_row).collect::<Result<_, _>>()?))
}

/// Profile `id` with its series, layers, lineage and match counts, or
/// `None` if the projections have not seen it.
pub async fn profile(db: &Database, id: Uuid) -> Result<Option<ProfileDetail>, Error> {
    let id_text = id.to_string();
    let mut tx = db.pool().begin().await?;
    let sql = format!(
        "SELECT {PROFILE_COLUMNS}, mt.name, p.check_id, p.label_id, p.anomaly_timestamp, \
         p.operator, p.validated_at_ms, p.disabled_at_ms, p.disabled_with FROM profiles p \
         LEFT JOIN ({MATCH_COUNTS} AND profile_id = ? GROUP BY profile_id) c \
         ON c.profile_id = p.id LEFT JOIN metrics mt ON mt.id = p.metric_id WHERE p.id = ?"
    );
    let Some(r) = sqlx::query(&sql)
        .bind(id_text.clone())
        .bind(id_text.clone())
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    let n = PROFILE_COLUMNS_LEN;
    let profile = profile_row(&r)?;
    let metric = text(&r, n)?.unwrap_or_default();
    let check_id = opt_uuid(&r, n + 1, "profile check id")?;
    let label_id = opt_uuid(&r, n + 2, "profile label id")?;
    let anomaly_timestamp = r.try_get(n + 3)?;
    let operator = text(&r, n + 4)?;
    let validated_at_ms = r.try_get(n + 5)?;
    let disabled_at_ms = r.try_get(n + 6)?;
    let disabled_with = opt_uuid(&r, n + 7, "profile disabled_with")?;

    let series = series_of(&mut tx, &id_text).await?;

    let layers = match sqlx::query(
        "SELECT id, definition, enabled FROM layers WHERE profile_id = ? \
         ORDER BY created_at_ms DESC, id LIMIT 1",
    )
    .bind(id_text.clone())
    .fetch_optional(&mut *tx)
    .await?
    {
        Some(r) => Some(LayersRow {
            id: uuid(&r, 0, "layers id")?,
            definition: text(&r, 1)?.unwrap_or_default(),
            enabled: r.try_get::<i64, _>(2)? != 0,
        }),
        None => None,
    };

    let children = ids(
        &mut tx,
        "SELECT id FROM profiles WHERE parent_id = ? ORDER BY created_at_ms, id",
        &id_text,
        "profile id",
    )
    .await?;
    tx.commit().await?;
    Ok(Some(ProfileDetail {
        profile,
        metric,
        series,
        layers,
        check_id,
        label_id,
        anomaly_timestamp,
        operator,
        validated_at_ms,
        disabled_at_ms,
        disabled_with,
        children,
    }))
}

/// The series of profile `id`, oldest first (empty for an unknown
/// profile): what a list of matches draws, without the rest of
/// [`profile`].
pub async fn profile_series(db: &Database, id: Uuid) -> Result<Vec<(i64, f64)>, Error> {
    let mut conn = db.pool().acquire().await?;
    series_of(&mut conn, &id.to_string()).await
}

async fn series_of(conn: &mut AnyConnection, id: &str) -> Result<Vec<(i64, f64)>, Error> {
    sqlx::query(
        "SELECT series_timestamp, value FROM profile_series WHERE profile_id = ? \
         ORDER BY series_timestamp",
    )
    .bind(id.to_owned())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect()
}

/// The profiles made from labelling `check_id` (profiles.check_id), oldest
/// first — the console shows "the resulting profile" after a label.
pub async fn profiles_from_check(db: &Database, check_id: Uuid) -> Result<Vec<Uuid>, Error> {
    let mut conn = db.pool().acquire().await?;
    ids(
        &mut conn,
        "SELECT id FROM profiles WHERE check_id = ? ORDER BY created_at_ms, id",
        &check_id.to_string(),
        "profile id",
    )
    .await
}

/// Metric names matching a pattern (as [`AnomalyFilter::metric`]; `None`:
/// all), sorted (in the database's collation), at most `limit`: the
/// console's metric picker.
pub async fn metrics(
    db: &Database,
    pattern: Option<&str>,
    limit: u32,
) -> Result<Vec<String>, Error> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut w = Conditions::default();
    if let Some(pattern) = like_pattern(pattern) {
        w.add("name LIKE ? ESCAPE '!'", pattern);
    }
    let sql = format!("SELECT name FROM metrics{} ORDER BY name LIMIT ?", w.sql());
    let rows = bind(sqlx::query(&sql), &w.binds)
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok(text(r, 0)?.unwrap_or_default()))
        .collect()
}

/// One metric being received, as `skyline metrics` and the console's
/// metrics page list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricActivityRow {
    /// The metric's name.
    pub name: String,
    /// Its first and latest datapoint timestamps (unix seconds, data time).
    pub first_seen: i64,
    /// Its latest datapoint timestamp (unix seconds, data time).
    pub last_seen: i64,
    /// Datapoints received in all.
    pub datapoints: i64,
    /// It has an active features profile (its anomalies go to fingerprint).
    pub ionosphere_enabled: bool,
    /// Its anomalies in the 24 hours up to its latest datapoint (data time,
    /// so a replayed or imported history reads the same as a live one).
    pub anomalies_24h: i64,
}

/// Every metric received (the `activity` projection) matching `pattern`
/// (as [`AnomalyFilter::metric`]), by name, a page at a time.
pub async fn metric_activity(
    db: &Database,
    pattern: Option<&str>,
    page_no: u32,
    per_page: u32,
) -> Result<Page<MetricActivityRow>, Error> {
    let paging = Paging::new(page_no, per_page);
    let mut w = Conditions::default();
    if let Some(pattern) = like_pattern(pattern) {
        w.add("x.name LIKE ? ESCAPE '!'", pattern);
    }
    let page_sql = format!(
        "SELECT x.name, x.first_seen, x.last_seen, x.datapoints, \
         COALESCE(m.ionosphere_enabled, 0), \
         (SELECT COUNT(*) FROM anomalies an WHERE an.metric_id = x.metric_id \
          AND an.anomaly_timestamp > x.last_seen - 86400) \
         FROM metric_activity x LEFT JOIN metrics m ON m.id = x.metric_id{} \
         ORDER BY x.name LIMIT ? OFFSET ?",
        w.sql()
    );
    let mut tx = db.pool().begin().await?;
    let total = count(&mut tx, "metric_activity x", &w).await?;
    let rows = page(&mut tx, &page_sql, &w, &paging, total).await?;
    tx.commit().await?;
    let rows = rows
        .iter()
        .map(|r| {
            Ok(MetricActivityRow {
                name: text(r, 0)?.unwrap_or_default(),
                first_seen: r.try_get(1)?,
                last_seen: r.try_get(2)?,
                datapoints: r.try_get(3)?,
                ionosphere_enabled: r.try_get::<i64, _>(4)? != 0,
                anomalies_24h: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(paging.wrap(total, rows))
}

/// The `LIKE` pattern (escape character `!`) for an operator's metric
/// pattern: with `*` a glob anchored at both ends, else a substring; `%`,
/// `_` and `!` literal. `None` (no filter) for no or an empty pattern.
fn like_pattern(pattern: Option<&str>) -> Option<String> {
    let pattern = pattern.filter(|p| !p.is_empty())?;
    let glob = pattern.contains('*');
    let mut out = String::with_capacity(pattern.len() + 8);
    if !glob {
        out.push('%');
    }
    for c in pattern.chars() {
        match c {
            '*' => out.push('%'),
            '%' | '_' | '!' => {
                out.push('!');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    if !glob {
        out.push('%');
    }
    Some(out)
}

/// A page as asked for, clamped.
struct Paging {
    page: u32,
    per_page: u32,
}

impl Paging {
    fn new(page: u32, per_page: u32) -> Paging {
        Paging {
            page: page.max(1),
            per_page: per_page.clamp(1, MAX_PER_PAGE),
        }
    }

    fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    fn wrap<T>(&self, total: i64, rows: Vec<T>) -> Page<T> {
        Page {
            rows,
            total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

/// Joins and `AND`ed conditions with their bound values, in order (joins
/// bind nothing).
#[derive(Default, Clone)]
struct Conditions {
    joins: Vec<String>,
    clauses: Vec<String>,
    binds: Vec<Value>,
}

impl Conditions {
    /// A condition with one `?`.
    fn add(&mut self, clause: impl Into<String>, value: impl Into<Value>) {
        self.clauses.push(clause.into());
        self.binds.push(value.into());
    }

    /// A condition with nothing to bind.
    fn add_fixed(&mut self, clause: &str) {
        self.clauses.push(clause.to_owned());
    }

    /// ` JOIN … WHERE …`, or nothing.
    fn sql(&self) -> String {
        let mut out = String::new();
        for join in &self.joins {
            out.push(' ');
            out.push_str(join);
        }
        if !self.clauses.is_empty() {
            out.push_str(" WHERE ");
            out.push_str(&self.clauses.join(" AND "));
        }
        out
    }
}

type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

fn bind<'q>(mut query: AnyQuery<'q>, values: &[Value]) -> AnyQuery<'q> {
    for value in values {
        query = match value {
            Value::Int(v) => query.bind(*v),
            Value::Real(v) => query.bind(*v),
            Value::Text(v) => query.bind(v.clone()),
        };
    }
    query
}

/// How many rows of `table` (with its alias) `w` selects.
async fn count(conn: &mut AnyConnection, table: &str, w: &Conditions) -> Result<i64, Error> {
    let sql = format!("SELECT COUNT(*) FROM {table}{}", w.sql());
    Ok(bind(sqlx::query(&sql), &w.binds)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?)
}

/// The rows of `page_sql`, which takes `w`'s values then its `LIMIT` and
/// `OFFSET`; a page past the `total` rows is not queried.
async fn page(
    conn: &mut AnyConnection,
    page_sql: &str,
    w: &Conditions,
    paging: &Paging,
    total: i64,
) -> Result<Vec<AnyRow>, Error> {
    if paging.offset() >= total {
        return Ok(Vec::new());
    }
    Ok(bind(sqlx::query(page_sql), &w.binds)
        .bind(i64::from(paging.per_page))
        .bind(paging.offset())
        .fetch_all(&mut *conn)
        .await?)
}

/// The ids `sql` selects with `id` bound.
async fn ids(
    conn: &mut AnyConnection,
    sql: &str,
    id: &str,
    what: &'static str,
) -> Result<Vec<Uuid>, Error> {
    sqlx::query(sql)
        .bind(id.to_owned())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| uuid(r, 0, what))
        .collect()
}

/// Algorithm names as stored (comma-separated, see [`crate::csv`]).
pub(crate) fn split_csv(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::to_owned).collect()
    }
}

fn anomaly_row(r: &AnyRow) -> Result<AnomalyListRow, Error> {
    let state = text(r, 8)?.unwrap_or_default();
    Ok(AnomalyListRow {
        id: uuid(r, 0, "anomaly id")?,
        metric: text(r, 1)?.unwrap_or_default(),
        timestamp: r.try_get(2)?,
        value: r.try_get(3)?,
        source: text(r, 4)?.unwrap_or_default(),
        triggered_algorithms: split_csv(&text(r, 5)?.unwrap_or_default()),
        full_duration: r.try_get(6)?,
        check_id: opt_uuid(r, 7, "check id")?,
        state: AnomalyState::parse(&state).ok_or_else(|| Error::Stored {
            what: "anomaly state",
            detail: format!("{state:?}"),
        })?,
        matched_profile: opt_uuid(r, 9, "profile id")?,
        alerts: r.try_get::<Option<i64>, _>(10)?.unwrap_or(0),
        end_timestamp: r.try_get(13)?,
        count: r.try_get::<Option<i64>, _>(14)?.unwrap_or(1),
        last_timestamp: r.try_get::<Option<i64>, _>(15)?.unwrap_or(r.try_get(2)?),
        max_deviation: r.try_get::<Option<f64>, _>(16)?.unwrap_or(0.0),
    })
}

fn check_row(r: &AnyRow) -> Result<CheckRow, Error> {
    let id = uuid(r, 0, "check id")?;
    let series = match text(r, 4)? {
        Some(json) => parse_series(&json).map_err(|e| Error::Stored {
            what: "check series",
            detail: format!("check {id}: {e}"),
        })?,
        None => Vec::new(),
    };
    let routes: Vec<topics::AlertRoute> = match text(r, 5)? {
        Some(json) => serde_json::from_str(&json).map_err(|e| Error::Stored {
            what: "check alerts",
            detail: format!("check {id}: {e}"),
        })?,
        None => Vec::new(),
    };
    Ok(CheckRow {
        id,
        target: text(r, 1)?.unwrap_or_default(),
        timestamp: r.try_get(2)?,
        full_duration: r.try_get(3)?,
        series,
        alerts: routes.iter().map(|a| a.alerter.clone()).collect(),
        routes: routes
            .into_iter()
            .map(|a| RouteRow {
                alerter: a.alerter,
                rule: a.rule,
            })
            .collect(),
        value: r.try_get(6)?,
    })
}

fn match_row(r: &AnyRow) -> Result<MatchRow, Error> {
    let motif = match (
        r.try_get::<Option<i64>, _>(13)?,
        r.try_get::<Option<i64>, _>(14)?,
    ) {
        (Some(index), Some(size)) => Some(MotifRow {
            index,
            size,
            kind: text(r, 15)?,
            area: r.try_get(16)?,
            profile_area: r.try_get(17)?,
            area_percent_diff: r.try_get(18)?,
        }),
        _ => None,
    };
    Ok(MatchRow {
        id: uuid(r, 0, "match id")?,
        check_id: uuid(r, 1, "check id")?,
        anomaly_id: uuid(r, 2, "anomaly id")?,
        metric: text(r, 3)?.unwrap_or_default(),
        timestamp: r.try_get(4)?,
        matched: r.try_get::<i64, _>(5)? != 0,
        method: text(r, 6)?.unwrap_or_default(),
        profile_id: opt_uuid(r, 7, "profile id")?,
        layer_id: opt_uuid(r, 8, "layer id")?,
        percent_different: r.try_get(9)?,
        distance: r.try_get(10)?,
        echo: r.try_get::<i64, _>(11)? != 0,
        profiles_checked: r.try_get(12)?,
        motif,
        approx_close: r.try_get::<i64, _>(19)? != 0,
        features_sum: r.try_get(20)?,
        common_features: r.try_get(21)?,
        decided_at_ms: r.try_get(22)?,
    })
}

/// The columns [`label_row`] reads, `l` being `labels`.
const LABEL_COLUMNS: &str = "l.id, l.check_id, l.not_anomalous, l.learn, l.layers_json, \
     l.operator, l.description, l.labelled_at_ms, l.label_timestamp";

fn label_row(r: &AnyRow) -> Result<LabelRow, Error> {
    Ok(LabelRow {
        id: uuid(r, 0, "label id")?,
        check_id: opt_uuid(r, 1, "label check id")?,
        not_anomalous: r.try_get::<i64, _>(2)? != 0,
        learn: r.try_get::<i64, _>(3)? != 0,
        layers_json: text(r, 4)?,
        operator: text(r, 5)?.unwrap_or_default(),
        description: text(r, 6)?,
        labelled_at_ms: r.try_get(7)?,
        timestamp: r.try_get(8)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_substrings_or_anchored_globs_with_literal_wildcards() {
        assert_eq!(like_pattern(None), None);
        assert_eq!(like_pattern(Some("")), None);
        assert_eq!(like_pattern(Some("cpu")).unwrap(), "%cpu%");
        assert_eq!(like_pattern(Some("web*.cpu")).unwrap(), "web%.cpu");
        assert_eq!(like_pattern(Some("*")).unwrap(), "%");
        assert_eq!(like_pattern(Some("a%b_c!d")).unwrap(), "%a!%b!_c!!d%");
        assert_eq!(like_pattern(Some("x%*")).unwrap(), "x!%%");
        assert_eq!(like_pattern(Some("a\\b'")).unwrap(), "%a\\b'%");
    }

    #[test]
    fn states_round_trip_by_name() {
        for state in AnomalyState::ALL {
            assert_eq!(AnomalyState::parse(state.as_str()), Some(state));
            assert_eq!(
                serde_json::to_string(&state).unwrap(),
                format!("\"{}\"", state.as_str())
            );
        }
        assert_eq!(AnomalyState::parse("Alerted"), None);
    }

    #[test]
    fn paging_clamps() {
        let p = Paging::new(0, 0);
        assert_eq!((p.page, p.per_page, p.offset()), (1, 1, 0));
        let p = Paging::new(3, 10_000);
        assert_eq!((p.page, p.per_page, p.offset()), (3, MAX_PER_PAGE, 1000));
        let p = Paging::new(u32::MAX, MAX_PER_PAGE);
        assert_eq!(p.offset(), i64::from(u32::MAX - 1) * 500);
        let page = p.wrap::<()>(1001, Vec::new());
        assert_eq!(page.pages(), 3);
    }
}
