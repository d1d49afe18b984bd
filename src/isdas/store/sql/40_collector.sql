-- Collector: sensor tokens (hashed), heartbeats, acknowledged batch ids.
-- Timestamps are TIMESTAMP holding UTC.

CREATE TABLE IF NOT EXISTS sensor_tokens (
    token_id    TEXT PRIMARY KEY,  -- public lookup part of the token
    sensor_id   TEXT NOT NULL,
    salt        TEXT NOT NULL,     -- per-token random salt (hex)
    token_hash  TEXT NOT NULL,     -- hex sha256(salt || secret)
    created_at  TIMESTAMP,
    revoked_at  TIMESTAMP          -- NULL while valid
);

CREATE TABLE IF NOT EXISTS sensor_heartbeats (
    sensor_id       TEXT PRIMARY KEY,
    received_at     TIMESTAMP,     -- collector clock
    sensor_time     TIMESTAMP,     -- sensor clock when it sent the heartbeat
    clock_offset_s  DOUBLE,        -- collector minus sensor clock, as the sensor estimated it
    received        BIGINT,        -- packets seen by the capture
    kernel_drops    BIGINT,        -- packets the kernel dropped before the sensor read them
    parsed          BIGINT,        -- packets decoded into events
    spooled         BIGINT,        -- events written durably to the spool
    shipped         BIGINT,        -- events acknowledged by the collector
    spool_dropped   BIGINT,        -- events deleted by the spool cap
    rejected        BIGINT,        -- events in batches the collector refused (422)
    spool_bytes     BIGINT,
    spool_files     BIGINT,
    last_error      TEXT,
    version         TEXT
);

CREATE TABLE IF NOT EXISTS collector_batches (
    sensor_id   TEXT,
    batch_id    TEXT,
    events      BIGINT,
    min_ts      TIMESTAMP,
    max_ts      TIMESTAMP,
    received_at TIMESTAMP,
    PRIMARY KEY (sensor_id, batch_id)
);
