//! Horizon of skyline: sources (Kafka metric streams, Graphite plaintext,
//! HTTP) that turn metric lines into Datapoint events, and the window folder
//! that keeps each metric's recent series in Redis; and the bounded
//! connections and HTTP server every listener of skyline uses.
pub mod connections;
pub mod http_server;
pub mod line;
pub mod service;
pub mod sink;
pub mod sources;
pub mod windows;
