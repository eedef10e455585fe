-- Deflection and learning (events version 2). Every new column is nullable
-- or has a constant default, never the insert time: rows folded before this
-- migration keep NULLs or defaults, and a rebuild from offset 0 fills them
-- from the log, identically on every run.

-- The check's series as JSON `[[ts,value],…]`: a check's series is only ever
-- read whole (to label it or draw it), so one MEDIUMTEXT per check (up to
-- 16 MiB, well over a 30-day window at one point a minute) costs one row
-- instead of one row per point. `metric` lets a check be labelled without
-- the metrics table (owned by another projection, which may lag).
ALTER TABLE checks
    ADD COLUMN metric TEXT NULL,
    ADD COLUMN full_duration BIGINT NULL,
    ADD COLUMN series MEDIUMTEXT NULL,
    ADD COLUMN echo_points INT NULL,
    ADD COLUMN alerts TEXT NULL;

-- Counts and indexes that are u32 in the events are BIGINT: INT is signed
-- 32-bit, and a value it refuses would stop the fold at that record.
ALTER TABLE matches
    ADD COLUMN echo INT NOT NULL DEFAULT 0,
    ADD COLUMN profiles_checked BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN features_sum DOUBLE NULL,
    ADD COLUMN common_features BIGINT NULL,
    ADD COLUMN approx_close INT NOT NULL DEFAULT 0,
    ADD COLUMN motif_index BIGINT NULL,
    ADD COLUMN motif_size BIGINT NULL,
    ADD COLUMN motif_kind VARCHAR(32) NULL,
    ADD COLUMN motif_area DOUBLE NULL,
    ADD COLUMN motif_profile_area DOUBLE NULL,
    ADD COLUMN motif_area_percent_diff DOUBLE NULL;

ALTER TABLE profiles
    ADD COLUMN learn INT NOT NULL DEFAULT 0,
    ADD COLUMN description TEXT NULL,
    ADD COLUMN operator TEXT NULL,
    ADD COLUMN anomaly_timestamp BIGINT NULL,
    ADD COLUMN check_id CHAR(36) NULL,
    ADD COLUMN learn_full_duration BIGINT NULL,
    ADD COLUMN learn_valid_ts_older_than BIGINT NULL,
    ADD COLUMN max_generations BIGINT NULL,
    ADD COLUMN max_percent_diff_from_origin DOUBLE NULL,
    ADD COLUMN disabled_with CHAR(36) NULL,
    ADD KEY profiles_parent (parent_id);

ALTER TABLE labels
    ADD COLUMN check_id CHAR(36) NULL,
    ADD COLUMN full_duration BIGINT NULL,
    ADD COLUMN description TEXT NULL,
    ADD KEY labels_check (check_id);

-- The learn settings in `metrics` come from the latest profile event that
-- carried them: `learn_full_duration` keeps the seconds exactly (the days
-- column rounds), and `learn_settings_at_ms` / `learn_settings_profile_id`
-- say which event set them, so an older event folded later (re-emitted, or
-- replayed) never overwrites a newer one.
ALTER TABLE metrics
    ADD COLUMN learn_full_duration BIGINT NULL,
    ADD COLUMN learn_settings_at_ms BIGINT NULL,
    ADD COLUMN learn_settings_profile_id CHAR(36) NULL;
