"""Knowledge stage: refresh the derived tables from reference files (IANA CSV, CISA KEV JSON).

Writes to `<home>/knowledge/` (the user's copy, which overrides the shipped one) and, when asked,
to the package's data directory. Writes are atomic (temp file + rename). Must not touch the
network or the catalog.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from isdas.knowledge import files, iana, kev
from isdas.knowledge.threats import parse_threats
from isdas.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateResult:
    """What a refresh wrote."""

    kind: str
    rows: int
    paths: tuple[Path, ...]


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temp file and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _targets(name: str, settings: Settings, ship: bool) -> tuple[Path, ...]:
    paths = [files.user_dir(settings) / name]
    if ship:
        paths.append(files.shipped_dir() / name)
    return tuple(paths)


def update_iana(settings: Settings, source: Path, *, ship: bool = False) -> UpdateResult:
    """Derive the service table from an IANA registry CSV."""
    services = iana.read_iana(source)
    data = iana.encode_table(services)
    paths = _targets(files.SERVICES_FILE, settings, ship)
    for path in paths:
        write_atomic(path, data)
    log.info("service table: %d entries from %s", len(services), source)
    return UpdateResult("iana", len(services), paths)


def update_kev(settings: Settings, source: Path, *, ship: bool = False) -> UpdateResult:
    """Derive the KEV subset joined to the current threats' products."""
    threats_path = files.data_file(files.THREATS_FILE, settings)
    rules = [r for t in parse_threats(threats_path.read_text(encoding="utf-8")) for r in t.kev]
    data = kev.derive_subset(source, rules)
    rows = len(kev.decode_subset(data)[1])
    paths = _targets(files.KEV_FILE, settings, ship)
    for path in paths:
        write_atomic(path, data)
    log.info("KEV subset: %d entries from %s", rows, source)
    return UpdateResult("kev", rows, paths)
