"""Store stage: run the default detector over the catalog's metrics and keep its detections.

`run_detection` continues from the stored detector state (hourly incremental runs and one
batch run give the same detections); when metrics already analysed have changed (late data)
it starts over from the first hour. Detections are upserted by their stable id, so re-runs
are idempotent. `list_detections` / `get_detection` read them back.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import duckdb

from isdas.analyse.explain import build
from isdas.analyse.frames import hour_index
from isdas.analyse.pipeline import Detector, feed
from isdas.analyse.state import Params
from isdas.errors import NotFound
from isdas.models import Detection
from isdas.settings import Settings
from isdas.store.catalog import connect
from isdas.store.detect_codec import (
    detection_from_json,
    detection_to_json,
    detector_from_bytes,
    detector_to_bytes,
)
from isdas.store.detect_enrich import enrich
from isdas.store.detect_frames import checksum, hour_range, read_frames

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 1.0
STATE_NAME = "default"
DETECTOR = "isdas"  # the name `explain.build` gives the default detector's detections


def _naive(ts: datetime | None) -> datetime | None:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts is not None else None


def _load(con: duckdb.DuckDBPyConnection, name: str, budget: float) -> Detector:
    """The stored detector if it is still valid for this budget and data, else a fresh one."""
    row = con.execute(
        "SELECT checksum, state FROM detector_state WHERE name = $n", {"n": name}
    ).fetchone()
    if row is None:
        return Detector(budget=budget)
    try:
        det = detector_from_bytes(bytes(row[1]))
    except (KeyError, ValueError):  # saved by an older version without some state
        log.info("detector state from another version: starting over")
        return Detector(budget=budget)
    if det.budget != budget or checksum(con, det.state.last_hour) != row[0]:
        log.info("detector state out of date (budget or late data): starting over")
        return Detector(budget=budget)
    return det


def _last_complete(last: int, now: datetime | None) -> int:
    """The last hour to analyse: the latest data hour, unless it may still be filling."""
    current = hour_index(now or datetime.now(UTC))
    return min(last, current - 1)


def run_detection(
    settings: Settings,
    since: datetime | None = None,
    until: datetime | None = None,
    budget: float = DEFAULT_BUDGET,
    *,
    params: Params | None = None,
    now: datetime | None = None,
) -> list[Detection]:
    """Bring detections up to date with the catalog; return those detected in [since, until]."""
    p = params or Params()
    with connect(settings) as con:
        span = hour_range(con)
        if span is not None:
            det = _load(con, STATE_NAME, budget)
            lo = max(span[0], det.state.last_hour + 1)
            hi = _last_complete(span[1], now)
            if hi >= lo:
                fresh = det.state.last_hour < 0
                feed(det, read_frames(con, lo, hi), p)
                _save(con, settings, det, replace=fresh)
    return list_detections(settings, since, until)


def _save(
    con: duckdb.DuckDBPyConnection, settings: Settings, det: Detector, *, replace: bool = False
) -> None:
    """Store the episodes' detections and the detector; with `replace` (a run that started
    over) the detector's earlier detections go first, so none from stale state survive."""
    episodes = det.tracker.take_closed() + list(det.tracker.open.values())
    rows = []
    for ep in episodes:
        d = build(ep, enrich(con, settings.lake, ep))
        rows.append((d.id, d.detector, d.proto, d.port, d.kind, _naive(d.start),
                     _naive(d.detected_at), d.score, detection_to_json(d)))  # fmt: skip
    last = det.state.last_hour
    con.execute("BEGIN")
    try:
        if replace:
            con.execute("DELETE FROM detections WHERE detector = ?", [DETECTOR])
        if rows:
            con.executemany("INSERT OR REPLACE INTO detections VALUES (?,?,?,?,?,?,?,?,?)", rows)
        con.execute(
            "INSERT OR REPLACE INTO detector_state VALUES ($n, $h, $c, $s)",
            {"n": STATE_NAME, "h": datetime(1970, 1, 1) + timedelta(hours=last),
             "c": checksum(con, last), "s": detector_to_bytes(det)},
        )  # fmt: skip
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def list_detections(
    settings: Settings, since: datetime | None = None, until: datetime | None = None
) -> list[Detection]:
    """Stored detections whose detection time is in [since, until], oldest first."""
    sql = "SELECT body FROM detections WHERE detector = 'isdas'"
    args: dict[str, object] = {}
    if since is not None:
        sql += " AND detected_at >= $since"
        args["since"] = _naive(since)
    if until is not None:
        sql += " AND detected_at <= $until"
        args["until"] = _naive(until)
    with connect(settings, read_only=True) as con:
        rows = con.execute(sql + " ORDER BY detected_at, id", args).fetchall()
    return [detection_from_json(r[0]) for r in rows]


def get_detection(settings: Settings, ident: str) -> Detection:
    """One stored detection by id; raises NotFound."""
    with connect(settings, read_only=True) as con:
        row = con.execute("SELECT body FROM detections WHERE id = $i", {"i": ident}).fetchone()
    if row is None:
        raise NotFound(f"no detection {ident!r}")
    return detection_from_json(row[0])
