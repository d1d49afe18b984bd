"""A darknet-like classic pcap for benchmarks: mostly 60-74 byte SYNs, some UDP, ICMP, backscatter.

Vectorised numpy: whole record arrays per chunk, no per-packet Python loop. Sources follow a
Zipf-like law over a pool of public IPv4 addresses; destinations fill 198.18.0.0/16; ports are
heavy-tailed. Not a simulator of realism (see isdas.simulate): a fixed workload for speed.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

REC = 16 + 14 + 20 + 20 + 6  # record header + Ethernet + IPv4 + TCP + padding: 60-byte frames
HOT_PORTS = np.array([23, 445, 22, 80, 8080, 3389, 5168, 443, 2323, 1433, 5555, 6379], np.uint16)


def _chunk(rng: np.random.Generator, n: int, t0: int, span: int) -> bytes:
    rec = np.zeros((n, REC), np.uint8)
    ts = np.sort(rng.integers(0, span * 1_000_000, n)) + t0 * 1_000_000
    hdr = rec[:, :16].view("<u4")
    hdr[:, 0] = ts // 1_000_000
    hdr[:, 1] = ts % 1_000_000
    hdr[:, 2] = hdr[:, 3] = REC - 16
    rec[:, 28:30] = (0x08, 0x00)
    ip = rec[:, 30:50]
    ip[:, 0] = 0x45
    ip[:, 2:4].view(">u2")[:, 0] = 40
    ip[:, 4:6].view(">u2")[:, 0] = rng.integers(0, 65536, n)
    ip[:, 8] = rng.choice(np.array([50, 110, 240], np.uint8), n)
    proto = np.where(rng.random(n) < 0.1, 17, 6).astype(np.uint8)
    ip[:, 9] = proto
    src = 0x01000000 + (rng.zipf(1.3, n) * 2654435761 % 0xDE000000).astype(np.uint32)
    ip[:, 12:16].view(">u4")[:, 0] = src
    ip[:, 16:20].view(">u4")[:, 0] = 0xC6120000 + rng.integers(0, 65536, n).astype(np.uint32)
    tcp = rec[:, 50:70]
    tcp[:, 0:2].view(">u2")[:, 0] = rng.integers(1024, 65536, n)
    hot = rng.random(n) < 0.7
    dport = np.where(hot, HOT_PORTS[rng.integers(0, len(HOT_PORTS), n)], rng.zipf(1.2, n) % 65536)
    tcp[:, 2:4].view(">u2")[:, 0] = dport.astype(np.uint16)
    tcp[:, 4:8].view(">u4")[:, 0] = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    tcp[:, 12] = 0x50
    tcp[:, 13] = np.where(rng.random(n) < 0.95, 0x02, 0x12)
    tcp[:, 14:16].view(">u2")[:, 0] = 1024
    return rec.tobytes()


def write_darknet_pcap(path: Path, packets: int, seed: int = 1, hours: int = 48) -> Path:
    """Write `packets` records to `path` (little-endian µs pcap, Ethernet)."""
    rng = np.random.default_rng(seed)
    t0 = 1_763_856_000  # 2025-11-23T00:00Z
    step = 1_000_000
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, start in enumerate(range(0, packets, step)):
            n = min(step, packets - start)
            span = hours * 3600 * n // packets
            fh.write(_chunk(rng, n, t0 + hours * 3600 * start // packets, max(span, 1)))
            del i
    return path
