//! The login page and its form (`GET`/`POST /login`), and logging out
//! (`POST /logout`).
//!
//! A login form carries a token bound to a short-lived login cookie, so a
//! form posted from elsewhere is refused. Failed logins are throttled per
//! client address and name ([`crate::auth::MAX_FAILED_LOGINS`]); password
//! checks run on their own few threads ([`crate::auth::PasswordChecks`]).

pub mod html;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;

use crate::access::{field, parse_form, FormWriter};
use crate::auth::{LOGIN_COOKIE, PASSWORD_CHECK_WAIT, SESSION_COOKIE};
use crate::reply;
use crate::Console;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// Where a login goes when `next` is missing or refused.
pub const DEFAULT_NEXT: &str = "/anomalies";

/// Where to go after logging in: `next` only when it is a path on this
/// console, else [`DEFAULT_NEXT`]. An open redirect would let a link log an
/// operator in and send them elsewhere, so `next` must parse as a URI path
/// (with its query), start with one `/` and hold no backslash, whitespace
/// or control character: browsers drop tabs and newlines from a
/// `Location` and read `\` as `/`, so `/\t/evil.example` and
/// `/\/evil.example` lead off-site as surely as `//evil.example` and
/// `https:…` do, and CR/LF could not even be sent as a header.
pub fn safe_next(next: Option<&str>) -> String {
    let same_origin = |n: &str| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n
                .chars()
                .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
            && n.parse::<axum::http::uri::PathAndQuery>().is_ok()
    };
    match next {
        Some(n) if same_origin(n) => n.to_owned(),
        _ => DEFAULT_NEXT.to_owned(),
    }
}

fn login_response(
    console: &Console,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
) -> Response {
    let (nonce, token) = console.auth.login_nonce();
    let page = html::render(&token, next, error, console.auth.has_users());
    let mut response = reply::html(status, page);
    response
        .headers_mut()
        .append(header::SET_COOKIE, console.auth.login_cookie(&nonce));
    response
}

/// `GET /login`: the form, with a fresh login cookie.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Response {
    let next = safe_next(query.ok().and_then(|q| q.0.next).as_deref());
    login_response(&console, StatusCode::OK, &next, None)
}

/// The address of the client failed logins are counted against: the last
/// address in the configured header, else the connection's peer. `None`
/// when neither is known (all such clients share one count).
fn client_address(
    header: Option<&header::HeaderName>,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<IpAddr> {
    match header {
        Some(name) => headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| parse_address(a.trim()))
            .next_back(),
        None => peer.map(|p| p.ip()),
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:443`,
/// `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_address(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// A login page refusing with `status` and saying `message`, with
/// `Retry-After: wait`.
fn login_refused(
    console: &Console,
    status: StatusCode,
    next: &str,
    message: &str,
    wait: i64,
) -> Response {
    let mut response = login_response(console, status, next, Some(message));
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn throttled(console: &Console, user: &str, next: &str, wait: i64) -> Response {
    tracing::warn!(user = %user, wait, "console login throttled");
    login_refused(
        console,
        StatusCode::TOO_MANY_REQUESTS,
        next,
        &format!(
            "Too many failed logins for this name from your address: try again in {} min.",
            (wait + 59) / 60
        ),
        wait,
    )
}

/// `POST /login`: a session cookie and the way to `next`, or the form
/// again saying why not.
pub(crate) async fn login(
    State(console): State<Arc<Console>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
    // What logs show of it (the whole name is checked).
    let shown = crate::auth::name_kept(&user).to_owned();
    let password = field(&fields, "password").unwrap_or("").to_owned();
    let client = client_address(
        console.client_address_header.as_ref(),
        &headers,
        peer.map(|Extension(ConnectInfo(a))| a),
    );
    // A throttled client is refused before it queues for a check.
    if let Err(wait) = console.auth.throttled(client, &user) {
        return throttled(&console, &shown, &next, wait);
    }
    let checker = console.clone();
    let name = user.clone();
    // Argon2 takes 19 MiB and tens of milliseconds of CPU: it runs on the
    // few password-check threads, off the executor.
    let outcome = console
        .password_checks
        .run(PASSWORD_CHECK_WAIT, move |memory| {
            checker.auth.attempt_login(memory, client, &name, &password)
        })
        .await;
    let Some(outcome) = outcome else {
        tracing::warn!(user = %shown, "console login: no turn at the password check in time");
        return login_refused(
            &console,
            StatusCode::SERVICE_UNAVAILABLE,
            &next,
            "Too many logins at once: try again in a few seconds.",
            5,
        );
    };
    let cookie = match outcome {
        Ok(Some((cookie, _))) => cookie,
        Ok(None) => {
            tracing::info!(user = %shown, "console login refused");
            return login_response(
                &console,
                StatusCode::UNAUTHORIZED,
                &next,
                Some("Wrong name or password."),
            );
        }
        Err(wait) => return throttled(&console, &shown, &next, wait),
    };
    tracing::info!(user = %shown, "console login");
    let mut response = Redirect::to(&next).into_response();
    let h = response.headers_mut();
    h.append(header::SET_COOKIE, console.auth.session_cookie(&cookie));
    h.append(
        header::SET_COOKIE,
        console.auth.expired_cookie(LOGIN_COOKIE),
    );
    response
}

/// `POST /logout`: the session revoked and its cookie removed.
pub(crate) async fn logout(State(console): State<Arc<Console>>, form: FormWriter) -> Response {
    let session = form.session;
    // Revoked, not only removed from this browser: a copy of the cookie
    // (a shared machine, a leaked proxy log) stops working too.
    console.auth.revoke(&session);
    tracing::info!(user = %session.user, "console logout");
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        console.auth.expired_cookie(SESSION_COOKIE),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_is_the_peer_or_the_proxy_header_last_address() {
        let peer = Some(SocketAddr::from(([127, 0, 0, 1], 5000)));
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("[2001:db8::1]:443"),
        );
        assert_eq!(
            client_address(None, &headers, peer),
            Some(IpAddr::from([127, 0, 0, 1])),
            "the header is ignored unless configured"
        );
        let xff = header::HeaderName::from_static("x-forwarded-for");
        assert_eq!(
            client_address(Some(&xff), &headers, peer),
            Some("2001:db8::1".parse().unwrap()),
            "the proxy's own entry, the last"
        );
        headers.remove("x-forwarded-for");
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("198.51.100.7:80, junk"),
        );
        assert_eq!(
            client_address(Some(&xff), &headers, peer),
            Some(IpAddr::from([198, 51, 100, 7])),
            "what does not parse is skipped"
        );
        assert_eq!(client_address(Some(&xff), &HeaderMap::new(), peer), None);
    }

    #[test]
    fn next_stays_on_this_console() {
        for kept in ["/anomalies/x?y=1", "/profiles?metric=a%20b", "/", "/%2F/x"] {
            assert_eq!(safe_next(Some(kept)), kept);
        }
        for refused in [
            "//evil.example",
            "https://evil.example",
            "https:evil.example",
            "/\\evil.example",
            "/\t/evil.example/x",
            "/x\r\nSet-Cookie: a=b",
            "/x\n",
            "/a b",
            "/\u{7f}",
            "/\u{85}x",
            "anomalies",
            "",
        ] {
            assert_eq!(safe_next(Some(refused)), DEFAULT_NEXT, "{refused:?}");
        }
        assert_eq!(safe_next(None), DEFAULT_NEXT);
    }
}
