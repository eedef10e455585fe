//! Operators' validate and disable, as profile events (`spec/learn.md` §2).
//!
//! Disabling a profile disables its whole progeny: one Disabled event for
//! the profile and one for every descendant, on every branch (the reference
//! followed only one child per level, leaving the other branches enabled;
//! the profile store deactivates every branch anyway, and the events make
//! the projections say so). Each event is an operator action, with a fresh
//! UUID v7.

use fingerprint::{ProfileStore, StoredProfile};
use topics::clock::now_ms;
use topics::ids::fresh_id;
use topics::{ProfileAction, ProfileEvent};
use uuid::Uuid;

/// A validate or disable that cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LifecycleError {
    /// No profile has this id.
    #[error("no profile {0}")]
    UnknownProfile(Uuid),
}

/// A flag event about `p` (no features or series: only the id and lineage
/// matter to the folds).
fn flag_event(
    p: &StoredProfile,
    action: ProfileAction,
    operator: &str,
    disabled_with: Option<Uuid>,
) -> ProfileEvent {
    ProfileEvent {
        id: fresh_id(),
        profile_id: p.id(),
        action,
        metric: p.metric.clone(),
        parent_id: p.parent_id,
        generation: p.generation,
        full_duration: p.full_duration(),
        features: Vec::new(),
        features_sum: p.profile.features_sum,
        series: Vec::new(),
        layers_json: None,
        label_id: p.label_id,
        at_ms: now_ms(),
        validated: p.validated || action == ProfileAction::Validated,
        learn: p.learn,
        learn_settings: p.learn_settings,
        description: p.description.clone(),
        operator: Some(operator.to_owned()),
        anomaly_timestamp: p.anomaly_timestamp,
        check_id: None,
        disabled_with,
    }
}

/// Disables `profile_id` and every descendant: the first event is the
/// profile's own, then one per descendant with `disabled_with` naming the
/// profile the operator disabled.
pub fn disable(
    store: &ProfileStore,
    profile_id: Uuid,
    operator: &str,
) -> Result<Vec<ProfileEvent>, LifecycleError> {
    let p = store
        .get(profile_id)
        .ok_or(LifecycleError::UnknownProfile(profile_id))?;
    let mut events = vec![flag_event(p, ProfileAction::Disabled, operator, None)];
    events.extend(
        store
            .descendants(profile_id)
            .into_iter()
            .filter_map(|d| store.get(d))
            .map(|d| flag_event(d, ProfileAction::Disabled, operator, Some(profile_id))),
    );
    Ok(events)
}

/// Validates `profile_id` (an operator confirms a learnt profile).
pub fn validate(
    store: &ProfileStore,
    profile_id: Uuid,
    operator: &str,
) -> Result<ProfileEvent, LifecycleError> {
    let p = store
        .get(profile_id)
        .ok_or(LifecycleError::UnknownProfile(profile_id))?;
    Ok(flag_event(p, ProfileAction::Validated, operator, None))
}
