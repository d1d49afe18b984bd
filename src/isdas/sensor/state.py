"""Cumulative counters that survive a sensor restart: `<spool>/counters.json`.

Stage: sensor. Loads and saves the cumulative `Counters` next to the spool they describe; must
not talk to the network or decode packets.

The file is rewritten durably (temp file, fsync, rename, fsync of the directory) after every
batch spooled, every batch acknowledged or rejected, at every heartbeat and on shutdown, so
after a clean stop the counters go on exactly where they were. After a crash (kill -9, power
loss) they resume from the last checkpoint, reconciled with the spool itself:

- a batch spooled after the checkpoint (its file is newer than the newest batch counted) is
  added to spooled;
- a batch that left the spool after the checkpoint (acknowledged, then the process died before
  saving) is added to shipped: whatever of `spooled` is neither shipped, rejected, dropped nor
  still pending must have been acknowledged.

So spooled and shipped stay exact. received, parsed and kernel_drops resume from the last
checkpoint: what was counted after it (at most one batch or heartbeat interval) is forgotten,
as are the frames received but not yet spooled, which the crash loses. A batch rejected or
dropped by the cap in the instant before a crash counts as shipped. The gauges (spool size,
clock offset, last error) are not saved; they are measured afresh.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from isdas.sensor.counters import CUMULATIVE, Counters
from isdas.sensor.spool import Spool, write_durably

log = logging.getLogger(__name__)

STATE_FILE = "counters.json"
STATE_VERSION = 1


def read_state(root: Path) -> dict[str, Any]:
    """The saved state in spool directory `root` ({} if none or unreadable)."""
    path = root / STATE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable sensor counters %s: %s", path, exc)
        return {}
    return raw if isinstance(raw, dict) and raw.get("version") == STATE_VERSION else {}


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


class CounterState:
    """Keeps `counters` in the spool directory; `load` once at start, `save` at checkpoints."""

    def __init__(self, spool: Spool, counters: Counters) -> None:
        self.spool, self.counters = spool, counters
        self.path = spool.root / STATE_FILE
        self.lock = threading.Lock()
        self.newest = ""  # file name of the newest batch counted in `spooled`

    def load(self) -> None:
        """Restore the saved counters and reconcile them with the spool (see module doc)."""
        saved = read_state(self.spool.root)
        values = {name: _count(saved.get(name)) for name in CUMULATIVE}
        self.newest = str(saved.get("newest_batch", ""))
        entries = self.spool.pending()
        values["spooled"] += sum(e.events for e in entries if e.path.name > self.newest)
        if entries:
            self.newest = max(self.newest, entries[-1].path.name)
        gone = values["spooled"] - values["rejected"] - values["spool_dropped"] - values["shipped"]
        values["shipped"] += max(0, gone - sum(e.events for e in entries))
        since = saved.get("counting_since") or datetime.now(UTC).isoformat(timespec="seconds")
        restarts = _count(saved.get("restarts")) + 1 if saved else 0
        self.counters.set(**values, counting_since=str(since), restarts=restarts)
        self.save()

    def spooled(self, name: str, events: int, dropped: int) -> None:
        """Count batch file `name` (and the events the cap dropped to make room), then save."""
        with self.lock:
            self.counters.add(spooled=events, spool_dropped=dropped)
            self.newest = max(self.newest, name)
        self.save()

    def save(self) -> None:
        """Write the cumulative counters durably."""
        with self.lock:
            snap = self.counters.snapshot()
            state = {name: snap[name] for name in CUMULATIVE}
            state.update(
                version=STATE_VERSION,
                newest_batch=self.newest,
                counting_since=snap["counting_since"],
                restarts=snap["restarts"],
                saved_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            data = json.dumps(state, indent=1).encode()
            write_durably(self.spool.root, STATE_FILE, data)
