"""Publish stage: the directory sink: one JSON file per notification, written atomically.

Files are named `<alert id>-r<revision>.json`, so a re-sent notification replaces its own file.
Must not retry (notify.py does).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DirectorySink:
    """Writes each notification into `path`."""

    name: str
    path: Path
    retries: int = 3
    backoff: float = 1.0

    def send(self, payload: Mapping[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / f"{payload['id']}-r{payload.get('revision', 0)}.json"
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True, ensure_ascii=False)
        os.replace(tmp, target)


def from_config(raw: Mapping[str, Any], name: str) -> DirectorySink:
    """A directory sink from its TOML table (path, retries, backoff)."""
    return DirectorySink(
        name=name,
        path=Path(str(raw["path"])).expanduser(),
        retries=int(raw.get("retries", 3)),
        backoff=float(raw.get("backoff", 1.0)),
    )
