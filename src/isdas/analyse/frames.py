"""Analyse stage: the hourly input of the detector, as plain arrays.

A `HourFrame` is one hour of per-(key, sensor) metrics and per-key distinct sources, already
read by the store. This module only holds values and pure helpers: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from isdas.models import PROTO_NAMES, PROTO_NUMBERS

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def key_code(proto: int, port: int) -> int:
    """One integer per (proto, port) key: proto << 16 | port."""
    return (int(proto) << 16) | int(port)


def key_parts(code: int) -> tuple[str, int]:
    """The (proto name, port) of a key code."""
    proto = code >> 16
    return PROTO_NAMES.get(proto, str(proto)), code & 0xFFFF


def key_from_name(proto: str, port: int) -> int:
    """The key code of ("tcp", 445)."""
    return key_code(PROTO_NUMBERS[proto], port)


def hour_index(ts: datetime) -> int:
    """Hours since the epoch of an aware UTC datetime (floored)."""
    return int((ts - EPOCH).total_seconds() // 3600)


def hour_time(index: int) -> datetime:
    """The aware UTC datetime of an hour index."""
    return EPOCH + timedelta(hours=index)


@dataclass(frozen=True)
class HourFrame:
    """One hour of scan metrics.

    `keys`/`sensors`/`sources`/`packets` are parallel arrays, one row per (key, sensor) seen;
    `union_keys`/`union_sources` give distinct sources over all sensors per key; `health` maps a
    sensor id to its all-traffic distinct sources in the hour (missing = no data = down).
    """

    hour: int
    keys: I64
    sensors: tuple[str, ...]
    sources: F64
    packets: F64
    union_keys: I64
    union_sources: F64
    health: dict[str, float] = field(default_factory=dict)


def empty_frame(hour: int) -> HourFrame:
    """An hour without any data (every sensor is then down)."""
    nothing = np.zeros(0, dtype=np.int64)
    return HourFrame(hour, nothing, (), np.zeros(0), np.zeros(0), nothing, np.zeros(0))
