-- The same tables as migrations/mysql/0008_seasonal.sql, which says why.
CREATE TABLE seasonal_results (
    id TEXT NOT NULL PRIMARY KEY,
    check_id TEXT NOT NULL,
    anomaly_id TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    result_timestamp INTEGER NOT NULL,
    value REAL NOT NULL,
    hours INTEGER NOT NULL,
    periodic INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL,
    algorithms_run TEXT NOT NULL,
    triggered_algorithms TEXT NOT NULL,
    resolution INTEGER NOT NULL,
    full_duration INTEGER NOT NULL,
    series_points INTEGER NOT NULL,
    series_from INTEGER NULL,
    series_until INTEGER NULL,
    series TEXT NOT NULL,
    seasonal_anomaly_id TEXT NULL,
    fingerprint_check_id TEXT NULL,
    decided_at_ms INTEGER NOT NULL
);
CREATE INDEX seasonal_results_anomaly ON seasonal_results (anomaly_id);
CREATE INDEX seasonal_results_decided ON seasonal_results (decided_at_ms, id);
CREATE INDEX seasonal_results_outcome ON seasonal_results (outcome, reason);

ALTER TABLE anomaly_outcomes ADD COLUMN seasonal_outcome TEXT NULL;
ALTER TABLE anomaly_outcomes ADD COLUMN seasonal_at_ms INTEGER NULL;
ALTER TABLE anomaly_outcomes ADD COLUMN seasonal_result TEXT NULL;
