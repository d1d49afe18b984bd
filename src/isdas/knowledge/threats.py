"""Knowledge stage: the curated notable threats per port (threats.toml), as frozen values.

Must not import the store or do network I/O; reading the file is files.py's choice of path.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from isdas.errors import InputError


@dataclass(frozen=True)
class KevRule:
    """Joins KEV entries: vendor equal, product containing `product` (both case-insensitive)."""

    vendor: str
    product: str = ""

    def matches(self, vendor: str, product: str) -> bool:
        if vendor.casefold() != self.vendor.casefold():
            return False
        return self.product.casefold() in product.casefold()


@dataclass(frozen=True)
class Threat:
    """A notable threat known to scan some ports."""

    id: str
    name: str
    ports: tuple[str, ...]  # "tcp/445"
    service: str
    products: tuple[str, ...]
    cves: tuple[str, ...]
    first_seen: date | None
    summary: str
    references: tuple[str, ...]
    countermeasures: tuple[str, ...]
    kev: tuple[KevRule, ...]


def _strings(raw: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"threat {raw.get('id')!r}: {name} must be a list of strings")
    return tuple(value)


def _date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(f"not a date: {value!r}") from exc


def _rules(raw: Sequence[Any]) -> tuple[KevRule, ...]:
    try:
        return tuple(KevRule(str(r["vendor"]), str(r.get("product", ""))) for r in raw)
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"bad kev rule: {exc}") from exc


def threat_from_dict(raw: Mapping[str, Any]) -> Threat:
    """One [[threat]] table to a Threat; raises InputError on missing or mistyped fields."""
    if not isinstance(raw.get("id"), str) or not isinstance(raw.get("name"), str):
        raise InputError("every threat needs a string id and name")
    return Threat(
        id=raw["id"],
        name=raw["name"],
        ports=tuple(p.lower() for p in _strings(raw, "ports")),
        service=str(raw.get("service", "")),
        products=_strings(raw, "products"),
        cves=_strings(raw, "cves"),
        first_seen=_date(raw.get("first_seen")),
        summary=str(raw.get("summary", "")),
        references=_strings(raw, "references"),
        countermeasures=_strings(raw, "countermeasures"),
        kev=_rules(raw.get("kev", [])),
    )


def parse_threats(text: str) -> tuple[Threat, ...]:
    """Parse a threats TOML document."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"threats file is not valid TOML: {exc}") from exc
    return tuple(threat_from_dict(t) for t in doc.get("threat", []))


def by_port(threats: Sequence[Threat]) -> dict[str, tuple[Threat, ...]]:
    """Index threats by their "proto/port" strings."""
    index: dict[str, list[Threat]] = {}
    for threat in threats:
        for port in threat.ports:
            index.setdefault(port, []).append(threat)
    return {k: tuple(v) for k, v in index.items()}
