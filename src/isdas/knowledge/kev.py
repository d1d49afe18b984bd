"""Knowledge stage: the CISA Known Exploited Vulnerabilities catalog, joined to port products.

Derives the compact subset shipped in kev.json.gz: only entries whose vendor/product match a
threat's KEV rule. Must not import the store or do network I/O.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from isdas.errors import InputError
from isdas.knowledge.threats import KevRule


@dataclass(frozen=True)
class KevEntry:
    """One known-exploited vulnerability."""

    cve: str
    vendor: str
    product: str
    name: str
    date_added: date
    ransomware: bool

    @property
    def url(self) -> str:
        return f"https://nvd.nist.gov/vuln/detail/{self.cve}"


def _entry(raw: dict[str, Any]) -> KevEntry:
    return KevEntry(
        cve=str(raw["cveID"]),
        vendor=str(raw["vendorProject"]),
        product=str(raw["product"]),
        name=str(raw.get("vulnerabilityName", "")),
        date_added=date.fromisoformat(str(raw["dateAdded"])),
        ransomware=str(raw.get("knownRansomwareCampaignUse", "")).lower() == "known",
    )


def parse_catalog(data: bytes) -> list[KevEntry]:
    """Entries of a CISA KEV JSON catalog (known_exploited_vulnerabilities.json)."""
    try:
        doc = json.loads(data)
        return [_entry(v) for v in doc["vulnerabilities"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a CISA KEV JSON catalog: {exc}") from exc


def matching(entries: Iterable[KevEntry], rules: Sequence[KevRule]) -> list[KevEntry]:
    """Entries matched by any rule, newest first."""
    found = [e for e in entries if any(r.matches(e.vendor, e.product) for r in rules)]
    return sorted(found, key=lambda e: (e.date_added, e.cve), reverse=True)


def _jsonable(entry: KevEntry) -> dict[str, object]:
    raw = asdict(entry)
    raw["date_added"] = entry.date_added.isoformat()
    return raw


def encode_subset(entries: Iterable[KevEntry], version: str) -> bytes:
    """The compact gzip JSON subset (deterministic bytes)."""
    doc = {"catalogVersion": version, "entries": [_jsonable(e) for e in entries]}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), mtime=0)


def decode_subset(data: bytes) -> tuple[str, list[KevEntry]]:
    """The catalog version and entries of a compact subset."""
    doc = json.loads(gzip.decompress(data))
    entries = [
        KevEntry(**{**e, "date_added": date.fromisoformat(e["date_added"])}) for e in doc["entries"]
    ]
    return str(doc.get("catalogVersion", "")), entries


def catalog_version(data: bytes) -> str:
    """The catalogVersion field of a full catalog, or ''."""
    try:
        return str(json.loads(data).get("catalogVersion", ""))
    except ValueError:
        return ""


def derive_subset(path: Path, rules: Sequence[KevRule]) -> bytes:
    """Read a full catalog and return the compact subset matched by `rules`."""
    data = path.read_bytes()
    return encode_subset(matching(parse_catalog(data), rules), catalog_version(data))
