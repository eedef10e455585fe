//! The console's writes, for its forms and for scripts (JSON over HTTP):
//!
//! * `POST /api/v1/labels` — body `{check_id, not_anomalous, learn?,
//!   layers?, description?, operator}`: looks the check up, validates the
//!   layers, produces the [`Label`] to the labels topic; `201 {"id"}`.
//! * `POST /api/v1/profiles/{id}/disable` — body `{operator?}`: disables the
//!   profile and its progeny; `200 {"disabled": [ids]}`.
//! * `POST /api/v1/profiles/{id}/validate` — body `{operator?}`;
//!   `200 {"validated": id}`.
//!
//! A script authenticates with `Authorization: Bearer <token>` (compared in
//! constant time with `[console] api_token`); a logged-in page with its
//! session cookie and the session's CSRF token in `X-CSRF-Token` (the
//! operator is then the logged-in user). See [`crate::site`] for the
//! checks. A refused request changes nothing. Errors are `{"error": "..."}`
//! with 400 (malformed), 401/403 (auth), 404 (no such check or profile),
//! 422 (well-formed but invalid), 503 (Kafka or the projections
//! unreachable).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fingerprint::follow::SharedProfiles;
use learn::label::{LookupError, LookupFuture};
use learn::lifecycle::{self, LifecycleError};
use learn::{label_for_check, CheckLookup, LabelError, LabelRequest, LabelledCheck};
use projections::Database;
use serde::Deserialize;
use serde_json::json;
use topics::codec::{encode, Event};
use topics::kafka::Producer;
use topics::names::TopicNames;
use topics::{Label, ProfileEvent};
use uuid::Uuid;

use crate::site::{write_access, Console, Writer};

/// What the writes need.
pub struct ApiState {
    /// Produces labels and profile events.
    pub producer: Producer,
    pub topics: TopicNames,
    /// Finds the check a label is about ([`DbChecks`] in production).
    pub checks: Arc<dyn CheckLookup>,
    /// The profiles, kept followed by the caller
    /// ([`fingerprint::follow::follow_profiles`]); disable and validate read
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
                    })
                })
                .map_err(|e| LookupError {
                    check_id,
                    reason: e.to_string(),
                })
        })
    }
}

/// An API error: a status and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// An [`ApiError`].
pub fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        message: message.into(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

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

/// Labels a check: looks it up, validates the request and produces the
/// label. The learn service makes the profile from it.
pub async fn label(state: &ApiState, request: LabelRequest) -> Result<Label, ApiError> {
    if request.operator.trim().is_empty() {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "operator must not be empty",
        ));
    }
    let check = state
        .checks
        .check_for_label(request.check_id)
        .await
        .map_err(|e| error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                format!("no check {} in the projections", request.check_id),
            )
        })?;
    let label: Label = label_for_check(&request, &check, now_ms()).map_err(|e| match e {
        LabelError::Layers(_) | LabelError::NoSeries(_) | LabelError::NotNotAnomalous(_) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
    })?;
    produce(state, &state.topics.labels, &[(&label.metric, &label)]).await?;
    tracing::info!(label = %label.id, check = %check.check_id, metric = %label.metric, operator = %label.operator, "label produced");
    Ok(label)
}

fn lifecycle_error(e: LifecycleError) -> ApiError {
    match e {
        LifecycleError::UnknownProfile(_) => error(StatusCode::NOT_FOUND, e.to_string()),
    }
}

async fn publish_profiles(state: &ApiState, events: &[ProfileEvent]) -> Result<(), ApiError> {
    let keyed: Vec<(&str, &ProfileEvent)> = events.iter().map(|e| (e.metric.as_str(), e)).collect();
    produce(state, &state.topics.profiles, &keyed).await?;
    if let Ok(mut store) = state.profiles.write() {
        for e in events {
            store.apply(e);
        }
    }
    Ok(())
}

/// The profile events of a lifecycle action on the profile store.
fn profile_events(
    state: &ApiState,
    action: impl FnOnce(&fingerprint::store::ProfileStore) -> Result<Vec<ProfileEvent>, LifecycleError>,
) -> Result<Vec<ProfileEvent>, ApiError> {
    let store = state
        .profiles
        .read()
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    action(&store).map_err(lifecycle_error)
}

/// Disables a profile and every descendant; returns their ids.
pub async fn disable(state: &ApiState, id: Uuid, operator: &str) -> Result<Vec<Uuid>, ApiError> {
    let events = profile_events(state, |s| lifecycle::disable(s, id, operator))?;
    publish_profiles(state, &events).await?;
    tracing::info!(profile = %id, operator, disabled = events.len(), "profile disabled");
    Ok(events.iter().map(|e| e.profile_id).collect())
}

/// Marks a profile validated by an operator.
pub async fn validate(state: &ApiState, id: Uuid, operator: &str) -> Result<(), ApiError> {
    let events = profile_events(state, |s| {
        lifecycle::validate(s, id, operator).map(|e| vec![e])
    })?;
    publish_profiles(state, &events).await?;
    tracing::info!(profile = %id, operator, "profile validated");
    Ok(())
}

/// The body of `POST /api/v1/labels`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    pub check_id: Uuid,
    pub not_anomalous: bool,
    #[serde(default)]
    pub learn: bool,
    /// A layers definition: a JSON object, or a string holding one.
    #[serde(default)]
    pub layers: Option<serde_json::Value>,
    #[serde(default)]
    pub description: Option<String>,
    /// Who labels; with a session, the logged-in operator instead.
    #[serde(default)]
    pub operator: Option<String>,
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

pub(crate) async fn post_label(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    body: Result<Json<LabelBody>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let writer = write_access(&console, &headers)?;
    let Json(body) = body.map_err(|r| error(r.status(), r.body_text()))?;
    let layers_json = match body.layers {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(v) => Some(v.to_string()),
    };
    let request = LabelRequest {
        check_id: body.check_id,
        not_anomalous: body.not_anomalous,
        learn: body.learn,
        layers_json,
        description: body.description,
        // A script must say who it labels for: "" is refused by `label`.
        operator: operator_of(&writer, body.operator, ""),
    };
    let label = label(&console.writes, request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": label.id }))))
}

/// The optional body of the profile actions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    #[serde(default)]
    operator: Option<String>,
}

fn action_operator(writer: &Writer, bytes: &Bytes) -> Result<String, ApiError> {
    let body: ActionBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        serde_json::from_slice(bytes).map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?
    };
    Ok(operator_of(writer, body.operator, "console"))
}

/// A profile id from a path.
pub fn profile_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a profile id: {e}"),
        )
    })
}

pub(crate) async fn post_disable(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let writer = write_access(&console, &headers)?;
    let id = profile_id(&id)?;
    let operator = action_operator(&writer, &body)?;
    let ids = disable(&console.writes, id, &operator).await?;
    Ok(Json(json!({ "disabled": ids })))
}

pub(crate) async fn post_validate(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let writer = write_access(&console, &headers)?;
    let id = profile_id(&id)?;
    let operator = action_operator(&writer, &body)?;
    validate(&console.writes, id, &operator).await?;
    Ok(Json(json!({ "validated": id })))
}
