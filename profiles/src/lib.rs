//! # skyline-profiles
//!
//! The profiles read model: every metric's features profiles with their
//! lineage and lifecycle flags, folded from the profiles topic. This crate
//! owns the fold ([`ProfileStore`]: creations, learnt children, validate
//! and disable, and which profiles are active) and reading the topic into
//! it ([`load_profiles`] at start, then [`follow_profiles`]).
//!
//! What a reader keeps of each profile beyond its lineage is its own: the
//! store is generic over a [`ProfileView`] made from the creation event.
//! Fingerprint's matching `Profile` is the one skyline uses (the
//! fingerprint service, learn, the console and the binary all read the
//! store through it), so this crate knows nothing of features.
#![deny(missing_docs)]

pub mod follow;
pub mod store;

pub use follow::{follow_profiles, load_profiles, Positions, SharedProfiles};
pub use store::{Applied, ProfileStore, ProfileView, StoredProfile};
