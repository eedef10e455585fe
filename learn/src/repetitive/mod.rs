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
//! All pure: anomalies, series and profiles in, profile events out.

pub mod daily;
pub mod filter;
pub mod sporadic;
