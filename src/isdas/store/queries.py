"""Store stage: read queries over the catalog and lake for the CLI, graphs and dashboard.

Every function opens a short read-only connection, returns plain rows (dicts) with aware UTC
datetimes, and builds SQL from constants only: values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb

from isdas.errors import InputError
from isdas.models import PROTO_NAMES, Key
from isdas.settings import Settings
from isdas.store.catalog import connect
from isdas.store.metrics import EVENTS

Row = dict[str, Any]
FAR_PAST = datetime(1970, 1, 1)
FAR_FUTURE = datetime(9999, 1, 1)
CLASSES = ("scan", "backscatter", "other")


def _naive(ts: datetime | None, default: datetime) -> datetime:
    return default if ts is None else ts.astimezone(UTC).replace(tzinfo=None)


def _aware(row: Row) -> Row:
    for k, v in row.items():
        if isinstance(v, datetime) and v.tzinfo is None:
            row[k] = v.replace(tzinfo=UTC)
    return row


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, args: Sequence[Any] | dict[str, Any]
) -> list[Row]:
    cur = con.execute(sql, args)
    cols = [d[0] for d in cur.description or []]
    return [_aware(dict(zip(cols, r, strict=True))) for r in cur.fetchall()]


def _check_cls(cls: str) -> None:
    if cls not in CLASSES:
        raise InputError(f"unknown traffic class {cls!r}; use one of {', '.join(CLASSES)}")


def service_name(proto: int, port: int) -> str | None:
    """The registered service name of a port, when the knowledge base knows it."""
    try:
        from isdas.knowledge.ports import service_name as lookup  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    name = lookup(proto, port)
    return None if name is None else str(name)


def top_ports(
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    proto: int | None = None,
    top: int = 10,
    cls: str = "scan",
) -> list[Row]:
    """Top destination ports by packets in [since, until): packets, packets per sensor,
    exact distinct sources over the range (from the lake), share of packets, service name."""
    _check_cls(cls)
    if top < 1:
        raise InputError("--top must be at least 1")
    lo, hi = _naive(since, FAR_PAST), _naive(until, FAR_FUTURE)
    with connect(settings, read_only=True) as con:
        rows = _rows(con, _TOP_SQL, {"lo": lo, "hi": hi, "cls": cls, "proto": proto, "n": top})
        _add_range_sources(con, settings, rows, lo, hi, cls)
    for r in rows:
        r["proto_name"] = PROTO_NAMES.get(r["proto"], str(r["proto"]))
        r["service"] = service_name(r["proto"], r["port"])
    return rows


_TOP_SQL = """
WITH m AS (SELECT * FROM metrics_port
           WHERE cls = $cls AND hour >= $lo AND hour < $hi
             AND ($proto IS NULL OR proto = $proto)),
     tot AS (SELECT sum(packets) AS all_packets FROM m)
SELECT proto, port, sum(packets)::BIGINT AS packets,
       sum(mean_per_sensor) AS mean_per_sensor,
       max(sources)::BIGINT AS peak_hourly_sources,
       sum(packets) / any_value(tot.all_packets) AS share
FROM m, tot GROUP BY proto, port
ORDER BY packets DESC, proto, port LIMIT $n
"""


def _add_range_sources(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    rows: list[Row],
    lo: datetime,
    hi: datetime,
    cls: str,
) -> None:
    """Exact distinct sources over the whole range for each row's key, counted in the lake."""
    for r in rows:
        r["sources"] = 0
    files = parts_between(con, settings, lo, hi)
    if not rows or not files:
        return
    keys = [(r["proto"], r["port"]) for r in rows]
    found = con.execute(
        f"""SELECT proto, port, count(DISTINCT src) FROM ({EVENTS}) e
        WHERE cls = $cls AND h >= epoch_us($lo) // 3600000000
          AND h < epoch_us($hi) // 3600000000
          AND (proto, port) IN (SELECT (unnest($p), unnest($q)))
        GROUP BY ALL""",
        {
            "files": files,
            "cls": cls,
            "lo": lo,
            "hi": hi,
            "p": [k[0] for k in keys],
            "q": [k[1] for k in keys],
        },
    ).fetchall()
    counts = {(p, q): n for p, q, n in found}
    for r in rows:
        r["sources"] = int(counts.get((r["proto"], r["port"]), 0))


def parts_between(
    con: duckdb.DuckDBPyConnection, settings: Settings, lo: datetime, hi: datetime
) -> list[str]:
    """Lake files of the parts holding events in [lo, hi) (naive UTC)."""
    found = con.execute(
        "SELECT path FROM parts WHERE max_ts >= ? AND min_ts < ? ORDER BY path", [lo, hi]
    ).fetchall()
    return [str(settings.lake / p) for (p,) in found]


def series(
    settings: Settings,
    key: Key,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    by: str | None = None,
    cls: str = "scan",
) -> list[Row]:
    """The hourly series of `key`. Ungrouped, every hour in which any sensor reported is
    present (zero when the key saw nothing); hours with no sensor data at all are gaps."""
    _check_cls(cls)
    args = {
        "proto": key.proto,
        "port": key.port,
        "cls": cls,
        "lo": _naive(since, FAR_PAST),
        "hi": _naive(until, FAR_FUTURE),
    }
    sql = {None: _SERIES_SQL, "sensor": _SERIES_SENSOR_SQL, "country": _SERIES_COUNTRY_SQL}
    if by not in sql:
        raise InputError(f"unknown grouping {by!r}; use sensor or country")
    with connect(settings, read_only=True) as con:
        return _rows(con, sql[by], args)


_SERIES_SQL = """
WITH hours AS (SELECT hour, count(*) AS active FROM sensor_hours
               WHERE packets > 0 AND hour >= $lo AND hour < $hi GROUP BY hour),
     m AS (SELECT * FROM metrics_port
           WHERE proto = $proto AND port = $port AND cls = $cls AND hour >= $lo AND hour < $hi)
SELECT h.hour, coalesce(m.packets, 0)::BIGINT AS packets, coalesce(m.sources, 0)::BIGINT AS sources,
       coalesce(m.sensors, 0)::INTEGER AS sensors, h.active::INTEGER AS active_sensors,
       coalesce(m.packets, 0) / h.active AS mean_per_sensor
FROM hours h LEFT JOIN m USING (hour) ORDER BY h.hour
"""

_SERIES_SENSOR_SQL = """
SELECT hour, sensor_id, packets, sources, targets FROM metrics_sensor
WHERE proto = $proto AND port = $port AND cls = $cls AND hour >= $lo AND hour < $hi
ORDER BY hour, sensor_id
"""

_SERIES_COUNTRY_SQL = """
SELECT hour, country, packets, sources FROM metrics_country
WHERE proto = $proto AND port = $port AND cls = $cls AND hour >= $lo AND hour < $hi
ORDER BY hour, packets DESC, country
"""


def sensor_list(settings: Settings) -> list[Row]:
    """Every sensor: id, monitored addresses, CIDRs, first/last seen, packets stored."""
    with connect(settings, read_only=True) as con:
        return _rows(
            con,
            """SELECT sensor_id, addresses, cidrs, first_seen, last_seen, packets
            FROM sensors ORDER BY sensor_id""",
            [],
        )


def data_range(settings: Settings) -> tuple[datetime, datetime] | None:
    """First and last hour with data, or None for an empty store."""
    with connect(settings, read_only=True) as con:
        row = con.execute("SELECT min(hour), max(hour) FROM sensor_hours").fetchone()
    if row is None or row[0] is None:
        return None
    return row[0].replace(tzinfo=UTC), row[1].replace(tzinfo=UTC)
