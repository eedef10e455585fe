-- The console's browsing queries (src/browse.rs): the newest matches first,
-- a profile's matches newest first, and the profiles made from a check.
-- Indexes only, so rows folded before this migration need no rebuild.

ALTER TABLE matches
    ADD KEY matches_latest (match_timestamp),
    ADD KEY matches_profile_time (profile_id, match_timestamp);

ALTER TABLE profiles
    ADD KEY profiles_check (check_id);
