"""Store stage: hourly metrics, recomputed from the registered lake parts.

Per-sensor metrics are recomputed for the (sensor, hours) a file ingest touched, inside the
same transaction that registers its parts; a collector batch only marks its (sensor, hours) in
`dirty_sensor_hours` and the collector's flusher recounts them later. All-sensor metrics
(distinct sources across sensors, per-country) are recomputed for the hours listed in
`dirty_hours` by `flush`. Every number is therefore a recount from the lake, never an
increment, which keeps re-runs and crash recovery free of double counting. Only registered
parts are read, and only those whose time span meets a recounted hour.
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


SQL_TYPES = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.uint64(): "UBIGINT",
    pa.date32(): "DATE",
    pa.timestamp("us"): "TIMESTAMP",
}


def temp_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """TEMP TABLE `name` holding the rows of `table` (columns typed by SQL_TYPES; all-null
    columns become VARCHAR), for the statements of one transaction to join against."""
    types = [SQL_TYPES.get(f.type, "VARCHAR") for f in table.schema]
    cols = ", ".join(f"{f.name} {t}" for f, t in zip(table.schema, types, strict=True))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({cols})")
    if table.num_rows:
        fixed = [pa.string() if f.type == pa.null() else f.type for f in table.schema]
        con.from_arrow(
            table.cast(pa.schema(list(zip(table.schema.names, fixed, strict=True))))
        ).insert_into(name)


def _set_hours(con: duckdb.DuckDBPyConnection, hours: Sequence[datetime]) -> None:
    """Temp table _hours(hour TIMESTAMP, h BIGINT hours since the epoch)."""
    naive = [h.replace(tzinfo=None) for h in hours]
    temp_table(con, "_hours_in", pa.table({"hour": pa.array(naive, pa.timestamp("us"))}))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _hours AS "
        "SELECT DISTINCT hour, epoch_us(hour) // 3600000000 AS h FROM _hours_in"
    )
    con.execute("DROP TABLE _hours_in")


def _set_pairs(
    con: duckdb.DuckDBPyConnection,
    pairs: Sequence[tuple[str, datetime]],
    hours: Sequence[datetime] = (),
) -> None:
    """Temp tables _sh(sensor_id, hour, h) of `pairs`, and _hours of their hours and `hours`."""
    _set_hours(con, [hour for _, hour in pairs] + list(hours))
    rows = pa.table(
        {
            "sensor_id": pa.array([s for s, _ in pairs], pa.string()),
            "hour": pa.array([h.replace(tzinfo=None) for _, h in pairs], pa.timestamp("us")),
        }
    )
    temp_table(con, "_sh_in", rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sh AS SELECT DISTINCT sensor_id, hour, "
        "epoch_us(hour) // 3600000000 AS h FROM _sh_in"
    )
    con.execute("DROP TABLE _sh_in")


# registered parts holding rows of an hour of _sh / _hours: by time span, so a recount reads
# only the parts of the hours it recounts, never the rest of their day
_OVERLAP = "(p.min_ts < x.hour + INTERVAL 1 HOUR AND p.max_ts >= x.hour)"
_IN_SH = "SEMI JOIN _sh x ON e.sensor = x.sensor_id AND e.h = x.h"


def _part_files(con: duckdb.DuckDBPyConnection, lake: Path, by_sensor: bool) -> list[str]:
    join = "_sh x ON p.sensor_id = x.sensor_id AND" if by_sensor else "_hours x ON"
    sql = f"SELECT DISTINCT p.path FROM parts p JOIN {join} {_OVERLAP}"
    return [str(lake / p) for (p,) in con.execute(sql + " ORDER BY 1").fetchall()]


def _collect(con: duckdb.DuckDBPyConnection, lake: Path, by_sensor: bool) -> list[str]:
    """Temp table _k: packets per distinct (h, sensor, key, country, source) of the events of
    the (sensor, hour)s in _sh (by_sensor) or of every sensor in the hours of _hours; every
    count is then a small group-by of _k. The part files read."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _k (h BIGINT, sensor TEXT, proto UTINYINT, port INTEGER, "
        "cls TEXT, country TEXT, src UHUGEINT, n BIGINT)"
    )
    files = _part_files(con, lake, by_sensor)
    if files:
        where = _IN_SH if by_sensor else "WHERE h IN (SELECT h FROM _hours)"
        con.execute(
            f"""INSERT INTO _k SELECT h, sensor, proto, port, cls, country, src, count(*)
            FROM ({EVENTS}) e {where} GROUP BY ALL""",
            {"files": files},
        )
    return files


def recompute_sensor(
    con: duckdb.DuckDBPyConnection, lake: Path, sensor_id: str, hours: Sequence[datetime]
) -> None:
    """Recount metrics_sensor and sensor_hours of `sensor_id` for `hours` (inside a transaction).

    Leaves the temp table _hours holding `hours`."""
    recompute_sensor_hours(con, lake, [(sensor_id, h) for h in hours])


def recompute_sensor_hours(
    con: duckdb.DuckDBPyConnection, lake: Path, pairs: Sequence[tuple[str, datetime]]
) -> None:
    """Recount metrics_sensor and sensor_hours for each (sensor, hour) of `pairs` (inside a
    transaction)."""
    _set_pairs(con, pairs)
    _collect(con, lake, by_sensor=True)
    _recount_sensors(con, lake)
    con.execute("DROP TABLE _k")


def _recount_sensors(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """metrics_sensor and sensor_hours of the (sensor, hour)s in _sh, from _k (which must hold
    them) and one pass over their parts for the distinct targets."""
    for table in ("metrics_sensor", "sensor_hours"):
        con.execute(
            f"DELETE FROM {table} t WHERE EXISTS "
            "(SELECT 1 FROM _sh x WHERE x.sensor_id = t.sensor_id AND x.hour = t.hour)"
        )
    files = _part_files(con, lake, by_sensor=True)
    if not files:
        return
    con.execute(
        f"""INSERT INTO metrics_sensor
        WITH s AS (SELECT h, sensor, proto, port, cls, sum(n) AS packets,
                          count(DISTINCT src) AS sources
                   FROM _k e {_IN_SH} GROUP BY h, sensor, proto, port, cls),
             d AS (SELECT h, sensor, proto, port, cls, count(*) AS targets FROM
                   (SELECT DISTINCT h, sensor, proto, port, cls, dst FROM ({EVENTS}) e {_IN_SH})
                   GROUP BY h, sensor, proto, port, cls)
        SELECT {HOUR}, sensor, proto, port, cls, packets, sources, targets
        FROM s JOIN d USING (h, sensor, proto, port, cls)""",
        {"files": files},
    )
    con.execute(
        f"""INSERT INTO sensor_hours
        SELECT {HOUR}, sensor, sum(n), count(DISTINCT src) FROM _k e {_IN_SH} GROUP BY h, sensor"""
    )


def flush(con: duckdb.DuckDBPyConnection, lake: Path) -> int:
    """Recount deferred and all-sensor metrics of every dirty hour in one transaction; hours
    flushed."""
    con.execute("BEGIN TRANSACTION")
    try:
        flushed = flush_dirty(con, lake)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return flushed


def flush_dirty(con: duckdb.DuckDBPyConnection, lake: Path) -> int:
    """Recount the per-sensor metrics of every dirty (sensor, hour), then the all-sensor
    metrics of every dirty hour, from one pass over their parts, and clear both marks
    (caller's transaction); the number of hours flushed."""
    marks = con.execute("SELECT DISTINCT sensor_id, hour FROM dirty_sensor_hours").fetchall()
    pairs = [(str(s), h) for s, h in marks]
    hours = [h for (h,) in con.execute("SELECT hour FROM dirty_hours").fetchall()]
    if not pairs and not hours:
        return 0
    _set_pairs(con, pairs, hours)
    _collect(con, lake, by_sensor=False)
    if pairs:
        _recount_sensors(con, lake)
        # only the marks this transaction's snapshot saw: a batch registered meanwhile keeps
        # its mark for the next flush
        con.execute(
            "DELETE FROM dirty_sensor_hours d WHERE EXISTS "
            "(SELECT 1 FROM _sh x WHERE x.sensor_id = d.sensor_id AND x.hour = d.hour)"
        )
    _recount_all_sensors(con)
    con.execute("DELETE FROM dirty_hours WHERE hour IN (SELECT hour FROM _hours)")
    con.execute("DROP TABLE _k")
    row = con.execute("SELECT count(*) FROM _hours").fetchone()
    return int(row[0]) if row else 0


def pending(con: duckdb.DuckDBPyConnection) -> int:
    """Dirty marks waiting for a flush (sensor-hours plus all-sensor hours)."""
    row = con.execute(
        "SELECT (SELECT count(*) FROM dirty_sensor_hours) + (SELECT count(*) FROM dirty_hours)"
    ).fetchone()
    return int(row[0]) if row else 0


def _recount_all_sensors(con: duckdb.DuckDBPyConnection) -> None:
    """metrics_port and metrics_country of the hours in _hours, from _k (every sensor's events
    of those hours) and the per-sensor tables."""
    for table in ("metrics_port", "metrics_country"):
        con.execute(f"DELETE FROM {table} WHERE hour IN (SELECT hour FROM _hours)")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _pairs AS
        SELECT h, proto, port, cls, country, src, sum(n) AS packets FROM _k GROUP BY ALL"""
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
