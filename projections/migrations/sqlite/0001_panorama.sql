-- Panorama tables (SQLite; the same tables as migrations/mysql). Ids are UUIDs as text; times are
-- unix seconds unless the column name ends in _ms. Every row is derived from
-- events on the log, so nothing here defaults to the insert time: a rebuild
-- from offset 0 gives identical rows.

CREATE TABLE projection_offsets (
    projection TEXT NOT NULL,
    topic TEXT NOT NULL,
    kafka_partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (projection, topic, kafka_partition)
);

CREATE TABLE metrics (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    first_seen INTEGER NULL,
    last_seen INTEGER NULL,
    ionosphere_enabled INTEGER NOT NULL DEFAULT 0,
    learn_full_duration_days INTEGER NOT NULL DEFAULT 30,
    learn_valid_ts_older_than INTEGER NOT NULL DEFAULT 3661,
    max_generations INTEGER NOT NULL DEFAULT 16,
    max_percent_diff_from_origin REAL NOT NULL DEFAULT 100
);
CREATE INDEX metrics_name ON metrics (name);

CREATE TABLE metric_profiles (
    profile_id TEXT NOT NULL PRIMARY KEY,
    metric_id TEXT NOT NULL,
    enabled INTEGER NOT NULL
);
CREATE INDEX metric_profiles_metric ON metric_profiles (metric_id, enabled);

CREATE TABLE anomalies (
    id TEXT NOT NULL PRIMARY KEY,
    metric_id TEXT NOT NULL,
    anomaly_timestamp INTEGER NOT NULL,
    value REAL NOT NULL,
    source_app TEXT NOT NULL,
    algorithms_run TEXT NOT NULL,
    triggered_algorithms TEXT NOT NULL,
    full_duration INTEGER NOT NULL,
    from_timestamp INTEGER NOT NULL,
    end_timestamp INTEGER NULL,
    check_id TEXT NULL,
    derivative INTEGER NOT NULL,
    decided_at_ms INTEGER NOT NULL
);
CREATE INDEX anomalies_latest ON anomalies (anomaly_timestamp);
CREATE INDEX anomalies_metric_time ON anomalies (metric_id, anomaly_timestamp);

CREATE TABLE checks (
    id TEXT NOT NULL PRIMARY KEY,
    anomaly_id TEXT NOT NULL,
    target TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    check_timestamp INTEGER NOT NULL,
    value REAL NOT NULL,
    triggered_algorithms TEXT NOT NULL,
    second_order_resolution_hours INTEGER NULL,
    series_points INTEGER NOT NULL,
    series_from INTEGER NULL,
    series_until INTEGER NULL,
    decided_at_ms INTEGER NOT NULL
);
CREATE INDEX checks_anomaly ON checks (anomaly_id);
CREATE INDEX checks_metric_time ON checks (metric_id, check_timestamp);

CREATE TABLE matches (
    id TEXT NOT NULL PRIMARY KEY,
    check_id TEXT NOT NULL,
    anomaly_id TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    match_timestamp INTEGER NOT NULL,
    matched INTEGER NOT NULL,
    method TEXT NOT NULL,
    profile_id TEXT NULL,
    layer_id TEXT NULL,
    percent_different REAL NULL,
    distance REAL NULL,
    decided_at_ms INTEGER NOT NULL
);
CREATE INDEX matches_check ON matches (check_id);
CREATE INDEX matches_anomaly ON matches (anomaly_id);
CREATE INDEX matches_metric_time ON matches (metric_id, match_timestamp);
CREATE INDEX matches_profile ON matches (profile_id);

CREATE TABLE profiles (
    id TEXT NOT NULL PRIMARY KEY,
    metric_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    parent_id TEXT NULL,
    generation INTEGER NOT NULL,
    full_duration INTEGER NOT NULL,
    features_count INTEGER NOT NULL,
    features_sum REAL NOT NULL,
    series_points INTEGER NOT NULL,
    layer_id TEXT NULL,
    label_id TEXT NULL,
    enabled INTEGER NOT NULL,
    validated INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    validated_at_ms INTEGER NULL,
    disabled_at_ms INTEGER NULL
);
CREATE INDEX profiles_metric ON profiles (metric_id, enabled);

CREATE TABLE profile_features (
    profile_id TEXT NOT NULL,
    feature_id INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (profile_id, feature_id)
);

CREATE TABLE profile_series (
    profile_id TEXT NOT NULL,
    series_timestamp INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (profile_id, series_timestamp)
);

CREATE TABLE layers (
    id TEXT NOT NULL PRIMARY KEY,
    profile_id TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    definition TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX layers_profile ON layers (profile_id);
CREATE INDEX layers_metric ON layers (metric_id);

CREATE TABLE labels (
    id TEXT NOT NULL PRIMARY KEY,
    metric_id TEXT NOT NULL,
    anomaly_id TEXT NULL,
    training_id TEXT NULL,
    label_timestamp INTEGER NOT NULL,
    not_anomalous INTEGER NOT NULL,
    learn INTEGER NOT NULL,
    layers_json TEXT NULL,
    operator TEXT NOT NULL,
    labelled_at_ms INTEGER NOT NULL
);
CREATE INDEX labels_anomaly ON labels (anomaly_id);
CREATE INDEX labels_metric_time ON labels (metric_id, label_timestamp);

CREATE TABLE alerts (
    id TEXT NOT NULL PRIMARY KEY,
    anomaly_id TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    alert_timestamp INTEGER NOT NULL,
    value REAL NOT NULL,
    source_app TEXT NOT NULL,
    alerter TEXT NOT NULL,
    rule TEXT NOT NULL,
    triggered_algorithms TEXT NOT NULL,
    decided_at_ms INTEGER NOT NULL
);
CREATE INDEX alerts_anomaly ON alerts (anomaly_id);
CREATE INDEX alerts_metric_time ON alerts (metric_id, alert_timestamp);
