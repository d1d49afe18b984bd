"""Sensor health counters, shared by the capture, spool and shipping threads.

Stage: sensor. Plain in-memory numbers; must not do I/O (`sensor.state` saves them).

Cumulative counters, counted since `counting_since` (the sensor's first start with this spool
directory) and kept across restarts in `<spool>/counters.json`:

received      frames the capture delivered to the sensor (live) or frames read (watch)
kernel_drops  packets the kernel dropped because the sensor did not read fast enough
parsed        packets decoded into events (non-IP frames are received, not parsed)
spooled       events written durably to the spool
shipped       events the collector acknowledged
spool_dropped events deleted by the spool cap (oldest first)
rejected      events in batches the collector refused as malformed (kept in spool/rejected)

Gauges, measured afresh by each run: spool_bytes and spool_files (what waits in the spool),
clock_offset_s (collector clock minus sensor clock), last_error; restarts counts the starts
after the first one.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

CUMULATIVE: tuple[str, ...] = (
    "received", "kernel_drops", "parsed", "spooled", "shipped", "spool_dropped", "rejected",
)  # fmt: skip


@dataclass
class Counters:
    """Cumulative counters (see the module doc) plus spool gauges and the last error."""

    received: int = 0
    kernel_drops: int = 0
    parsed: int = 0
    spooled: int = 0
    shipped: int = 0
    spool_dropped: int = 0
    rejected: int = 0
    spool_bytes: int = 0
    spool_files: int = 0
    clock_offset_s: float | None = None
    last_error: str | None = None
    counting_since: str | None = None
    restarts: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **deltas: int) -> None:
        """Add to counters by name."""
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def set(self, **values: object) -> None:
        """Set gauges (spool size, clock offset, last error) by name."""
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)

    def snapshot(self) -> dict[str, object]:
        """A consistent copy of every counter."""
        with self._lock:
            return asdict(self)
