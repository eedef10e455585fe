//! Validating and disabling profiles: `POST /api/v1/profiles/{id}/validate`
//! and `.../disable` for scripts, and the profile pages' forms
//! (`POST /profiles/{id}/validate`, `.../disable`), all through
//! [`validate`] and [`disable`].

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use learn::lifecycle::{self, LifecycleError};
use serde::Deserialize;
use serde_json::json;
use topics::ProfileEvent;
use uuid::Uuid;

use super::{operator_of, produce, ApiState};
use crate::access::{ApiWriter, FormWriter, Writer};
use crate::reply::{error, error_page, ApiError};
use crate::Console;

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
    action: impl FnOnce(&fingerprint::ProfileStore) -> Result<Vec<ProfileEvent>, LifecycleError>,
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

/// A profile action: disabling or validating.
pub(crate) trait Action {
    /// What the profile's page is sent back to say was done (`?done=`).
    const DONE: &'static str;

    /// Does it to profile `id` for `operator`; the JSON answer's body.
    fn run(
        writes: &ApiState,
        id: Uuid,
        operator: &str,
    ) -> impl Future<Output = Result<serde_json::Value, ApiError>> + Send;
}

/// [`disable`]: `{"disabled": [ids]}`.
pub(crate) struct Disable;

impl Action for Disable {
    const DONE: &'static str = "disabled";

    async fn run(
        writes: &ApiState,
        id: Uuid,
        operator: &str,
    ) -> Result<serde_json::Value, ApiError> {
        let ids = disable(writes, id, operator).await?;
        Ok(json!({ "disabled": ids }))
    }
}

/// [`validate`]: `{"validated": id}`.
pub(crate) struct Validate;

impl Action for Validate {
    const DONE: &'static str = "validated";

    async fn run(
        writes: &ApiState,
        id: Uuid,
        operator: &str,
    ) -> Result<serde_json::Value, ApiError> {
        validate(writes, id, operator).await?;
        Ok(json!({ "validated": id }))
    }
}

/// `POST /api/v1/profiles/{id}/disable` and `.../validate`: 200 with
/// the action's answer.
pub(crate) async fn post<A: Action>(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    ApiWriter { writer, body }: ApiWriter<Bytes>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = profile_id(&id)?;
    let operator = action_operator(&writer, &body)?;
    A::run(&console.writes, id, &operator).await.map(Json)
}

/// `POST /profiles/{id}/disable` and `.../validate`: then back to the
/// profile's page, which says what was done; or the error page.
pub(crate) async fn form<A: Action>(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    form: FormWriter,
) -> Response {
    let outcome = match profile_id(&id) {
        Ok(pid) => A::run(&console.writes, pid, &form.session.user).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Redirect::to(&format!("/profiles/{id}?done={}", A::DONE)).into_response(),
        Err(e) => error_page(
            &form.ctx,
            e.status,
            e.status.canonical_reason().unwrap_or("Error"),
            &e.message,
        ),
    }
}
