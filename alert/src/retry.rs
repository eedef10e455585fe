//! When to try again: what an answer means, and capped exponential backoff
//! bounded by the alert's deadline.

use std::time::Duration;

use topics::DeliveryOutcome;

use crate::config::DeliverySettings;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver took it (HTTP 2xx, SMTP 2xx); the detail is its answer.
    Delivered(String),
    /// Not now: a timeout, a refused connection, HTTP 408, 429 or 5xx, an
    /// SMTP 4xx. Worth another try.
    Transient(String),
    /// Never: HTTP 4xx other than 408 and 429, an SMTP 5xx (a rejected
    /// recipient), no recipient. Retrying would get the same answer.
    Permanent(String),
}

impl Attempt {
    /// How an HTTP status is taken.
    pub fn from_status(status: u16, body: &str) -> Attempt {
        let detail = if body.is_empty() {
            format!("HTTP {status}")
        } else {
            format!(
                "HTTP {status}: {}",
                body.chars().take(300).collect::<String>()
            )
        };
        match status {
            200..=299 => Attempt::Delivered(detail),
            408 | 429 | 500..=599 => Attempt::Transient(detail),
            _ => Attempt::Permanent(detail),
        }
    }

    /// The answer or error.
    pub fn detail(&self) -> &str {
        match self {
            Attempt::Delivered(d) | Attempt::Transient(d) | Attempt::Permanent(d) => d,
        }
    }
}

/// What follows an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Done: record this outcome.
    Done(DeliveryOutcome),
    /// Record `failed`, wait this long, try again.
    RetryAfter(Duration),
}

/// The wait before attempt `attempt + 1`, after `attempt` (from 1) failed:
/// `first · 2^(attempt-1)`, capped at `max`.
pub fn backoff(attempt: u32, settings: &DeliverySettings) -> Duration {
    let doublings = attempt.saturating_sub(1).min(32);
    let ms = settings
        .first_backoff_ms
        .saturating_mul(1u64 << doublings)
        .min(settings.max_backoff_ms);
    Duration::from_millis(ms)
}

/// The step after attempt `attempt` ended with `result` at `now_ms`, for
/// an alert whose deadline is `deadline_ms`: retry only a transient failure,
/// and only when the next attempt would start before the deadline.
pub fn next(
    result: &Attempt,
    attempt: u32,
    now_ms: i64,
    deadline_ms: i64,
    settings: &DeliverySettings,
) -> Next {
    match result {
        Attempt::Delivered(_) => Next::Done(DeliveryOutcome::Delivered),
        Attempt::Permanent(_) => Next::Done(DeliveryOutcome::GaveUp),
        Attempt::Transient(_) => {
            let wait = backoff(attempt, settings);
            let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            if now_ms.saturating_add(wait_ms) >= deadline_ms {
                Next::Done(DeliveryOutcome::GaveUp)
            } else {
                Next::RetryAfter(wait)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = DeliverySettings {
            first_backoff_ms: 100,
            max_backoff_ms: 1_000,
            ..DeliverySettings::default()
        };
        let waits: Vec<u128> = (1..=6).map(|a| backoff(a, &s).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(backoff(u32::MAX, &s).as_millis(), 1_000);
    }

    #[test]
    fn statuses() {
        assert!(matches!(
            Attempt::from_status(200, ""),
            Attempt::Delivered(_)
        ));
        assert!(matches!(
            Attempt::from_status(202, ""),
            Attempt::Delivered(_)
        ));
        for s in [408, 429, 500, 502, 503] {
            assert!(
                matches!(Attempt::from_status(s, ""), Attempt::Transient(_)),
                "{s}"
            );
        }
        for s in [301, 400, 401, 403, 404, 410, 422] {
            assert!(
                matches!(Attempt::from_status(s, "no"), Attempt::Permanent(_)),
                "{s}"
            );
        }
        assert_eq!(Attempt::from_status(404, "gone").detail(), "HTTP 404: gone");
    }

    #[test]
    fn retries_stop_at_the_deadline_or_a_permanent_answer() {
        let s = DeliverySettings {
            first_backoff_ms: 1_000,
            max_backoff_ms: 8_000,
            ..DeliverySettings::default()
        };
        let t = Attempt::Transient("HTTP 500".into());
        assert_eq!(
            next(&t, 1, 0, 60_000, &s),
            Next::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            next(&t, 4, 0, 60_000, &s),
            Next::RetryAfter(Duration::from_secs(8))
        );
        assert_eq!(
            next(&t, 4, 52_000, 60_000, &s),
            Next::Done(DeliveryOutcome::GaveUp)
        );
        assert_eq!(
            next(&Attempt::Permanent("HTTP 400".into()), 1, 0, 60_000, &s),
            Next::Done(DeliveryOutcome::GaveUp)
        );
        assert_eq!(
            next(&Attempt::Delivered("HTTP 200".into()), 9, 0, 0, &s),
            Next::Done(DeliveryOutcome::Delivered)
        );
    }
}
