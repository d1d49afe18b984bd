"""Capture stage: capture files and live frames -> columns of packet fields (PacketBatch).

Public API: `read_capture(path)` (pcap, pcapng, either gzipped, or a directory of tcpdump
rotations) returning a `CaptureReader` that yields PacketBatch dicts and keeps `ReadStats`;
`decode_frames(frames, linktype, ts_us)` for raw frames (the live sensor uses its own numpy
decoder, `isdas.sensor.decode`, checked against this one). This package is a pure parser:
it never touches the store, prints or exits. Failures to read a file at all raise
`isdas.errors.CaptureError`; a truncated or corrupt record ends reading quietly, with
`stats.truncated_at` and `stats.error` set after every complete record before it was yielded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from isdas.capture.batch import COLUMN_NAMES, COLUMNS, PacketBatch, ReadStats, empty_batch
from isdas.capture.decode import LINKTYPES, decode_frames
from isdas.capture.reader import read_file, sniff
from isdas.capture.rotation import rotation_files
from isdas.errors import CaptureError

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "LINKTYPES",
    "CaptureReader",
    "PacketBatch",
    "ReadStats",
    "decode_frames",
    "empty_batch",
    "read_capture",
]

DEFAULT_CHUNK = 32 << 20


class CaptureReader:
    """Iterable of PacketBatch over one file or a rotation directory; `stats` after iteration.

    In a directory, a truncated file does not stop the others: the first error is kept in
    `stats.error` (naming the file), `stats.truncated_at` is the offset within that file, and
    reading goes on with the next file.
    """

    def __init__(self, path: str, files: list[str], chunk_bytes: int) -> None:
        self.path = path
        self.files = files
        self.chunk_bytes = chunk_bytes
        self.stats = ReadStats()

    def __iter__(self) -> Iterator[PacketBatch]:
        self.stats = ReadStats()
        if len(self.files) == 1:
            yield from read_file(self.files[0], self.chunk_bytes, self.stats)
            return
        for path in self.files:
            one = ReadStats()
            try:
                yield from read_file(path, self.chunk_bytes, one)
            finally:
                self.stats.add(one)


def read_capture(
    path: str | os.PathLike[str], *, chunk_bytes: int = DEFAULT_CHUNK
) -> CaptureReader:
    """Open a capture file or rotation directory; CaptureError if it is not a capture."""
    name = os.fspath(path)
    if chunk_bytes < 1:
        raise CaptureError(f"chunk_bytes must be positive, not {chunk_bytes}", path=name)
    if os.path.isdir(name):
        return CaptureReader(name, rotation_files(name), chunk_bytes)
    sniff(name)
    return CaptureReader(name, [name], chunk_bytes)
