"""Store stage: hourly metrics, recomputed from the registered lake parts.

Per-sensor metrics are recomputed for the (sensor, hours) an ingest touched, inside the same
transaction that registers its parts. All-sensor metrics (distinct sources across sensors,
per-country) are recomputed for the hours listed in `dirty_hours` by `flush`. Every number is
therefore a recount from the lake, never an increment, which keeps re-runs and crash recovery
free of double counting. Only registered parts are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

# One projected event row per packet: the metrics key and the 128-bit addresses. The hour is
# an integer (hours since the epoch): truncating a TIMESTAMPTZ costs 2-3x more CPU.
EVENTS = """
SELECT epoch_us(ts) // 3600000000 AS h, sensor, proto,
       (CASE WHEN proto IN (1, 58) THEN icmp_type ELSE dport END)::INTEGER AS port,
       CASE cls WHEN 1 THEN 'scan' WHEN 2 THEN 'backscatter' ELSE 'other' END AS cls,
       country,
       (src_hi::UHUGEINT << 64) | src_lo AS src,
       (dst_hi::UHUGEINT << 64) | dst_lo AS dst
FROM read_parquet($files)
"""


HOUR = "make_timestamp(h * 3600000000)"


def _set_hours(con: duckdb.DuckDBPyConnection, hours: Sequence[datetime]) -> None:
    """Temp table _hours(hour TIMESTAMP, h BIGINT hours since the epoch)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _hours (hour TIMESTAMP, h BIGINT)")
    naive = [h.replace(tzinfo=None) for h in hours]
    con.register("_hours_in", pa.table({"hour": pa.array(naive, pa.timestamp("us"))}))
    con.execute(
        "INSERT INTO _hours SELECT DISTINCT hour, epoch_us(hour) // 3600000000 FROM _hours_in"
    )
    con.unregister("_hours_in")


def _part_files(con: duckdb.DuckDBPyConnection, lake: Path, sensor_id: str | None) -> list[str]:
    sql = "SELECT path FROM parts WHERE day IN (SELECT DISTINCT hour::DATE FROM _hours)"
    args: list[object] = []
    if sensor_id is not None:
        sql += " AND sensor_id = ?"
        args.append(sensor_id)
    return [str(lake / p) for (p,) in con.execute(sql + " ORDER BY path", args).fetchall()]


def recompute_sensor(
    con: duckdb.DuckDBPyConnection, lake: Path, sensor_id: str, hours: Sequence[datetime]
) -> None:
    """Recount metrics_sensor and sensor_hours of `sensor_id` for `hours` (inside a transaction)."""
    _set_hours(con, hours)
    files = _part_files(con, lake, sensor_id)
    for table in ("metrics_sensor", "sensor_hours"):
        con.execute(
            f"DELETE FROM {table} WHERE sensor_id = ? AND hour IN (SELECT hour FROM _hours)",
            [sensor_id],
        )
    if not files:
        return
    con.execute(
        f"""INSERT INTO metrics_sensor
        SELECT {HOUR}, sensor, proto, port, cls, count(*), count(DISTINCT src), count(DISTINCT dst)
        FROM ({EVENTS}) e WHERE h IN (SELECT h FROM _hours) GROUP BY h, sensor, proto, port, cls""",
        {"files": files},
    )
    con.execute(
        f"""INSERT INTO sensor_hours
        SELECT {HOUR}, sensor, count(*), count(DISTINCT src)
        FROM ({EVENTS}) e WHERE h IN (SELECT h FROM _hours) GROUP BY h, sensor""",
        {"files": files},
    )


def flush(con: duckdb.DuckDBPyConnection, lake: Path) -> int:
    """Recount all-sensor metrics for every dirty hour in one transaction; hours flushed."""
    con.execute("BEGIN TRANSACTION")
    try:
        flushed = flush_dirty(con, lake)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return flushed


def flush_dirty(con: duckdb.DuckDBPyConnection, lake: Path) -> int:
    """Recount all-sensor metrics for every dirty hour and clear them (caller's transaction)."""
    hours = [h for (h,) in con.execute("SELECT hour FROM dirty_hours").fetchall()]
    if hours:
        _flush_hours(con, lake, hours)
        con.execute("DELETE FROM dirty_hours WHERE hour IN (SELECT hour FROM _hours)")
    return len(hours)


def _flush_hours(con: duckdb.DuckDBPyConnection, lake: Path, hours: Sequence[datetime]) -> None:
    _set_hours(con, hours)
    files = _part_files(con, lake, None)
    for table in ("metrics_port", "metrics_country"):
        con.execute(f"DELETE FROM {table} WHERE hour IN (SELECT hour FROM _hours)")
    if not files:
        return
    # one pass over the events: distinct (key, country, source) with packets; both
    # all-sensor tables are then small group-bys of it
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _pairs AS
        SELECT h, proto, port, cls, country, src, count(*) AS packets
        FROM ({EVENTS}) e WHERE h IN (SELECT h FROM _hours) GROUP BY ALL""",
        {"files": files},
    )
    con.execute(
        f"""INSERT INTO metrics_port
        WITH act AS (SELECT hour, count(*) AS n FROM sensor_hours
                     WHERE packets > 0 AND hour IN (SELECT hour FROM _hours) GROUP BY hour),
             per AS (SELECT hour, proto, port, cls, sum(packets) AS packets, count(*) AS sensors
                     FROM metrics_sensor WHERE hour IN (SELECT hour FROM _hours) GROUP BY ALL),
             src AS (SELECT {HOUR} AS hour, proto, port, cls, count(DISTINCT src) AS sources
                     FROM _pairs GROUP BY h, proto, port, cls)
        SELECT per.hour, per.proto, per.port, per.cls, per.packets, src.sources, per.sensors,
               act.n, per.packets / act.n
        FROM per JOIN src USING (hour, proto, port, cls) JOIN act USING (hour)"""
    )
    con.execute(
        f"""INSERT INTO metrics_country
        SELECT {HOUR}, proto, port, cls, country, sum(packets), count(*)
        FROM _pairs GROUP BY h, proto, port, cls, country"""
    )
    con.execute("DROP TABLE _pairs")
