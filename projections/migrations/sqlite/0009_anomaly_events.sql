-- The same changes as migrations/mysql/0009_anomaly_events.sql, which says why.
ALTER TABLE anomalies ADD COLUMN anomaly_count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE anomalies ADD COLUMN last_timestamp INTEGER NULL;
ALTER TABLE anomalies ADD COLUMN max_deviation REAL NOT NULL DEFAULT 0;

CREATE TABLE anomaly_ends (
    anomaly_id TEXT NOT NULL PRIMARY KEY,
    id TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    anomaly_timestamp INTEGER NOT NULL,
    end_timestamp INTEGER NOT NULL,
    anomaly_count INTEGER NOT NULL,
    decided_at_ms INTEGER NOT NULL
);
