"""A small in-process cache of computed page data, keyed by the catalog's on-disk version.

Stage: serve. Any write to the catalog (by the CLI or the collector) changes the file's mtime or
size (or its WAL's), which changes the version and so invalidates every entry at once. Must not
open the catalog itself; it only stats files.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
Version = tuple[int, ...]


def file_version(path: Path) -> Version:
    """(mtime_ns, size) of the catalog and of its WAL; zeros for files that do not exist."""
    parts: list[int] = []
    for candidate in (path, path.with_name(path.name + ".wal")):
        try:
            st = candidate.stat()
        except OSError:
            parts += [0, 0]
        else:
            parts += [st.st_mtime_ns, st.st_size]
    return tuple(parts)


class VersionedCache:
    """LRU of values computed for the current catalog version, with a time-to-live.

    Concurrent misses of one key compute it once (single flight): the others wait.
    """

    def __init__(self, path: Path, *, size: int = 256, ttl: float = 60.0) -> None:
        self._path = path
        self._size = size
        self._ttl = ttl
        self._data: OrderedDict[Hashable, tuple[Version, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def peek(self, key: Hashable) -> tuple[bool, Any]:
        """(True, value) when a fresh value for the current version is held."""
        version = file_version(self._path)
        with self._lock:
            entry = self._data.get(key)
            if entry is None or entry[0] != version or time.monotonic() - entry[1] >= self._ttl:
                return False, None
            self._data.move_to_end(key)
            self.hits += 1
            return True, entry[2]

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value of `key`, computing (once, under a per-key lock) when stale."""
        found, value = self.peek(key)
        if found:
            return value  # type: ignore[no-any-return]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            found, value = self.peek(key)
            if found:
                return value  # type: ignore[no-any-return]
            version = file_version(self._path)
            result = compute()
            self._store(key, version, result)
            return result

    def _store(self, key: Hashable, version: Version, value: Any) -> None:
        with self._lock:
            self.misses += 1
            self._data[key] = (version, time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                old, _ = self._data.popitem(last=False)
                self._key_locks.pop(old, None)
