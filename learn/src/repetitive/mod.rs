//! Learning without an operator: repetitive patterns (`spec/learn.md`
//! §4–§6).
//!
//! * [`filter`]: which metrics may learn repetitive patterns
//!   (`IONOSPHERE_REPETITIVE_PATTERNS_INCLUDE` / `_EXCLUDE`);
//! * [`daily`]: `learn_repetitive_patterns`, daily- (and hourly-) aligned
//!   anomalies with similar features;
//! * [`sporadic`]: `find_repetitive_patterns`, similar anomalies in
//!   different weeks over 30 days.
//!
//! * [`settings`]: the `[learn.repetitive]` table;
//! * [`memory`]: what the rules remember of the log (each metric's recent
//!   checks and anomalies), folded by the learn service and `evaluate`.
//!
//! All pure: anomalies, series and profiles in, profile events out.

pub mod daily;
pub mod filter;
pub mod memory;
pub mod settings;
pub mod sporadic;

pub use daily::{learn_repetitive, TrainingCheck, REPETITIVE_DESCRIPTION};
pub use memory::{DailyWork, RepetitiveMemory, SporadicWork};
pub use settings::{RepetitiveConfig, RepetitiveConfigError, RepetitivePolicy};
pub use sporadic::{find_repetitive, PastAnomaly};
