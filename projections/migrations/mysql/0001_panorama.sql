-- Panorama tables (MySQL / MariaDB). Ids are UUIDs as text; times are
-- unix seconds unless the column name ends in _ms. Every row is derived from
-- events on the log, so nothing here defaults to the insert time: a rebuild
-- from offset 0 gives identical rows.

CREATE TABLE projection_offsets (
    projection VARCHAR(64) NOT NULL,
    topic VARCHAR(249) NOT NULL,
    kafka_partition INT NOT NULL,
    next_offset BIGINT NOT NULL,
    PRIMARY KEY (projection, topic, kafka_partition)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE metrics (
    id CHAR(36) NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    first_seen BIGINT NULL,
    last_seen BIGINT NULL,
    ionosphere_enabled INT NOT NULL DEFAULT 0,
    learn_full_duration_days INT NOT NULL DEFAULT 30,
    learn_valid_ts_older_than INT NOT NULL DEFAULT 3661,
    max_generations INT NOT NULL DEFAULT 16,
    max_percent_diff_from_origin DOUBLE NOT NULL DEFAULT 100,
    KEY metrics_name (name(255))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE metric_profiles (
    profile_id CHAR(36) NOT NULL PRIMARY KEY,
    metric_id CHAR(36) NOT NULL,
    enabled INT NOT NULL,
    KEY metric_profiles_metric (metric_id, enabled)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE anomalies (
    id CHAR(36) NOT NULL PRIMARY KEY,
    metric_id CHAR(36) NOT NULL,
    anomaly_timestamp BIGINT NOT NULL,
    value DOUBLE NOT NULL,
    source_app VARCHAR(32) NOT NULL,
    algorithms_run TEXT NOT NULL,
    triggered_algorithms TEXT NOT NULL,
    full_duration BIGINT NOT NULL,
    from_timestamp BIGINT NOT NULL,
    end_timestamp BIGINT NULL,
    check_id CHAR(36) NULL,
    derivative INT NOT NULL,
    decided_at_ms BIGINT NOT NULL,
    KEY anomalies_latest (anomaly_timestamp),
    KEY anomalies_metric_time (metric_id, anomaly_timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE checks (
    id CHAR(36) NOT NULL PRIMARY KEY,
    anomaly_id CHAR(36) NOT NULL,
    target VARCHAR(32) NOT NULL,
    metric_id CHAR(36) NOT NULL,
    check_timestamp BIGINT NOT NULL,
    value DOUBLE NOT NULL,
    triggered_algorithms TEXT NOT NULL,
    second_order_resolution_hours INT NULL,
    series_points INT NOT NULL,
    series_from BIGINT NULL,
    series_until BIGINT NULL,
    decided_at_ms BIGINT NOT NULL,
    KEY checks_anomaly (anomaly_id),
    KEY checks_metric_time (metric_id, check_timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE matches (
    id CHAR(36) NOT NULL PRIMARY KEY,
    check_id CHAR(36) NOT NULL,
    anomaly_id CHAR(36) NOT NULL,
    metric_id CHAR(36) NOT NULL,
    match_timestamp BIGINT NOT NULL,
    matched INT NOT NULL,
    method VARCHAR(32) NOT NULL,
    profile_id CHAR(36) NULL,
    layer_id CHAR(36) NULL,
    percent_different DOUBLE NULL,
    distance DOUBLE NULL,
    decided_at_ms BIGINT NOT NULL,
    KEY matches_check (check_id),
    KEY matches_anomaly (anomaly_id),
    KEY matches_metric_time (metric_id, match_timestamp),
    KEY matches_profile (profile_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE profiles (
    id CHAR(36) NOT NULL PRIMARY KEY,
    metric_id CHAR(36) NOT NULL,
    origin VARCHAR(16) NOT NULL,
    parent_id CHAR(36) NULL,
    generation INT NOT NULL,
    full_duration BIGINT NOT NULL,
    features_count INT NOT NULL,
    features_sum DOUBLE NOT NULL,
    series_points INT NOT NULL,
    layer_id CHAR(36) NULL,
    label_id CHAR(36) NULL,
    enabled INT NOT NULL,
    validated INT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    validated_at_ms BIGINT NULL,
    disabled_at_ms BIGINT NULL,
    KEY profiles_metric (metric_id, enabled)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE profile_features (
    profile_id CHAR(36) NOT NULL,
    feature_id INT NOT NULL,
    value DOUBLE NOT NULL,
    PRIMARY KEY (profile_id, feature_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE profile_series (
    profile_id CHAR(36) NOT NULL,
    series_timestamp BIGINT NOT NULL,
    value DOUBLE NOT NULL,
    PRIMARY KEY (profile_id, series_timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE layers (
    id CHAR(36) NOT NULL PRIMARY KEY,
    profile_id CHAR(36) NOT NULL,
    metric_id CHAR(36) NOT NULL,
    definition TEXT NOT NULL,
    enabled INT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    KEY layers_profile (profile_id),
    KEY layers_metric (metric_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE labels (
    id CHAR(36) NOT NULL PRIMARY KEY,
    metric_id CHAR(36) NOT NULL,
    anomaly_id CHAR(36) NULL,
    training_id CHAR(36) NULL,
    label_timestamp BIGINT NOT NULL,
    not_anomalous INT NOT NULL,
    learn INT NOT NULL,
    layers_json TEXT NULL,
    operator TEXT NOT NULL,
    labelled_at_ms BIGINT NOT NULL,
    KEY labels_anomaly (anomaly_id),
    KEY labels_metric_time (metric_id, label_timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE alerts (
    id CHAR(36) NOT NULL PRIMARY KEY,
    anomaly_id CHAR(36) NOT NULL,
    metric_id CHAR(36) NOT NULL,
    alert_timestamp BIGINT NOT NULL,
    value DOUBLE NOT NULL,
    source_app VARCHAR(32) NOT NULL,
    alerter VARCHAR(64) NOT NULL,
    rule TEXT NOT NULL,
    triggered_algorithms TEXT NOT NULL,
    decided_at_ms BIGINT NOT NULL,
    KEY alerts_anomaly (anomaly_id),
    KEY alerts_metric_time (metric_id, alert_timestamp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
