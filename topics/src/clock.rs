//! The one wall clock of skyline's services.
//!
//! Decisions never read it (they are functions of the log: data time), so
//! a replay decides the same way; it stamps when something was decided or
//! written (`decided_at_ms`, a dead letter's `at_ms`, a label's time) and
//! where a read of the log began.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the unix epoch now (0 on a clock set before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
