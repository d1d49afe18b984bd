"""Capture stage: order the files of a tcpdump rotation directory (`-G` and `-C` naming).

Files are ordered by the timestamp of their first packet, then by a natural name order
(file, file1, file2, ..., file10). Hidden and non-regular files are ignored. Must not decode
more than the first chunk of each file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from isdas.capture.batch import ReadStats
from isdas.errors import CaptureError

_PROBE_BYTES = 1 << 16
_NO_TS = 1 << 62


def natural_key(name: str) -> tuple[str | int, ...]:
    """Split digits out so that 'cap9' sorts before 'cap10'."""
    parts = re.split(r"(\d+)", name)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def first_timestamp(path: str) -> int | None:
    """µs timestamp of the first IP packet in the file's first 64 KiB; None if there is none."""
    from isdas.capture.reader import read_file  # late import: reader imports this module's peers

    for batch in read_file(path, _PROBE_BYTES, ReadStats(), probe=True):
        return int(batch["ts_us"][0])
    return None


def rotation_files(directory: str) -> list[str]:
    """The capture files of a directory in time order; CaptureError names an unreadable one."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: natural_key(e.name))
    except OSError as exc:
        raise CaptureError(f"cannot list directory: {exc.strerror}", path=directory) from exc
    files = [e.path for e in entries if not e.name.startswith(".") and e.is_file()]
    if not files:
        raise CaptureError("no capture files in directory", path=directory)
    keyed = []
    for path in files:
        ts = first_timestamp(path)
        keyed.append((_NO_TS if ts is None else ts, natural_key(Path(path).name), path))
    keyed.sort()
    return [path for _, _, path in keyed]
