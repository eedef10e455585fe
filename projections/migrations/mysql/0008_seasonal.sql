-- The seasonal (Mirage) verdicts, kept by the `seasonal` projection
-- (tables/seasonal.rs) from the seasonal topic, and what they make of
-- each anomaly, kept by the `outcomes` projection.
--
-- `seasonal_results`: one row per seasonal check (the result's id is UUID
-- v5 of the check), upserted: a verdict decided again after a crash folds
-- onto the same row, the later decision winning. `outcome` is anomalous,
-- cleared or skipped, `reason` consensus, daily_peak, stale or too_short.
-- `anomaly_id` is the Analyzer's anomaly the check was about, or for a
-- periodic check a stand-in id that names no anomaly row. The judged
-- series (about a thousand points for 7 days at 600 s) is JSON
-- `[[ts,value],…]` as `checks.series` is, and for the same reasons.
CREATE TABLE seasonal_results (
    id CHAR(36) NOT NULL PRIMARY KEY,
    check_id CHAR(36) NOT NULL,
    anomaly_id CHAR(36) NOT NULL,
    metric_id CHAR(36) NOT NULL,
    metric TEXT NOT NULL,
    result_timestamp BIGINT NOT NULL,
    value DOUBLE NOT NULL,
    hours BIGINT NOT NULL,
    periodic INT NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason VARCHAR(64) NOT NULL,
    algorithms_run TEXT NOT NULL,
    triggered_algorithms TEXT NOT NULL,
    resolution BIGINT NOT NULL,
    full_duration BIGINT NOT NULL,
    series_points INT NOT NULL,
    series_from BIGINT NULL,
    series_until BIGINT NULL,
    series MEDIUMTEXT NOT NULL,
    seasonal_anomaly_id CHAR(36) NULL,
    fingerprint_check_id CHAR(36) NULL,
    decided_at_ms BIGINT NOT NULL,
    KEY seasonal_results_anomaly (anomaly_id),
    KEY seasonal_results_decided (decided_at_ms, id),
    KEY seasonal_results_outcome (outcome, reason)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The latest seasonal verdict on each anomaly (by decision time, then
-- result id), a fact of its `anomaly_outcomes` row from which its state
-- is derived (cleared_by_seasonal, confirmed_by_seasonal,
-- seasonal_skipped).
ALTER TABLE anomaly_outcomes
    ADD COLUMN seasonal_outcome VARCHAR(16) NULL,
    ADD COLUMN seasonal_at_ms BIGINT NULL,
    ADD COLUMN seasonal_result CHAR(36) NULL;
