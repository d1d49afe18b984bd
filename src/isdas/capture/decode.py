"""Capture stage: numba kernels that decode one link-layer frame into one packet row.

Shared by the pcap and pcapng walkers and by `decode_frames` (raw frames). Must not do I/O,
allocate per packet, or raise: malformed frames are reported as "not a packet" (0).

Truncated frames (snaplen): the fixed IP header must be captured (20 bytes for IPv4, 40 for
IPv6), else the frame counts as skipped; each later field not fully captured is written as 0.
Fields are also bounded by the IP datagram length, so Ethernet padding is never read as a
header. Non-first fragments get frag=2 and no transport fields (ports 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit

from isdas.capture.batch import COLUMNS, PacketBatch, new_columns, to_batch
from isdas.errors import CaptureError

F = TypeVar("F", bound=Callable[..., Any])
Int = Any  # inside kernels: a numba int64 (Python int or np.int64 when called from Python)

V4_MAPPED = np.uint64(0xFFFF_0000_0000)
NCOLS = len(COLUMNS)
LINKTYPES = frozenset({0, 1, 12, 14, 101, 108, 113, 228, 229, 276})


def jit(fn: F) -> F:
    """numba.njit with an on-disk cache, typed for mypy (for the loops called from Python)."""
    return cast(F, njit(cache=True, nogil=True)(fn))


def inline(fn: F) -> F:
    """numba.njit inlined at numba IR level into its caller: per-packet helpers. (A real call
    costs more than the helper, and would copy the 18-column tuple `store` takes.)"""
    return cast(F, njit(cache=True, nogil=True, inline="always")(fn))


@inline
def be16(b: Any, i: Int) -> Int:
    return (np.int64(b[i]) << 8) | np.int64(b[i + 1])


@inline
def be32(b: Any, i: Int) -> Int:
    return (be16(b, i) << 16) | be16(b, i + 2)


@inline
def be64u(b: Any, i: Int) -> Any:
    return (np.uint64(be32(b, i)) << np.uint64(32)) | np.uint64(be32(b, i + 4))


@inline
def _ethertype(b: Any, et_pos: Int, data: Int, end: Int) -> tuple[Int, Int]:
    """Follow 802.1Q/802.1ad tags; (IP header offset, IP version wanted) or (-1, 0)."""
    if et_pos + 2 > end:
        return -1, 0
    et = be16(b, et_pos)
    tags = 0
    while (et == 0x8100 or et == 0x88A8 or et == 0x9100) and tags < 8:
        et_pos = data + 2
        data += 4
        tags += 1
        if et_pos + 2 > end:
            return -1, 0
        et = be16(b, et_pos)
    if et == 0x0800:
        return data, 4
    if et == 0x86DD:
        return data, 6
    return -1, 0


@inline
def _null_family(b: Any, off: Int, end: Int) -> tuple[Int, Int]:
    """BSD loopback: a 4-byte address family in either byte order."""
    if off + 4 > end:
        return -1, 0
    fam = np.int64(b[off]) | (np.int64(b[off + 3]) << 8)
    if b[off] == 0:
        fam = np.int64(b[off + 3])
    if b[off + 1] != 0 or b[off + 2] != 0:
        return -1, 0
    if fam == 2:
        return off + 4, 4
    if fam == 10 or fam == 24 or fam == 28 or fam == 30:
        return off + 4, 6
    return -1, 0


@inline
def link_ip(b: Any, off: Int, end: Int, linktype: Int) -> tuple[Int, Int]:
    """Offset of the IP header inside a frame and the IP version it must carry (0: any)."""
    if linktype == 1:
        return _ethertype(b, off + 12, off + 14, end)
    if linktype == 113:
        return _ethertype(b, off + 14, off + 16, end)
    if linktype == 276:
        return _ethertype(b, off, off + 20, end)
    if linktype == 101 or linktype == 12 or linktype == 14:
        return off, 0
    if linktype == 228:
        return off, 4
    if linktype == 229:
        return off, 6
    if linktype == 0 or linktype == 108:
        return _null_family(b, off, end)
    return -1, 0


@inline
def store(cols: Any, j: Int, row: Any) -> None:
    """Copy the scratch row into row j of the 18 output columns (see batch.COLUMNS)."""
    cols[0][j] = row[0]
    cols[1][j] = row[1]
    cols[2][j] = row[2]
    cols[3][j] = row[3]
    cols[4][j] = row[4]
    cols[5][j] = row[5]
    cols[6][j] = row[6]
    cols[7][j] = row[7]
    cols[8][j] = row[8]
    cols[9][j] = row[9]
    cols[10][j] = row[10]
    cols[11][j] = row[11]
    cols[12][j] = row[12]
    cols[13][j] = row[13]
    cols[14][j] = row[14]
    cols[15][j] = row[15]
    cols[16][j] = row[16]
    cols[17][j] = row[17]


@inline
def _store(row: Any, ts: Int, ver: Int, shi: Any, slo: Any, dhi: Any, dlo: Any) -> None:
    row[0] = ts
    row[1] = ver
    row[2] = shi
    row[3] = slo
    row[4] = dhi
    row[5] = dlo


@inline
def _store_ip(row: Any, proto: Int, ttl: Int, ipid: Int, length: Int, frag: Int) -> None:
    row[6] = proto
    row[12] = ttl
    row[13] = ipid
    row[16] = length
    row[17] = frag


@inline
def _transport(b: Any, t: Int, end: Int, proto: Int, later: bool, row: Any) -> None:
    """Ports, ICMP type/code, TCP flags/seq/window; 0 for whatever is absent."""
    zero: Int = 0
    sport = dport = itype = icode = flags = seq = win = zero
    if not later:
        if proto == 6 or proto == 17:
            sport = be16(b, t) if t + 2 <= end else 0
            dport = be16(b, t + 2) if t + 4 <= end else 0
        if proto == 6:
            seq = be32(b, t + 4) if t + 8 <= end else 0
            flags = np.int64(b[t + 13]) if t + 14 <= end else 0
            win = be16(b, t + 14) if t + 16 <= end else 0
        elif proto == 1 or proto == 58:
            itype = np.int64(b[t]) if t + 1 <= end else 0
            icode = np.int64(b[t + 1]) if t + 2 <= end else 0
    row[7] = sport
    row[8] = dport
    row[9] = itype
    row[10] = icode
    row[11] = flags
    row[14] = seq
    row[15] = win


@inline
def _ipv4(b: Any, p: Int, end: Int, ts: Int, row: Any) -> Int:
    ihl = (np.int64(b[p]) & 15) * 4
    if p + 20 > end or ihl < 20:
        return 0
    total = be16(b, p + 2)
    if total >= ihl and p + total < end:
        end = p + total
    fo = be16(b, p + 6)
    frag = 2 if (fo & 0x1FFF) != 0 else (1 if (fo & 0x2000) != 0 else 0)
    proto = np.int64(b[p + 9])
    src = np.uint64(be32(b, p + 12)) | V4_MAPPED
    dst = np.uint64(be32(b, p + 16)) | V4_MAPPED
    _store(row, ts, 4, np.uint64(0), src, np.uint64(0), dst)
    _store_ip(row, proto, np.int64(b[p + 8]), be16(b, p + 4), total, frag)
    _transport(b, p + ihl, end, proto, frag == 2, row)
    return 1


@inline
def _ipv6(b: Any, p: Int, end: Int, ts: Int, row: Any) -> Int:
    if p + 40 > end:
        return 0
    plen = be16(b, p + 4)
    if plen > 0 and p + 40 + plen < end:
        end = p + 40 + plen
    nh = np.int64(b[p + 6])
    q = p + 40
    frag = ipid = 0
    for _ in range(32):
        if (nh == 0 or nh == 43 or nh == 60 or nh == 51) and q + 2 <= end:
            step = (np.int64(b[q + 1]) + 2) * 4 if nh == 51 else (np.int64(b[q + 1]) + 1) * 8
            nh = np.int64(b[q])
            q += step
        elif nh == 44 and q + 8 <= end:
            fo = be16(b, q + 2)
            ipid = be32(b, q + 4)
            nh = np.int64(b[q])
            q += 8
            frag = 2 if (fo >> 3) != 0 else (1 if (fo & 1) != 0 else frag)
            if frag == 2:
                break
        else:
            break
    _store(row, ts, 6, be64u(b, p + 8), be64u(b, p + 16), be64u(b, p + 24), be64u(b, p + 32))
    _store_ip(row, nh, np.int64(b[p + 7]), ipid, plen + 40, frag)
    _transport(b, q, end, nh, frag == 2, row)
    return 1


@inline
def decode_frame(b: Any, off: Int, caplen: Int, linktype: Int, ts: Int, row: Any) -> Int:
    """Decode the frame b[off:off+caplen] into the scratch row; 1 if it is an IP packet."""
    end = off + caplen
    p, want = link_ip(b, off, end, linktype)
    if p < 0 or p >= end:
        return 0
    ver = np.int64(b[p]) >> 4
    if want != 0 and ver != want:
        return 0
    if ver == 4:
        return _ipv4(b, p, end, ts, row)
    if ver == 6:
        return _ipv6(b, p, end, ts, row)
    return 0


@jit
def decode_many(b: Any, offs: Any, lens: Any, links: Any, ts: Any, cols: Any) -> Int:
    """Decode the frames b[offs[i]:offs[i]+lens[i]] into dense packet rows; returns how many.

    The one compiled decoding loop: the pcap and pcapng walkers and `decode_frames` use it.
    """
    j = 0
    row = np.zeros(NCOLS, dtype=np.uint64)
    for i in range(len(offs)):
        if decode_frame(b, offs[i], lens[i], links[i], ts[i], row):
            store(cols, j, row)
            j += 1
    return j


def decode_frames(
    frames: Sequence[bytes], linktype: int, ts_us: npt.NDArray[np.int64]
) -> PacketBatch:
    """Decode link-layer frames (live capture) into a batch; non-IP frames are dropped."""
    if linktype not in LINKTYPES:
        raise CaptureError(f"unsupported link type {linktype}")
    if len(ts_us) != len(frames):
        raise CaptureError(f"{len(frames)} frames but {len(ts_us)} timestamps")
    lens = np.fromiter((len(f) for f in frames), dtype=np.int64, count=len(frames))
    offs = np.zeros(len(frames), dtype=np.int64)
    np.cumsum(lens[:-1], out=offs[1:])
    buf = np.frombuffer(bytearray(b"".join(frames)), dtype=np.uint8)  # writable: one signature
    cols = new_columns(len(frames))
    links = np.full(len(frames), linktype, dtype=np.int64)
    rows = decode_many(buf, offs, lens, links, np.ascontiguousarray(ts_us, dtype=np.int64), cols)
    return to_batch(cols, int(rows))
