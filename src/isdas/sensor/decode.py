"""The live sensor's frame decoder: vectorised numpy over a flat buffer of frames, no JIT.

Stage: sensor. Turns untrusted link-layer frames into capture columns (`wire.WIRE_SCHEMA`);
must not do I/O or raise on malformed bytes (they are "not a packet" and are dropped).

Why a second decoder: `isdas.capture.decode_frames` is a numba kernel, and loading numba and
LLVM costs a sensor process about 120 MB of memory (and seconds of start-up); the sensor only
needs fixed header fields at per-frame offsets, which numpy gathers for a whole ring block at
once. The results are the same, field for field and row for row, as `decode_frames` on the
same frames (tests/sensor/test_decode.py checks that on generated and mutated frames):

- link types as `isdas.capture.LINKTYPES`; up to 8 VLAN tags (802.1Q/802.1ad/0x9100);
- the fixed IP header must be captured (20 bytes IPv4, 40 IPv6) else the frame is dropped;
  every later field not fully captured, or past the IP datagram length, is 0;
- IPv6 extension headers (hop-by-hop, routing, destination options, AH, fragment) are walked
  up to 32 deep; non-first fragments (IPv4 and IPv6) get frag=2 and no transport fields.

Every read is `np.take(..., mode="clip")` and masked by the frame's end, so no offset in the
bytes can index outside the buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from isdas.errors import CaptureError
from isdas.sensor.wire import WIRE_SCHEMA, PacketBatch

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Mask = npt.NDArray[np.bool_]

LINKTYPES = frozenset({0, 1, 12, 14, 101, 108, 113, 228, 229, 276})
ETHER_AT = {1: (12, 14), 113: (14, 16), 276: (0, 20)}  # (ethertype offset, payload offset)
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
MAX_VLAN_TAGS = 8
IPV6_EXT = (0, 43, 60, 51)  # hop-by-hop, routing, destination options, AH
MAX_IPV6_EXT = 32
V4_MAPPED = np.uint64(0xFFFF_0000_0000)
DTYPES: dict[str, np.dtype[np.generic]] = {
    f.name: np.dtype(f.type.to_pandas_dtype()) for f in WIRE_SCHEMA
}


@dataclass(frozen=True)
class Frames:
    """Link-layer frames packed in one buffer: frame i is buf[offs[i] : offs[i] + lens[i]]."""

    buf: npt.NDArray[np.uint8]
    offs: I64
    lens: I64
    ts_us: I64

    def __len__(self) -> int:
        return len(self.offs)


def pack(frames: Sequence[bytes], ts_us: Sequence[int] | I64) -> Frames:
    """Frames given as separate byte strings, packed into one buffer."""
    if len(ts_us) != len(frames):
        raise CaptureError(f"{len(frames)} frames but {len(ts_us)} timestamps")
    lens = np.fromiter((len(f) for f in frames), dtype=np.int64, count=len(frames))
    offs = np.zeros(len(frames), dtype=np.int64)
    np.cumsum(lens[:-1], out=offs[1:])
    buf = np.frombuffer(b"".join(frames), dtype=np.uint8)
    return Frames(buf, offs, lens, np.asarray(ts_us, dtype=np.int64))


class _Reader:
    """Big-endian fields at per-row byte offsets of one buffer (clipped to the buffer)."""

    def __init__(self, buf: npt.NDArray[np.uint8]) -> None:
        self.buf = buf

    def u8(self, at: I64) -> I64:
        return np.take(self.buf, at, mode="clip").astype(np.int64)

    def be16(self, at: I64) -> I64:
        return (self.u8(at) << 8) | self.u8(at + 1)

    def be32(self, at: I64) -> I64:
        return (self.be16(at) << 16) | self.be16(at + 2)

    def be64(self, at: I64) -> U64:
        hi, lo = self.be32(at).astype(np.uint64), self.be32(at + 4).astype(np.uint64)
        return (hi << np.uint64(32)) | lo


def _ethertype(rd: _Reader, et_pos: I64, data: I64, end: I64) -> tuple[I64, I64]:
    """Follow VLAN tags; (IP header offset, IP version wanted), offset -1 when not IP."""
    ok = et_pos + 2 <= end
    et = np.where(ok, rd.be16(et_pos), 0)
    for _ in range(MAX_VLAN_TAGS):
        tag = ok & np.isin(et, VLAN_TPIDS)
        if not tag.any():
            break
        et_pos = np.where(tag, data + 2, et_pos)
        data = np.where(tag, data + 4, data)
        ok &= ~tag | (et_pos + 2 <= end)
        et = np.where(tag & ok, rd.be16(et_pos), et)
    v4, v6 = ok & (et == 0x0800), ok & (et == 0x86DD)
    return np.where(v4 | v6, data, -1), np.where(v4, 4, 6)


def _null_family(rd: _Reader, off: I64, end: I64) -> tuple[I64, I64]:
    """BSD loopback: a 4-byte address family in either byte order."""
    b0, b1, b2, b3 = (rd.u8(off + k) for k in range(4))
    fam = np.where(b0 == 0, b3, b0 | (b3 << 8))
    ok = (off + 4 <= end) & (b1 == 0) & (b2 == 0)
    v4, v6 = ok & (fam == 2), ok & np.isin(fam, (10, 24, 28, 30))
    return np.where(v4 | v6, off + 4, -1), np.where(v4, 4, 6)


def link_ip(rd: _Reader, off: I64, end: I64, linktype: int) -> tuple[I64, I64]:
    """Offset of each frame's IP header (-1: none) and the IP version it must carry (0: any)."""
    if linktype in ETHER_AT:
        et_at, data_at = ETHER_AT[linktype]
        return _ethertype(rd, off + et_at, off + data_at, end)
    if linktype in (0, 108):
        return _null_family(rd, off, end)
    want = {228: 4, 229: 6}.get(linktype, 0)
    return off, np.full(len(off), want, dtype=np.int64)


def _transport(
    rd: _Reader, t: I64, end: I64, proto: I64, later: Mask
) -> dict[str, npt.NDArray[np.generic]]:
    """Ports, ICMP type/code, TCP flags/seq/window; 0 for whatever is absent."""
    first = ~later
    ports = first & ((proto == 6) | (proto == 17))
    tcp = first & (proto == 6)
    icmp = first & ((proto == 1) | (proto == 58))
    return {
        "sport": np.where(ports & (t + 2 <= end), rd.be16(t), 0),
        "dport": np.where(ports & (t + 4 <= end), rd.be16(t + 2), 0),
        "icmp_type": np.where(icmp & (t + 1 <= end), rd.u8(t), 0),
        "icmp_code": np.where(icmp & (t + 2 <= end), rd.u8(t + 1), 0),
        "tcp_flags": np.where(tcp & (t + 14 <= end), rd.u8(t + 13), 0),
        "tcp_seq": np.where(tcp & (t + 8 <= end), rd.be32(t + 4), 0),
        "tcp_win": np.where(tcp & (t + 16 <= end), rd.be16(t + 14), 0),
    }


def _ipv4(rd: _Reader, p: I64, end: I64) -> tuple[Mask, dict[str, npt.NDArray[np.generic]]]:
    ihl = (rd.u8(p) & 15) * 4
    accepted = (p + 20 <= end) & (ihl >= 20)
    total = rd.be16(p + 2)
    end = np.where((total >= ihl) & (p + total < end), p + total, end)
    fo = rd.be16(p + 6)
    frag = np.where(fo & 0x1FFF != 0, 2, np.where(fo & 0x2000 != 0, 1, 0))
    proto = rd.u8(p + 9)
    fields = {
        "ipver": np.full(len(p), 4),
        "src_hi": np.zeros(len(p), np.uint64),
        "src_lo": rd.be32(p + 12).astype(np.uint64) | V4_MAPPED,
        "dst_hi": np.zeros(len(p), np.uint64),
        "dst_lo": rd.be32(p + 16).astype(np.uint64) | V4_MAPPED,
        "proto": proto,
        "ttl": rd.u8(p + 8),
        "ip_id": rd.be16(p + 4),
        "length": total,
        "frag": frag,
        **_transport(rd, p + ihl, end, proto, frag == 2),
    }
    return accepted, fields


def _ipv6_chain(rd: _Reader, nh: I64, q: I64, end: I64) -> tuple[I64, I64, I64, I64]:
    """Walk the extension headers: (next header, transport offset, frag, fragment id)."""
    frag, ident = np.zeros(len(q), np.int64), np.zeros(len(q), np.int64)
    active = np.ones(len(q), dtype=bool)
    for _ in range(MAX_IPV6_EXT):
        rows = np.flatnonzero(active)
        n, at, stop = nh[rows], q[rows], end[rows]
        ext = np.isin(n, IPV6_EXT) & (at + 2 <= stop)
        frg = (n == 44) & (at + 8 <= stop)
        if not (ext.any() or frg.any()):
            break
        units = rd.u8(at + 1)
        fo = rd.be16(at + 2)
        new_frag = np.where(fo >> 3 != 0, 2, np.where(fo & 1 != 0, 1, frag[rows]))
        step = np.where(n == 51, (units + 2) * 4, (units + 1) * 8)
        q[rows] = at + np.where(ext, step, np.where(frg, 8, 0))
        nh[rows] = np.where(ext | frg, rd.u8(at), n)
        ident[rows] = np.where(frg, rd.be32(at + 4), ident[rows])
        frag[rows] = np.where(frg, new_frag, frag[rows])
        active[rows] = (ext | frg) & ~(frg & (new_frag == 2))
    return nh, q, frag, ident


def _ipv6(rd: _Reader, p: I64, end: I64) -> tuple[Mask, dict[str, npt.NDArray[np.generic]]]:
    accepted = p + 40 <= end
    plen = rd.be16(p + 4)
    end = np.where((plen > 0) & (p + 40 + plen < end), p + 40 + plen, end)
    nh, q, frag, ident = _ipv6_chain(rd, rd.u8(p + 6), p + 40, end)
    fields = {
        "ipver": np.full(len(p), 6),
        "src_hi": rd.be64(p + 8),
        "src_lo": rd.be64(p + 16),
        "dst_hi": rd.be64(p + 24),
        "dst_lo": rd.be64(p + 32),
        "proto": nh,
        "ttl": rd.u8(p + 7),
        "ip_id": ident,
        "length": plen + 40,
        "frag": frag,
        **_transport(rd, q, end, nh, frag == 2),
    }
    return accepted, fields


def empty_batch(rows: int = 0) -> PacketBatch:
    """Zeroed columns for `rows` packets, with the wire dtypes."""
    return {name: np.zeros(rows, dtype=dtype) for name, dtype in DTYPES.items()}


def decode(frames: Frames, linktype: int) -> PacketBatch:
    """Decode every frame into one row per IP packet, in frame order; others are dropped."""
    if linktype not in LINKTYPES:
        raise CaptureError(f"unsupported link type {linktype}")
    if not len(frames) or not len(frames.buf):
        return empty_batch()
    rd = _Reader(frames.buf)
    end = frames.offs + frames.lens
    p, want = link_ip(rd, frames.offs, end, linktype)
    cand = np.flatnonzero((p >= 0) & (p < end))
    p, want, end = p[cand], want[cand], end[cand]
    ver = rd.u8(p) >> 4
    ok = (want == 0) | (ver == want)
    out = empty_batch(len(cand))
    keep = np.zeros(len(cand), dtype=bool)
    for version, parse in ((4, _ipv4), (6, _ipv6)):
        rows = np.flatnonzero(ok & (ver == version))
        if not len(rows):
            continue
        accepted, fields = parse(rd, p[rows], end[rows])
        chosen = rows[accepted]
        keep[chosen] = True
        for name, values in fields.items():
            out[name][chosen] = values[accepted]
    out["ts_us"][:] = frames.ts_us[cand]
    return {name: col[keep] for name, col in out.items()}
