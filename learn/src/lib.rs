//! # skyline-learn
//!
//! Ionosphere learning (`spec/learn.md`): what turns an operator's labels
//! into features profiles and lets profiles beget profiles.
//!
//! The crate owns:
//!
//! * [`settings`]: how each metric learns (the `[learn]` table, namespace
//!   overrides);
//! * [`label`]: a label on a check, and the generation-0 profile a
//!   not-anomalous label makes ([`profile_from_label`]);
//! * [`decide`]: the learn decisions (generations, origin rule, rate limit),
//!   pure;
//! * [`lifecycle`]: validate and disable (with the progeny) as events;
//! * [`retrain`](mod@retrain): re-deriving every profile from the labels;
//! * [`service`]: the learn service that consumes labels and matches and
//!   produces profile events.
//!
//! Everything but [`service`] is pure: profiles come in as a
//! [`fingerprint::ProfileStore`], events come out.
#![deny(missing_docs)]

pub mod decide;
pub mod label;
pub mod lifecycle;
pub mod retrain;
pub mod service;
pub mod settings;

pub use label::{
    label_for_check, profile_from_label, CheckLookup, LabelError, LabelRequest, LabelledCheck,
    LookupError,
};
pub use retrain::retrain;
pub use settings::{LearnConfig, LearnPolicy, NamespaceLearn};

#[cfg(test)]
pub(crate) mod test_data {
    use std::path::PathBuf;

    /// The NAB series every unit test learns from (5-minute points).
    pub fn nab_series() -> Vec<(i64, f64)> {
        let dir = std::env::var_os("SKYLINE_SHARED_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
        let path = dir.join("nab/realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
        let mut reader = csv::Reader::from_path(&path).expect("the NAB data");
        reader
            .records()
            .map(|r| {
                let r = r.expect("a csv row");
                let t = chrono::NaiveDateTime::parse_from_str(&r[0], "%Y-%m-%d %H:%M:%S")
                    .expect("a timestamp")
                    .and_utc()
                    .timestamp();
                (t, r[1].parse::<f64>().expect("a value"))
            })
            .collect()
    }
}
