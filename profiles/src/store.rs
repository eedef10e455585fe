//! The features profiles of every metric, folded from the profiles topic:
//! what fingerprint matches against and what learn learns from.
//!
//! A profile is *active* when it and every one of its ancestors are enabled:
//! disabling a profile takes its whole progeny out of matching at once, even
//! a descendant learnt after the disable (the reference followed one child
//! per level; `spec/learn.md` §2). Operators' disables are also written out
//! per descendant (see [`ProfileStore::descendants`]) so the projections
//! show them.

use std::collections::HashMap;
use std::sync::Arc;

use topics::{LearnSettings, ProfileAction, ProfileEvent};
use uuid::Uuid;

/// What a reader keeps of a created or learnt profile event beside its
/// lineage and flags (fingerprint's matching view, for one): made once,
/// when the creation is folded, and shared from then on.
pub trait ProfileView {
    /// The view of a created or learnt event.
    fn from_event(e: &ProfileEvent) -> Self;
    /// The profile's id (the event's `profile_id`).
    fn id(&self) -> Uuid;
    /// Seconds of data the profile describes.
    fn full_duration(&self) -> i64;
}

/// A profile with its lineage and lifecycle.
#[derive(Debug)]
pub struct StoredProfile<P> {
    /// The reader's view (shared: matching runs on other threads).
    pub profile: Arc<P>,
    /// The metric it describes.
    pub metric: String,
    /// The profile it was learnt from (none for a human one).
    pub parent_id: Option<Uuid>,
    /// 0 for a human profile, the parent's plus one for a learnt one.
    pub generation: u32,
    /// The profile's own flag (see [`ProfileStore::is_active`]).
    pub enabled: bool,
    /// Whether an operator validated it.
    pub validated: bool,
    /// Whether skyline may learn from it at longer durations.
    pub learn: bool,
    /// The learn settings recorded with it (the policy's otherwise).
    pub learn_settings: Option<LearnSettings>,
    /// What the operator wrote.
    pub description: Option<String>,
    /// The timestamp of the anomaly it was made from.
    pub anomaly_timestamp: Option<i64>,
    /// The label it was made from.
    pub label_id: Option<Uuid>,
    /// When it was created (unix milliseconds).
    pub created_at_ms: i64,
    /// Position in the log (creation order).
    pub seq: u64,
}

// By hand: a derived `Clone` would ask `P: Clone`, and only the `Arc` is
// cloned.
impl<P> Clone for StoredProfile<P> {
    fn clone(&self) -> Self {
        StoredProfile {
            profile: Arc::clone(&self.profile),
            metric: self.metric.clone(),
            parent_id: self.parent_id,
            generation: self.generation,
            enabled: self.enabled,
            validated: self.validated,
            learn: self.learn,
            learn_settings: self.learn_settings,
            description: self.description.clone(),
            anomaly_timestamp: self.anomaly_timestamp,
            label_id: self.label_id,
            created_at_ms: self.created_at_ms,
            seq: self.seq,
        }
    }
}

impl<P: ProfileView> StoredProfile<P> {
    /// The profile's id.
    pub fn id(&self) -> Uuid {
        self.profile.id()
    }

    /// Seconds of series the profile was made over.
    pub fn full_duration(&self) -> i64 {
        self.profile.full_duration()
    }
}

/// What applying an event changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// A new profile.
    Added,
    /// A flag changed.
    Updated,
    /// Nothing: a repeat, or about a profile not (yet) known.
    Unchanged,
}

/// Every profile, by id and by metric.
#[derive(Debug)]
pub struct ProfileStore<P> {
    by_id: HashMap<Uuid, StoredProfile<P>>,
    by_metric: HashMap<String, Vec<Uuid>>,
    children: HashMap<Uuid, Vec<Uuid>>,
    next_seq: u64,
}

// By hand, as for `StoredProfile`: neither needs anything of `P`.
impl<P> Default for ProfileStore<P> {
    fn default() -> Self {
        ProfileStore {
            by_id: HashMap::new(),
            by_metric: HashMap::new(),
            children: HashMap::new(),
            next_seq: 0,
        }
    }
}

impl<P> Clone for ProfileStore<P> {
    fn clone(&self) -> Self {
        ProfileStore {
            by_id: self.by_id.clone(),
            by_metric: self.by_metric.clone(),
            children: self.children.clone(),
            next_seq: self.next_seq,
        }
    }
}

impl<P: ProfileView> ProfileStore<P> {
    /// An empty store.
    pub fn new() -> Self {
        ProfileStore::default()
    }

    /// Folds one event. Creations are kept once (a re-emitted creation
    /// changes nothing, and never re-enables a disabled profile); validate
    /// and disable set their flag. A flag event for an unknown profile is
    /// ignored (`Unchanged`).
    pub fn apply(&mut self, e: &ProfileEvent) -> Applied {
        match e.action {
            ProfileAction::Created | ProfileAction::Learnt => {
                if self.by_id.contains_key(&e.profile_id) {
                    return Applied::Unchanged;
                }
                let stored = StoredProfile {
                    profile: Arc::new(P::from_event(e)),
                    metric: e.metric.clone(),
                    parent_id: e.parent_id,
                    generation: e.generation,
                    enabled: true,
                    validated: e.validated,
                    learn: e.learn,
                    learn_settings: e.learn_settings,
                    description: e.description.clone(),
                    anomaly_timestamp: e.anomaly_timestamp,
                    label_id: e.label_id,
                    created_at_ms: e.at_ms,
                    seq: self.next_seq,
                };
                self.next_seq += 1;
                if let Some(parent) = e.parent_id {
                    self.children.entry(parent).or_default().push(e.profile_id);
                }
                self.by_metric
                    .entry(e.metric.clone())
                    .or_default()
                    .push(e.profile_id);
                self.by_id.insert(e.profile_id, stored);
                Applied::Added
            }
            ProfileAction::Validated | ProfileAction::Disabled => {
                let Some(p) = self.by_id.get_mut(&e.profile_id) else {
                    return Applied::Unchanged;
                };
                let flag = if e.action == ProfileAction::Validated {
                    &mut p.validated
                } else {
                    &mut p.enabled
                };
                let wanted = e.action == ProfileAction::Validated;
                if *flag == wanted {
                    Applied::Unchanged
                } else {
                    *flag = wanted;
                    Applied::Updated
                }
            }
        }
    }

    /// The profile `id`, active or not.
    pub fn get(&self, id: Uuid) -> Option<&StoredProfile<P>> {
        self.by_id.get(&id)
    }

    /// Profiles folded.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no profile was folded.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Whether `id` is enabled and so is every ancestor.
    pub fn is_active(&self, id: Uuid) -> bool {
        let mut current = Some(id);
        // Bounded by the store's size, so a (malformed) cycle cannot loop.
        for _ in 0..=self.by_id.len() {
            let Some(c) = current else { return true };
            match self.by_id.get(&c) {
                Some(p) if p.enabled => current = p.parent_id,
                // An unknown ancestor (not folded yet) does not disable.
                None if c != id => return true,
                _ => return false,
            }
        }
        false
    }

    /// Every profile of `metric`, in creation order.
    pub fn for_metric<'a>(
        &'a self,
        metric: &str,
    ) -> impl Iterator<Item = &'a StoredProfile<P>> + 'a {
        self.by_metric
            .get(metric)
            .into_iter()
            .flatten()
            .filter_map(|id| self.by_id.get(id))
    }

    /// The active profiles of `metric`, in creation order.
    pub fn active_for_metric<'a>(
        &'a self,
        metric: &str,
    ) -> impl Iterator<Item = &'a StoredProfile<P>> + 'a {
        self.for_metric(metric).filter(|p| self.is_active(p.id()))
    }

    /// Whether `metric` has an active profile (is ionosphere-enabled).
    pub fn metric_enabled(&self, metric: &str) -> bool {
        self.active_for_metric(metric).next().is_some()
    }

    /// Metrics with at least one profile.
    pub fn metrics(&self) -> impl Iterator<Item = &str> {
        self.by_metric.keys().map(String::as_str)
    }

    /// Every descendant of `id` (children, their children, …), breadth
    /// first; all branches are followed.
    pub fn descendants(&self, id: Uuid) -> Vec<Uuid> {
        let mut out = Vec::new();
        let mut frontier = vec![id];
        while let Some(current) = frontier.pop() {
            for &child in self.children.get(&current).into_iter().flatten() {
                if child != id && !out.contains(&child) {
                    out.push(child);
                    frontier.push(child);
                }
            }
        }
        out
    }

    /// The generation-0 ancestor of `id` (itself if it has no parent).
    pub fn origin(&self, id: Uuid) -> Option<&StoredProfile<P>> {
        let mut current = self.by_id.get(&id)?;
        for _ in 0..=self.by_id.len() {
            match current.parent_id.and_then(|p| self.by_id.get(&p)) {
                Some(parent) => current = parent,
                None => return Some(current),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The least a view can be: what the store itself reads.
    #[derive(Debug)]
    struct View {
        id: Uuid,
        full_duration: i64,
    }

    impl ProfileView for View {
        fn from_event(e: &ProfileEvent) -> Self {
            View {
                id: e.profile_id,
                full_duration: e.full_duration,
            }
        }

        fn id(&self) -> Uuid {
            self.id
        }

        fn full_duration(&self) -> i64 {
            self.full_duration
        }
    }

    fn created(id: u128, parent: Option<u128>, generation: u32) -> ProfileEvent {
        ProfileEvent {
            id: Uuid::from_u128(1000 + id),
            action: if parent.is_some() {
                ProfileAction::Learnt
            } else {
                ProfileAction::Created
            },
            parent_id: parent.map(Uuid::from_u128),
            generation,
            validated: generation <= 1,
            ..topics::testing::profile_event(Uuid::from_u128(id), "m")
        }
    }

    fn flag(id: u128, action: ProfileAction) -> ProfileEvent {
        ProfileEvent {
            action,
            ..created(id, None, 0)
        }
    }

    /// 1 ─┬─ 2 ─┬─ 4 ── 6
    ///    │     └─ 5
    ///    └─ 3 ── 7
    fn tree() -> ProfileStore<View> {
        let mut s = ProfileStore::new();
        for e in [
            created(1, None, 0),
            created(2, Some(1), 1),
            created(3, Some(1), 1),
            created(4, Some(2), 2),
            created(5, Some(2), 2),
            created(6, Some(4), 3),
            created(7, Some(3), 2),
        ] {
            assert_eq!(s.apply(&e), Applied::Added);
        }
        s
    }

    #[test]
    fn descendants_follow_every_branch() {
        let s = tree();
        let mut d = s.descendants(Uuid::from_u128(1));
        d.sort();
        assert_eq!(d, (2..=7).map(Uuid::from_u128).collect::<Vec<_>>());
        let mut d = s.descendants(Uuid::from_u128(2));
        d.sort();
        assert_eq!(d, [4, 5, 6].map(Uuid::from_u128));
        assert!(s.descendants(Uuid::from_u128(6)).is_empty());
    }

    #[test]
    fn disabling_deactivates_the_progeny() {
        let mut s = tree();
        assert_eq!(s.active_for_metric("m").count(), 7);
        assert_eq!(s.apply(&flag(2, ProfileAction::Disabled)), Applied::Updated);
        let active: Vec<u128> = s.active_for_metric("m").map(|p| p.id().as_u128()).collect();
        assert_eq!(active, [1, 3, 7]);
        // A child learnt later from a disabled parent is not active either.
        s.apply(&created(8, Some(6), 4));
        assert!(!s.is_active(Uuid::from_u128(8)));
        assert_eq!(
            s.apply(&flag(2, ProfileAction::Disabled)),
            Applied::Unchanged
        );
        assert_eq!(
            s.origin(Uuid::from_u128(6)).map(|p| p.id().as_u128()),
            Some(1)
        );
    }

    #[test]
    fn re_emitted_creations_do_not_re_enable() {
        let mut s = tree();
        s.apply(&flag(3, ProfileAction::Disabled));
        assert_eq!(s.apply(&created(3, Some(1), 1)), Applied::Unchanged);
        assert!(!s.is_active(Uuid::from_u128(3)));
        assert_eq!(
            s.apply(&flag(99, ProfileAction::Validated)),
            Applied::Unchanged
        );
        assert!(s.metric_enabled("m"));
        assert!(!s.metric_enabled("other"));
    }
}
