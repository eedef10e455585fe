//! Read queries over the projections, for the CLI and the console.

use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use crate::db::{text, Database};
use crate::tables::checks::parse_series;
use crate::{metric_id, Error};

/// What labelling a check needs: whose anomaly it is, when, and the series
/// it was judged on (with a seasonal check's echo series) (`skyline label` and the console's labels API).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckForLabel {
    /// The check's id.
    pub check_id: Uuid,
    /// The anomaly it re-judges.
    pub anomaly_id: Uuid,
    /// The metric's name.
    pub metric: String,
    /// The anomaly's timestamp (unix seconds).
    pub timestamp: i64,
    /// Seconds of data the check was judged at: as the check recorded it,
    /// or (checks of version 1, which did not) the series' span.
    pub full_duration: i64,
    /// The judged series, `(unix seconds, value)`, exact to the bit. Empty
    /// for a check folded before the series was kept (migration 0002):
    /// rebuild the `checks` projection to fill it from the log.
    pub series: Vec<(i64, f64)>,
    /// A seasonal check's last 24 h at full resolution (what its label's
    /// echo profile is made from), exact to the bit; `None` for other
    /// checks and for checks folded before migration 0007.
    pub echo_series: Option<Vec<(i64, f64)>>,
}

/// The check `check_id` with its series, or `None` if the projections have
/// not seen it.
pub async fn check_for_label(
    db: &Database,
    check_id: Uuid,
) -> Result<Option<CheckForLabel>, Error> {
    // The metric's name is on the check itself since 0002; older rows take
    // it from `metrics` (another projection's table, hence the LEFT JOIN).
    let row = sqlx::query(
        "SELECT c.id, c.anomaly_id, c.metric, m.name, c.check_timestamp, c.full_duration, \
         c.series_from, c.series_until, c.series, c.echo_series \
         FROM checks c LEFT JOIN metrics m ON m.id = c.metric_id WHERE c.id = ?",
    )
    .bind(check_id.to_string())
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let series = match text(&r, 8)? {
        Some(json) => parse_series(&json).map_err(|e| Error::Stored {
            what: "check series",
            detail: format!("check {check_id}: {e}"),
        })?,
        None => Vec::new(),
    };
    let echo_series = text(&r, 9)?
        .map(|json| {
            parse_series(&json).map_err(|e| Error::Stored {
                what: "check echo series",
                detail: format!("check {check_id}: {e}"),
            })
        })
        .transpose()?;
    let span = match (
        r.try_get::<Option<i64>, _>(6)?,
        r.try_get::<Option<i64>, _>(7)?,
    ) {
        (Some(from), Some(until)) => until - from,
        _ => 0,
    };
    Ok(Some(CheckForLabel {
        check_id: uuid(&r, 0, "check id")?,
        anomaly_id: uuid(&r, 1, "anomaly id")?,
        metric: match text(&r, 2)? {
            Some(m) => m,
            None => text(&r, 3)?.unwrap_or_default(),
        },
        timestamp: r.try_get(4)?,
        full_duration: r.try_get::<Option<i64>, _>(5)?.unwrap_or(span),
        series,
        echo_series,
    }))
}

/// How often a profile deflected an anomaly, by method, from the `matches`
/// table.
///
/// These are counted from the match rows at query time rather than kept as
/// counters (the reference's `matched_count`, `motif_matched_count`, …):
/// rows are keyed by match id, so a match re-emitted by a fingerprint
/// consumer that crashed and decided again counts once, a rebuild from
/// offset 0 gives the same numbers, and no two projections update one
/// counter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MatchCounts {
    /// Matched by comparing features (`features_profile`).
    pub features: i64,
    /// Matched by comparing min-max scaled features.
    pub min_max: i64,
    /// Matched by motif (MASS).
    pub motif: i64,
    /// Matched by a layers definition.
    pub layers: i64,
    /// Timestamp of the latest check it matched.
    pub last_matched: Option<i64>,
    /// Match results that name the profile, matched or not. Match results
    /// do not list every profile compared (only how many), so a profile
    /// compared and passed over in favour of none is not counted here: this
    /// is a lower bound of the reference's `checked_count`.
    pub checked: i64,
}

impl MatchCounts {
    /// Matches by any method.
    pub fn matched(&self) -> i64 {
        self.features + self.min_max + self.motif + self.layers
    }
}

/// A profile's [`MatchCounts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileMatchCount {
    /// The profile counted.
    pub profile_id: Uuid,
    /// Its matches by method.
    pub counts: MatchCounts,
}

/// The aggregate behind [`MatchCounts`], grouped by profile.
pub(crate) const MATCH_COUNTS: &str = "SELECT profile_id, \
     COUNT(CASE WHEN matched = 1 AND method = 'features_profile' THEN 1 END) AS n_features, \
     COUNT(CASE WHEN matched = 1 AND method = 'min_max' THEN 1 END) AS n_min_max, \
     COUNT(CASE WHEN matched = 1 AND method = 'motif' THEN 1 END) AS n_motif, \
     COUNT(CASE WHEN matched = 1 AND method = 'layers' THEN 1 END) AS n_layers, \
     MAX(CASE WHEN matched = 1 THEN match_timestamp END) AS last_matched, \
     COUNT(*) AS n_checked \
     FROM matches WHERE profile_id IS NOT NULL";

fn match_counts(r: &AnyRow, first: usize) -> Result<MatchCounts, Error> {
    let count = |i: usize| -> Result<i64, Error> {
        Ok(r.try_get::<Option<i64>, _>(first + i)?.unwrap_or(0))
    };
    Ok(MatchCounts {
        features: count(0)?,
        min_max: count(1)?,
        motif: count(2)?,
        layers: count(3)?,
        last_matched: r.try_get(first + 4)?,
        checked: count(5)?,
    })
}

/// Match counts of every profile named by a match (of `metric`, if given),
/// most recently matched first. See [`MatchCounts`] for why they are
/// counted from the rows.
pub async fn profile_match_counts(
    db: &Database,
    metric: Option<&str>,
) -> Result<Vec<ProfileMatchCount>, Error> {
    let mut sql = String::from(MATCH_COUNTS);
    if metric.is_some() {
        sql.push_str(" AND metric_id = ?");
    }
    sql.push_str(" GROUP BY profile_id");
    let mut query = sqlx::query(&sql);
    if let Some(metric) = metric {
        query = query.bind(metric_id(metric).to_string());
    }
    let rows = query.fetch_all(db.pool()).await?;
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(ProfileMatchCount {
                profile_id: uuid(r, 0, "profile id")?,
                counts: match_counts(r, 1)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    out.sort_by(|a, b| {
        b.counts
            .last_matched
            .cmp(&a.counts.last_matched)
            .then(a.profile_id.cmp(&b.profile_id))
    });
    Ok(out)
}

/// A features profile as the console and `skyline profiles` list it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProfileRow {
    /// The profile's id.
    pub id: Uuid,
    /// The profile it was learnt from (`None` for an operator's original).
    pub parent: Option<Uuid>,
    /// 0 for an operator's original, one more than its parent's for a learnt one.
    pub generation: i64,
    /// Seconds of data it was made over.
    pub full_duration: i64,
    /// Whether it is enabled (no Disabled event folded for it yet).
    pub enabled: bool,
    /// Whether an operator validated it.
    pub validated: bool,
    /// Whether skyline may learn from it at longer durations.
    pub learn: bool,
    /// The label text: the operator's words, `LEARNT` or `echo`.
    pub description: Option<String>,
    /// `created` or `learnt`.
    pub origin: String,
    /// How many features it stores.
    pub features_count: i64,
    /// Σ of its features (NaN skipped).
    pub features_sum: f64,
    /// When it was created (unix milliseconds).
    pub created_at_ms: i64,
    /// How often it matched, by method.
    pub matches: MatchCounts,
}

/// Every profile of `metric`, oldest first (a parent before its children),
/// with its match counts.
pub async fn profiles_of(db: &Database, metric: &str) -> Result<Vec<ProfileRow>, Error> {
    let sql = format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles p \
         LEFT JOIN ({MATCH_COUNTS} AND metric_id = ? GROUP BY profile_id) c \
         ON c.profile_id = p.id WHERE p.metric_id = ? \
         ORDER BY p.generation, p.created_at_ms, p.id"
    );
    let id = metric_id(metric).to_string();
    let rows = sqlx::query(&sql)
        .bind(id.clone())
        .bind(id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(profile_row).collect()
}

/// `rows` (one metric's profiles) as a lineage tree, depth-first: each
/// original at depth 0 — a profile whose parent is not among `rows` counts
/// as one — and each learnt profile one deeper than the profile it was
/// learnt from, siblings in `rows`' order. Stored data could hold a
/// cycle; every row still comes out exactly once.
pub fn lineage(rows: &[ProfileRow]) -> Vec<(usize, &ProfileRow)> {
    let ids: std::collections::BTreeSet<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut children: std::collections::BTreeMap<Uuid, Vec<&ProfileRow>> = Default::default();
    let mut roots = Vec::new();
    for r in rows {
        match r.parent.filter(|p| ids.contains(p) && *p != r.id) {
            Some(p) => children.entry(p).or_default().push(r),
            None => roots.push(r),
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut placed = std::collections::BTreeSet::new();
    let mut stack: Vec<(&ProfileRow, usize)> = roots.iter().rev().map(|r| (*r, 0)).collect();
    // Rows reachable only through a cycle come out as roots afterwards.
    let mut rest = rows.iter();
    while let Some((r, depth)) = stack.pop().or_else(|| {
        rest.by_ref()
            .find(|r| !placed.contains(&r.id))
            .map(|r| (r, 0))
    }) {
        if !placed.insert(r.id) {
            continue;
        }
        out.push((depth, r));
        if let Some(kids) = children.get(&r.id) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

/// The columns [`profile_row`] reads, in its order: `p` is `profiles` and
/// `c` a [`MATCH_COUNTS`] subquery grouped by profile. Shared with
/// [`crate::browse::profile`], which selects more after them.
pub(crate) const PROFILE_COLUMNS: &str = "p.id, p.parent_id, p.generation, p.full_duration, \
     p.enabled, p.validated, p.learn, p.description, p.origin, p.features_count, \
     p.features_sum, p.created_at_ms, c.profile_id, c.n_features, c.n_min_max, c.n_motif, \
     c.n_layers, c.last_matched, c.n_checked";

/// How many columns [`PROFILE_COLUMNS`] is.
pub(crate) const PROFILE_COLUMNS_LEN: usize = 19;

/// A [`ProfileRow`] from the first [`PROFILE_COLUMNS_LEN`] columns of `r`.
pub(crate) fn profile_row(r: &AnyRow) -> Result<ProfileRow, Error> {
    Ok(ProfileRow {
        id: uuid(r, 0, "profile id")?,
        parent: opt_uuid(r, 1, "parent id")?,
        generation: r.try_get(2)?,
        full_duration: r.try_get(3)?,
        enabled: r.try_get::<i64, _>(4)? != 0,
        validated: r.try_get::<i64, _>(5)? != 0,
        learn: r.try_get::<i64, _>(6)? != 0,
        description: text(r, 7)?,
        origin: text(r, 8)?.unwrap_or_default(),
        features_count: r.try_get(9)?,
        features_sum: r.try_get(10)?,
        created_at_ms: r.try_get(11)?,
        // Column 12 is the subquery's profile_id.
        matches: match_counts(r, 13)?,
    })
}

/// Names of the metrics that have profiles, sorted.
pub async fn metrics_with_profiles(db: &Database) -> Result<Vec<String>, Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT m.name FROM metrics m JOIN profiles p ON p.metric_id = m.id \
         ORDER BY m.name",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok(text(r, 0)?.unwrap_or_default()))
        .collect()
}

pub(crate) fn uuid(r: &AnyRow, i: usize, what: &'static str) -> Result<Uuid, Error> {
    parse_uuid(&text(r, i)?.unwrap_or_default(), what)
}

/// A nullable id column.
pub(crate) fn opt_uuid(r: &AnyRow, i: usize, what: &'static str) -> Result<Option<Uuid>, Error> {
    text(r, i)?.map(|s| parse_uuid(&s, what)).transpose()
}

pub(crate) fn parse_uuid(s: &str, what: &'static str) -> Result<Uuid, Error> {
    Uuid::parse_str(s).map_err(|e| Error::Stored {
        what,
        detail: format!("{s:?}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u128, parent: Option<u128>) -> ProfileRow {
        ProfileRow {
            id: Uuid::from_u128(n),
            parent: parent.map(Uuid::from_u128),
            generation: i64::from(parent.is_some()),
            full_duration: 86_400,
            enabled: true,
            validated: false,
            learn: true,
            description: None,
            origin: "created".into(),
            features_count: 3,
            features_sum: 1.5,
            created_at_ms: 0,
            matches: MatchCounts::default(),
        }
    }

    fn shape(rows: &[ProfileRow]) -> Vec<(usize, u128)> {
        lineage(rows)
            .iter()
            .map(|(d, r)| (*d, r.id.as_u128()))
            .collect()
    }

    #[test]
    fn children_sit_under_their_parent_and_cycles_come_out_once() {
        let rows = [row(1, None), row(2, None), row(3, Some(1)), row(4, Some(3))];
        assert_eq!(shape(&rows), [(0, 1), (1, 3), (2, 4), (0, 2)]);
        let cycle = [row(5, Some(6)), row(6, Some(5)), row(7, Some(7))];
        assert_eq!(shape(&cycle), [(0, 7), (0, 5), (1, 6)]);
    }
}
