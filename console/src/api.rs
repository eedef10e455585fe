//! The console's write API (JSON over HTTP):
//!
//! * `POST /api/v1/labels` — body `{check_id, not_anomalous, learn?,
//!   layers?, description?, operator}`: looks the check up, validates the
//!   layers, produces the [`Label`] to the labels topic; `201 {"id"}`.
//! * `POST /api/v1/profiles/{id}/disable` — body `{operator?}`: disables the
//!   profile and its progeny; `200 {"disabled": [ids]}`.
//! * `POST /api/v1/profiles/{id}/validate` — body `{operator?}`;
//!   `200 {"validated": id}`.
//!
//! Every route needs `Authorization: Bearer <token>`, compared in constant
//! time with `[console] api_token`; without a configured token the API
//! refuses everything (403) and says so. A refused request changes nothing.
//! Errors are `{"error": "..."}` with 400 (malformed), 401/403 (auth), 404
//! (no such check or profile), 422 (well-formed but invalid), 503 (Kafka or
//! the projections unreachable).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fingerprint::follow::SharedProfiles;
use learn::lifecycle::{self, LifecycleError};
use learn::{label_for_check, CheckLookup, LabelError, LabelRequest};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;
use topics::codec::{encode, Event};
use topics::kafka::Producer;
use topics::names::TopicNames;
use topics::{Label, ProfileEvent};
use uuid::Uuid;

/// What the API needs.
pub struct ApiState {
    /// Produces labels and profile events.
    pub producer: Producer,
    pub topics: TopicNames,
    /// Finds the check a label is about (the projections in production).
    pub checks: Arc<dyn CheckLookup>,
    /// The profiles, kept followed by the caller
    /// ([`fingerprint::follow::follow_profiles`]); disable and validate read
    /// them and fold their own events in at once.
    pub profiles: SharedProfiles,
    /// `[console] api_token`.
    pub api_token: Option<String>,
}

/// An API error: a status and a message.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError(status, message.into())
}

/// The API's routes over `state`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/labels", post(post_label))
        .route("/api/v1/profiles/{id}/disable", post(post_disable))
        .route("/api/v1/profiles/{id}/validate", post(post_validate))
        .with_state(state)
}

/// Serves the API on `addr` until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    state: Arc<ApiState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(listener, state, shutdown).await
}

/// Serves the API on a bound `listener` (e.g. port 0 in tests).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<ApiState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Checks the bearer token in constant time (the comparison does not
/// reveal how much of a wrong token was right).
fn authorize(state: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = state.api_token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(error(
            StatusCode::FORBIDDEN,
            "the write API is disabled: no [console] api_token is configured",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "missing Authorization: Bearer token",
            )
        })?;
    if bool::from(given.trim().as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(error(StatusCode::UNAUTHORIZED, "wrong API token"))
    }
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
    pub operator: String,
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

async fn post_label(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Result<Json<LabelBody>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let Json(body) = body.map_err(|r| error(r.status(), r.body_text()))?;
    if body.operator.trim().is_empty() {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "operator must not be empty",
        ));
    }
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
        operator: body.operator,
    };
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
    produce(&state, &state.topics.labels, &[(&label.metric, &label)]).await?;
    tracing::info!(label = %label.id, check = %check.check_id, metric = %label.metric, "label produced");
    Ok((StatusCode::CREATED, Json(json!({ "id": label.id }))))
}

/// The optional body of the profile actions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    #[serde(default)]
    operator: Option<String>,
}

fn action_body(bytes: &Bytes) -> Result<String, ApiError> {
    let body: ActionBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        ActionBody::default()
    } else {
        serde_json::from_slice(bytes).map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?
    };
    Ok(body.operator.unwrap_or_else(|| "console".to_owned()))
}

fn profile_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a profile id: {e}"),
        )
    })
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

async fn post_disable(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let id = profile_id(&id)?;
    let operator = action_body(&body)?;
    let events = {
        let store = state
            .profiles
            .read()
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        lifecycle::disable(&store, id, &operator).map_err(lifecycle_error)?
    };
    publish_profiles(&state, &events).await?;
    let ids: Vec<Uuid> = events.iter().map(|e| e.profile_id).collect();
    Ok(Json(json!({ "disabled": ids })))
}

async fn post_validate(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&state, &headers)?;
    let id = profile_id(&id)?;
    let operator = action_body(&body)?;
    let event = {
        let store = state
            .profiles
            .read()
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        lifecycle::validate(&store, id, &operator).map_err(lifecycle_error)?
    };
    publish_profiles(&state, std::slice::from_ref(&event)).await?;
    Ok(Json(json!({ "validated": id })))
}
