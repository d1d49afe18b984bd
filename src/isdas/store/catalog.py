"""Open the DuckDB catalog with the schema applied; short-lived, lock-tolerant connections."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from isdas.errors import StoreError
from isdas.settings import Settings

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 30.0
_SCHEMA_LOCK = threading.Lock()
_SCHEMA_DONE: set[tuple[str, int]] = (
    set()
)  # (catalog path, inode) whose schema this process applied


def schema_sql() -> list[tuple[str, str]]:
    """(name, text) of the DDL scripts of store/sql, in name order."""
    folder = resources.files("isdas.store") / "sql"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in names]


def _apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name, script in schema_sql():
        try:
            con.execute(script)
        except duckdb.Error as exc:
            raise StoreError(f"catalog schema script {name} failed: {exc}") from exc


def _ensure_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Apply the schema once per catalog file and process, one thread at a time: two threads
    creating the same tables at once make DuckDB refuse one with a write-write conflict."""
    key = (str(path.resolve()), path.stat().st_ino)
    if key in _SCHEMA_DONE:
        return
    with _SCHEMA_LOCK:
        if key not in _SCHEMA_DONE:
            _apply_schema(con)
            _SCHEMA_DONE.add(key)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    markers = ("lock", "conflict", "being used", "different configuration")
    return any(m in text for m in markers)


# DuckDB creates a database instance on the first connect of a process; a second thread
# connecting meanwhile can get the instance before its Python table functions exist
# ("python_arrow_scan does not exist"), so connects of this process go one at a time
_CONNECT_LOCK = threading.Lock()


def _open(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        try:
            with _CONNECT_LOCK:
                return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                raise StoreError(f"cannot open catalog {path}: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


@contextmanager
def connect(
    settings: Settings, *, read_only: bool = False, wait: float = LOCK_WAIT_SECONDS
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the catalog, schema applied, TimeZone UTC; closed on exit.

    A read-only open of a catalog that does not exist yet creates it first.
    """
    path = settings.catalog
    if read_only and not path.exists():
        read_only = False
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, wait)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if not read_only:
            _ensure_schema(con, path)
        yield con
    except duckdb.Error as exc:
        raise StoreError(f"catalog {path}: {exc}") from exc
    finally:
        con.close()
