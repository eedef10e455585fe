-- The same tables as migrations/mysql/0006_alerting.sql, which says why.
CREATE TABLE deliveries (
    id TEXT NOT NULL PRIMARY KEY,
    alert_id TEXT NOT NULL,
    anomaly_id TEXT NOT NULL,
    metric_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    alerter TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    detail TEXT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX deliveries_anomaly ON deliveries (anomaly_id);
CREATE INDEX deliveries_alert ON deliveries (alert_id);
CREATE INDEX deliveries_at ON deliveries (at_ms);

CREATE TABLE mutes (
    id TEXT NOT NULL PRIMARY KEY,
    pattern TEXT NOT NULL,
    from_ms INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    reason TEXT NULL,
    operator TEXT NULL,
    unmuted_at_ms INTEGER NULL,
    unmuted_by TEXT NULL
);
CREATE INDEX mutes_until ON mutes (until_ms);
