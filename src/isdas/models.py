"""Value types shared by every stage: the event schema, classes, tags, keys and detections.

Stage: none (imported by all). Must not import any other isdas module or do I/O.

Address representation (documented in docs/architecture.md): every address is 128 bits held in
two uint64 columns, `*_hi` and `*_lo`. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so
`hi == 0` and `lo == 0xFFFF_0000_0000 | v4`. Distinct counts, sorting and joins work on the pair
for both families without strings; `format_addr`/`parse_addr` convert at the edges.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

V4_MAPPED = 0xFFFF_0000_0000

# One row per packet (or log line). Column order is the lake's column order.
EVENT_SCHEMA = pa.schema(
    [
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("sensor", pa.string(), nullable=False),
        pa.field("ipver", pa.uint8(), nullable=False),  # 4 or 6
        pa.field("src_hi", pa.uint64(), nullable=False),
        pa.field("src_lo", pa.uint64(), nullable=False),
        pa.field("dst_hi", pa.uint64(), nullable=False),
        pa.field("dst_lo", pa.uint64(), nullable=False),
        pa.field("proto", pa.uint8(), nullable=False),  # IP protocol number (after v6 ext headers)
        pa.field("sport", pa.uint16(), nullable=False),  # 0 for ICMP and later fragments
        pa.field("dport", pa.uint16(), nullable=False),  # 0 for ICMP and later fragments
        pa.field("icmp_type", pa.uint8(), nullable=False),  # ICMP / ICMPv6 only, else 0
        pa.field("icmp_code", pa.uint8(), nullable=False),
        pa.field("tcp_flags", pa.uint8(), nullable=False),  # FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32
        pa.field("ttl", pa.uint8(), nullable=False),  # IPv4 TTL or IPv6 hop limit
        pa.field("ip_id", pa.uint32(), nullable=False),  # IPv4 id; IPv6 fragment id or 0
        pa.field("tcp_seq", pa.uint32(), nullable=False),
        pa.field("tcp_win", pa.uint16(), nullable=False),
        pa.field("length", pa.uint32(), nullable=False),  # IP datagram length in bytes
        pa.field("frag", pa.uint8(), nullable=False),  # Frag enum
        pa.field(
            "country", pa.string(), nullable=False
        ),  # ISO 3166 alpha-2 of source, "ZZ" unknown
        pa.field("cls", pa.uint8(), nullable=False),  # Cls enum
        pa.field("tags", pa.uint32(), nullable=False),  # Tag bit set
    ]
)

EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_SCHEMA.names)
UNKNOWN_COUNTRY = "ZZ"


class Proto(enum.IntEnum):
    """IP protocol numbers isdas names."""

    ICMP = 1
    TCP = 6
    UDP = 17
    ICMPV6 = 58


PROTO_NAMES: dict[int, str] = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}
PROTO_NUMBERS: dict[str, int] = {v: k for k, v in PROTO_NAMES.items()}


class Frag(enum.IntEnum):
    """Fragment position of a packet."""

    WHOLE = 0
    FIRST = 1
    LATER = 2  # non-first fragment: no transport header, ports are 0


class Cls(enum.IntEnum):
    """Traffic class assigned at ingest (analyse.classify)."""

    OTHER = 0
    SCAN = 1  # TCP SYN without ACK, UDP, ICMP echo request
    BACKSCATTER = 2  # SYN-ACK, RST, ICMP errors: replies to spoofed traffic


CLS_NAMES: dict[int, str] = {0: "other", 1: "scan", 2: "backscatter"}


class Tag(enum.IntFlag):
    """Per-packet fingerprint and role tags (bit set in the `tags` column)."""

    NONE = 0
    MIRAI = 1 << 0  # TCP sequence number == destination IPv4 address
    ZMAP = 1 << 1  # IPv4 id 54321
    MASSCAN = 1 << 2  # IPv4 id == (dst ^ dport ^ seq) & 0xffff
    RESEARCH = 1 << 3  # source in an acknowledged research-scanner network
    SPOOFED_FLOOD = 1 << 4  # part of a randomly spoofed flood toward one target
    NMAP = 1 << 5  # reserved for an Nmap SYN fingerprint


TAG_NAMES: dict[Tag, str] = {
    Tag.MIRAI: "mirai",
    Tag.ZMAP: "zmap",
    Tag.MASSCAN: "masscan",
    Tag.RESEARCH: "research",
    Tag.SPOOFED_FLOOD: "spoofed-flood",
    Tag.NMAP: "nmap",
}


def tag_names(bits: int) -> list[str]:
    """Names of the tags set in `bits`, in bit order."""
    return [name for tag, name in TAG_NAMES.items() if bits & tag]


def metric_port(proto: int, dport: int, icmp_type: int) -> int:
    """The port of a metrics key: the destination port, or the ICMP type for ICMP/ICMPv6."""
    return icmp_type if proto in (1, 58) else dport


@dataclass(frozen=True, order=True)
class Key:
    """A metrics key: protocol number and port (ICMP type for ICMP)."""

    proto: int
    port: int

    def __str__(self) -> str:
        return f"{PROTO_NAMES.get(self.proto, str(self.proto))}/{self.port}"

    @classmethod
    def parse(cls, text: str) -> Key:
        """Parse `tcp/445`, `udp/53`, `icmp/8`; raises ValueError on anything else."""
        name, sep, port = text.strip().lower().partition("/")
        if not sep or name not in PROTO_NUMBERS or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"not a port key: {text!r} (expected e.g. tcp/445)")
        return cls(PROTO_NUMBERS[name], int(port))


def parse_addr(text: str) -> tuple[int, int]:
    """An address string to its (hi, lo) uint64 pair."""
    ip = ipaddress.ip_address(text)
    value = int(ip) | (V4_MAPPED if ip.version == 4 else 0)
    return value >> 64, value & 0xFFFF_FFFF_FFFF_FFFF


def format_addr(hi: int, lo: int) -> str:
    """A (hi, lo) pair back to text; IPv4-mapped pairs print as dotted quads."""
    if hi == 0 and (lo >> 32) == 0xFFFF:
        return str(ipaddress.IPv4Address(lo & 0xFFFF_FFFF))
    return str(ipaddress.IPv6Address((hi << 64) | lo))


@dataclass(frozen=True)
class SensorShare:
    """One sensor's part in a detection."""

    sensor: str
    observed: float
    expected: float


@dataclass(frozen=True)
class CountryShare:
    """One source country's share of a detection's excess sources."""

    country: str
    share: float
    sources: int = 0


@dataclass(frozen=True)
class Detection:
    """An increase of scanning on one key (or a multi-port event), explained.

    `kind` is one of: global, local, multiport, heavy-scanner, recon.
    `shape` is one of: step, ramp, epidemic, spike, unknown.
    """

    id: str
    proto: str  # "tcp" / "udp" / "icmp"
    port: int
    kind: str
    start: datetime  # onset: when the rise began (UTC)
    detected_at: datetime  # first hour whose data raised the alarm (UTC)
    observed_sources: float
    expected_sources: float
    observed_packets: float
    expected_packets: float
    excess_sources: float
    score: float
    detector: str = "isdas"
    shape: str = "unknown"
    doubling_hours: float | None = None
    top_source_share: float = 0.0
    end: datetime | None = None
    sensors: tuple[SensorShare, ...] = ()
    countries: tuple[CountryShare, ...] = ()
    fingerprints: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()  # for kind == "multiport": the ports that rose together
    explanation: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.proto}/{self.port}"
