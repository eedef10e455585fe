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
//!   period, the three cost profiles, normalisation), pure.
#![deny(missing_docs)]

pub mod nab;
pub mod windows_file;
pub mod operator;
pub mod pipeline;
pub mod report;
