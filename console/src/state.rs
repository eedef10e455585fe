//! [`Console`]: everything the console's handlers serve from, shared by
//! every request behind an `Arc`.

use std::sync::Arc;

use axum::http::header::HeaderName;
use axum::http::HeaderMap;
use windows::Windows;

use crate::auth::{Auth, AuthConfigError, PasswordChecks, Session};
use crate::pages::PageContext;
use crate::units::UnitRule;
use crate::writes::ApiState;
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
    /// The logins, sessions and CSRF tokens.
    pub auth: Auth,
    /// Whether anyone may read without logging in
    /// ([`ConsoleSettings::anonymous_read`]).
    pub anonymous_read: bool,
    /// The threads password checks run on.
    pub password_checks: PasswordChecks,
    /// Where the client's address is read from (see
    /// [`ConsoleSettings::client_address_header`]).
    pub client_address_header: Option<HeaderName>,
    /// Units of metrics' values (`[[console.units]]`).
    pub units: Vec<UnitRule>,
}

impl Console {
    /// The console `settings` describe, writing through `writes` and
    /// reading `db` and, when this process reaches them, the `windows`.
    pub fn new(
        settings: &ConsoleSettings,
        writes: ApiState,
        db: projections::Database,
        windows: Option<Arc<Windows>>,
    ) -> Result<Console, AuthConfigError> {
        let client_address_header = settings.client_address_header()?;
        Ok(Console {
            writes,
            db,
            windows,
            auth: settings.auth()?,
            anonymous_read: settings.anonymous_read,
            password_checks: PasswordChecks::new(settings.password_checks),
            client_address_header,
            units: settings.units.clone(),
        })
    }

    /// What a logged-in operator's pages carry: their name and the
    /// session's CSRF token.
    pub(crate) fn session_context(&self, session: &Session) -> PageContext {
        PageContext {
            user: Some(session.user.clone()),
            csrf: Some(self.auth.csrf_token(session)),
        }
    }

    /// The page context of a request: its session's, else anonymous.
    pub(crate) fn page_context(&self, headers: &HeaderMap) -> PageContext {
        self.auth
            .session(headers)
            .map(|session| self.session_context(&session))
            .unwrap_or_default()
    }
}
