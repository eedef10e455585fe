-- What skyline says about itself, kept by the `system` projection
-- (tables/system.rs) from the system topic, for the console's System page.
--
-- `service_heartbeats`: each service process's newest heartbeat (one row
-- per service and instance; an older heartbeat folded late changes
-- nothing): its readiness and why, and its figures (lag, records, ...) as
-- a JSON object.
CREATE TABLE service_heartbeats (
    service VARCHAR(191) NOT NULL,
    instance VARCHAR(191) NOT NULL,
    at BIGINT NOT NULL,
    ready INT NULL,
    reason TEXT NULL,
    figures TEXT NOT NULL,
    PRIMARY KEY (service, instance)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- `system_events`: every other system event (a stall and its recovery, a
-- metric gone stale, about to go stale or sending again), one row each by
-- its deterministic id. What is stalled or stale now is each subject's
-- latest row.
CREATE TABLE system_events (
    id CHAR(36) NOT NULL PRIMARY KEY,
    kind VARCHAR(32) NOT NULL,
    subject TEXT NOT NULL,
    service VARCHAR(191) NOT NULL,
    instance VARCHAR(191) NOT NULL,
    at BIGINT NOT NULL,
    since BIGINT NULL,
    alert INT NOT NULL,
    reason TEXT NULL,
    decided_at_ms BIGINT NOT NULL,
    KEY system_events_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
