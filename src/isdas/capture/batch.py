"""Capture stage: the packet batch layout and the read statistics.

A PacketBatch is a plain dict of equally long numpy columns, one row per IP packet. This
module only defines the columns and allocates them; it must not read files or decode bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

PacketBatch = dict[str, npt.NDArray[np.generic]]
Columns = tuple[npt.NDArray[np.generic], ...]

# Column name and dtype, in the order the numba kernels write them (see decode._store).
COLUMNS: tuple[tuple[str, type[np.generic]], ...] = (
    ("ts_us", np.int64),
    ("ipver", np.uint8),
    ("src_hi", np.uint64),
    ("src_lo", np.uint64),
    ("dst_hi", np.uint64),
    ("dst_lo", np.uint64),
    ("proto", np.uint8),
    ("sport", np.uint16),
    ("dport", np.uint16),
    ("icmp_type", np.uint8),
    ("icmp_code", np.uint8),
    ("tcp_flags", np.uint8),
    ("ttl", np.uint8),
    ("ip_id", np.uint32),
    ("tcp_seq", np.uint32),
    ("tcp_win", np.uint16),
    ("length", np.uint32),
    ("frag", np.uint8),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)

# Rows per yielded batch at most: big enough to amortise Python overhead, small enough that
# the columns (about 12 MB) are recycled by the allocator instead of page-faulted anew.
BATCH_ROWS = 1 << 18


@dataclass
class ReadStats:
    """What a reader saw; complete once iteration has finished.

    frames: link-layer records read; packets: IP packets yielded; skipped: frames that were not
    IP (ARP, ...), were malformed, or named an unknown interface. truncated_at: byte offset
    (in the decompressed stream for .gz) of the first record that could not be read, with
    `error` saying why; None when the whole input was read.
    """

    frames: int = 0
    packets: int = 0
    skipped: int = 0
    truncated_at: int | None = None
    error: str | None = None
    bytes_read: int = 0
    linktypes: set[int] = field(default_factory=set)

    def add(self, other: ReadStats) -> None:
        """Fold another file's statistics into these (used for rotation directories)."""
        self.frames += other.frames
        self.packets += other.packets
        self.skipped += other.skipped
        self.bytes_read += other.bytes_read
        self.linktypes |= other.linktypes
        if other.error is not None and self.error is None:
            self.error = other.error
            self.truncated_at = other.truncated_at


def new_columns(rows: int) -> Columns:
    """Uninitialised output columns for up to `rows` packets (the kernels write every cell)."""
    return tuple(np.empty(rows, dtype=dtype) for _, dtype in COLUMNS)


def to_batch(cols: Columns, rows: int) -> PacketBatch:
    """The first `rows` rows as a batch; copies when that frees most of the allocation."""
    keep = rows * 2 < len(cols[0])
    return {
        name: (col[:rows].copy() if keep else col[:rows])
        for (name, _), col in zip(COLUMNS, cols, strict=True)
    }


def empty_batch() -> PacketBatch:
    """A batch with every column and no rows."""
    return to_batch(new_columns(0), 0)
