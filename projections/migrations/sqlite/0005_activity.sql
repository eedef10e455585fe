-- The same table as migrations/mysql/0005_activity.sql, which says why.
CREATE TABLE metric_activity (
    metric_id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    datapoints INTEGER NOT NULL
);
CREATE INDEX metric_activity_name ON metric_activity (name);
