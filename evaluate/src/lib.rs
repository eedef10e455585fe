//! # skyline-evaluate
//!
//! `skyline evaluate`: labelled history replayed through the real decision
//! code, in-process and over data time, with a simulated operator who labels
//! false alerts, scored per series and in total.
//!
//! The crate owns:
//!
//! * [`windows_file`]: NAB's labelled anomaly windows
//!   (`labels_windows.json`) and which key a series file takes;
//! * [`nab`]: the NAB scorer (windows, the scaled sigmoid, the probationary
//!   period, the three cost profiles, normalisation), pure;
//! * [`operator`]: the simulated operator (who labels which false alert,
//!   when, with what);
//! * [`pipeline`]: one series through analyze, seasonal, fingerprint and
//!   learn in-process over data time, every decision made by the function
//!   the service makes it with, onto an in-memory log;
//! * [`report`]: counts and NAB scores per series and in total, the table
//!   and the JSON.
//!
//! Reading files, running series in parallel and writing `--out` are the
//! binary's (`src/evaluate.rs`).
#![deny(missing_docs)]

pub mod nab;
pub mod operator;
pub mod pipeline;
pub mod report;
pub mod windows_file;
