//! The console's static files, compiled in: its style sheet, its one
//! script and the OpenAPI description of its JSON API.

use axum::http::header;
use axum::response::IntoResponse;

/// `GET /assets/console.css`.
pub(crate) async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/console.css"),
    )
}

/// `GET /assets/console.js`: confirmations and the layers form's checks
/// before submit (every page works without it).
pub(crate) async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/console.js"),
    )
}

/// `GET /api/v1/openapi.json`: `console/openapi.json`.
pub(crate) async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
}
