//! Every skyline event (datapoints, anomalies, checks, matches, labels,
//! profiles, alerts, dead letters), its Avro schema and wire codec, the topic
//! names, the Kafka producer/consumer plumbing and the embedded broker.

pub mod codec;
#[cfg(feature = "embedded-broker")]
pub mod embedded;
pub mod events;
pub mod ids;
pub mod kafka;
pub mod names;

pub use events::*;
