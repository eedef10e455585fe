-- What became of each alert and the operators' mutes, kept by the
-- `deliveries` and `mutes` projections (tables/deliveries.rs,
-- tables/mutes.rs) from the deliveries and mutes topics.
--
-- `deliveries`: one row per delivery attempt (the DeliveryEvent's id is
-- UUID v5 of the alert and the attempt), `outcome` one of delivered,
-- failed, gave_up, muted.
CREATE TABLE deliveries (
    id CHAR(36) NOT NULL PRIMARY KEY,
    alert_id CHAR(36) NOT NULL,
    anomaly_id CHAR(36) NOT NULL,
    metric_id CHAR(36) NOT NULL,
    metric TEXT NOT NULL,
    alerter VARCHAR(255) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    attempt INT NOT NULL,
    detail TEXT NULL,
    at_ms BIGINT NOT NULL,
    KEY deliveries_anomaly (anomaly_id),
    KEY deliveries_alert (alert_id),
    KEY deliveries_at (at_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- `mutes`: one row per mute; an unmute moves `until_ms` to its time (never
-- later) and records when and by whom.
CREATE TABLE mutes (
    id CHAR(36) NOT NULL PRIMARY KEY,
    pattern TEXT NOT NULL,
    from_ms BIGINT NOT NULL,
    until_ms BIGINT NOT NULL,
    reason TEXT NULL,
    operator TEXT NULL,
    unmuted_at_ms BIGINT NULL,
    unmuted_by TEXT NULL,
    KEY mutes_until (until_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
