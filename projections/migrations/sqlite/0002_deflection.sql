-- Deflection and learning (events version 2): the same columns as
-- migrations/mysql/0002_deflection.sql, which says why each exists. SQLite
-- adds one column per statement. Every new column is nullable or has a
-- constant default, so a rebuild from offset 0 gives identical rows.

ALTER TABLE checks ADD COLUMN metric TEXT NULL;
ALTER TABLE checks ADD COLUMN full_duration INTEGER NULL;
ALTER TABLE checks ADD COLUMN series TEXT NULL;
ALTER TABLE checks ADD COLUMN echo_points INTEGER NULL;
ALTER TABLE checks ADD COLUMN alerts TEXT NULL;

ALTER TABLE matches ADD COLUMN echo INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN profiles_checked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN features_sum REAL NULL;
ALTER TABLE matches ADD COLUMN common_features INTEGER NULL;
ALTER TABLE matches ADD COLUMN approx_close INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN motif_index INTEGER NULL;
ALTER TABLE matches ADD COLUMN motif_size INTEGER NULL;
ALTER TABLE matches ADD COLUMN motif_kind TEXT NULL;
ALTER TABLE matches ADD COLUMN motif_area REAL NULL;
ALTER TABLE matches ADD COLUMN motif_profile_area REAL NULL;
ALTER TABLE matches ADD COLUMN motif_area_percent_diff REAL NULL;

ALTER TABLE profiles ADD COLUMN learn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE profiles ADD COLUMN description TEXT NULL;
ALTER TABLE profiles ADD COLUMN operator TEXT NULL;
ALTER TABLE profiles ADD COLUMN anomaly_timestamp INTEGER NULL;
ALTER TABLE profiles ADD COLUMN check_id TEXT NULL;
ALTER TABLE profiles ADD COLUMN learn_full_duration INTEGER NULL;
ALTER TABLE profiles ADD COLUMN learn_valid_ts_older_than INTEGER NULL;
ALTER TABLE profiles ADD COLUMN max_generations INTEGER NULL;
ALTER TABLE profiles ADD COLUMN max_percent_diff_from_origin REAL NULL;
ALTER TABLE profiles ADD COLUMN disabled_with TEXT NULL;
CREATE INDEX profiles_parent ON profiles (parent_id);

ALTER TABLE labels ADD COLUMN check_id TEXT NULL;
ALTER TABLE labels ADD COLUMN full_duration INTEGER NULL;
ALTER TABLE labels ADD COLUMN description TEXT NULL;
CREATE INDEX labels_check ON labels (check_id);

ALTER TABLE metrics ADD COLUMN learn_full_duration INTEGER NULL;
ALTER TABLE metrics ADD COLUMN learn_settings_at_ms INTEGER NULL;
ALTER TABLE metrics ADD COLUMN learn_settings_profile_id TEXT NULL;
