"""Knowledge stage: everything known about one port (service, threats, KEV, countermeasures).

`service_name` is hot (called per row by `isdas ports` and the dashboard): one dict lookup on
a table loaded once per file version. Must not import the store or do network I/O.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from isdas.knowledge import countermeasures, files
from isdas.knowledge.iana import Service, decode_table
from isdas.knowledge.kev import KevEntry, decode_subset, matching
from isdas.knowledge.threats import Threat, by_port, parse_threats
from isdas.models import PROTO_NAMES
from isdas.settings import Settings

KEV_PER_PORT = 8
RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class PortInfo:
    """What an alert says about a port."""

    proto: str
    port: int
    service: str | None  # IANA service name
    description: str | None  # IANA description
    threats: tuple[Threat, ...]
    kev: tuple[KevEntry, ...]  # newest first
    countermeasures: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.proto}/{self.port}"

    @property
    def products(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for t in self.threats for p in t.products))

    @property
    def cves(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for t in self.threats for c in t.cves))


def proto_name(proto: str | int) -> str:
    """ "tcp" for 6 or "TCP"; other names pass through lowercased."""
    if isinstance(proto, int):
        return PROTO_NAMES.get(proto, str(proto))
    return proto.strip().lower()


@functools.lru_cache(maxsize=4)
def _services(stamp: tuple[str, int, int]) -> dict[tuple[str, int], Service]:
    return decode_table(Path(stamp[0]).read_bytes())


@functools.lru_cache(maxsize=4)
def _threats(stamp: tuple[str, int, int]) -> dict[str, tuple[Threat, ...]]:
    return by_port(parse_threats(Path(stamp[0]).read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=4)
def _kev(stamp: tuple[str, int, int]) -> tuple[KevEntry, ...]:
    return tuple(decode_subset(Path(stamp[0]).read_bytes())[1])


_FAST: dict[Path, tuple[float, dict[tuple[str, int], Service]]] = {}


def services(settings: Settings | None = None) -> dict[tuple[str, int], Service]:
    """The whole service table (user copy if present), re-checked at most once a second."""
    home = settings.home if settings is not None else None
    key = home if home is not None else Path(os.environ.get("ISDAS_HOME", "."))
    now = time.monotonic()
    cached = _FAST.get(key)
    if cached is not None and now - cached[0] < RECHECK_SECONDS:
        return cached[1]
    table = _services(files.stamp(files.data_file(files.SERVICES_FILE, settings)))
    _FAST[key] = (now, table)
    return table


def threats_for(key: str, settings: Settings | None = None) -> tuple[Threat, ...]:
    """Curated threats known to target `key` ("tcp/445")."""
    index = _threats(files.stamp(files.data_file(files.THREATS_FILE, settings)))
    return index.get(key, ())


def kev_entries(settings: Settings | None = None) -> tuple[KevEntry, ...]:
    """The KEV subset (user copy if present)."""
    return _kev(files.stamp(files.data_file(files.KEV_FILE, settings)))


def service_name(proto: str | int, port: int, settings: Settings | None = None) -> str | None:
    """The IANA service name of a TCP/UDP port, or None when unregistered."""
    found = services(settings).get((proto_name(proto), port))
    return found.name if found is not None else None


def port_info(proto: str | int, port: int, settings: Settings | None = None) -> PortInfo:
    """Service, threats, recent KEV entries and countermeasures for one port."""
    name = proto_name(proto)
    service = services(settings).get((name, port))
    threats = threats_for(f"{name}/{port}", settings)
    rules = [r for t in threats for r in t.kev]
    kev = tuple(matching(kev_entries(settings), rules)[:KEV_PER_PORT]) if rules else ()
    return PortInfo(
        proto=name,
        port=port,
        service=service.name if service else None,
        description=service.description if service else None,
        threats=threats,
        kev=kev,
        countermeasures=countermeasures.for_threats(name, port, threats),
    )
