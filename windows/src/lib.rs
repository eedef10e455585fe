//! # skyline-windows
//!
//! The windows of skyline: each metric's recent series, folded from the
//! datapoints topic, and the small per-metric state kept beside them. This
//! crate owns how a window is stored and compacted ([`log`]), its two stores
//! ([`RedisWindows`], [`MemoryWindows`]) behind [`Windows`], and
//! [`replay`], which rebuilds them from the topic (`skyline replay
//! windows`). Ingest writes the datapoints topic; the Analyzer folds it into
//! windows; fingerprint, learn and the console read them.
//!
//! A metric's windows are the last `full_duration` at full resolution (what
//! the Analyzer judges) and a rolled-up long window (mean per
//! `rollup_resolution`, kept for `rollup_duration`) for the seasonal
//! re-check and learning.
//!
//! Folding is replay-safe: what a reader sees depends only on the set of
//! datapoints folded — not on their order, their batching, or on folding one
//! twice. Windows are cut relative to the metric's newest point, never the
//! wall clock, so replaying old data builds the same windows as it did live.
//! How a window is stored and compacted is in [`log`].
//!
//! Two stores: [`RedisWindows`] (production) and [`MemoryWindows`] (the
//! embedded default); both run the same [`log`] functions, and a test folds
//! the same data into both and compares.
#![deny(missing_docs)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use topics::Datapoint;

pub mod log;
mod memory;
mod redis_store;
mod replay;

pub use log::sort_dedup;
pub use memory::MemoryWindows;
pub use redis_store::RedisWindows;
pub use replay::{replay, ReplayError, Replayed};

/// A point: unix seconds and value.
pub type Point = (i64, f64);

/// How long windows are and how they roll up (the `[windows]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowSettings {
    /// Seconds kept at full resolution, behind the metric's newest point
    /// (`FULL_DURATION`); must cover the Analyzer's.
    pub full_duration: i64,
    /// Extra seconds kept so late points still fold (`ROOMBA_GRACE_TIME`).
    pub grace: i64,
    /// Seconds per rolled-up bucket (mean of the points in it).
    pub rollup_resolution: i64,
    /// Seconds of rolled-up history kept.
    pub rollup_duration: i64,
    /// Prefix of every Redis key skyline writes.
    pub key_prefix: String,
}

impl WindowSettings {
    /// Seconds behind a metric's newest point that its full window shows.
    pub fn keep(&self) -> i64 {
        self.full_duration.saturating_add(self.grace)
    }
}

impl Default for WindowSettings {
    fn default() -> Self {
        WindowSettings {
            full_duration: 86_400,
            grace: 600,
            rollup_resolution: 600,
            rollup_duration: 30 * 86_400,
            key_prefix: "skyline".to_owned(),
        }
    }
}

/// Why folding or reading windows failed.
#[derive(Debug, Error)]
pub enum WindowError {
    /// The Redis store failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A stored window's length is not a whole number of 16-byte points.
    #[error("window of {metric} is {bytes} bytes, not a whole number of points")]
    Corrupt {
        /// The metric.
        metric: String,
        /// The window's length in bytes.
        bytes: usize,
    },
    /// A rolled-up bucket is not `start:mean`.
    #[error("rolled-up window of {metric} holds an unreadable bucket {member:?}")]
    CorruptRollup {
        /// The metric.
        metric: String,
        /// The stored sorted-set member.
        member: String,
    },
}

/// What a fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FoldStats {
    /// Datapoints folded.
    pub points: usize,
    /// Distinct metrics among them.
    pub metrics: usize,
    /// Windows compacted (and rolled up) during the fold.
    pub compactions: usize,
}

/// The state kind of the ionosphere-enabled flag
/// ([`Windows::fingerprint_enabled`]).
pub const FINGERPRINT_ENABLED_STATE: &str = "fingerprint_enabled";

/// Groups a batch by metric, keeping each metric's points in batch order.
pub fn by_metric(batch: &[Datapoint]) -> BTreeMap<&str, Vec<Point>> {
    let mut groups: BTreeMap<&str, Vec<Point>> = BTreeMap::new();
    for d in batch {
        groups
            .entry(d.metric.as_str())
            .or_default()
            .push((d.timestamp, d.value));
    }
    groups
}

/// Where windows live.
pub enum Windows {
    /// In Redis (production).
    Redis(RedisWindows),
    /// In this process's memory (the embedded default).
    Memory(MemoryWindows),
}

impl Windows {
    /// Folds a batch of datapoints into its metrics' windows.
    pub async fn fold(&self, batch: &[Datapoint]) -> Result<FoldStats, WindowError> {
        match self {
            Windows::Redis(w) => w.fold(batch).await,
            Windows::Memory(w) => Ok(w.fold(batch)),
        }
    }

    /// The full-resolution windows of `metrics`, each sorted and one point
    /// per timestamp: the points within `full_duration + grace` of the
    /// metric's newest point. (The store may hold more until it compacts;
    /// that never shows here.)
    pub async fn windows(&self, metrics: &[&str]) -> Result<Vec<Vec<Point>>, WindowError> {
        let keep = self.settings().keep();
        let mut all = self
            .windows_after(&metrics.iter().map(|m| (*m, i64::MIN)).collect::<Vec<_>>())
            .await?;
        for w in &mut all {
            log::cut_to_newest(w, keep);
        }
        Ok(all)
    }

    /// For each `(metric, after)`, every stored point with timestamp above
    /// `after` (what a consumer re-judging a batch needs).
    pub async fn windows_after(
        &self,
        metrics: &[(&str, i64)],
    ) -> Result<Vec<Vec<Point>>, WindowError> {
        match self {
            Windows::Redis(w) => w.windows_after(metrics).await,
            Windows::Memory(w) => Ok(metrics
                .iter()
                .map(|(m, after)| w.window_after(m, *after))
                .collect()),
        }
    }

    /// Whether the store answers (Redis within a second; memory always),
    /// for `/health`.
    pub async fn ping(&self) -> Result<(), String> {
        match self {
            Windows::Redis(w) => w.ping(std::time::Duration::from_secs(1)).await,
            Windows::Memory(_) => Ok(()),
        }
    }

    /// The rolled-up long window of `metric`: one mean per `rollup_resolution`
    /// seconds over the last `rollup_duration` seconds.
    pub async fn rollup(&self, metric: &str) -> Result<Vec<Point>, WindowError> {
        match self {
            Windows::Redis(w) => w.rollup(metric).await,
            Windows::Memory(w) => Ok(w.rollup(metric)),
        }
    }

    /// Every metric with a window, sorted by name.
    pub async fn metrics(&self) -> Result<Vec<String>, WindowError> {
        match self {
            Windows::Redis(w) => w.metrics().await,
            Windows::Memory(w) => Ok(w.metrics()),
        }
    }

    /// Forgets every window (before a replay).
    pub async fn clear(&self) -> Result<(), WindowError> {
        match self {
            Windows::Redis(w) => w.clear().await,
            Windows::Memory(w) => {
                w.clear();
                Ok(())
            }
        }
    }

    /// Whether each of `metrics` is ionosphere-enabled (has enabled features
    /// profiles, so its anomalies go to fingerprint before alerting). The
    /// fingerprint service keeps this flag as it folds the profiles topic.
    pub async fn fingerprint_enabled(&self, metrics: &[&str]) -> Result<Vec<bool>, WindowError> {
        let states = self.load_states(FINGERPRINT_ENABLED_STATE, metrics).await?;
        Ok(states
            .into_iter()
            .map(|s| s.as_deref() == Some("1"))
            .collect())
    }

    /// Records which metrics are ionosphere-enabled (`(metric, enabled)`).
    pub async fn set_fingerprint_enabled(
        &self,
        flags: &[(String, bool)],
    ) -> Result<(), WindowError> {
        let states: Vec<(String, String)> = flags
            .iter()
            .map(|(m, on)| (m.clone(), if *on { "1" } else { "0" }.to_owned()))
            .collect();
        self.save_states(FINGERPRINT_ENABLED_STATE, &states).await
    }

    /// Per-metric state a consumer keeps beside the windows (opaque text,
    /// e.g. JSON), read for `metrics` in order; `None` where none is kept.
    pub async fn load_states(
        &self,
        kind: &str,
        metrics: &[&str],
    ) -> Result<Vec<Option<String>>, WindowError> {
        match self {
            Windows::Redis(w) => w.load_states(kind, metrics).await,
            Windows::Memory(w) => Ok(w.load_states(kind, metrics)),
        }
    }

    /// Stores `(metric, state)` pairs of `kind`.
    pub async fn save_states(
        &self,
        kind: &str,
        states: &[(String, String)],
    ) -> Result<(), WindowError> {
        match self {
            Windows::Redis(w) => w.save_states(kind, states).await,
            Windows::Memory(w) => {
                w.save_states(kind, states);
                Ok(())
            }
        }
    }

    /// How long the windows are and how they roll up.
    pub fn settings(&self) -> &WindowSettings {
        match self {
            Windows::Redis(w) => w.settings(),
            Windows::Memory(w) => w.settings(),
        }
    }
}
