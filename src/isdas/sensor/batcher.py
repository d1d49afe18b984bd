"""Turn captured frames into durable spooled batches: every N events or every T seconds.

Stage: sensor. Decodes through `sensor.decode` (numpy, no JIT: see its module doc), encodes
with `sensor.wire`, writes through `sensor.spool` and counts through `sensor.state`; must not
ship or touch the store.

Frames are decoded as soon as they are read (one ring read at a time), so what waits for the
next flush is columns (65 bytes an event), not frames.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import numpy as np

from isdas.sensor import wire
from isdas.sensor.decode import Frames, decode, pack
from isdas.sensor.spool import Spool
from isdas.sensor.state import CounterState

log = logging.getLogger(__name__)


def spool_batch(
    spool: Spool, state: CounterState, batch: Mapping[str, np.ndarray], batch_id: str = ""
) -> int:
    """Encode and spool one decoded batch (nothing for an empty one); returns its events."""
    events = len(batch["ts_us"])
    if events:
        dropped = spool.dropped_events
        entry = spool.put(wire.encode(batch), events, batch_id)
        state.spooled(entry.path.name, events, spool.dropped_events - dropped)
    return events


def warm_up(linktype: int) -> None:
    """Run the decoder and load the codecs now (before privileges are dropped)."""
    decode(pack([bytes(64)], [0]), linktype)
    wire.encode(wire.empty_batch())


def concat(parts: list[wire.PacketBatch]) -> wire.PacketBatch:
    """Decoded batches as one."""
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([p[name] for p in parts]) for name in wire.WIRE_COLUMNS}


class Batcher:
    """Decodes frames as they come; `flush` spools the pending events as one batch."""

    def __init__(
        self, spool: Spool, state: CounterState, linktype: int, max_events: int, max_seconds: float
    ) -> None:
        self.spool, self.state, self.linktype = spool, state, linktype
        self.max_events, self.max_seconds = max_events, max_seconds
        self.parts: list[wire.PacketBatch] = []
        self.pending = 0
        self.started = time.monotonic()

    def add(self, frames: Frames) -> None:
        """Decode frames read from the capture; flushes when the batch is full."""
        batch = decode(frames, self.linktype)
        rows = len(batch["ts_us"])
        self.state.counters.add(received=len(frames), parsed=rows)
        if rows:
            if not self.parts:
                self.started = time.monotonic()
            self.parts.append(batch)
            self.pending += rows
        if self.pending >= self.max_events:
            self.flush()

    def due(self) -> bool:
        """Whether the pending events are older than the batch interval."""
        return bool(self.parts) and time.monotonic() - self.started >= self.max_seconds

    def flush(self) -> int:
        """Spool the pending events (in batches of at most max_events); returns how many."""
        if not self.parts:
            return 0
        batch = concat(self.parts)
        self.parts, self.pending = [], 0
        rows, size, spooled = len(batch["ts_us"]), self.max_events, 0
        for start in range(0, rows, size):
            piece = {k: v[start : start + size] for k, v in batch.items()}
            spooled += spool_batch(self.spool, self.state, piece)
        return spooled
