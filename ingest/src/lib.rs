//! Horizon of skyline: sources (Kafka metric streams, Graphite plaintext,
//! HTTP) that turn metric lines into Datapoint events on the datapoints
//! topic, and the bounded connections and HTTP server every listener of
//! skyline uses; and history files read whole for `skyline import`
//! ([`history`]). The windows those datapoints are folded into are the
//! `windows` crate's.
#![deny(missing_docs)]
pub mod connections;
pub mod history;
pub mod http_server;
pub mod line;
pub mod service;
pub mod sink;
pub mod sources;
