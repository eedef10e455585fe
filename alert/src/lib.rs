//! Delivering skyline's alerts to people: the `[[alerters]]` an operator
//! declares ([`config`]), what each kind says ([`message`]: the reference's
//! mail subjects, the webhook, Slack and PagerDuty payloads), one attempt at
//! sending ([`send`], with the judged window drawn by the `graph` crate and
//! inlined in mails), when to try again ([`retry`]), the mutes in force
//! ([`mutes`]) and the service that consumes `skyline.alerts` — one queue
//! per alerter — and writes every attempt's outcome to `skyline.deliveries`
//! ([`service`]); an alerter also delivers skyline's own notices from
//! `skyline.system` (stalls, recoveries, stale metrics). [`stall`] decides
//! the stall alerts and their recoveries from the services' heartbeats (the
//! reference's Thunder), purely; [`watchdog`] runs it as a service.

#![deny(missing_docs)]

pub mod config;
pub mod message;
pub mod mutes;
pub mod retry;
pub mod send;
pub mod service;
pub mod stall;
pub mod watchdog;

pub use config::{AlerterConfig, DeliverySettings};
pub use message::Links;
pub use mutes::MuteBook;
pub use send::Transport;
pub use service::AlertService;
pub use watchdog::{WatchdogService, WatchdogSettings};
