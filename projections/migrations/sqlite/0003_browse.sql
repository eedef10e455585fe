-- The console's browsing queries: the same indexes as
-- migrations/mysql/0003_browse.sql, which says why each exists.

CREATE INDEX matches_latest ON matches (match_timestamp);
CREATE INDEX matches_profile_time ON matches (profile_id, match_timestamp);
CREATE INDEX profiles_check ON profiles (check_id);
