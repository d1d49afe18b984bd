"""Store stage: register written parts in the catalog, in one transaction per source.

A source (a capture file's digest or a collector batch id) is registered at most once: the
transaction checks `files`, inserts its parts, updates the sensor, recounts that sensor's
metrics for the touched hours and marks those hours dirty for `metrics.flush`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from isdas.errors import InputError
from isdas.settings import Settings
from isdas.store import metrics
from isdas.store.catalog import connect
from isdas.store.lake import Part


@dataclass(frozen=True)
class SourceMeta:
    """What is recorded about one ingested source in the `files` table."""

    source: str
    path: str
    sensor_id: str
    size: int
    packets: int
    skipped: int
    error: str | None


def cidr_count(cidrs: Sequence[str]) -> int:
    """Number of addresses in `cidrs` (overlaps counted once)."""
    try:
        nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    except ValueError as exc:
        raise InputError(f"bad --addresses value: {exc}") from exc
    v4 = ipaddress.collapse_addresses(n for n in nets if n.version == 4)
    v6 = ipaddress.collapse_addresses(n for n in nets if n.version == 6)
    return sum(n.num_addresses for n in v4) + sum(n.num_addresses for n in v6)


def is_registered(settings: Settings, source: str) -> bool:
    """Whether `source` was already ingested."""
    with connect(settings) as con:
        row = con.execute("SELECT 1 FROM files WHERE digest = ?", [source]).fetchone()
    return row is not None


def register(
    settings: Settings,
    meta: SourceMeta,
    parts: Sequence[Part],
    hours: Sequence[datetime],
    cidrs: Sequence[str] | None = None,
    *,
    flush: bool = True,
) -> bool:
    """Register `parts` of `meta.source`; False (and nothing changed) if already registered.

    With `flush`, the all-sensor metrics of every dirty hour are recounted in the same
    transaction, so no crash can leave registered rows missing from them; without it, the
    hours stay dirty until `flush_metrics` (one recount after many sources).
    """
    with connect(settings) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            done = _register(con, settings, meta, parts, hours, cidrs)
            if done and flush:
                metrics.flush_dirty(con, settings.lake)
            con.execute("COMMIT" if done else "ROLLBACK")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return done


def _register(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    meta: SourceMeta,
    parts: Sequence[Part],
    hours: Sequence[datetime],
    cidrs: Sequence[str] | None,
) -> bool:
    if con.execute("SELECT 1 FROM files WHERE digest = ?", [meta.source]).fetchone():
        return False
    now = datetime.now(UTC).replace(tzinfo=None)
    con.executemany(
        "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            [p.path, meta.source, meta.sensor_id, p.day, p.rows, _naive(p.min_ts), _naive(p.max_ts)]
            for p in parts
        ],
    )
    con.execute(
        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            meta.source,
            meta.path,
            meta.sensor_id,
            meta.size,
            meta.packets,
            meta.skipped,
            meta.error,
            now,
        ],
    )
    _update_sensor(con, settings, meta.sensor_id, parts, cidrs, now)
    if hours:
        metrics.recompute_sensor(con, settings.lake, meta.sensor_id, hours)
        con.execute("INSERT OR IGNORE INTO dirty_hours SELECT hour FROM _hours")
    return True


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None)


def ensure_sensor(
    con: duckdb.DuckDBPyConnection, sensor_id: str, cidrs: Sequence[str] | None, now: datetime
) -> None:
    """Create the sensor row if missing; record CIDRs and their address count when given."""
    con.execute(
        "INSERT OR IGNORE INTO sensors (sensor_id, packets, created_at) VALUES (?, 0, ?)",
        [sensor_id, now],
    )
    if cidrs:
        con.execute(
            "UPDATE sensors SET cidrs = ?, addresses = ? WHERE sensor_id = ?",
            [",".join(cidrs), cidr_count(cidrs), sensor_id],
        )


def _update_sensor(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    sensor_id: str,
    parts: Sequence[Part],
    cidrs: Sequence[str] | None,
    now: datetime,
) -> None:
    ensure_sensor(con, sensor_id, cidrs, now)
    if not parts:
        return
    files = [str(settings.lake / p.path) for p in parts]
    con.execute(
        """INSERT INTO sensor_targets
        SELECT DISTINCT $sid, dst_hi, dst_lo FROM read_parquet($files)
        EXCEPT SELECT sensor_id, dst_hi, dst_lo FROM sensor_targets WHERE sensor_id = $sid""",
        {"files": files, "sid": sensor_id},
    )
    con.execute(
        """UPDATE sensors SET
             first_seen = least(coalesce(first_seen, $lo), $lo),
             last_seen = greatest(coalesce(last_seen, $hi), $hi),
             packets = coalesce(packets, 0) + $n,
             addresses = CASE WHEN cidrs IS NULL
               THEN (SELECT count(*) FROM sensor_targets WHERE sensor_id = $sid)
               ELSE addresses END
           WHERE sensor_id = $sid""",
        {
            "lo": min(_naive(p.min_ts) for p in parts),
            "hi": max(_naive(p.max_ts) for p in parts),
            "n": sum(p.rows for p in parts),
            "sid": sensor_id,
        },
    )


def flush_metrics(settings: Settings) -> int:
    """Recount all-sensor metrics for dirty hours; the number of hours flushed."""
    with connect(settings) as con:
        return metrics.flush(con, settings.lake)


def set_cidrs(settings: Settings, sensor_id: str, cidrs: Sequence[str]) -> None:
    """Record the monitored CIDRs of a sensor (creating it if needed)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with connect(settings) as con:
        ensure_sensor(con, sensor_id, cidrs, now)
