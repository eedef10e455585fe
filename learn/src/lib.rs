//! # skyline-learn
//!
//! Ionosphere learning (`spec/learn.md`): what turns an operator's labels
//! into features profiles and lets profiles beget profiles.
//!
//! The crate owns:
//!
//! * [`settings`]: how each metric learns (the `[learn]` table, namespace
//!   overrides);
//! * [`label`]: a label on a check, and the profiles a not-anomalous label
//!   makes ([`profiles_from_label`]): its generation-0 profile
//!   ([`profile_from_label`]) and, for a seasonal check, the echo profile
//!   beside it ([`echo_from_label`]: the check's last 24 h at FULL_DURATION,
//!   generation 1, validated, described `echo`);
//! * [`decide`]: the learn decisions (generations, origin rule, rate limit),
//!   pure;
//! * [`lifecycle`]: validate and disable (with the progeny) as events;
//! * [`repetitive`]: learning repetitive patterns without an operator;
//! * [`import`]: an existing Skyline's features profiles and layers as
//!   profile events (`skyline import-skyline`);
//! * [`retrain`](mod@retrain): re-deriving every profile from the labels;
//! * [`service`]: the learn service that consumes labels and matches and
//!   produces profile events.
//!
//! Everything but [`service`] is pure: profiles come in as a
//! [`fingerprint::ProfileStore`], events come out.
#![deny(missing_docs)]

pub mod decide;
pub mod import;
pub mod label;
pub mod lifecycle;
pub mod repetitive;
pub mod retrain;
pub mod service;
pub mod settings;

pub use label::{
    echo_from_label, label_for_check, profile_from_label, profiles_from_label, CheckLookup,
    LabelError, LabelRequest, LabelledCheck, LookupError, NoEcho, ECHO_DESCRIPTION,
};
pub use retrain::retrain;
pub use settings::{LearnConfig, LearnPolicy, NamespaceLearn};

#[cfg(test)]
pub(crate) mod test_data {
    /// The NAB series every unit test learns from (5-minute points).
    pub fn nab_series() -> Vec<(i64, f64)> {
        numeric::reference::read_nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv")
    }
}
