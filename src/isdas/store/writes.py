"""Store stage: register written parts in the catalog, in one transaction per source.

A source (a capture file's digest or a collector batch id) is registered at most once: the
transaction checks `files`, inserts its parts, updates the sensor, recounts that sensor's
metrics for the touched hours and marks those hours dirty for `metrics.flush`.

Collector batches go through `register_batches`: many batches in one transaction (group
commit) that only marks the touched (sensor, hour)s dirty; `flush_metrics` recounts them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from isdas.errors import InputError
from isdas.settings import Settings
from isdas.store import metrics
from isdas.store.catalog import connect
from isdas.store.lake import Part, PartWriter


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
    lo = min(_naive(p.min_ts) for p in parts)
    hi = max(_naive(p.max_ts) for p in parts)
    _bump_sensor(con, sensor_id, lo, hi, sum(p.rows for p in parts))


@dataclass
class PendingBatch:
    """A collector batch whose parts are written and fsynced under temporary names, waiting
    for `register_batches` to publish and register it (or drop it as a duplicate)."""

    sensor_id: str
    batch_id: str | None  # the sensor's id (collector_batches); None: not a collector batch
    source: str  # the lake source id (files.digest)
    writer: PartWriter
    events: int
    span: tuple[datetime, datetime] | None  # first and last event time (UTC)
    hours: Sequence[int]  # distinct hours since the epoch of its events
    targets: pa.Table  # distinct (dst_hi, dst_lo) of its events


@dataclass
class KnownTargets:
    """IPv4 destinations known to be in `sensor_targets`, per sensor, as this process saw
    them committed: a batch's targets found here skip the catalog's anti-join. Rows of
    sensor_targets are never deleted, so a stale cache only costs that anti-join."""

    v4: dict[str, npt.NDArray[np.uint64]] = field(default_factory=dict)  # sorted `dst_lo`

    def unknown(self, sensor_id: str, targets: pa.Table) -> pa.Table:
        """The rows of `targets` not known for `sensor_id`."""
        known = self.v4.get(sensor_id)
        if known is None or targets.num_rows == 0:
            return targets
        hi = targets.column("dst_hi").to_numpy()
        lo = targets.column("dst_lo").to_numpy()
        seen = (hi == 0) & np.isin(lo, known, assume_unique=True)
        return targets.filter(pa.array(~seen))

    def add(self, sensor_id: str, targets: pa.Table) -> None:
        """Remember committed targets of `sensor_id`."""
        hi = targets.column("dst_hi").to_numpy()
        lo = targets.column("dst_lo").to_numpy()[hi == 0]
        known = self.v4.get(sensor_id)
        if known is None:
            self.v4[sensor_id] = np.unique(lo)
            return
        new = lo[~np.isin(lo, known)]
        if len(new):  # disjoint from `known`: a sort of the two, no hashing
            self.v4[sensor_id] = np.sort(np.concatenate((known, np.unique(new))))


def register_batches(
    settings: Settings,
    batches: Sequence[PendingBatch],
    known: KnownTargets | None = None,
    committed: Callable[[list[bool]], None] | None = None,
) -> list[bool]:
    """Register many batches in one transaction (group commit); per batch, True if stored,
    False if it was already registered (its temporary parts are then deleted).

    Per-sensor and all-sensor metrics are not recounted here: the touched (sensor, hour)s are
    marked dirty in the same transaction, for `flush_metrics`. A part is renamed into place
    only once its batch is known to be new, so a registered part is never replaced.
    `committed(result)` is called as soon as the transaction is durable, before the catalog
    is closed (closing may checkpoint, which no acknowledgement needs to wait for).
    """
    try:
        with connect(settings) as con:
            return register_batches_on(con, batches, known, committed)
    finally:
        abort_batches(batches)


def register_batches_on(
    con: duckdb.DuckDBPyConnection,
    batches: Sequence[PendingBatch],
    known: KnownTargets | None = None,
    committed: Callable[[list[bool]], None] | None = None,
) -> list[bool]:
    """`register_batches` on an open catalog connection (the collector opens it while the
    batches of a group are still being prepared)."""
    fresh: list[PendingBatch] = []
    known = known if known is not None else KnownTargets()
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            fresh = _new_batches(con, batches)
            published = [(b, b.writer.commit()) for b in fresh]
            _insert_batches(con, published, known)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        result = _flags(batches, fresh)
        if committed is not None:
            committed(result)
    finally:
        abort_batches(batches)
    for b in fresh:
        known.add(b.sensor_id, b.targets)
    return result


def abort_batches(batches: Sequence[PendingBatch]) -> None:
    """Delete the temporary parts of `batches` (a no-op for the registered ones)."""
    for b in batches:
        b.writer.abort()


def _flags(batches: Sequence[PendingBatch], fresh: Sequence[PendingBatch]) -> list[bool]:
    ids = {id(b) for b in fresh}
    return [id(b) in ids for b in batches]


def _new_batches(
    con: duckdb.DuckDBPyConnection, batches: Sequence[PendingBatch]
) -> list[PendingBatch]:
    """The batches neither registered before nor repeated earlier in `batches`."""
    cand = pa.table(
        {
            "source": [b.source for b in batches],
            "sensor_id": [b.sensor_id for b in batches],
            "batch_id": pa.array([b.batch_id for b in batches], pa.string()),
        }
    )
    metrics.temp_table(con, "_cand", cand)
    try:
        seen = {
            str(r[0])
            for r in con.execute(
                """SELECT c.source FROM _cand c
                WHERE EXISTS (SELECT 1 FROM files f WHERE f.digest = c.source)
                   OR EXISTS (SELECT 1 FROM collector_batches k
                              WHERE k.sensor_id = c.sensor_id AND k.batch_id = c.batch_id)"""
            ).fetchall()
        }
    finally:
        con.execute("DROP TABLE _cand")
    out: list[PendingBatch] = []
    for b in batches:
        if b.source not in seen:
            seen.add(b.source)
            out.append(b)
    return out


def _insert_batches(
    con: duckdb.DuckDBPyConnection,
    published: Sequence[tuple[PendingBatch, list[Part]]],
    known: KnownTargets,
) -> None:
    """Rows of the new batches: parts, files, collector_batches, sensors, targets, dirty marks."""
    if not published:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    _insert_rows(con, "parts", _parts_rows(published))
    stored = [b for b, parts in published if parts]
    _insert_rows(con, "files", _files_rows(stored, now))
    _insert_rows(con, "collector_batches", _batch_rows(published, now))
    if stored:
        _add_targets(con, stored, known)
        _mark_dirty(con, stored)
        _update_sensors(con, published, now)


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    if rows.num_rows:
        metrics.temp_table(con, "_rows", rows)
        try:
            con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
        finally:
            con.execute("DROP TABLE _rows")


def _parts_rows(published: Sequence[tuple[PendingBatch, list[Part]]]) -> pa.Table:
    rows = [(b, p) for b, parts in published for p in parts]
    return pa.table(
        {
            "path": [p.path for _, p in rows],
            "source": [b.source for b, _ in rows],
            "sensor_id": [b.sensor_id for b, _ in rows],
            "day": pa.array([p.day for _, p in rows], pa.date32()),
            "rows": pa.array([p.rows for _, p in rows], pa.int64()),
            "min_ts": pa.array([_naive(p.min_ts) for _, p in rows], pa.timestamp("us")),
            "max_ts": pa.array([_naive(p.max_ts) for _, p in rows], pa.timestamp("us")),
        }
    )


def _files_rows(stored: Sequence[PendingBatch], now: datetime) -> pa.Table:
    n = len(stored)
    return pa.table(
        {
            "digest": [b.source for b in stored],
            "path": [f"batch:{b.batch_id or b.source}" for b in stored],
            "sensor_id": [b.sensor_id for b in stored],
            "size": pa.array([0] * n, pa.int64()),
            "packets": pa.array([b.events for b in stored], pa.int64()),
            "skipped": pa.array([0] * n, pa.int64()),
            "errors": pa.array([None] * n, pa.string()),
            "ingested_at": pa.array([now] * n, pa.timestamp("us")),
        }
    )


def _batch_rows(published: Sequence[tuple[PendingBatch, list[Part]]], now: datetime) -> pa.Table:
    acked = [b for b, _ in published if b.batch_id is not None]
    spans = [b.span or (None, None) for b in acked]
    return pa.table(
        {
            "sensor_id": [b.sensor_id for b in acked],
            "batch_id": pa.array([b.batch_id for b in acked], pa.string()),
            "events": pa.array([b.events for b in acked], pa.int64()),
            "min_ts": pa.array([_naive(s[0]) if s[0] else None for s in spans], pa.timestamp("us")),
            "max_ts": pa.array([_naive(s[1]) if s[1] else None for s in spans], pa.timestamp("us")),
            "received_at": pa.array([now] * len(acked), pa.timestamp("us")),
        }
    )


def _add_targets(
    con: duckdb.DuckDBPyConnection, stored: Sequence[PendingBatch], known: KnownTargets
) -> None:
    """Distinct destinations of the batches not yet in sensor_targets."""
    tables = []
    for b in stored:
        fresh = known.unknown(b.sensor_id, b.targets).select(["dst_hi", "dst_lo"])
        sensor = pa.DictionaryArray.from_arrays(np.zeros(fresh.num_rows, np.int32), [b.sensor_id])
        tables.append(fresh.append_column("sensor_id", sensor.cast(pa.string())))
    candidates = pa.concat_tables(tables)
    if candidates.num_rows == 0:
        return
    metrics.temp_table(con, "_dst", candidates)
    try:
        con.execute(
            """INSERT INTO sensor_targets
            SELECT DISTINCT sensor_id, dst_hi, dst_lo FROM _dst d
            WHERE NOT EXISTS (SELECT 1 FROM sensor_targets t WHERE t.sensor_id = d.sensor_id
                              AND t.dst_hi = d.dst_hi AND t.dst_lo = d.dst_lo)"""
        )
    finally:
        con.execute("DROP TABLE _dst")


def _mark_dirty(con: duckdb.DuckDBPyConnection, stored: Sequence[PendingBatch]) -> None:
    """Mark every (sensor, hour) the batches touched for the next flush (which recounts the
    all-sensor metrics of those hours too)."""
    pairs = sorted({(b.sensor_id, h) for b in stored for h in b.hours})
    marks = pa.table(
        {
            "sensor_id": [s for s, _ in pairs],
            "h": pa.array([h for _, h in pairs], pa.int64()),
        }
    )
    metrics.temp_table(con, "_marks", marks)
    try:  # append only (see 10_core.sql): never conflicts with a concurrent flush
        con.execute(
            "INSERT INTO dirty_sensor_hours "
            "SELECT sensor_id, make_timestamp(h * 3600000000) FROM _marks"
        )
    finally:
        con.execute("DROP TABLE _marks")


def _update_sensors(
    con: duckdb.DuckDBPyConnection,
    published: Sequence[tuple[PendingBatch, list[Part]]],
    now: datetime,
) -> None:
    """Create missing sensors; add packets, widen first and last seen and (without CIDRs)
    recount the monitored addresses, in one statement for every sensor of the group."""
    rows = [(b.sensor_id, p) for b, parts in published for p in parts]
    totals = pa.table(
        {
            "sid": [s for s, _ in rows],
            "lo": pa.array([_naive(p.min_ts) for _, p in rows], pa.timestamp("us")),
            "hi": pa.array([_naive(p.max_ts) for _, p in rows], pa.timestamp("us")),
            "n": pa.array([p.rows for _, p in rows], pa.int64()),
        }
    )
    metrics.temp_table(con, "_tot", totals)
    try:
        con.execute(
            "INSERT OR IGNORE INTO sensors (sensor_id, packets, created_at) "
            "SELECT DISTINCT sid, 0, ? FROM _tot",
            [now],
        )
        con.execute(
            """UPDATE sensors SET
                 first_seen = least(coalesce(first_seen, a.lo), a.lo),
                 last_seen = greatest(coalesce(last_seen, a.hi), a.hi),
                 packets = coalesce(packets, 0) + a.n,
                 addresses = CASE WHEN cidrs IS NULL THEN a.targets ELSE addresses END
               FROM (SELECT sid, min(lo) AS lo, max(hi) AS hi, sum(n) AS n,
                            (SELECT count(*) FROM sensor_targets t WHERE t.sensor_id = sid)
                              AS targets
                     FROM _tot GROUP BY sid) a
               WHERE sensors.sensor_id = a.sid"""
        )
    finally:
        con.execute("DROP TABLE _tot")


def _bump_sensor(
    con: duckdb.DuckDBPyConnection, sensor_id: str, lo: datetime, hi: datetime, n: int
) -> None:
    con.execute(
        """UPDATE sensors SET
             first_seen = least(coalesce(first_seen, $lo), $lo),
             last_seen = greatest(coalesce(last_seen, $hi), $hi),
             packets = coalesce(packets, 0) + $n,
             addresses = CASE WHEN cidrs IS NULL
               THEN (SELECT count(*) FROM sensor_targets WHERE sensor_id = $sid)
               ELSE addresses END
           WHERE sensor_id = $sid""",
        {"lo": lo, "hi": hi, "n": n, "sid": sensor_id},
    )


def flush_metrics(settings: Settings, threads: int | None = None) -> int:
    """Recount the metrics of dirty (sensor, hour)s and hours; the number of hours flushed.

    `threads` caps DuckDB's worker threads (a process-wide setting of the open catalog): the
    collector recounts on one thread so that its registrations are never queued behind it.
    """
    with connect(settings) as con:
        con.execute("SET enable_progress_bar = false")
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        return metrics.flush(con, settings.lake)


def set_cidrs(settings: Settings, sensor_id: str, cidrs: Sequence[str]) -> None:
    """Record the monitored CIDRs of a sensor (creating it if needed)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with connect(settings) as con:
        ensure_sensor(con, sensor_id, cidrs, now)
