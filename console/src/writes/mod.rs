//! The console's writes, which become events on the log: labels
//! ([`labels`]: a check labelled not anomalous, to learn from), profile
//! actions ([`profiles`]: validate, disable) and mutes ([`mutes`]: mute a
//! pattern's alerts for a while, end a mute early). Each is served twice,
//! to scripts as JSON and to operators as a form, through one function
//! that does the write ([`labels::label`], [`profiles::disable`],
//! [`profiles::validate`], [`mutes::mute`], [`mutes::unmute`]).
//!
//! The JSON writes:
//!
//! * `POST /api/v1/labels` — body `{check_id, not_anomalous, learn?,
//!   layers?, description?, operator}`: looks the check up, validates the
//!   layers, produces the [`topics::Label`] to the labels topic;
//!   `201 {"id"}`.
//! * `POST /api/v1/profiles/{id}/disable` — body `{operator?}`: disables the
//!   profile and its progeny; `200 {"disabled": [ids]}`.
//! * `POST /api/v1/profiles/{id}/validate` — body `{operator?}`;
//!   `200 {"validated": id}`.
//! * `POST /api/v1/mutes` — body `{pattern, duration, reason?, operator}`
//!   (`duration` like `2h`): produces the [`topics::MuteEvent`] to the
//!   mutes topic; `201 {"id", "pattern", "until_ms"}`.
//! * `POST /api/v1/mutes/{id}/unmute` — body `{operator?}`: ends a mute in
//!   force (404 unknown, 409 no longer in force); `200 {"unmuted": id}`.
//!
//! A script authenticates with `Authorization: Bearer <token>` (compared in
//! constant time with `[console] api_token`); a logged-in page with its
//! session cookie and the session's CSRF token in `X-CSRF-Token` (the
//! operator is then the logged-in user). See [`crate::access`] for the
//! checks. A refused request changes nothing. Errors are `{"error": "..."}`
//! with 400 (malformed), 401/403 (auth), 404 (no such check or profile),
//! 422 (well-formed but invalid), 503 (Kafka or the projections
//! unreachable).
//!
//! The forms (`POST /anomalies/{id}/label`, `POST /profiles/{id}/disable`,
//! `POST /profiles/{id}/validate`, `POST /mutes`,
//! `POST /mutes/{id}/unmute`) need a session and its CSRF token in the
//! form; they redirect to the page they came from, which says what was
//! done, or answer with the page again saying what was wrong.

pub mod labels;
pub mod mutes;
pub mod profiles;

use std::sync::Arc;

use axum::http::StatusCode;
use fingerprint::SharedProfiles;
use learn::label::{LookupError, LookupFuture};
use learn::{CheckLookup, LabelledCheck};
use projections::Database;
use topics::codec::{encode, Event};
use topics::kafka::Producer;
use topics::names::TopicNames;
use uuid::Uuid;

use crate::access::Writer;
use crate::reply::{error, ApiError};

/// What the writes need.
pub struct ApiState {
    /// Produces labels and profile events.
    pub producer: Producer,
    /// The topics' names.
    pub topics: TopicNames,
    /// Finds the check a label is about ([`DbChecks`] in production).
    pub checks: Arc<dyn CheckLookup>,
    /// The profiles, kept followed by the caller
    /// ([`profiles::follow_profiles`]); disable and validate read
    /// them and fold their own events in at once.
    pub profiles: SharedProfiles,
    /// `[console] api_token`.
    pub api_token: Option<String>,
}

/// The projections' checks as labelling looks them up.
pub struct DbChecks(pub Database);

impl CheckLookup for DbChecks {
    fn check_for_label(&self, check_id: Uuid) -> LookupFuture<'_> {
        Box::pin(async move {
            projections::query::check_for_label(&self.0, check_id)
                .await
                .map(|found| {
                    found.map(|c| LabelledCheck {
                        check_id: c.check_id,
                        anomaly_id: c.anomaly_id,
                        metric: c.metric,
                        timestamp: c.timestamp,
                        full_duration: c.full_duration,
                        series: c.series,
                        echo_series: c.echo_series,
                    })
                })
                .map_err(|e| LookupError {
                    check_id,
                    reason: e.to_string(),
                })
        })
    }
}

/// Produces `events` (key, event) to `topic`.
async fn produce<E: Event>(
    state: &ApiState,
    topic: &str,
    events: &[(&str, &E)],
) -> Result<(), ApiError> {
    let records = events
        .iter()
        .map(|(key, e)| {
            encode(*e)
                .map(|bytes| (key.as_bytes().to_vec(), bytes))
                .map_err(|x| error(StatusCode::INTERNAL_SERVER_ERROR, x.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    state
        .producer
        .send_batch(topic, records)
        .await
        .map_err(|e| {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("producing to {topic}: {e}"),
            )
        })?;
    Ok(())
}

/// The operator a write is made by: the session's user, else the one the
/// script names (`fallback` when it names none).
fn operator_of(writer: &Writer, named: Option<String>, fallback: &str) -> String {
    match writer {
        Writer::Operator(user) => user.clone(),
        Writer::Script => named
            .filter(|o| !o.trim().is_empty())
            .unwrap_or_else(|| fallback.to_owned()),
    }
}
