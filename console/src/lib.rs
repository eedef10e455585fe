//! # skyline-console
//!
//! The web console (the reference's Webapp), where operators see anomalies
//! in context and teach skyline what is normal:
//!
//! * [`views`] gathers what each page shows from the projections, the
//!   windows and the profile store — once, for the HTML page and for its
//!   JSON twin under `/api/v1` (documented in `console/openapi.json`);
//! * [`pages`] renders the HTML (server-side, escaped by construction),
//!   [`graph`] the series as inline SVG: no script or network needed;
//! * [`api`] owns the writes — labels, validate, disable — which become
//!   events on the log ([`topics::Label`], [`topics::ProfileEvent`]);
//! * [`auth`] the logins (Argon2), signed session cookies and CSRF tokens;
//!   [`site`] the routes and who may use them.

pub mod api;
pub mod auth;
pub mod graph;
pub mod pages;
pub mod site;
pub mod views;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub use api::{ApiState, DbChecks};
pub use auth::{Auth, AuthConfigError, User};
pub use site::{router, serve, serve_on, Console};

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
        }
    }
}

impl ConsoleSettings {
    /// The authentication these settings describe.
    pub fn auth(&self) -> Result<Auth, AuthConfigError> {
        Auth::new(
            self.users.clone(),
            self.session_secret.as_deref(),
            self.session_hours,
            self.secure_cookies,
        )
    }
}
