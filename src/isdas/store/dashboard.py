"""Read queries of the dashboard and API (store stage): top ports, series, breakdowns, health.

Stage: store. The only dashboard code that touches DuckDB; every query is a constant SQL text
with bound parameters (nothing user-supplied is ever spliced into SQL). Must not write to the
catalog or keep a connection open beyond one `open_reader` block. Rows are plain dicts; hours
come back as aware UTC datetimes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from isdas.errors import StoreError
from isdas.settings import Settings
from isdas.store.catalog import connect

log = logging.getLogger(__name__)

Row = dict[str, Any]
CONFLICT_WAIT_SECONDS = 10.0

_TOP_COLS = "proto, port, sum(mean_per_sensor) AS packets_per_sensor, sum(packets) AS packets, "
_TOP_COLS += (
    "avg(sources) AS sources_per_hour, max(sources) AS max_sources, max(sensors) AS sensors"
)
_TOP_WHERE = "FROM metrics_port WHERE hour >= ? AND hour < ? AND cls = ? "
_TOP_WHERE += "AND (?::INTEGER IS NULL OR proto = ?) GROUP BY proto, port "
TOP_BY_PACKETS = f"SELECT {_TOP_COLS} {_TOP_WHERE} ORDER BY 3 DESC, 1, 2 LIMIT ? OFFSET ?"
TOP_BY_SOURCES = f"SELECT {_TOP_COLS} {_TOP_WHERE} ORDER BY 5 DESC, 1, 2 LIMIT ? OFFSET ?"

PORT_SERIES = """
SELECT time_bucket(to_hours(?::BIGINT), hour) AS t, sum(mean_per_sensor) AS packets_per_sensor,
       sum(sources) AS sources, sum(packets) AS packets, max(sensors) AS sensors
FROM metrics_port WHERE proto = ? AND port = ? AND cls = ? AND hour >= ? AND hour < ?
GROUP BY t ORDER BY t
"""
COUNTRY_SERIES = """
SELECT time_bucket(to_hours(?::BIGINT), hour) AS t, country, sum(packets) AS packets
FROM metrics_country
WHERE cls = ? AND hour >= ? AND hour < ? AND (?::INTEGER IS NULL OR (proto = ? AND port = ?))
GROUP BY t, country ORDER BY t
"""
BY_SENSOR = """
SELECT sensor_id AS sensor, sum(packets) AS packets, avg(sources) AS sources_per_hour,
       max(sources) AS max_sources, count(*) AS hours
FROM metrics_sensor WHERE proto = ? AND port = ? AND cls = ? AND hour >= ? AND hour < ?
GROUP BY sensor_id ORDER BY packets DESC
"""
BY_COUNTRY = """
SELECT country, sum(packets) AS packets, sum(sources) AS source_hours
FROM metrics_country WHERE proto = ? AND port = ? AND cls = ? AND hour >= ? AND hour < ?
GROUP BY country ORDER BY packets DESC
"""
BY_CLASS = """
SELECT cls, sum(packets) AS packets, sum(mean_per_sensor) AS packets_per_sensor
FROM metrics_port WHERE proto = ? AND port = ? AND hour >= ? AND hour < ?
GROUP BY cls ORDER BY cls
"""
PROTO_SPLIT = """
SELECT proto, sum(packets) AS packets, sum(mean_per_sensor) AS packets_per_sensor
FROM metrics_port WHERE cls = ? AND hour >= ? AND hour < ? GROUP BY proto ORDER BY packets DESC
"""
SENSORS = """
SELECT sensor_id AS sensor, addresses, cidrs, first_seen, last_seen, packets
FROM sensors ORDER BY sensor_id
"""
SENSOR_HOURS = """
SELECT sensor_id AS sensor, hour, packets, sources FROM sensor_hours
WHERE hour >= ? AND hour < ? ORDER BY sensor_id, hour
"""
PORT_TOTALS = """
SELECT proto, port, sum(packets) AS packets, max(hour) AS last_hour
FROM metrics_port WHERE port = ? AND cls = ? GROUP BY proto, port ORDER BY packets DESC
"""
INGEST_TOTALS = """
SELECT (SELECT count(*) FROM files) AS files, (SELECT coalesce(sum(rows), 0) FROM parts) AS events,
       (SELECT count(*) FROM parts) AS parts, (SELECT max(hour) FROM sensor_hours) AS latest_hour
"""
KNOWN_KEYS = "SELECT DISTINCT proto, port FROM metrics_port WHERE cls = 'scan' ORDER BY proto, port"
PARTS_SINCE = "SELECT path FROM parts WHERE day >= ?::DATE AND max_ts >= ? ORDER BY path"
TAG_COUNTS = """
SELECT tags, count(*) AS packets, count(DISTINCT (src_hi, src_lo)) AS sources
FROM read_parquet(?)
WHERE proto = ? AND (CASE WHEN proto IN (1, 58) THEN icmp_type ELSE dport END) = ?
  AND ts >= ? AND ts < ? AND cls = 1
GROUP BY tags ORDER BY packets DESC
"""
LATEST_HOUR = (
    "SELECT greatest((SELECT max(hour) FROM sensor_hours), (SELECT max(hour) FROM metrics_port))"
)


def _naive(value: datetime) -> datetime:
    """UTC wall time without tzinfo, as the catalog's TIMESTAMP columns hold it."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


class Reader:
    """The dashboard's read queries over one open read-only connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one constant query with bound parameters; datetimes come back aware UTC."""
        args = [_naive(p) if isinstance(p, datetime) else p for p in params]
        cur = self._con.execute(sql, args)
        names = [d[0] for d in cur.description or ()]
        return [{n: _aware(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]

    def latest_hour(self) -> datetime | None:
        """The newest hour with any metrics, or None for an empty catalog."""
        value = self.rows(LATEST_HOUR)[0]
        found = next(iter(value.values()))
        return found if isinstance(found, datetime) else None

    def top_ports(
        self,
        since: datetime,
        until: datetime,
        *,
        by: str,
        limit: int,
        offset: int = 0,
        proto: int | None = None,
        cls: str = "scan",
    ) -> list[Row]:
        """Ports ranked by mean packets per sensor (`by="packets"`) or mean hourly sources."""
        sql = TOP_BY_SOURCES if by == "sources" else TOP_BY_PACKETS
        return self.rows(sql, (since, until, cls, proto, proto, limit, offset))

    def port_series(
        self,
        proto: int,
        port: int,
        since: datetime,
        until: datetime,
        bucket_hours: int,
        cls: str = "scan",
    ) -> list[Row]:
        """Per-bucket sums of packets per sensor and hourly distinct sources of one key."""
        return self.rows(PORT_SERIES, (bucket_hours, proto, port, cls, since, until))

    def country_series(
        self,
        since: datetime,
        until: datetime,
        bucket_hours: int,
        *,
        key: tuple[int, int] | None = None,
        cls: str = "scan",
    ) -> list[Row]:
        """Per-bucket packets by source country, for one key or all keys."""
        proto, port = key if key else (None, None)
        return self.rows(COUNTRY_SERIES, (bucket_hours, cls, since, until, proto, proto, port))

    def port_breakdown(
        self, proto: int, port: int, since: datetime, until: datetime, cls: str = "scan"
    ) -> dict[str, list[Row]]:
        """Per-sensor, per-country and per-class totals of one key over a window."""
        args = (proto, port, cls, since, until)
        return {
            "sensors": self.rows(BY_SENSOR, args),
            "countries": self.rows(BY_COUNTRY, args),
            "classes": self.rows(BY_CLASS, (proto, port, since, until)),
        }

    def proto_split(self, since: datetime, until: datetime, cls: str = "scan") -> list[Row]:
        """Packets per IP protocol over a window."""
        return self.rows(PROTO_SPLIT, (cls, since, until))

    def sensors(self) -> list[Row]:
        """Registered or seen sensors with their lifetime counters."""
        return self.rows(SENSORS)

    def sensor_hours(self, since: datetime, until: datetime) -> list[Row]:
        """Hourly packets and sources per sensor over a window (for health and gaps)."""
        return self.rows(SENSOR_HOURS, (since, until))

    def ports_numbered(self, port: int, cls: str = "scan") -> list[Row]:
        """Every protocol seen on a port number, busiest first (for search)."""
        return self.rows(PORT_TOTALS, (port, cls))

    def known_keys(self) -> list[Row]:
        """Every (proto, port) with scan metrics (for search by service name)."""
        return self.rows(KNOWN_KEYS)

    def tag_counts(
        self, lake: Path, proto: int, port: int, since: datetime, until: datetime
    ) -> list[Row]:
        """Packets and distinct sources per tag set of one key, read from the lake's parts."""
        parts = [str(lake / r["path"]) for r in self.rows(PARTS_SINCE, (since.date(), since))]
        parts = [p for p in parts if Path(p).exists()]
        if not parts:
            return []
        return self.rows(TAG_COUNTS, (parts, proto, port, since, until))

    def ingest_totals(self) -> Row:
        """Files, parts and events stored, and the newest hour (for /metrics)."""
        return self.rows(INGEST_TOTALS)[0]


def _is_config_conflict(exc: StoreError) -> bool:
    return "different configuration" in str(exc)


def _enter(stack: ExitStack, settings: Settings, wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    while True:
        try:
            return stack.enter_context(connect(settings, read_only=True))
        except StoreError as exc:
            if not _is_config_conflict(exc) or time.monotonic() > deadline:
                raise
            log.debug("catalog busy in this process, retrying: %s", exc)
            time.sleep(0.02)


@contextmanager
def open_reader(settings: Settings, wait: float = CONFLICT_WAIT_SECONDS) -> Iterator[Reader]:
    """A Reader over a short-lived read-only connection (waits out in-process writers)."""
    with ExitStack() as stack:
        yield Reader(_enter(stack, settings, wait))
