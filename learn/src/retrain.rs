//! Re-deriving every profile from the labels (`skyline retrain`), e.g.
//! after a features change.
//!
//! A label's profile id is derived from the label and the features version,
//! so with unchanged features retraining finds every profile already there
//! and emits nothing; after a features change each label gets a new profile
//! and its old one (a different id with the same label id) is disabled,
//! with its progeny (learnt from the old features, they would never match
//! the new ones consistently). A seasonal label's echo profile has its id
//! derived from the label's profile's, so it is found, replaced and
//! disabled (as a descendant) with it.

use std::collections::HashSet;

use fingerprint::ProfileStore;
use topics::{Label, ProfileEvent};
use uuid::Uuid;

use crate::label::{profiles_from_label, LabelError};
use crate::lifecycle::disable;
use crate::settings::LearnPolicy;

/// Who retraining disables as.
pub const RETRAIN_OPERATOR: &str = "retrain";

/// The events that bring `store` in line with `labels` at
/// `features_version`: a Created event per profile a not-anomalous label
/// makes (its own and, on a seasonal check, its echo profile) that is
/// missing, and Disabled events for each enabled older profile
/// of such a label (and its progeny). Labels that make no profile (not
/// not-anomalous, no series, bad layers) are skipped.
pub fn retrain(
    labels: &[Label],
    store: &ProfileStore,
    policy: &LearnPolicy,
    features_version: &str,
) -> Vec<ProfileEvent> {
    let mut out = Vec::new();
    // Profiles disabled by this run: an old echo profile is a descendant of
    // its label's old profile, disabled with it, and is not disabled twice.
    let mut disabled: HashSet<Uuid> = HashSet::new();
    for label in labels {
        let created = match profiles_from_label(label, policy, features_version) {
            Ok(e) => e,
            Err(LabelError::NotNotAnomalous(_)) => continue,
            Err(e) => {
                tracing::debug!(label = %label.id, error = %e, "label skipped");
                continue;
            }
        };
        let made = |id: Uuid| created.iter().any(|e| e.profile_id == id);
        let older: Vec<_> = store
            .for_metric(&label.metric)
            .filter(|p| p.label_id == Some(label.id) && !made(p.id()) && p.enabled)
            .map(|p| p.id())
            .collect();
        for old in older {
            if disabled.contains(&old) {
                continue;
            }
            for e in disable(store, old, RETRAIN_OPERATOR).unwrap_or_default() {
                if disabled.insert(e.profile_id) {
                    out.push(e);
                }
            }
        }
        out.extend(
            created
                .into_iter()
                .filter(|e| store.get(e.profile_id).is_none()),
        );
    }
    out
}
