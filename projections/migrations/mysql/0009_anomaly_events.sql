-- One anomaly per event (PANORAMA_EXPIRY_TIME): an anomaly row folds the
-- anomalous points of its window. The Analyzer re-publishes an anomaly
-- under its id as points extend it; the row keeps the largest count, last
-- timestamp and deviation seen, so redelivery and replay change nothing.
ALTER TABLE anomalies
    ADD COLUMN anomaly_count BIGINT NOT NULL DEFAULT 1,
    ADD COLUMN last_timestamp BIGINT NULL,
    ADD COLUMN max_deviation DOUBLE NOT NULL DEFAULT 0;

-- Each AnomalyEnded event (skyline.anomaly_ends), by anomaly: it may be
-- folded before its anomaly's row exists (another topic), so the end is
-- kept here and copied into anomalies.end_timestamp whichever comes first.
CREATE TABLE anomaly_ends (
    anomaly_id CHAR(36) NOT NULL PRIMARY KEY,
    id CHAR(36) NOT NULL,
    metric_id CHAR(36) NOT NULL,
    anomaly_timestamp BIGINT NOT NULL,
    end_timestamp BIGINT NOT NULL,
    anomaly_count BIGINT NOT NULL,
    decided_at_ms BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
