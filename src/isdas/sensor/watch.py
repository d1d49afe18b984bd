"""Follow a directory of tcpdump rotations written by another process (`sensor run --watch`).

Stage: sensor (capture source). Reads closed capture files through `isdas.capture`, spools
their events; must not ship or touch the store.

A rotation is closed when a newer file exists in the directory or it has been idle (not
modified) for `idle_seconds`. Each closed file is read once: its batch ids are derived from
the file (name, size, mtime) and chunk number, so a file re-read after a crash produces the
same ids and the collector acknowledges them without counting twice. Finished files are
recorded in `<spool>/watch-state.json` (written durably); the files themselves are left alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from isdas.capture import read_capture
from isdas.errors import CaptureError
from isdas.sensor.batcher import spool_batch
from isdas.sensor.spool import Spool, write_durably
from isdas.sensor.state import CounterState

log = logging.getLogger(__name__)

STATE_FILE = "watch-state.json"


def closed_files(directory: Path, idle_seconds: float, now: float) -> list[Path]:
    """Rotation files that are complete, oldest first (by mtime, then name)."""
    files = [p for p in directory.iterdir() if p.is_file() and not p.name.startswith(".")]
    stats = sorted(((p.stat().st_mtime, p.name, p) for p in files), key=lambda t: t[:2])
    closed = [p for _, _, p in stats[:-1]]
    if stats and now - stats[-1][0] >= idle_seconds:
        closed.append(stats[-1][2])
    return closed


def file_key(path: Path) -> str:
    """A stable id of one rotation file: its name, size and modification time."""
    st = path.stat()
    text = f"{path.name}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _slices(batch: Mapping[str, np.ndarray], size: int) -> list[dict[str, np.ndarray]]:
    rows = len(batch["ts_us"])
    return [{k: v[i : i + size] for k, v in batch.items()} for i in range(0, rows, size)]


class Watcher:
    """Spools each closed rotation of `directory` exactly once."""

    def __init__(self, directory: Path, spool: Spool, state: CounterState, batch_events: int):
        self.directory, self.spool, self.state = directory, spool, state
        self.counters = state.counters
        self.batch_events = batch_events
        self.state_path = spool.root / STATE_FILE
        self.done: set[str] = set()
        if self.state_path.exists():
            self.done = set(json.loads(self.state_path.read_text(encoding="utf-8")))

    def _mark(self, name: str) -> None:
        self.done.add(name)
        data = json.dumps(sorted(self.done)).encode()
        write_durably(self.spool.root, STATE_FILE, data)

    def ingest_file(self, path: Path) -> int:
        """Spool every event of one closed file; returns the events spooled."""
        key, chunk, events = file_key(path), 0, 0
        reader = read_capture(path)
        for batch in reader:
            for piece in _slices(batch, self.batch_events):
                events += spool_batch(self.spool, self.state, piece, f"w{key}.{chunk}")
                chunk += 1
        self.counters.add(received=reader.stats.frames, parsed=events)
        if reader.stats.error:
            self.counters.set(last_error=f"{path.name}: {reader.stats.error}"[:300])
        return events

    def poll(self, idle_seconds: float) -> int:
        """Spool the closed files not seen before; returns how many files were read."""
        count = 0
        for path in closed_files(self.directory, idle_seconds, time.time()):
            if path.name in self.done or path.stat().st_size == 0:
                continue
            try:
                self.ingest_file(path)
            except CaptureError as exc:
                log.warning("skipping %s: %s", path, exc)
                self.counters.set(last_error=str(exc)[:300])
            self._mark(path.name)
            count += 1
        return count


def watch_directory(directory: str | os.PathLike[str]) -> Path:
    """The directory to watch, checked."""
    path = Path(directory)
    if not path.is_dir():
        raise CaptureError("not a directory", path=str(path))
    return path
