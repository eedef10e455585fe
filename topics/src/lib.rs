//! Every skyline event (datapoints, anomalies, checks, matches, labels,
//! profiles, alerts, dead letters), its Avro schema and wire codec, the topic
//! names, the Kafka producer/consumer plumbing and the embedded broker.
#![deny(missing_docs)]

pub mod clock;
pub mod codec;
pub mod dead_letters;
#[cfg(feature = "embedded-broker")]
pub mod embedded;
pub mod events;
pub mod follow;
pub mod ids;
pub mod kafka;
pub mod names;
pub mod retention;
pub mod shutdown;
#[cfg(feature = "testing")]
pub mod testing;

pub use events::*;

/// The newest timestamp a datapoint may carry: datapoints are unix seconds
/// from 1970 to the year 2500; anything else is not unix seconds
/// (milliseconds sent by mistake land far above), and near the ends of
/// `i64` window arithmetic would overflow.
pub const MAX_TIMESTAMP: i64 = 16_725_225_600;
