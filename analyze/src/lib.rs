//! The Analyzer of skyline: the nine three-sigma algorithms, CONSENSUS, the
//! exception pre-checks (TooShort, Stale, Boring), the MAD pre-filter for
//! low-priority metrics, monotonic counters as derivatives, anomaly end
//! detection and alert-rule routing; and Boundary's hard conditions on key
//! metrics (`boundary.rs`), judged beside the ensemble point by point
//! (`boundary_stream.rs`).
//!
//! Everything here but the consumer (`service.rs`) is pure computation over
//! in-memory series; reading windows and writing events is the caller's
//! business. Behaviour follows Skyline's
//! Analyzer (see `spec/analyzer.md`) closely enough that the same series get
//! the same votes; where the reference's code and docs disagree, the code
//! wins and the item says so.
//!
//! Where to look: `algorithms/` (one file per algorithm), `consensus.rs`,
//! `exceptions.rs`, `analysis.rs` (one metric end to end), `alert_rules.rs`,
//! `boundary.rs` and `boundary_stream.rs`, `sweep.rs` (the metrics sweep:
//! resolution, data sparsity, staleness, its schedule and one sweep's plan),
//! `service.rs` (the consumer, which also runs the sweep and publishes its
//! `SystemEvent`s).
//! The statistical building blocks (sums, moments, histograms, least
//! squares, Student's t, the ADF and KS tests) are the `numeric` crate's,
//! shared with the features fingerprint.
#![deny(missing_docs)]

pub mod alert_rules;
pub mod algorithms;
pub mod analysis;
pub mod anomaly_end;
pub mod backtest;
pub mod boundary;
pub mod boundary_stream;
pub mod consensus;
pub mod derivative;
pub mod exceptions;
pub mod pattern;
pub mod periodic;
pub mod priority;
pub mod series;
pub mod series_file;
pub mod service;
pub mod settings;
pub mod stream;
pub mod sweep;

pub use algorithms::{Algorithm, Variant, Vote};
pub use analysis::{analyze, Analysis, MetricContext, Outcome};
pub use consensus::{run_ensemble, run_mirage_ensemble, Ensemble};
pub use series::{tail_avg, Point, Series};
pub use settings::Settings;
