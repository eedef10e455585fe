//! Muting the alerts of matching metrics for a while, and ending a mute
//! early: `POST /api/v1/mutes` and `POST /api/v1/mutes/{id}/unmute` for
//! scripts, the forms of the mutes, anomaly and metrics pages
//! (`POST /mutes`, `POST /mutes/{id}/unmute`) for operators, all through
//! [`mute`] and [`unmute`]. Each produces a [`MuteEvent`] (made by the
//! alerter's own [`alert::mutes::mute_event`] / [`unmute_event`]) to the
//! mutes topic, keyed by the pattern; the alerter suppresses matching
//! alerts while it holds, and the projections fold it into `mutes`.

use std::sync::Arc;

use alert::mutes::{mute_duration, mute_event, unmute_event};
use analyze::pattern::MetricPattern;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use topics::clock::now_ms;
use topics::MuteEvent;
use uuid::Uuid;

use super::{operator_of, produce, ApiState};
use crate::access::{ApiWriter, FormWriter};
use crate::pages::login::safe_next;
use crate::reply::{error, error_page, ApiError};
use crate::Console;

/// The longest reason kept.
pub const MAX_REASON: usize = 500;

/// The longest pattern accepted.
pub const MAX_PATTERN: usize = 1_000;

/// What a mute asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MuteRequest {
    /// The metrics muted, as an alert rule's pattern.
    pub pattern: String,
    /// How long, as `humantime` reads it: `30m`, `2h`, `1d 12h`.
    pub duration: String,
    /// Why, in the operator's words.
    pub reason: Option<String>,
    /// Who mutes.
    pub operator: String,
}

fn unprocessable(message: String) -> ApiError {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// Mutes what `request` asks for from now: checks the pattern (a valid
/// regex, as alert rules are), the duration and the operator, then
/// produces the mute event.
pub async fn mute(state: &ApiState, request: MuteRequest) -> Result<MuteEvent, ApiError> {
    let pattern = request.pattern.trim();
    if pattern.is_empty() {
        return Err(unprocessable("The pattern must not be empty.".into()));
    }
    if pattern.len() > MAX_PATTERN {
        return Err(unprocessable(format!(
            "The pattern is longer than {MAX_PATTERN} bytes."
        )));
    }
    MetricPattern::new(pattern)
        .map_err(|e| unprocessable(format!("{pattern:?} is not a valid pattern: {e}")))?;
    let duration = mute_duration(&request.duration).map_err(unprocessable)?;
    if request.operator.trim().is_empty() {
        return Err(unprocessable("operator must not be empty".into()));
    }
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(MAX_REASON).collect::<String>());
    // At most alert::mutes::MAX_MUTE: fits an i64 of milliseconds.
    let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    let event = mute_event(pattern, now_ms(), ms, reason, Some(request.operator));
    produce(state, &state.topics.mutes, &[(&event.pattern, &event)]).await?;
    tracing::info!(mute = %event.id, pattern = %event.pattern, until_ms = event.until_ms, operator = ?event.operator, "mute produced");
    Ok(event)
}

/// Ends mute `id` now for `operator`: it must be one the projections
/// know and still in force (404 and 409 otherwise).
pub async fn unmute(console: &Console, id: Uuid, operator: &str) -> Result<MuteEvent, ApiError> {
    if operator.trim().is_empty() {
        return Err(unprocessable("operator must not be empty".into()));
    }
    let found = projections::alerting::mute(&console.db, id)
        .await
        .map_err(|e| error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                format!("no mute {id} in the projections"),
            )
        })?;
    let now = now_ms();
    if !found.active_at(now) {
        return Err(error(
            StatusCode::CONFLICT,
            format!("mute {id} ({}) is not in force", found.pattern),
        ));
    }
    let event = unmute_event(id, &found.pattern, now, Some(operator.to_owned()));
    let state = &console.writes;
    produce(state, &state.topics.mutes, &[(&event.pattern, &event)]).await?;
    tracing::info!(mute = %id, pattern = %event.pattern, operator, "unmute produced");
    Ok(event)
}

/// A mute id from a path.
fn mute_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a mute id: {e}"),
        )
    })
}

/// The body of `POST /api/v1/mutes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuteBody {
    /// The metrics muted, as an alert rule's pattern.
    pub pattern: String,
    /// How long: `30m`, `2h`, `1d`.
    pub duration: String,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// Who mutes; with a session, the logged-in operator instead.
    #[serde(default)]
    pub operator: Option<String>,
}

/// `POST /api/v1/mutes`: `201 {"id", "pattern", "until_ms"}`.
pub(crate) async fn post(
    State(console): State<Arc<Console>>,
    ApiWriter { writer, body }: ApiWriter<Result<Json<MuteBody>, JsonRejection>>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body.map_err(|r| error(r.status(), r.body_text()))?;
    let request = MuteRequest {
        pattern: body.pattern,
        duration: body.duration,
        reason: body.reason,
        operator: operator_of(&writer, body.operator, ""),
    };
    let event = mute(&console.writes, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": event.id, "pattern": event.pattern, "until_ms": event.until_ms })),
    ))
}

/// The optional body of `POST /api/v1/mutes/{id}/unmute`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnmuteBody {
    /// Who ends it; with a session, the logged-in operator instead.
    #[serde(default)]
    pub operator: Option<String>,
}

/// `POST /api/v1/mutes/{id}/unmute`: `200 {"unmuted": id}`.
pub(crate) async fn post_unmute(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    ApiWriter { writer, body }: ApiWriter<axum::body::Bytes>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = mute_id(&id)?;
    let body: UnmuteBody = if body.iter().all(u8::is_ascii_whitespace) {
        UnmuteBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?
    };
    let operator = operator_of(&writer, body.operator, "console");
    unmute(&console, id, &operator).await?;
    Ok(Json(json!({ "unmuted": id })))
}

/// Where a form goes back to: its `next` field when it is a path of this
/// console, else the mutes page; with `param=value` added.
fn back(form: &FormWriter, param: &str, value: Uuid) -> String {
    let next = match form.field("next") {
        Some(n) if !n.is_empty() => safe_next(Some(n)),
        _ => "/mutes".to_owned(),
    };
    let sep = if next.contains('?') { '&' } else { '?' };
    format!("{next}{sep}{param}={value}")
}

/// `POST /mutes` (the form on the mutes, anomaly and metrics pages): the
/// mute, then back to the page it came from, which says so; or the error
/// page saying what was wrong.
pub(crate) async fn form(State(console): State<Arc<Console>>, form: FormWriter) -> Response {
    let request = MuteRequest {
        pattern: form.field("pattern").unwrap_or("").to_owned(),
        duration: form.field("duration").unwrap_or("").to_owned(),
        reason: form.field("reason").map(str::to_owned),
        operator: form.session.user.clone(),
    };
    match mute(&console.writes, request).await {
        Ok(event) => Redirect::to(&back(&form, "muted", event.id)).into_response(),
        Err(e) => refused(&form, e),
    }
}

/// `POST /mutes/{id}/unmute` (the mutes page's Unmute button): then back
/// to the mutes page, which says so; or the error page.
pub(crate) async fn unmute_form(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    form: FormWriter,
) -> Response {
    let outcome = match mute_id(&id) {
        Ok(id) => unmute(&console, id, &form.session.user).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(event) => Redirect::to(&back(&form, "unmuted", event.id)).into_response(),
        Err(e) => refused(&form, e),
    }
}

fn refused(form: &FormWriter, e: ApiError) -> Response {
    error_page(
        &form.ctx,
        e.status,
        e.status.canonical_reason().unwrap_or("Error"),
        &e.message,
    )
}
