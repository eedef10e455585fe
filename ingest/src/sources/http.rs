//! `POST /api/v1/datapoints`: a JSON array of
//! `{"metric", "timestamp", "value"}` objects.
//!
//! Valid elements are accepted even when others are not (folding is
//! idempotent, so a client that resends the whole body loses and doubles
//! nothing). Answers: `202` with the count when all are valid; `400` with
//! the count accepted and, per refused element, its index and reason; `400`
//! when the body is not a JSON array; `503` when the log cannot take them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;

use super::{DatapointSink, SourceStats};
use crate::line::parse_json_array;
use topics::kafka::RefusalReason;

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A refused element.
#[derive(Debug, Serialize)]
pub struct Refused {
    /// Its position in the array, from 0.
    pub index: usize,
    /// Why it was refused.
    pub error: String,
}

/// The response body.
#[derive(Debug, Serialize, Default)]
pub struct IngestResponse {
    /// How many datapoints were accepted.
    pub accepted: usize,
    /// The refused elements (left out when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refused>,
    /// Why nothing was accepted: the body is not a JSON array, or the log could
    /// not take it (left out otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

struct AppState<S> {
    sink: Arc<S>,
    stats: Arc<SourceStats>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            sink: self.sink.clone(),
            stats: self.stats.clone(),
        }
    }
}

/// The ingest routes, to be merged into the server's router.
pub fn router<S: DatapointSink>(sink: Arc<S>, stats: Arc<SourceStats>) -> Router {
    Router::new()
        .route("/api/v1/datapoints", post(post_datapoints::<S>))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(AppState { sink, stats })
}

async fn post_datapoints<S: DatapointSink>(
    State(state): State<AppState<S>>,
    body: Bytes,
) -> (StatusCode, Json<IngestResponse>) {
    let elements = match parse_json_array(&body) {
        Ok(elements) => elements,
        Err(e) => {
            // The body itself is the dead letter (cut to fit, with its
            // length and hash, when large).
            let reason = e.to_string();
            if let Err(e) = state
                .sink
                .refuse(
                    "http",
                    vec![(body.to_vec(), RefusalReason::Unparsable, reason.clone())],
                )
                .await
            {
                tracing::warn!(error = %e, "could not dead-letter a refused body");
            }
            state.stats.add(0, 1);
            let response = IngestResponse {
                error: Some(reason),
                ..IngestResponse::default()
            };
            return (StatusCode::BAD_REQUEST, Json(response));
        }
    };
    let mut valid = Vec::with_capacity(elements.len());
    let mut refused = Vec::new();
    let mut letters = Vec::new();
    for (index, element) in elements.into_iter().enumerate() {
        match element.datapoint {
            Ok(d) => valid.push(d),
            Err(e) => {
                let error = e.to_string();
                letters.push((
                    element.raw.to_vec(),
                    e.reason(),
                    format!("element {index} of a POST /api/v1/datapoints body: {error}"),
                ));
                refused.push(Refused { index, error });
            }
        }
    }
    let accepted = valid.len();
    // The valid points and the dead letters go to the log together: neither
    // waits for the other.
    let (letters_sent, points_sent) = tokio::join!(
        async {
            if letters.is_empty() {
                Ok(())
            } else {
                state.sink.refuse("http", letters).await
            }
        },
        async {
            if valid.is_empty() {
                Ok(())
            } else {
                state.sink.accept(valid).await
            }
        }
    );
    if let Err(e) = letters_sent {
        tracing::warn!(error = %e, count = refused.len(), "could not dead-letter refused elements");
    }
    if let Err(e) = points_sent {
        let response = IngestResponse {
            error: Some(format!("not accepted, try again: {e}")),
            ..IngestResponse::default()
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(response));
    }
    state.stats.add(accepted, refused.len());
    let status = if refused.is_empty() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        Json(IngestResponse {
            accepted,
            refused,
            error: None,
        }),
    )
}
