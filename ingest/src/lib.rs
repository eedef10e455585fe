//! Horizon of skyline: sources (Kafka metric streams, Graphite plaintext,
//! HTTP) that turn metric lines into Datapoint events, and the window folder
//! that keeps each metric's recent series in Redis.
pub mod line;
pub mod sink;
pub mod sources;
pub mod windows;
