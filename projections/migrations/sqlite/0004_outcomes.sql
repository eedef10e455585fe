-- The same table as migrations/mysql/0004_outcomes.sql, which says why.
CREATE TABLE anomaly_outcomes (
    anomaly_id TEXT NOT NULL PRIMARY KEY,
    metric_id TEXT NULL,
    anomaly_timestamp INTEGER NULL,
    alerted INTEGER NOT NULL DEFAULT 0,
    awaiting_check TEXT NULL,
    judged INTEGER NOT NULL DEFAULT 0,
    deflect_method TEXT NULL,
    deflect_profile TEXT NULL,
    deflect_at_ms INTEGER NULL,
    deflect_match TEXT NULL,
    state TEXT NULL
);
CREATE INDEX outcomes_state_time ON anomaly_outcomes (state, anomaly_timestamp, anomaly_id);
