-- What each anomaly came to, kept by the `outcomes` projection from the
-- anomalies, checks, matches and alerts topics (tables/outcomes.rs), so
-- that the console's state filter reads one index instead of joining four
-- tables over every anomaly. A row can exist before its anomaly is folded
-- (an alert or a match may come first); its `state` is NULL until then.
CREATE TABLE anomaly_outcomes (
    anomaly_id CHAR(36) NOT NULL PRIMARY KEY,
    metric_id CHAR(36) NULL,
    anomaly_timestamp BIGINT NULL,
    alerted INT NOT NULL DEFAULT 0,
    awaiting_check CHAR(36) NULL,
    judged INT NOT NULL DEFAULT 0,
    deflect_method VARCHAR(32) NULL,
    deflect_profile CHAR(36) NULL,
    deflect_at_ms BIGINT NULL,
    deflect_match CHAR(36) NULL,
    state VARCHAR(32) NULL,
    KEY outcomes_state_time (state, anomaly_timestamp, anomaly_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
