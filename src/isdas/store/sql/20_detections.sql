-- Detections (isdas.store.detections) and the default detector's carried state.
-- A detection row is the latest snapshot of one alarm episode; `body` is its full JSON.

CREATE TABLE IF NOT EXISTS detections (
    id          TEXT PRIMARY KEY,  -- stable: D-<onset YYYYmmddTHH>-<proto>-<port>[-kind]
    detector    TEXT,
    proto       TEXT,
    port        INTEGER,
    kind        TEXT,
    start       TIMESTAMP,
    detected_at TIMESTAMP,
    score       DOUBLE,
    body        TEXT
);

-- one row per detector configuration: arrays (npz bytes), open episodes and calibration
CREATE TABLE IF NOT EXISTS detector_state (
    name        TEXT PRIMARY KEY,
    last_hour   TIMESTAMP,
    checksum    TEXT,
    state       BLOB
);
