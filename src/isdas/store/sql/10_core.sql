-- Core catalog: sensors, ingested files, lake parts, hourly metrics.
-- All timestamps are TIMESTAMP holding UTC (naive in DuckDB, aware at the Python edges).
-- proto is the IP protocol number; port is the destination port, or the ICMP type for ICMP.
-- cls is 'scan', 'backscatter' or 'other' (isdas.models.Cls).

CREATE TABLE IF NOT EXISTS sensors (
    sensor_id   TEXT PRIMARY KEY,
    addresses   BIGINT,          -- monitored address count (from --addresses, else distinct dst seen)
    cidrs       TEXT,            -- comma separated CIDRs given by the operator, or NULL
    first_seen  TIMESTAMP,
    last_seen   TIMESTAMP,
    packets     BIGINT DEFAULT 0,
    created_at  TIMESTAMP
);

CREATE TABLE IF NOT EXISTS files (
    digest      TEXT PRIMARY KEY, -- sha256 of the file's bytes as stored (before decompression)
    path        TEXT,
    sensor_id   TEXT,
    size        BIGINT,
    packets     BIGINT,           -- events stored
    skipped     BIGINT,           -- frames counted and skipped (non-IP, unsupported)
    errors      TEXT,             -- first error text (truncation offset), or NULL
    ingested_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS parts (
    path        TEXT PRIMARY KEY, -- relative to the lake root
    source      TEXT,             -- file digest or collector batch id that produced it
    sensor_id   TEXT,
    day         DATE,
    rows        BIGINT,
    min_ts      TIMESTAMP,
    max_ts      TIMESTAMP
);

-- hours whose all-sensor metrics must be recomputed (set in the same transaction as parts)
CREATE TABLE IF NOT EXISTS dirty_hours (
    hour        TIMESTAMP PRIMARY KEY
);

-- (sensor, hour) whose per-sensor and all-sensor metrics must be recounted: collector batches
-- only mark them (in the transaction that registers their parts) and the collector's flusher
-- recounts them. Append-only, repeats allowed, no key: registering transactions only append
-- and a flush deletes just the marks its snapshot saw, so the two can run concurrently.
CREATE TABLE IF NOT EXISTS dirty_sensor_hours (
    sensor_id   TEXT,
    hour        TIMESTAMP
);

CREATE TABLE IF NOT EXISTS metrics_sensor (
    hour        TIMESTAMP,
    sensor_id   TEXT,
    proto       UTINYINT,
    port        INTEGER,
    cls         TEXT,
    packets     BIGINT,
    sources     BIGINT,
    targets     BIGINT
);

CREATE TABLE IF NOT EXISTS metrics_port (
    hour        TIMESTAMP,
    proto       UTINYINT,
    port        INTEGER,
    cls         TEXT,
    packets     BIGINT,
    sources     BIGINT,           -- distinct sources over all sensors
    sensors     INTEGER,          -- sensors that saw the key in this hour
    active_sensors INTEGER,       -- sensors with any traffic in this hour
    mean_per_sensor DOUBLE        -- packets / active_sensors: the ISDAS figure
);

CREATE TABLE IF NOT EXISTS metrics_country (
    hour        TIMESTAMP,
    proto       UTINYINT,
    port        INTEGER,
    cls         TEXT,
    country     TEXT,
    packets     BIGINT,
    sources     BIGINT
);

-- health: all packets per sensor per hour (any class), for gating and the sensors page
CREATE TABLE IF NOT EXISTS sensor_hours (
    hour        TIMESTAMP,
    sensor_id   TEXT,
    packets     BIGINT,
    sources     BIGINT
);

-- distinct destinations seen per sensor: its monitored address count when no CIDRs were given
CREATE TABLE IF NOT EXISTS sensor_targets (
    sensor_id   TEXT,
    dst_hi      UBIGINT,
    dst_lo      UBIGINT
);
