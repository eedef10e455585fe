//! # skyline-console
//!
//! The web console (the reference's Webapp), where operators see anomalies
//! in context and teach skyline what is normal. [`serve`] runs it over a
//! [`Console`], which [`Console::new`] makes from the `[console]` table
//! ([`ConsoleSettings`]).
//!
//! A request goes through:
//!
//! * [`router()`] — every URL in one table, and the headers every response
//!   carries;
//! * [`access`] — who may ask, written once as extractors: a page's
//!   reader (else the login page), a JSON reader or writer (session, or
//!   the bearer token; writes need the CSRF token too), a form's writer;
//! * [`pages`] — one module per page, its HTML page and its JSON twin
//!   under `/api/v1` (documented in `console/openapi.json`) side by side;
//!   the login page and logging out in [`pages::login`];
//! * [`views`] — what each page shows, gathered once from the projections,
//!   the windows and the profile store for both of its twins;
//! * [`reply`] — the view rendered as HTML (server-side with maud, escaped
//!   by construction; the graphs inline SVG from [`graph`], no script or
//!   network needed) or served as JSON, and the error page or
//!   `{"error"}` when it cannot be gathered;
//! * [`writes`] — labels ([`writes::labels`]), profile validate and
//!   disable ([`writes::profiles`]) and mutes ([`writes::mutes`]), each for
//!   a script's JSON and an operator's form, which become events on the log
//!   ([`topics::Label`], [`topics::ProfileEvent`], [`topics::MuteEvent`]).
//!
//! [`auth`] holds the logins (Argon2), signed session cookies and CSRF
//! tokens; [`units`] the units of metrics' values the graphs show.

#![deny(missing_docs)]

pub mod access;
mod assets;
pub mod auth;
pub use graph;
pub mod pages;
pub mod reply;
pub mod router;
mod state;
pub mod units;
pub mod views;
pub mod writes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use ingest::connections::HttpLimits;
use serde::{Deserialize, Serialize};

pub use access::Writer;
pub use auth::{Auth, AuthConfigError, User};
pub use pages::login::{safe_next, DEFAULT_NEXT};
pub use reply::ApiError;
pub use router::router;
pub use state::Console;
pub use writes::{ApiState, DbChecks};

/// The `[console]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Address the console listens on.
    pub listen: SocketAddr,
    /// The bearer token scripts use for the API
    /// (`Authorization: Bearer <token>`). Unset: only logged-in operators
    /// can write.
    pub api_token: Option<String>,
    /// Operators who may log in (`[[console.users]]`, name and Argon2
    /// `password_hash` from `skyline hash-password`).
    pub users: Vec<User>,
    /// Let anyone who reaches the console read its pages and read API
    /// without logging in. Writes always need a login or the token.
    pub anonymous_read: bool,
    /// Key that signs session cookies (at least 32 characters). Unset: a
    /// random key per process, so a restart logs everyone out; set it when
    /// several console processes serve the same operators.
    pub session_secret: Option<String>,
    /// How long a login lasts.
    pub session_hours: u32,
    /// Mark cookies `Secure` (only sent over HTTPS): set it when the
    /// console is served behind TLS.
    pub secure_cookies: bool,
    /// Password checks (Argon2, 19 MiB each) that run at once; further
    /// logins wait their turn, up to 30 s, then get 503.
    pub password_checks: usize,
    /// The request header a reverse proxy in front puts the client's
    /// address in (e.g. `X-Forwarded-For`: its last address is taken).
    /// Failed logins are throttled per client address and name; unset, the
    /// address is the connection's peer. Set it only behind such a proxy:
    /// anyone else could write the header.
    pub client_address_header: Option<String>,
    /// Units of metrics' values, for the graphs (`[[console.units]]`,
    /// pattern and unit; see [`units`] for the names it recognises
    /// without one).
    pub units: Vec<units::UnitRule>,
    /// Bounds on the console's connections (`[console.connections]`).
    pub connections: ingest::connections::HttpLimits,
    /// The console's address as operators reach it (e.g.
    /// `https://skyline.example.com`), for the links in alerts to an
    /// anomaly's training page and graph. Unset: `http://<listen>`.
    pub public_url: Option<String>,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            api_token: None,
            users: Vec::new(),
            anonymous_read: false,
            session_secret: None,
            session_hours: 12,
            secure_cookies: false,
            password_checks: 2,
            client_address_header: None,
            units: Vec::new(),
            connections: ingest::connections::HttpLimits::default(),
            public_url: None,
        }
    }
}

impl ConsoleSettings {
    /// Where alerts link to: `public_url`, else `http://<listen>`.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The authentication these settings describe.
    pub fn auth(&self) -> Result<Auth, AuthConfigError> {
        Auth::new(
            self.users.clone(),
            self.session_secret.as_deref(),
            self.session_hours,
            self.secure_cookies,
        )
    }

    /// The header naming the client's address behind a proxy
    /// (`client_address_header`), if set and a valid header name.
    pub fn client_address_header(
        &self,
    ) -> Result<Option<axum::http::header::HeaderName>, AuthConfigError> {
        self.client_address_header
            .as_deref()
            .map(|name| {
                axum::http::header::HeaderName::from_bytes(name.trim().as_bytes())
                    .map_err(|_| AuthConfigError::ClientAddressHeader(name.to_owned()))
            })
            .transpose()
    }
}

/// Serves the console on `addr`, with the default [`HttpLimits`], until
/// `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    console: Arc<Console>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(listener, console, shutdown).await
}

/// Serves the console on a bound `listener` (e.g. port 0 in tests), with
/// the default [`HttpLimits`], until `shutdown` resolves.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    console: Arc<Console>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_within(listener, console, &HttpLimits::default(), shutdown).await
}

/// Serves the console on a bound `listener` within `limits` (bounded
/// connections, header and request timeouts: see [`ingest::http_server`])
/// until `shutdown` resolves.
pub async fn serve_within(
    listener: tokio::net::TcpListener,
    console: Arc<Console>,
    limits: &HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    ingest::http_server::serve(listener, router(console), "console", limits, shutdown).await
}
