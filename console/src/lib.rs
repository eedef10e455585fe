//! # skyline-console
//!
//! The web console (the reference's Webapp). For now it owns the write API
//! operators and tools label with ([`api`]): labelling a check (which
//! produces a [`topics::Label`] the learn service turns into a profile) and
//! validating or disabling profiles (which produce profile events). The
//! pages (anomalies, training data with graphs, profiles, matches) will
//! grow here.

pub mod api;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub use api::{router, serve, serve_on, ApiState};

/// The `[console]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Address the console listens on.
    pub listen: SocketAddr,
    /// The bearer token the write API requires
    /// (`Authorization: Bearer <token>`). Unset: the write API refuses
    /// every request.
    pub api_token: Option<String>,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            api_token: None,
        }
    }
}
