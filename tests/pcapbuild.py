"""Test helper: build small classic pcap files packet by packet (struct, no isdas code).

Independent of isdas.capture on purpose, so that tests of ingest do not trust the parser
they exercise to also write their inputs.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pkt:
    """One packet to write. ICMP uses `dport` as the ICMP type."""

    ts: float
    src: str
    dst: str
    proto: str = "tcp"  # tcp, udp, icmp
    sport: int = 40000
    dport: int = 80
    flags: int = 0x02
    ttl: int = 64
    ip_id: int = 1
    seq: int = 0
    win: int = 1024


def _l4(p: Pkt) -> tuple[int, bytes]:
    if p.proto == "tcp":
        return 6, struct.pack(
            "!HHIIBBHHH", p.sport, p.dport, p.seq, 0, 5 << 4, p.flags, p.win, 0, 0
        )
    if p.proto == "udp":
        return 17, struct.pack("!HHHH", p.sport, p.dport, 8 + 4, 0) + b"abcd"
    v6 = ipaddress.ip_address(p.src).version == 6
    return (58 if v6 else 1), struct.pack("!BBHI", p.dport, 0, 0, 0)


def frame(p: Pkt) -> bytes:
    """An Ethernet frame carrying `p`."""
    proto, l4 = _l4(p)
    src, dst = ipaddress.ip_address(p.src), ipaddress.ip_address(p.dst)
    if src.version == 4:
        ip = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(l4),
            p.ip_id,
            0,
            p.ttl,
            proto,
            0,
            src.packed,
            dst.packed,
        )
        etype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, p.ttl, src.packed, dst.packed)
        etype = 0x86DD
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + struct.pack("!H", etype) + ip + l4


def write_pcap(path: Path, packets: list[Pkt], *, extra_frames: list[bytes] = ()) -> Path:  # type: ignore[assignment]
    """Write a little-endian µs pcap with Ethernet link type."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    records = [(p.ts, frame(p)) for p in packets] + [(0.0, f) for f in extra_frames]
    for ts, data in records:
        sec = int(ts)
        usec = round((ts - sec) * 1e6)
        out.append(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)
    path.write_bytes(b"".join(out))
    return path
