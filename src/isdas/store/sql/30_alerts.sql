-- Alert documents and their revisions (publish stage). Every edit adds a revision row holding
-- the whole document as JSON; revisions are never updated or deleted.
-- alert_id is '<PREFIX>-AT-YYYY-NNNN'; seq is NNNN within (prefix, year).

CREATE TABLE IF NOT EXISTS alerts (
    alert_id     TEXT PRIMARY KEY,
    prefix       TEXT,
    year         INTEGER,
    seq          INTEGER,
    status       TEXT,          -- draft, published, withdrawn
    proto        TEXT,
    port         INTEGER,
    detection_id TEXT,          -- NULL for hand-written alerts
    title        TEXT,
    created_at   TIMESTAMP,
    updated_at   TIMESTAMP,
    published_at TIMESTAMP,
    revision     INTEGER,       -- the current revision number
    body         TEXT           -- the current document as JSON
);

CREATE TABLE IF NOT EXISTS alert_revisions (
    alert_id     TEXT,
    revision     INTEGER,
    changed_at   TIMESTAMP,
    note         TEXT,
    body         TEXT,
    PRIMARY KEY (alert_id, revision)
);
