"""One settings object: where the data home is and the few knobs every stage shares."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "./isdas-data"


@dataclass(frozen=True)
class Settings:
    """Locations inside an isdas home directory."""

    home: Path
    alert_prefix: str = "ISDAS"

    @property
    def lake(self) -> Path:
        """Parquet lake root: lake/day=YYYY-MM-DD/sensor=ID/part-*.parquet."""
        return self.home / "lake"

    @property
    def catalog(self) -> Path:
        """The DuckDB catalog file."""
        return self.home / "catalog.duckdb"

    @property
    def spool(self) -> Path:
        """Scratch space for in-flight uploads and temporary files."""
        return self.home / "tmp"

    @property
    def research_networks(self) -> Path:
        """Optional list of acknowledged research-scanner networks (CIDR [name] per line)."""
        return self.home / "research-networks.txt"

    @property
    def site(self) -> Path:
        """Default output directory of the static alert archive site."""
        return self.home / "site"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Settings:
    """Settings for `home`, else $ISDAS_HOME, else ./isdas-data."""
    chosen = home if home is not None else os.environ.get("ISDAS_HOME", DEFAULT_HOME)
    prefix = os.environ.get("ISDAS_ALERT_PREFIX", "ISDAS")
    return Settings(home=Path(chosen).expanduser().resolve(), alert_prefix=prefix)
