"""The sensor's durable spool: batches on local disk between capture and acknowledgement.

Stage: sensor. Owns one directory; must not talk to the network or the store.

Each batch is one file `b-<ns>-<batch id>-<events>.arrows`, written as temp file, fsync,
rename, fsync of the directory, so a crash leaves either the whole batch or nothing. The batch
id (letters, digits, '.') is what the collector deduplicates on: random for live capture,
derived from the file and chunk for `--watch`, so a re-read file is never counted twice.
Batches are shipped oldest first and deleted only after the collector acknowledged them.

Cap policy: when the spool exceeds `cap_bytes`, the oldest batches are deleted until it fits
(newest data wins, as for a ring buffer); their events are added to `dropped_events` and a
WARNING is logged for every dropped batch. Batches the collector refused as malformed (422)
move to `rejected/` for an operator to inspect; they never block the queue.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = ".arrows"
BATCH_ID_RE = re.compile(r"^[A-Za-z0-9.]{1,80}$")


@dataclass(frozen=True)
class SpoolEntry:
    """One spooled batch."""

    path: Path
    batch_id: str
    events: int
    size: int


def _parse(path: Path) -> SpoolEntry | None:
    parts = path.name.removesuffix(SUFFIX).split("-")
    if len(parts) != 4 or parts[0] != "b" or not parts[3].isdigit():
        return None
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    return SpoolEntry(path, parts[2], int(parts[3]), size)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` to folder/name atomically and durably (temp, fsync, rename, fsync dir)."""
    tmp = folder / f".tmp-{name}"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    final = folder / name
    os.replace(tmp, final)
    _fsync_dir(folder)
    return final


class Spool:
    """A directory of batches waiting for the collector's acknowledgement."""

    def __init__(self, root: Path, cap_bytes: int) -> None:
        self.root = root
        self.cap_bytes = cap_bytes
        self.rejected = root / "rejected"
        self.rejected.mkdir(parents=True, exist_ok=True)
        self.dropped_events = 0
        self.dropped_batches = 0
        for stale in root.glob(".tmp-*"):
            stale.unlink(missing_ok=True)  # a crash mid-write: never renamed, never acknowledged

    def put(self, data: bytes, events: int, batch_id: str = "") -> SpoolEntry:
        """Store one encoded batch durably, then enforce the cap."""
        now = time.time_ns()
        batch_id = batch_id or f"{now:x}.{secrets.token_hex(6)}"
        if not BATCH_ID_RE.match(batch_id):
            raise ValueError(f"bad batch id {batch_id!r}")
        name = f"b-{now:020d}-{batch_id}-{events}{SUFFIX}"
        path = write_durably(self.root, name, data)
        self.enforce_cap()
        return SpoolEntry(path, batch_id, events, len(data))

    def pending(self) -> list[SpoolEntry]:
        """Spooled batches, oldest first."""
        entries = (_parse(p) for p in sorted(self.root.glob(f"b-*{SUFFIX}")))
        return [e for e in entries if e is not None]

    def size(self) -> tuple[int, int, int]:
        """(files, bytes, events) currently spooled."""
        entries = self.pending()
        return len(entries), sum(e.size for e in entries), sum(e.events for e in entries)

    def ack(self, entry: SpoolEntry) -> None:
        """The collector stored the batch: delete it."""
        entry.path.unlink(missing_ok=True)

    def reject(self, entry: SpoolEntry) -> None:
        """The collector refused the batch for good: keep it apart for inspection."""
        if entry.path.exists():
            os.replace(entry.path, self.rejected / entry.path.name)

    def enforce_cap(self) -> None:
        """Drop the oldest batches while the spool is over its cap (never the newest one)."""
        entries = self.pending()
        total = sum(e.size for e in entries)
        for entry in entries[:-1]:
            if total <= self.cap_bytes:
                break
            entry.path.unlink(missing_ok=True)
            total -= entry.size
            self.dropped_events += entry.events
            self.dropped_batches += 1
            log.warning(
                "SPOOL FULL (cap %d bytes): dropped oldest batch %s with %d events "
                "(%d events dropped so far); the collector is not keeping up or unreachable",
                self.cap_bytes,
                entry.batch_id,
                entry.events,
                self.dropped_events,
            )
