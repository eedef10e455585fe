-- The same tables as migrations/mysql/0010_system.sql, which says why.
CREATE TABLE service_heartbeats (
    service TEXT NOT NULL,
    instance TEXT NOT NULL,
    at INTEGER NOT NULL,
    ready INTEGER NULL,
    reason TEXT NULL,
    figures TEXT NOT NULL,
    PRIMARY KEY (service, instance)
);

CREATE TABLE system_events (
    id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    service TEXT NOT NULL,
    instance TEXT NOT NULL,
    at INTEGER NOT NULL,
    since INTEGER NULL,
    alert INTEGER NOT NULL,
    reason TEXT NULL,
    decided_at_ms INTEGER NOT NULL
);
CREATE INDEX system_events_at ON system_events (at);
