"""Store stage: the Parquet lake. Parts are written atomically and never rewritten in place.

Layout: `<lake>/day=YYYY-MM-DD/sensor=<ID>/part-<source>.parquet`, one part per (source, day),
where `source` names what produced the rows (a file digest or a collector batch id). A part
becomes visible to queries only once the catalog registers it (store.ingest_tx), so a crash
between the rename and the catalog commit leaves an unregistered file that the next run of
the same source atomically replaces with identical content.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from isdas.errors import InputError
from isdas.models import EVENT_SCHEMA

SENSOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SOURCE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,160}$")
US_PER_DAY = 86_400_000_000
EPOCH = date(1970, 1, 1)


def check_sensor_id(sensor_id: str) -> str:
    """`sensor_id` if it is a safe identifier (letters, digits, `_.-`, <= 64), else InputError."""
    if not SENSOR_ID.match(sensor_id):
        raise InputError(f"invalid sensor id {sensor_id!r}: use letters, digits, '_', '.', '-'")
    return sensor_id


@dataclass(frozen=True)
class Part:
    """One written Parquet file of the lake."""

    path: str  # relative to the lake root
    day: date
    rows: int
    min_ts: datetime
    max_ts: datetime


def part_path(sensor_id: str, day: date, source: str) -> str:
    """The lake-relative path of the part of `source` for (`day`, `sensor_id`)."""
    if not SOURCE_ID.match(source):
        raise InputError(f"invalid source id {source!r}")
    return f"day={day.isoformat()}/sensor={sensor_id}/part-{source}.parquet"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _DayFile:
    """A Parquet writer on a temporary file for one day."""

    def __init__(self, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        self.final = final
        self.temp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
        # lz4 with dictionaries only on the string columns writes 3x faster than zstd with
        # dictionaries everywhere, for files about 1.7x larger (measured on 2.5 M SYN rows)
        self.writer = pq.ParquetWriter(
            self.temp, EVENT_SCHEMA, compression="lz4", use_dictionary=["sensor", "country"]
        )
        self.rows = 0
        self.sealed = False
        self.min_us = np.iinfo(np.int64).max
        self.max_us = np.iinfo(np.int64).min

    def write(self, table: pa.Table, ts_us: np.ndarray) -> None:
        self.writer.write_table(table, row_group_size=1 << 20)
        self.rows += table.num_rows
        self.min_us = min(self.min_us, int(ts_us.min()))
        self.max_us = max(self.max_us, int(ts_us.max()))

    def seal(self) -> None:
        """Close and fsync the temporary file (idempotent); `commit` then only renames it."""
        if self.sealed:
            return
        self.writer.close()
        with open(self.temp, "rb+") as fh:
            os.fsync(fh.fileno())
        self.sealed = True

    def commit(self) -> None:
        self.seal()
        os.replace(self.temp, self.final)
        _fsync_dir(self.final.parent)

    def abort(self) -> None:
        self.writer.close()
        self.temp.unlink(missing_ok=True)


def _to_dt(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


class PartWriter:
    """Splits event tables by UTC day and writes one part per day, atomically on `commit`."""

    def __init__(self, lake: Path, sensor_id: str, source: str) -> None:
        self.lake = lake
        self.sensor_id = check_sensor_id(sensor_id)
        self.source = source
        self._days: dict[int, _DayFile] = {}

    def write(self, table: pa.Table) -> None:
        """Append `table` (EVENT_SCHEMA) to the per-day temporary files."""
        if table.num_rows == 0:
            return
        ts_us = table.column("ts").cast(pa.int64()).to_numpy()
        days = ts_us // US_PER_DAY
        for day in _distinct(days):
            mask = days == day
            sub = table.filter(pa.array(mask)) if not bool(mask.all()) else table
            self._file(day).write(sub, ts_us[mask])

    def _file(self, day: int) -> _DayFile:
        if day not in self._days:
            rel = part_path(self.sensor_id, EPOCH + timedelta(days=day), self.source)
            self._days[day] = _DayFile(self.lake / rel)
        return self._days[day]

    def seal(self) -> None:
        """Finish and fsync every temporary file (the slow part of `commit`, nothing visible)."""
        for f in self._days.values():
            f.seal()

    def commit(self) -> list[Part]:
        """Rename every temporary file into place; the written parts."""
        parts = []
        for day, f in sorted(self._days.items()):
            f.commit()
            rel = part_path(self.sensor_id, EPOCH + timedelta(days=day), self.source)
            parts.append(
                Part(rel, EPOCH + timedelta(days=day), f.rows, _to_dt(f.min_us), _to_dt(f.max_us))
            )
        self._days.clear()
        return parts

    def abort(self) -> None:
        """Remove the temporary files."""
        for f in self._days.values():
            f.abort()
        self._days.clear()


def _distinct(values: np.ndarray) -> list[int]:
    """Distinct values of a small-cardinality int array (sort + diff)."""
    if len(values) == 0:
        return []
    s = np.sort(values)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    keep[1:] = s[1:] != s[:-1]
    return [int(v) for v in s[keep]]


def table_hours(table: pa.Table) -> list[int]:
    """Distinct hours (µs since epoch, truncated) present in `table`."""
    ts_us = table.column("ts").cast(pa.int64()).to_numpy()
    return [h * 3_600_000_000 for h in _distinct(ts_us // 3_600_000_000)]


def filter_valid(table: pa.Table) -> pa.Table:
    """Rows of `table` with a timestamp (defensive: parquet rows must all have ts)."""
    return table.filter(pc.is_valid(table.column("ts")))
