//! The mutes in force, folded from `skyline.mutes`: an operator mutes the
//! alerts of matching metrics until a time, or ends a mute early. Unlike the
//! reference (which mutes the metric names known when the mute was made),
//! a mute here is a pattern, so metrics that appear later are muted too.

use std::collections::BTreeMap;
use std::time::Duration;

use analyze::pattern::MetricPattern;
use topics::{MuteAction, MuteEvent};
use uuid::Uuid;

/// One mute.
#[derive(Debug, Clone)]
pub struct Mute {
    /// Its id.
    pub id: Uuid,
    /// The metrics muted.
    pub pattern: MetricPattern,
    /// When it was made (unix milliseconds).
    pub from_ms: i64,
    /// When it ends (unix milliseconds); an unmute moves it to the unmute's
    /// time.
    pub until_ms: i64,
    /// Why.
    pub reason: Option<String>,
    /// Who muted.
    pub operator: Option<String>,
}

impl Mute {
    /// What a muted delivery records: the mute, its pattern, its end and
    /// why, so the operator reading it knows which mute to end.
    pub fn describe(&self) -> String {
        let until = chrono::DateTime::from_timestamp_millis(self.until_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| self.until_ms.to_string());
        let mut text = format!(
            "muted by {} (mute {}) until {until}",
            self.pattern.as_str(),
            self.id
        );
        if let Some(reason) = &self.reason {
            text.push_str(": ");
            text.push_str(reason);
        }
        text
    }

    /// Whether it holds for `metric` at `at_ms`.
    pub fn holds(&self, metric: &str, at_ms: i64) -> bool {
        self.from_ms <= at_ms && at_ms < self.until_ms && self.pattern.matches(metric)
    }
}

/// Every mute made, by id (ended ones too: a replayed alert decided while a
/// mute held is muted again).
#[derive(Debug, Clone, Default)]
pub struct MuteBook {
    mutes: BTreeMap<Uuid, Mute>,
}

impl MuteBook {
    /// Folds one event. A mute whose pattern is not a valid regex is
    /// skipped with a warning (the CLI and console refuse such patterns).
    pub fn apply(&mut self, event: &MuteEvent) {
        match event.action {
            MuteAction::Mute => match MetricPattern::new(&event.pattern) {
                Ok(pattern) => {
                    self.mutes.insert(
                        event.id,
                        Mute {
                            id: event.id,
                            pattern,
                            from_ms: event.at_ms,
                            until_ms: event.until_ms,
                            reason: event.reason.clone(),
                            operator: event.operator.clone(),
                        },
                    );
                }
                Err(e) => {
                    tracing::warn!(id = %event.id, pattern = %event.pattern, error = %e, "mute with an invalid pattern skipped")
                }
            },
            MuteAction::Unmute => {
                if let Some(m) = self.mutes.get_mut(&event.id) {
                    m.until_ms = m.until_ms.min(event.at_ms);
                }
            }
        }
    }

    /// The mute that holds for `metric` at any of `times` (unix
    /// milliseconds), if one does.
    pub fn muting(&self, metric: &str, times: &[i64]) -> Option<&Mute> {
        self.mutes
            .values()
            .find(|m| times.iter().any(|&t| m.holds(metric, t)))
    }

    /// The mutes in force at `now_ms`, soonest-ending first.
    pub fn active(&self, now_ms: i64) -> Vec<&Mute> {
        let mut active: Vec<&Mute> = self
            .mutes
            .values()
            .filter(|m| m.from_ms <= now_ms && now_ms < m.until_ms)
            .collect();
        active.sort_by_key(|m| m.until_ms);
        active
    }
}

/// The longest a mute may be asked for: a year. (Longer is a typo, or an
/// alert rule that should be removed.)
pub const MAX_MUTE: Duration = Duration::from_secs(366 * 86_400);

/// `text` as a mute's length (`30m`, `2h`, `1d 12h`): a positive duration
/// up to [`MAX_MUTE`]. The console's forms and `skyline alert mute --for`
/// read it alike.
pub fn mute_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration ({e}): write e.g. 30m, 2h, 1d"))?;
    if d.is_zero() {
        return Err("A mute must last longer than 0 s.".to_owned());
    }
    if d > MAX_MUTE {
        return Err(format!(
            "{text:?} is longer than a mute may last (366 days)."
        ));
    }
    Ok(d)
}

/// A mute event for `pattern` from `at_ms` for `duration_ms`, with a fresh
/// id.
pub fn mute_event(
    pattern: &str,
    at_ms: i64,
    duration_ms: i64,
    reason: Option<String>,
    operator: Option<String>,
) -> MuteEvent {
    MuteEvent {
        id: Uuid::now_v7(),
        action: MuteAction::Mute,
        pattern: pattern.to_owned(),
        until_ms: at_ms.saturating_add(duration_ms),
        reason,
        operator,
        at_ms,
    }
}

/// The event that ends mute `id` (on `pattern`) at `at_ms`.
pub fn unmute_event(id: Uuid, pattern: &str, at_ms: i64, operator: Option<String>) -> MuteEvent {
    MuteEvent {
        id,
        action: MuteAction::Unmute,
        pattern: pattern.to_owned(),
        until_ms: at_ms,
        reason: None,
        operator,
        at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mute_holds_for_matching_metrics_until_it_ends() {
        let mut book = MuteBook::default();
        let m = mute_event("stats.web", 1_000, 7_200_000, Some("deploy".into()), None);
        book.apply(&m);
        assert!(book.muting("stats.web.cpu", &[1_000]).is_some());
        assert!(book.muting("stats.db.cpu", &[1_000]).is_none());
        assert!(book.muting("stats.web.cpu", &[999]).is_none());
        assert!(book.muting("stats.web.cpu", &[7_201_000]).is_none());
        // Decided while muted, delivered after: still muted.
        assert!(book.muting("stats.web.cpu", &[5_000, 9_000_000]).is_some());
        assert_eq!(book.active(2_000).len(), 1);
        book.apply(&unmute_event(m.id, "stats.web", 3_000, None));
        assert!(book.muting("stats.web.cpu", &[2_999]).is_some());
        assert!(book.muting("stats.web.cpu", &[3_000]).is_none());
        assert!(book.active(3_000).is_empty());
        // An unmute never lengthens a mute.
        book.apply(&unmute_event(m.id, "stats.web", 9_999_999_999, None));
        assert!(book.muting("stats.web.cpu", &[3_000]).is_none());
    }

    #[test]
    fn an_invalid_pattern_is_skipped() {
        let mut book = MuteBook::default();
        book.apply(&mute_event("a[", 0, 10, None, None));
        assert!(book.active(1).is_empty());
    }

    #[test]
    fn durations_are_positive_and_at_most_a_year() {
        assert_eq!(mute_duration("2h"), Ok(Duration::from_secs(7_200)));
        assert_eq!(mute_duration(" 1d 12h "), Ok(Duration::from_secs(129_600)));
        assert!(mute_duration("0s").unwrap_err().contains("longer than 0"));
        assert!(mute_duration("400d").unwrap_err().contains("366 days"));
        assert!(mute_duration("soon")
            .unwrap_err()
            .contains("not a duration"));
        assert!(mute_duration("").is_err());
        assert!(mute_duration("99999999999999999999h").is_err());
    }
}
