//! Who may use the console, checked once, as axum extractors: a handler
//! that takes one of them runs only for a request it lets through.
//!
//! * [`PageReader`]: an HTML page. A session, or `anonymous_read`;
//!   otherwise a redirect to `/login?next=<this page>`.
//! * [`ApiReader`]: a JSON read (`GET /api/v1/...`). The bearer token, a
//!   session, or `anonymous_read`; otherwise 401.
//! * [`ApiWriter`]: a JSON write. The bearer token, or a session *and* its
//!   CSRF token in `X-CSRF-Token`: 401 without either, 403 with a wrong or
//!   missing CSRF token.
//! * [`FormWriter`]: a form's write. A session and its CSRF token in the
//!   form's hidden `csrf` field: 401 and 403 as error pages.
//!
//! `anonymous_read` never opens a write. A wrong bearer token is refused
//! even where a session or `anonymous_read` would do; a token sent while
//! none is configured is refused with 403.
//!
//! The writers read the request's body before they answer (a body that
//! cannot be read is refused as such first), so they come last among a
//! handler's extractors; the readers come after `Path`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use crate::auth::{Session, CSRF_HEADER};
use crate::pages::PageContext;
use crate::reply::{error, error_page, ApiError, Refused};
use crate::Console;

/// Who writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer {
    /// A logged-in operator (their name).
    Operator(String),
    /// A script with the bearer token.
    Script,
}

/// The bearer token, if the request carries one: `Some(Ok)` right,
/// `Some(Err)` wrong or not configured, `None` absent.
fn bearer(console: &Console, headers: &HeaderMap) -> Option<Result<(), ApiError>> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?;
    let Some(expected) = console
        .writes
        .api_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Some(Err(error(
            StatusCode::FORBIDDEN,
            "the API token is disabled: no [console] api_token is configured",
        )));
    };
    let Some(token) = given.strip_prefix("Bearer ") else {
        return Some(Err(error(
            StatusCode::UNAUTHORIZED,
            "Authorization must be: Bearer <token>",
        )));
    };
    if bool::from(token.trim().as_bytes().ct_eq(expected.as_bytes())) {
        Some(Ok(()))
    } else {
        Some(Err(error(StatusCode::UNAUTHORIZED, "wrong API token")))
    }
}

/// Whether a JSON write may go ahead: the bearer token, or a session with
/// its CSRF token in `X-CSRF-Token`.
fn write_access(console: &Console, headers: &HeaderMap) -> Result<Writer, ApiError> {
    if let Some(b) = bearer(console, headers) {
        return b.map(|()| Writer::Script);
    }
    let Some(session) = console.auth.session(headers) else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "log in, or send Authorization: Bearer <token>",
        ));
    };
    let token = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if console.auth.csrf_ok(&session, token) {
        Ok(Writer::Operator(session.user))
    } else {
        Err(error(
            StatusCode::FORBIDDEN,
            "missing or wrong X-CSRF-Token for this session",
        ))
    }
}

/// An HTML page's reader: the page context, or the redirect to the login
/// page (which comes back here) when the request may not read.
pub struct PageReader(pub PageContext);

impl FromRequestParts<Arc<Console>> for PageReader {
    type Rejection = Refused;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        match console.auth.session(&parts.headers) {
            Some(session) => Ok(PageReader(console.session_context(&session))),
            None if console.anonymous_read => Ok(PageReader(PageContext::default())),
            None => {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let encoded: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Err(Redirect::to(&format!("/login?next={encoded}"))
                    .into_response()
                    .into())
            }
        }
    }
}

/// A JSON read's permission.
pub struct ApiReader;

impl FromRequestParts<Arc<Console>> for ApiReader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Self::Rejection> {
        match bearer(console, &parts.headers) {
            Some(b) => b.map(|()| ApiReader),
            None if console.anonymous_read || console.auth.session(&parts.headers).is_some() => {
                Ok(ApiReader)
            }
            None => Err(error(
                StatusCode::UNAUTHORIZED,
                "log in, or send Authorization: Bearer <token>",
            )),
        }
    }
}

/// A JSON write's writer, with the request's body as `B` extracts it.
pub struct ApiWriter<B> {
    /// Who writes.
    pub writer: Writer,
    /// The body.
    pub body: B,
}

impl<B: FromRequest<Arc<Console>>> FromRequest<Arc<Console>> for ApiWriter<B> {
    type Rejection = Response;

    async fn from_request(req: Request, console: &Arc<Console>) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = B::from_request(req, console)
            .await
            .map_err(IntoResponse::into_response)?;
        let writer = write_access(console, &headers).map_err(IntoResponse::into_response)?;
        Ok(ApiWriter { writer, body })
    }
}

/// A form's writer: the session, its page context and the form's fields.
pub struct FormWriter {
    /// The logged-in operator's session.
    pub session: Session,
    /// The page context of the session, for the page the form answers with.
    pub ctx: PageContext,
    /// The form's fields (name, value), in order, repeated names kept.
    pub fields: Vec<(String, String)>,
}

impl FormWriter {
    /// The first value of the form's field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        field(&self.fields, name)
    }
}

impl FromRequest<Arc<Console>> for FormWriter {
    type Rejection = Refused;

    async fn from_request(req: Request, console: &Arc<Console>) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, console)
            .await
            .map_err(IntoResponse::into_response)?;
        let fields = parse_form(&body);
        let Some(session) = console.auth.session(&headers) else {
            return Err(error_page(
                &PageContext::default(),
                StatusCode::UNAUTHORIZED,
                "Not logged in",
                "Log in to change anything.",
            )
            .into());
        };
        let ctx = console.session_context(&session);
        if console
            .auth
            .csrf_ok(&session, field(&fields, "csrf").unwrap_or(""))
        {
            Ok(FormWriter {
                session,
                ctx,
                fields,
            })
        } else {
            Err(error_page(
                &ctx,
                StatusCode::FORBIDDEN,
                "Refused",
                "The form's CSRF token is missing or wrong: reload the page and try again.",
            )
            .into())
        }
    }
}

/// The first value of field `name` in `fields`.
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An `application/x-www-form-urlencoded` body's fields.
pub(crate) fn parse_form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}
