"""Turn captured frames into durable spooled batches: every N events or every T seconds.

Stage: sensor. Decodes through `isdas.capture.decode_frames`, encodes with `sensor.wire`,
writes through `sensor.spool`; must not ship or touch the store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import numpy as np

from isdas.sensor import wire
from isdas.sensor.counters import Counters
from isdas.sensor.spool import Spool

log = logging.getLogger(__name__)


def spool_batch(
    spool: Spool, counters: Counters, batch: Mapping[str, np.ndarray], batch_id: str = ""
) -> int:
    """Encode and spool one decoded batch (nothing for an empty one); returns its events."""
    events = len(batch["ts_us"])
    if events:
        spool.put(wire.encode(batch), events, batch_id)
        counters.add(spooled=events)
        counters.set(spool_dropped=spool.dropped_events)
    return events


def warm_up(linktype: int) -> None:
    """Compile the decoder and load the codecs now (before privileges are dropped)."""
    from isdas.capture import decode_frames

    decode_frames([bytes(64)], linktype, np.zeros(1, dtype=np.int64))
    wire.encode(wire.empty_batch())


class Batcher:
    """Accumulates raw frames; `flush` decodes and spools them as one batch."""

    def __init__(
        self, spool: Spool, counters: Counters, linktype: int, max_events: int, max_seconds: float
    ) -> None:
        self.spool, self.counters, self.linktype = spool, counters, linktype
        self.max_events, self.max_seconds = max_events, max_seconds
        self.frames: list[bytes] = []
        self.ts_us: list[int] = []
        self.started = time.monotonic()

    def add(self, frames: list[bytes], ts_us: list[int]) -> None:
        """Take frames read from the capture; flushes when the batch is full."""
        if not self.frames:
            self.started = time.monotonic()
        self.frames.extend(frames)
        self.ts_us.extend(ts_us)
        self.counters.add(received=len(frames))
        if len(self.frames) >= self.max_events:
            self.flush()

    def due(self) -> bool:
        """Whether the pending frames are older than the batch interval."""
        return bool(self.frames) and time.monotonic() - self.started >= self.max_seconds

    def flush(self) -> int:
        """Decode and spool the pending frames; returns the events spooled."""
        if not self.frames:
            return 0
        from isdas.capture import decode_frames

        frames, ts = self.frames, np.asarray(self.ts_us, dtype=np.int64)
        self.frames, self.ts_us = [], []
        spooled = 0
        for start in range(0, len(frames), self.max_events):
            stop = start + self.max_events
            batch = decode_frames(frames[start:stop], self.linktype, ts[start:stop])
            self.counters.add(parsed=len(batch["ts_us"]))
            spooled += spool_batch(self.spool, self.counters, batch)
        return spooled
