//! The console's routes and who may use them.
//!
//! Reads (pages and `GET /api/v1/...`) need a session, the bearer token,
//! or `anonymous_read`; without them a page redirects to `/login` and the
//! API answers 401. Writes need the bearer token, or a session *and* its
//! CSRF token (the form's hidden `csrf` field, or `X-CSRF-Token` for the
//! JSON API): 401 without either, 403 with a wrong or missing CSRF token.
//! `anonymous_read` never opens a write.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ingest::windows::Windows;
use learn::LabelRequest;
use maud::Markup;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::api::{self, error, ApiError, ApiState};
use crate::auth::{Auth, AuthConfigError, Session, CSRF_HEADER, LOGIN_COOKIE, SESSION_COOKIE};
use crate::pages::training::FormState;
use crate::pages::{self, PageContext};
use crate::views::{self, AnomalyQuery, MatchQuery, ViewError};
use crate::ConsoleSettings;

/// Everything the console serves from.
pub struct Console {
    /// The writes: producer, topics, check lookup, profile store, token.
    pub writes: ApiState,
    /// The projections, which every page reads.
    pub db: projections::Database,
    /// The windows, for the longer durations of the training page; `None`
    /// when this console process cannot reach them.
    pub windows: Option<Arc<Windows>>,
    pub auth: Auth,
    pub anonymous_read: bool,
}

impl Console {
    pub fn new(
        settings: &ConsoleSettings,
        writes: ApiState,
        db: projections::Database,
        windows: Option<Arc<Windows>>,
    ) -> Result<Console, AuthConfigError> {
        Ok(Console {
            writes,
            db,
            windows,
            auth: settings.auth()?,
            anonymous_read: settings.anonymous_read,
        })
    }
}

/// Who writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writer {
    /// A logged-in operator (their name).
    Operator(String),
    /// A script with the bearer token.
    Script,
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
type PageResult = Result<Response, Refused>;

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
pub fn write_access(console: &Console, headers: &HeaderMap) -> Result<Writer, ApiError> {
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

/// Whether a JSON read may go ahead.
fn read_access(console: &Console, headers: &HeaderMap) -> Result<(), ApiError> {
    match bearer(console, headers) {
        Some(b) => b,
        None if console.anonymous_read || console.auth.session(headers).is_some() => Ok(()),
        None => Err(error(
            StatusCode::UNAUTHORIZED,
            "log in, or send Authorization: Bearer <token>",
        )),
    }
}

/// The page context of a request, or the redirect to the login page when
/// it may not read.
fn page_access(console: &Console, headers: &HeaderMap, uri: &Uri) -> Result<PageContext, Refused> {
    match console.auth.session(headers) {
        Some(session) => Ok(context(console, &session)),
        None if console.anonymous_read => Ok(PageContext::default()),
        None => {
            let next = uri.path_and_query().map_or("/", |p| p.as_str());
            let encoded: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            Err(Redirect::to(&format!("/login?next={encoded}"))
                .into_response()
                .into())
        }
    }
}

fn context(console: &Console, session: &Session) -> PageContext {
    PageContext {
        user: Some(session.user.clone()),
        csrf: Some(console.auth.csrf_token(session)),
    }
}

/// A form write's session, checked against the form's `csrf` field.
fn form_access(
    console: &Console,
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> Result<Session, Refused> {
    let Some(session) = console.auth.session(headers) else {
        return Err(html_error(
            &PageContext::default(),
            StatusCode::UNAUTHORIZED,
            "Not logged in",
            "Log in to change anything.",
        )
        .into());
    };
    let token = field(fields, "csrf").unwrap_or("");
    if console.auth.csrf_ok(&session, token) {
        Ok(session)
    } else {
        Err(html_error(
            &context(console, &session),
            StatusCode::FORBIDDEN,
            "Refused",
            "The form's CSRF token is missing or wrong: reload the page and try again.",
        )
        .into())
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn parse_form(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn html(status: StatusCode, page: Markup) -> Response {
    (status, Html(page.into_string())).into_response()
}

fn html_error(ctx: &PageContext, status: StatusCode, title: &str, message: &str) -> Response {
    html(status, pages::error_page(ctx, title, message))
}

fn view_status(e: &ViewError) -> StatusCode {
    match e {
        ViewError::BadRequest(_) => StatusCode::BAD_REQUEST,
        ViewError::NotFound(_) => StatusCode::NOT_FOUND,
        ViewError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn view_page(ctx: &PageContext, e: ViewError) -> Refused {
    let status = view_status(&e);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = %e, "console view");
    }
    html_error(
        ctx,
        status,
        status.canonical_reason().unwrap_or("Error"),
        &e.to_string(),
    )
    .into()
}

fn view_api(e: ViewError) -> ApiError {
    error(view_status(&e), e.to_string())
}

fn anomaly_id(id: &str) -> Result<Uuid, ViewError> {
    Uuid::parse_str(id).map_err(|e| ViewError::BadRequest(format!("{id:?} is not an id: {e}")))
}

/// The console's routes over `console`.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/anomalies") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/anomalies", get(anomalies_page))
        .route("/anomalies/{id}", get(training_page))
        .route("/anomalies/{id}/label", post(label_form))
        .route("/profiles", get(profiles_page))
        .route("/profiles/{id}", get(profile_page))
        .route("/profiles/{id}/compare", get(compare_page))
        .route("/profiles/{id}/disable", post(disable_form))
        .route("/profiles/{id}/validate", post(validate_form))
        .route("/matches", get(matches_page))
        .route("/assets/console.css", get(css))
        .route("/assets/console.js", get(js))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/anomalies", get(anomalies_api))
        .route("/api/v1/anomalies/{id}", get(training_api))
        .route("/api/v1/profiles", get(profiles_api))
        .route("/api/v1/profiles/{id}", get(profile_api))
        .route("/api/v1/matches", get(matches_api))
        .route("/api/v1/labels", post(api::post_label))
        .route("/api/v1/profiles/{id}/disable", post(api::post_disable))
        .route("/api/v1/profiles/{id}/validate", post(api::post_validate))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(console)
}

/// Headers every response carries: no framing, no sniffing, and a content
/// policy that allows nothing from elsewhere (the console needs no
/// network), nor inline scripts.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Serves the console on `addr` until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    console: Arc<Console>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(listener, console, shutdown).await
}

/// Serves the console on a bound `listener` (e.g. port 0 in tests).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    console: Arc<Console>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(console))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../assets/console.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/console.js"),
    )
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
}

// --- login ---------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only paths on this console: never `//host` or `https://…` (an open
/// redirect would let a link log an operator in and send them elsewhere).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/anomalies".to_owned(),
    }
}

fn login_response(
    console: &Console,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
) -> Response {
    let (nonce, token) = console.auth.login_nonce();
    let page = pages::login::render(&token, next, error, console.auth.has_users());
    let mut response = html(status, page);
    response
        .headers_mut()
        .append(header::SET_COOKIE, console.auth.login_cookie(&nonce));
    response
}

async fn login_page(
    State(console): State<Arc<Console>>,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Response {
    let next = safe_next(query.ok().and_then(|q| q.0.next).as_deref());
    login_response(&console, StatusCode::OK, &next, None)
}

async fn login(State(console): State<Arc<Console>>, headers: HeaderMap, body: Bytes) -> Response {
    let fields = parse_form(&body);
    let next = safe_next(field(&fields, "next"));
    if !console
        .auth
        .login_token_ok(&headers, field(&fields, "csrf").unwrap_or(""))
    {
        return login_response(
            &console,
            StatusCode::FORBIDDEN,
            &next,
            Some("The login form expired or did not come from this console: try again."),
        );
    }
    let user = field(&fields, "username").unwrap_or("").to_owned();
    let password = field(&fields, "password").unwrap_or("").to_owned();
    let checker = console.clone();
    let name = user.clone();
    // Argon2 takes tens of milliseconds of CPU: keep it off the executor.
    let outcome = tokio::task::spawn_blocking(move || checker.auth.attempt_login(&name, &password))
        .await
        .unwrap_or(Ok(None));
    let cookie = match outcome {
        Ok(Some((cookie, _))) => cookie,
        Ok(None) => {
            tracing::info!(user = %user, "console login refused");
            return login_response(
                &console,
                StatusCode::UNAUTHORIZED,
                &next,
                Some("Wrong name or password."),
            );
        }
        Err(wait) => {
            tracing::warn!(user = %user, wait, "console login throttled");
            let mut response = login_response(
                &console,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                Some(&format!(
                    "Too many failed logins for this name: try again in {} min.",
                    (wait + 59) / 60
                )),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return response;
        }
    };
    tracing::info!(user = %user, "console login");
    let mut response = Redirect::to(&next).into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, console.auth.session_cookie(&cookie));
    h.append(
        header::SET_COOKIE,
        console.auth.expired_cookie(LOGIN_COOKIE),
    );
    response
}

async fn logout(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let session = form_access(&console, &headers, &parse_form(&body))?;
    // Revoked, not only removed from this browser: a copy of the cookie
    // (a shared machine, a leaked proxy log) stops working too.
    console.auth.revoke(&session);
    tracing::info!(user = %session.user, "console logout");
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        console.auth.expired_cookie(SESSION_COOKIE),
    );
    Ok(response)
}

// --- pages ---------------------------------------------------------------

/// A query string that did not parse, as a 400 page.
fn bad_query(ctx: &PageContext, e: QueryRejection) -> Refused {
    html_error(ctx, StatusCode::BAD_REQUEST, "Bad Request", &e.body_text()).into()
}

async fn anomalies_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<AnomalyQuery>, QueryRejection>,
) -> PageResult {
    let ctx = page_access(&console, &headers, &uri)?;
    let Query(query) = query.map_err(|e| bad_query(&ctx, e))?;
    let view = views::anomalies(&console.db, query)
        .await
        .map_err(|e| view_page(&ctx, e))?;
    Ok(html(StatusCode::OK, pages::anomalies::render(&ctx, &view)))
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    labelled: Option<String>,
    done: Option<String>,
}

async fn training_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> PageResult {
    let ctx = page_access(&console, &headers, &uri)?;
    let notice = query.ok().and_then(|q| q.0.labelled).map(|_| {
        "Label saved. skyline makes the profile from it: it is listed below once learnt.".to_owned()
    });
    training(
        &console,
        &ctx,
        &id,
        FormState {
            notice,
            ..FormState::default()
        },
        StatusCode::OK,
    )
    .await
}

async fn training(
    console: &Console,
    ctx: &PageContext,
    id: &str,
    form: FormState,
    status: StatusCode,
) -> PageResult {
    let view = match anomaly_id(id) {
        Ok(id) => views::training(&console.db, console.windows.as_ref(), id).await,
        Err(e) => Err(e),
    };
    let view = view.map_err(|e| view_page(ctx, e))?;
    Ok(html(status, pages::training::render(ctx, &view, &form)))
}

/// The layers definition a label form describes, as JSON, or why it is
/// not one.
pub fn layers_from_form(fields: &[(String, String)]) -> Result<Option<String>, String> {
    use fingerprint::matching::layers::{Condition, Layers, Rule, RuleInRow};
    if field(fields, "layers") != Some("1") {
        return Ok(None);
    }
    let text = |name: &str| field(fields, name).map(str::trim).unwrap_or("");
    let condition = |name: &str, layer: &str| -> Result<Condition, String> {
        serde_json::from_value(serde_json::Value::String(text(name).to_owned())).map_err(|_| {
            format!(
                "Layer {layer}: {:?} is not a condition (<, <=, >, >=, ==, !=)",
                text(name)
            )
        })
    };
    let number = |name: &str, layer: &str| -> Result<f64, String> {
        text(name)
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                format!(
                    "Layer {layer} needs a numeric boundary (got {:?})",
                    text(name)
                )
            })
    };
    let times = |name: &str, layer: &str| -> Result<u32, String> {
        text(name)
            .parse::<u32>()
            .ok()
            .filter(|t| *t >= 1)
            .ok_or_else(|| {
                format!(
                    "Layer {layer} needs times in row, a whole number of at least 1 (got {:?})",
                    text(name)
                )
            })
    };
    let d = Rule {
        condition: condition("d_condition", "D")?,
        boundary: number("d_boundary", "D")?,
    };
    let d1 = if text("d1_boundary").is_empty() && text("d1_times").is_empty() {
        None
    } else {
        Some(RuleInRow {
            condition: condition("d1_condition", "D1")?,
            boundary: number("d1_boundary", "D1")?,
            times_in_row: times("d1_times", "D1")?,
        })
    };
    let e = RuleInRow {
        condition: condition("e_condition", "E")?,
        boundary: number("e_boundary", "E")?,
        times_in_row: times("e_times", "E")?,
    };
    let days: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "es")
        .map(|(_, v)| v.clone())
        .collect();
    let optional = |name: &str| Some(text(name).to_owned()).filter(|s| !s.is_empty());
    let layers = Layers {
        d,
        d1,
        e,
        es: (!days.is_empty()).then_some(days),
        f1: optional("f1"),
        f2: optional("f2"),
    };
    let json = serde_json::to_string(&layers).map_err(|e| e.to_string())?;
    // The same parse the label path and the fingerprint service use.
    Layers::from_json(&json).map_err(|e| e.to_string())?;
    Ok(Some(json))
}

async fn label_form(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let fields = parse_form(&body);
    let session = form_access(&console, &headers, &fields)?;
    let ctx = context(&console, &session);
    let again = |error: String, status: StatusCode| {
        let form = FormState {
            error: Some(error),
            notice: None,
            fields: fields.clone(),
        };
        let console = console.clone();
        let ctx = ctx.clone();
        let id = id.clone();
        async move { training(&console, &ctx, &id, form, status).await }
    };
    let check_id = match field(&fields, "check_id").map(Uuid::parse_str) {
        Some(Ok(c)) => c,
        _ => return again("The form names no check.".into(), StatusCode::BAD_REQUEST).await,
    };
    let learn = match field(&fields, "action") {
        Some("learn") => true,
        Some("not_anomalous") => false,
        other => {
            return again(
                format!("Unknown action {other:?}: use one of the two buttons."),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let layers_json = match layers_from_form(&fields) {
        Ok(l) => l,
        Err(e) => return again(e, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let description = field(&fields, "description")
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let request = LabelRequest {
        check_id,
        not_anomalous: true,
        learn,
        layers_json,
        description,
        operator: session.user.clone(),
    };
    match api::label(&console.writes, request).await {
        Ok(label) => {
            Ok(Redirect::to(&format!("/anomalies/{id}?labelled={}", label.id)).into_response())
        }
        Err(e) => again(e.message, e.status).await,
    }
}

async fn profiles_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<MetricQuery>, QueryRejection>,
) -> PageResult {
    let ctx = page_access(&console, &headers, &uri)?;
    let Query(query) = query.map_err(|e| bad_query(&ctx, e))?;
    let view = views::profiles(&console.db, query.metric)
        .await
        .map_err(|e| view_page(&ctx, e))?;
    Ok(html(
        StatusCode::OK,
        pages::profiles::render_index(&ctx, &view),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct MetricQuery {
    metric: Option<String>,
}

async fn profile_view(console: &Console, id: &str) -> Result<views::ProfileView, ViewError> {
    let id = Uuid::parse_str(id)
        .map_err(|e| ViewError::BadRequest(format!("{id:?} is not a profile id: {e}")))?;
    views::profile(&console.db, &console.writes.profiles, id).await
}

async fn profile_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> PageResult {
    let ctx = page_access(&console, &headers, &uri)?;
    let notice = query.ok().and_then(|q| q.0.done).map(|done| match done.as_str() {
        "disabled" => "Disabled (with its progeny). The page shows it once the projections have folded the events.",
        "validated" => "Validated. The page shows it once the projections have folded the event.",
        _ => "Done.",
    });
    let view = profile_view(&console, &id)
        .await
        .map_err(|e| view_page(&ctx, e))?;
    Ok(html(
        StatusCode::OK,
        pages::profiles::render_profile(&ctx, &view, notice),
    ))
}

async fn compare_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> PageResult {
    let ctx = page_access(&console, &headers, &uri)?;
    let view = profile_view(&console, &id)
        .await
        .map_err(|e| view_page(&ctx, e))?;
    Ok(html(
        StatusCode::OK,
        pages::profiles::render_compare(&ctx, &view),
    ))
}

/// A profile action from a form: disable or validate.
async fn profile_form(
    console: Arc<Console>,
    headers: HeaderMap,
    id: String,
    body: Bytes,
    disable: bool,
) -> PageResult {
    let session = form_access(&console, &headers, &parse_form(&body))?;
    let ctx = context(&console, &session);
    let outcome = match api::profile_id(&id) {
        Ok(pid) if disable => api::disable(&console.writes, pid, &session.user)
            .await
            .map(|_| "disabled"),
        Ok(pid) => api::validate(&console.writes, pid, &session.user)
            .await
            .map(|()| "validated"),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(done) => Ok(Redirect::to(&format!("/profiles/{id}?done={done}")).into_response()),
        Err(e) => Ok(html_error(
            &ctx,
            e.status,
            e.status.canonical_reason().unwrap_or("Error"),
            &e.message,
        )),
    }
}

async fn disable_form(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    profile_form(console, headers, id, body, true).await
}

async fn validate_form(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    profile_form(console, headers, id, body, false).await
}

async fn matches_page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    uri: Uri,
    query: Result<Query<MatchQuery>, QueryRejection>,
) -> PageResult {
    let ctx = page_access(&console, &headers, &uri)?;
    let Query(query) = query.map_err(|e| bad_query(&ctx, e))?;
    let view = views::matches(&console.db, query)
        .await
        .map_err(|e| view_page(&ctx, e))?;
    Ok(html(StatusCode::OK, pages::matches::render(&ctx, &view)))
}

// --- the read API ----------------------------------------------------------

fn query_error(e: QueryRejection) -> ApiError {
    error(StatusCode::BAD_REQUEST, e.body_text())
}

async fn anomalies_api(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    query: Result<Query<AnomalyQuery>, QueryRejection>,
) -> Result<Json<views::AnomaliesView>, ApiError> {
    read_access(&console, &headers)?;
    let Query(query) = query.map_err(query_error)?;
    views::anomalies(&console.db, query)
        .await
        .map(Json)
        .map_err(view_api)
}

async fn training_api(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<views::TrainingView>, ApiError> {
    read_access(&console, &headers)?;
    let id = anomaly_id(&id).map_err(view_api)?;
    views::training(&console.db, console.windows.as_ref(), id)
        .await
        .map(Json)
        .map_err(view_api)
}

async fn profiles_api(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    query: Result<Query<MetricQuery>, QueryRejection>,
) -> Result<Json<views::ProfilesView>, ApiError> {
    read_access(&console, &headers)?;
    let Query(query) = query.map_err(query_error)?;
    views::profiles(&console.db, query.metric)
        .await
        .map(Json)
        .map_err(view_api)
}

async fn profile_api(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<views::ProfileView>, ApiError> {
    read_access(&console, &headers)?;
    profile_view(&console, &id)
        .await
        .map(Json)
        .map_err(view_api)
}

async fn matches_api(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    query: Result<Query<MatchQuery>, QueryRejection>,
) -> Result<Json<views::MatchesView>, ApiError> {
    read_access(&console, &headers)?;
    let Query(query) = query.map_err(query_error)?;
    views::matches(&console.db, query)
        .await
        .map(Json)
        .map_err(view_api)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_layers_form_becomes_a_valid_definition() {
        let f = fields(&[
            ("layers", "1"),
            ("d_condition", ">"),
            ("d_boundary", "100"),
            ("d1_condition", ">"),
            ("d1_boundary", ""),
            ("d1_times", ""),
            ("e_condition", "<="),
            ("e_boundary", "50.5"),
            ("e_times", "5"),
            ("es", "mon"),
            ("es", "tue"),
            ("f1", "08:00"),
            ("f2", ""),
        ]);
        let json = layers_from_form(&f).unwrap().unwrap();
        let l = fingerprint::matching::Layers::from_json(&json).unwrap();
        assert_eq!(l.d.boundary, 100.0);
        assert!(l.d1.is_none());
        assert_eq!((l.e.boundary, l.e.times_in_row), (50.5, 5));
        assert_eq!(l.es, Some(vec!["mon".to_owned(), "tue".to_owned()]));
        assert_eq!((l.f1.as_deref(), l.f2.as_deref()), (Some("08:00"), None));
        assert_eq!(
            layers_from_form(&fields(&[("d_boundary", "1")])).unwrap(),
            None
        );
    }

    #[test]
    fn a_bad_layers_form_says_which_layer() {
        let base = [
            ("layers", "1"),
            ("d_condition", ">"),
            ("d_boundary", "100"),
            ("e_condition", "<="),
            ("e_boundary", "50"),
            ("e_times", "5"),
        ];
        let with = |k: &str, v: &str| {
            let mut f = fields(&base);
            f.retain(|(n, _)| n != k);
            f.push((k.to_owned(), v.to_owned()));
            layers_from_form(&f).unwrap_err()
        };
        assert!(with("e_times", "0").contains("Layer E"));
        assert!(with("d_boundary", "abc").contains("Layer D "));
        assert!(with("d_boundary", "inf").contains("Layer D "));
        assert!(with("d1_times", "2").contains("Layer D1"));
        assert!(with("f1", "25:00").contains("f1"));
        assert!(with("es", "someday").contains("someday"));
        assert!(with("e_condition", "=~").contains("condition"));
    }

    #[test]
    fn next_stays_on_this_console() {
        assert_eq!(safe_next(Some("/anomalies/x?y=1")), "/anomalies/x?y=1");
        assert_eq!(safe_next(Some("//evil.example")), "/anomalies");
        assert_eq!(safe_next(Some("https://evil.example")), "/anomalies");
        assert_eq!(safe_next(Some("/\\evil.example")), "/anomalies");
        assert_eq!(safe_next(None), "/anomalies");
    }
}
