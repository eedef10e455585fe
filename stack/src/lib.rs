//! The assembly: skyline's one configuration and how every service is built
//! and started from it.
//!
//! Each `skyline <service>` command and `skyline up` start services the same
//! way: [`Config::load`] (defaults ← TOML ← environment), the infrastructure
//! flags applied once ([`Infra`]), then the builders in [`services`]
//! ([`services::analyzer`], [`services::fingerprinter`],
//! [`services::learner`], [`services::console`], …); `up` starts all of them
//! in one process ([`up::Up`]) and can feed them the bundled demo series
//! ([`demo::Demo`]). The binary keeps only its arguments and what it prints.
//!
//! Errors carry `anyhow` context, as at the binary's edge: this crate is that
//! edge, moved out of `src/` so the binary stays thin; the service crates it
//! wires report typed errors.
#![deny(missing_docs)]

pub mod config;
pub mod demo;
pub mod import_skyline;
pub mod retention;
pub mod services;
pub mod training;
pub mod up;

pub use config::{Config, Infra};
