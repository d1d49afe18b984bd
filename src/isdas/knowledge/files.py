"""Knowledge stage: where the knowledge data files live (shipped copy, user override).

A file in `<home>/knowledge/` overrides the copy shipped in `isdas/knowledge/data/`.
Must not parse the files (see iana.py, kev.py, threats.py) nor touch the network.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from isdas.settings import Settings, resolve_home

SERVICES_FILE = "services.csv.gz"
KEV_FILE = "kev.json.gz"
THREATS_FILE = "threats.toml"


def shipped_dir() -> Path:
    """The package's own data directory."""
    return Path(str(resources.files("isdas.knowledge") / "data"))


def user_dir(settings: Settings | None = None) -> Path:
    """`<home>/knowledge`: the user's refreshed copies."""
    chosen = settings if settings is not None else resolve_home()
    return chosen.home / "knowledge"


def data_file(name: str, settings: Settings | None = None) -> Path:
    """The user's copy of `name` when present, else the shipped one."""
    user = user_dir(settings) / name
    return user if user.is_file() else shipped_dir() / name


def stamp(path: Path) -> tuple[str, int, int]:
    """A cache key that changes when the file is replaced."""
    st = os.stat(path)
    return (str(path), st.st_mtime_ns, st.st_size)
