-- Every metric received, kept by the `activity` projection from the
-- datapoints topic (tables/activity.rs): first and last datapoint
-- timestamps and how many arrived. `metrics` only knows a metric once it
-- has an anomaly or a profile.
CREATE TABLE metric_activity (
    metric_id CHAR(36) NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    datapoints BIGINT NOT NULL,
    KEY metric_activity_name (name(255))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
