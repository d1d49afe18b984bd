"""Store stage: read the hourly scan metrics the detector needs, as `HourFrame`s.

Reads metrics_sensor / metrics_port (cls 'scan', TCP and UDP keys) and sensor_hours (health)
for a range of hour indexes. Read-only; never writes.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import numpy as np

from isdas.analyse.frames import HourFrame, empty_frame

HOUR = "(epoch(hour)::BIGINT // 3600)"
KEY = "((proto::BIGINT << 16) | port::BIGINT)"

SENSOR_SQL = f"""
SELECT {HOUR} AS h, {KEY} AS k, sensor_id, sources::DOUBLE AS s, packets::DOUBLE AS p
FROM metrics_sensor WHERE cls = 'scan' AND proto IN (6, 17) AND {HOUR} BETWEEN $lo AND $hi
ORDER BY h
"""
PORT_SQL = f"""
SELECT {HOUR} AS h, {KEY} AS k, sources::DOUBLE AS s
FROM metrics_port WHERE cls = 'scan' AND proto IN (6, 17) AND {HOUR} BETWEEN $lo AND $hi
ORDER BY h
"""
HEALTH_SQL = f"""
SELECT {HOUR} AS h, sensor_id, sources::DOUBLE AS s
FROM sensor_hours WHERE {HOUR} BETWEEN $lo AND $hi ORDER BY h
"""


def hour_range(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """First and last hour index with any sensor data, or None for an empty catalog."""
    row = con.execute(f"SELECT min({HOUR}), max({HOUR}) FROM sensor_hours").fetchone()
    if row is None or row[0] is None:
        return None
    return int(row[0]), int(row[1])


def checksum(con: duckdb.DuckDBPyConnection, last: int) -> str:
    """A fingerprint of every scan metric up to hour `last` (detects late or changed data)."""
    row = con.execute(
        f"SELECT count(*), sum(sources), sum(packets) FROM metrics_sensor WHERE {HOUR} <= $last",
        {"last": last},
    ).fetchone()
    return ":".join(str(v) for v in (row or ()))


def _split(h: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.searchsorted(h, np.arange(lo, hi + 2))


def read_frames(con: duckdb.DuckDBPyConnection, lo: int, hi: int) -> Iterator[HourFrame]:
    """One frame per hour in [lo, hi], empty frames for hours without data."""
    args = {"lo": lo, "hi": hi}
    ms = con.execute(SENSOR_SQL, args).fetchnumpy()
    mp = con.execute(PORT_SQL, args).fetchnumpy()
    hs = con.execute(HEALTH_SQL, args).fetchnumpy()
    cut_s, cut_p, cut_h = (_split(np.asarray(t["h"]), lo, hi) for t in (ms, mp, hs))
    sensors = np.asarray(ms["sensor_id"], dtype=object)
    for i, hour in enumerate(range(lo, hi + 1)):
        a, b = cut_s[i], cut_s[i + 1]
        c, d = cut_p[i], cut_p[i + 1]
        e, f = cut_h[i], cut_h[i + 1]
        if a == b and e == f:
            yield empty_frame(hour)
            continue
        health = {str(s): float(v) for s, v in zip(hs["sensor_id"][e:f], hs["s"][e:f], strict=True)}
        yield HourFrame(
            hour, np.asarray(ms["k"][a:b], dtype=np.int64), tuple(str(s) for s in sensors[a:b]),
            np.asarray(ms["s"][a:b], dtype=np.float64), np.asarray(ms["p"][a:b], dtype=np.float64),
            np.asarray(mp["k"][c:d], dtype=np.int64), np.asarray(mp["s"][c:d], dtype=np.float64),
            health,
        )  # fmt: skip
