//! What the console answers, written once for every page and its JSON
//! twin: a view gathered by [`crate::views`], rendered as HTML by
//! [`page`] or [`graphs_page`] or served as JSON by [`json()`]; a view that
//! cannot be gathered as the error page ([`Refused`]) or as
//! `{"error": "..."}` ([`ApiError`]) with the status its [`ViewError`]
//! calls for. A query string that does not parse is answered here too,
//! by the [`PageQuery`] and [`ApiQuery`] extractors: 400, as a page or as
//! JSON ([`LenientQuery`] reads it as the default instead).
//!
//! Who may ask is settled before any of this, by the extractors of
//! [`crate::access`].

use std::future::Future;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use maud::Markup;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::pages::{self, PageContext};
use crate::views::ViewError;
use crate::Console;

/// An API error: a status and a message, answered as
/// `{"error": message}` (with `WWW-Authenticate: Bearer` on a 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the client.
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

/// A response that ends a page handler early (the login redirect, a
/// refusal, an error page). Boxed: a `Response` is large, and it travels in
/// every `Err`.
pub struct Refused(Box<Response>);

impl From<Response> for Refused {
    fn from(r: Response) -> Self {
        Refused(Box::new(r))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What a page handler returns.
pub type PageResult = Result<Response, Refused>;

/// What a JSON read returns.
pub type JsonResult<V> = Result<Json<V>, ApiError>;

/// An HTML response.
pub fn html(status: StatusCode, page: Markup) -> Response {
    (status, Html(page.into_string())).into_response()
}

/// The error page: `title` and `message` with `status`.
pub fn error_page(ctx: &PageContext, status: StatusCode, title: &str, message: &str) -> Response {
    html(status, pages::error_page(ctx, title, message))
}

/// The status a view's error is answered with.
fn view_status(e: &ViewError) -> StatusCode {
    match e {
        ViewError::BadRequest(_) => StatusCode::BAD_REQUEST,
        ViewError::NotFound(_) => StatusCode::NOT_FOUND,
        ViewError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A view's error as the error page.
fn view_page(ctx: &PageContext, e: ViewError) -> Refused {
    let status = view_status(&e);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = %e, "console view");
    }
    error_page(
        ctx,
        status,
        status.canonical_reason().unwrap_or("Error"),
        &e.to_string(),
    )
    .into()
}

/// A view's error as JSON.
pub fn view_api(e: ViewError) -> ApiError {
    error(view_status(&e), e.to_string())
}

/// A page that draws no graph: the view `view` gathers, rendered by
/// `render` with 200, or the error page.
pub async fn page<V>(
    ctx: &PageContext,
    view: impl Future<Output = Result<V, ViewError>>,
    render: impl FnOnce(&PageContext, &V) -> Markup,
) -> PageResult {
    let view = view.await.map_err(|e| view_page(ctx, e))?;
    Ok(html(StatusCode::OK, render(ctx, &view)))
}

/// A page that draws graphs: the view `view` gathers, rendered by `render`
/// with `status` on the blocking pool — each graph may wait up to
/// [`crate::graph::RENDER_BUDGET`] for its drawing, which must not hold an
/// executor thread (every other request would wait behind it) — or the
/// error page.
pub async fn graphs_page<V: Send + 'static>(
    ctx: &PageContext,
    status: StatusCode,
    view: impl Future<Output = Result<V, ViewError>>,
    render: impl FnOnce(&PageContext, &V) -> Markup + Send + 'static,
) -> PageResult {
    let view = view.await.map_err(|e| view_page(ctx, e))?;
    let page_ctx = ctx.clone();
    match tokio::task::spawn_blocking(move || render(&page_ctx, &view)).await {
        Ok(page) => Ok(html(status, page)),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            Err(error_page(
                ctx,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                "The page could not be rendered (the console's log says why).",
            )
            .into())
        }
    }
}

/// A page's JSON twin: the view `view` gathers, or its error.
pub async fn json<V>(view: impl Future<Output = Result<V, ViewError>>) -> JsonResult<V> {
    view.await.map(Json).map_err(view_api)
}

/// A query string that did not parse, as JSON.
pub fn query_error(e: axum::extract::rejection::QueryRejection) -> ApiError {
    error(StatusCode::BAD_REQUEST, e.body_text())
}

/// A page's query string; one that does not parse is answered with the 400
/// error page.
pub struct PageQuery<Q>(pub Q);

impl<Q: DeserializeOwned> FromRequestParts<Arc<Console>> for PageQuery<Q> {
    type Rejection = Refused;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        match Query::<Q>::from_request_parts(parts, console).await {
            Ok(Query(q)) => Ok(PageQuery(q)),
            Err(e) => Err(error_page(
                &console.page_context(&parts.headers),
                StatusCode::BAD_REQUEST,
                "Bad Request",
                &e.body_text(),
            )
            .into()),
        }
    }
}

/// A page's query string where it only tunes the page (what to say was
/// just done, where the graphs end): one that does not parse reads as
/// `Q::default()`.
pub struct LenientQuery<Q>(pub Q);

impl<Q: DeserializeOwned + Default> FromRequestParts<Arc<Console>> for LenientQuery<Q> {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        let query = Query::<Q>::from_request_parts(parts, console).await;
        Ok(LenientQuery(query.map(|Query(q)| q).unwrap_or_default()))
    }
}

/// A JSON read's query string; one that does not parse is answered with
/// 400 `{"error"}`.
pub struct ApiQuery<Q>(pub Q);

impl<Q: DeserializeOwned> FromRequestParts<Arc<Console>> for ApiQuery<Q> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        Query::<Q>::from_request_parts(parts, console)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(query_error)
    }
}
