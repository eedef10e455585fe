//! Re-deriving every profile from the labels (`skyline retrain`), e.g.
//! after a features change.
//!
//! A label's profile id is derived from the label and the features version,
//! so with unchanged features retraining finds every profile already there
//! and emits nothing; after a features change each label gets a new profile
//! and its old one (a different id with the same label id) is disabled,
//! with its progeny (learnt from the old features, they would never match
//! the new ones consistently).

use fingerprint::ProfileStore;
use topics::{Label, ProfileEvent};

use crate::label::{profile_from_label, LabelError};
use crate::lifecycle::disable;
use crate::settings::LearnPolicy;

/// Who retraining disables as.
pub const RETRAIN_OPERATOR: &str = "retrain";

/// The events that bring `store` in line with `labels` at
/// `features_version`: a Created event per not-anomalous label whose
/// profile is missing, and Disabled events for each enabled older profile
/// of such a label (and its progeny). Labels that make no profile (not
/// not-anomalous, no series, bad layers) are skipped.
pub fn retrain(
    labels: &[Label],
    store: &ProfileStore,
    policy: &LearnPolicy,
    features_version: &str,
) -> Vec<ProfileEvent> {
    let mut out = Vec::new();
    for label in labels {
        let settings = policy.for_metric(&label.metric);
        let created = match profile_from_label(label, &settings, features_version) {
            Ok(e) => e,
            Err(LabelError::NotNotAnomalous(_)) => continue,
            Err(e) => {
                tracing::debug!(label = %label.id, error = %e, "label skipped");
                continue;
            }
        };
        let older: Vec<_> = store
            .for_metric(&label.metric)
            .filter(|p| p.label_id == Some(label.id) && p.id() != created.profile_id && p.enabled)
            .map(|p| p.id())
            .collect();
        for old in older {
            out.extend(disable(store, old, RETRAIN_OPERATOR).unwrap_or_default());
        }
        if store.get(created.profile_id).is_none() {
            out.push(created);
        }
    }
    out
}
