"""Knowledge stage: derive the compact TCP/UDP service-name table from the IANA registry.

The shipped table (services.csv.gz: proto, port, name, description) keeps one primary name per
registered (proto, port), expanding port ranges. Must not import the store or do network I/O.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from isdas.errors import InputError

PROTOS = ("tcp", "udp")
HEADER = ("proto", "port", "name", "description")


@dataclass(frozen=True)
class Service:
    """One registered service name on one transport port."""

    proto: str
    port: int
    name: str
    description: str


def _ports(text: str) -> range:
    low, _, high = text.strip().partition("-")
    start = int(low)
    stop = int(high) if high else start
    if not 0 <= start <= stop <= 65535:
        raise ValueError(text)
    return range(start, stop + 1)


def _row_services(row: dict[str, str]) -> Iterator[Service]:
    proto = (row.get("Transport Protocol") or "").strip().lower()
    name = (row.get("Service Name") or "").strip()
    if proto not in PROTOS or not name:
        return
    try:
        ports = _ports(row.get("Port Number") or "")
    except ValueError:
        return
    description = " ".join((row.get("Description") or "").split())[:80]
    for port in ports:
        yield Service(proto, port, name, description)


def parse_iana(lines: Iterable[str]) -> list[Service]:
    """The first (primary) service per (proto, port) of an IANA registry CSV, sorted."""
    reader = csv.DictReader(lines)
    if reader.fieldnames is None or "Service Name" not in reader.fieldnames:
        raise InputError("not an IANA service-names CSV (no 'Service Name' column)")
    chosen: dict[tuple[str, int], Service] = {}
    for row in reader:
        for service in _row_services(row):
            chosen.setdefault((service.proto, service.port), service)
    return [chosen[k] for k in sorted(chosen)]


def read_iana(path: Path) -> list[Service]:
    """Parse an IANA registry CSV file."""
    with open(path, encoding="utf-8", newline="") as handle:
        return parse_iana(handle)


def encode_table(services: Iterable[Service]) -> bytes:
    """The compact gzip CSV form (deterministic bytes: mtime 0)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    for s in services:
        writer.writerow((s.proto, s.port, s.name, s.description))
    return gzip.compress(text.getvalue().encode("utf-8"), mtime=0)


def decode_table(data: bytes) -> dict[tuple[str, int], Service]:
    """Parse the compact table into a (proto, port) -> Service map."""
    reader = csv.reader(io.StringIO(gzip.decompress(data).decode("utf-8")))
    next(reader, None)
    table: dict[tuple[str, int], Service] = {}
    for proto, port, name, description in reader:
        table[(proto, int(port))] = Service(proto, int(port), name, description)
    return table
