"""Capture stage: pcapng (SHB/IDB/EPB/SPB/OPB; many interfaces and sections, both byte orders).

`walk_ng` (numba) lists the frames of packet blocks for `decode.decode_many`; section and
interface blocks go back to Python (`Section`), which parses their options. Unknown blocks are
skipped. Must not read files (reader.py does) nor trust any length field without a bound.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import numpy.typing as npt

from isdas.capture.decode import Int, inline, jit
from isdas.capture.pcap import CORRUPT, FULL, MAX_RECORD, MIN_CAPLEN_LIMIT, NEED, SPECIAL, rd32

SHB = 0x0A0D0D0A
IDB = 1
OPB = 2
SPB = 3
EPB = 6
BOM = 0x1A2B3C4D
MAX_INTERFACES = 65536
# Interface table columns (one row per IDB of the current section).
IF_LINK, IF_BINARY, IF_EXP, IF_OFFSET, IF_SNAP = range(5)
REASONS = {
    1: "block length invalid",
    2: "trailing block length does not match",
    3: "packet data runs past its block",
    4: "captured length over the limit",
}


def is_pcapng(head: bytes) -> bool:
    """True if the stream starts with a section header block."""
    return len(head) >= 4 and struct.unpack("<I", head[:4])[0] == SHB


class Section:
    """The current section's byte order and interface table (grown by doubling)."""

    def __init__(self) -> None:
        self.swap = False
        self._table: npt.NDArray[np.int64] = np.zeros((8, 5), dtype=np.int64)
        self._count = 0

    @property
    def ifs(self) -> npt.NDArray[np.int64]:
        """One row per interface: linktype, binary resolution?, exponent, offset s, snaplen."""
        return self._table[: self._count]

    def start(self, block: bytes) -> None:
        """A new SHB: byte order from its magic; interfaces reset."""
        bom = struct.unpack("<I", block[8:12])[0]
        if bom not in (BOM, 0x4D3C2B1A):
            raise ValueError("section header has no byte-order magic")
        self.swap = bom != BOM
        self._count = 0

    def add_interface(self, block: bytes) -> int:
        """An IDB: append (linktype, resolution, offset, snaplen); returns the link type."""
        if self._count >= MAX_INTERFACES:
            raise ValueError(f"more than {MAX_INTERFACES} interfaces")
        o = ">" if self.swap else "<"
        link, _res, snap = struct.unpack(o + "HHI", block[8:16])
        binary, exp, offset = _options(block[16:-4], o)
        if self._count == len(self._table):
            self._table = np.concatenate([self._table, np.zeros_like(self._table)])
        self._table[self._count] = (link, binary, exp, offset, snap)
        self._count += 1
        return int(link)


def _options(raw: bytes, o: str) -> tuple[int, int, int]:
    """if_tsresol (code 9) and if_tsoffset (code 14) from an IDB's options."""
    binary, exp, offset, i = 0, 6, 0, 0
    while i + 4 <= len(raw):
        code, length = struct.unpack(o + "HH", raw[i : i + 4])
        value = raw[i + 4 : i + 4 + length]
        if code == 0:
            break
        if code == 9 and len(value) >= 1:
            binary, exp = value[0] >> 7, value[0] & 0x7F
        elif code == 14 and len(value) >= 8:
            offset = struct.unpack(o + "q", value[:8])[0]
        i += 4 + (length + 3) // 4 * 4
    if (binary and exp > 63) or (not binary and exp > 18):
        raise ValueError(f"if_tsresol out of range ({'2' if binary else '10'}^-{exp})")
    return binary, exp, offset


@inline
def ts_micros(hi: Int, lo: Int, iface: Any) -> Int:
    """A 64-bit pcapng timestamp in the interface's resolution, as µs since the epoch."""
    t = (np.uint64(hi) << np.uint64(32)) | np.uint64(lo)
    e = iface[IF_EXP]
    if iface[IF_BINARY] != 0:
        sec = t >> np.uint64(e)
        frac = t & ((np.uint64(1) << np.uint64(e)) - np.uint64(1))
        drop = np.uint64(e - 40) if e > 40 else np.uint64(0)
        us = ((frac >> drop) * np.uint64(1_000_000)) >> (np.uint64(e) - drop)
        t = sec * np.uint64(1_000_000) + us
    elif e >= 6:
        t = t // np.uint64(10 ** (e - 6))
    else:
        t = t * np.uint64(10 ** (6 - e))
    return np.int64(t) + iface[IF_OFFSET] * 1_000_000


@inline
def _packet(b: Any, btype: Int, body: Int, bend: Int, swap: bool, ifs: Any) -> Any:
    """(iface, data offset, caplen, ts hi, ts lo) of a packet block; iface -1 if unknown."""
    if btype == SPB:
        data = body + 4
        incl = min(rd32(b, body, swap), bend - data)
        if len(ifs) > 0 and ifs[0, IF_SNAP] > 0:
            incl = min(incl, ifs[0, IF_SNAP])
        return (0 if len(ifs) > 0 else -1), data, incl, -1, 0
    if btype == EPB:
        iface = rd32(b, body, swap)
    else:  # OPB: 16-bit interface id, 16-bit drop count
        iface = rd32(b, body, swap) >> 16 if swap else rd32(b, body, swap) & 0xFFFF
    incl = rd32(b, body + 12, swap)
    hi, lo = rd32(b, body + 4, swap), rd32(b, body + 8, swap)
    return (iface if iface < len(ifs) else -1), body + 20, incl, hi, lo


@jit
def walk_ng(b: Any, n: Int, pos: Int, swap: bool, ifs: Any, fr: Any, meta: Any) -> Int:
    """Frame packet blocks from pos into fr (offset, caplen, linktype, ts_us rows).

    meta in/out: [pos, frames, need/reason, last ts (SPBs have none and reuse it)].
    """
    k = 0
    status = NEED
    while True:
        if k >= fr.shape[1]:
            status = FULL
            break
        if pos + 12 > n:
            meta[2] = 12
            break
        btype, blen = rd32(b, pos, swap), rd32(b, pos + 4, swap)
        if btype == SHB or btype == IDB:  # noqa: SIM109 (numba)
            status = SPECIAL
            break
        if blen < 12 or blen % 4 != 0 or blen > MAX_RECORD:
            status, meta[2] = CORRUPT, 1
            break
        if pos + blen > n:
            meta[2] = blen
            break
        if rd32(b, pos + blen - 4, swap) != blen:
            status, meta[2] = CORRUPT, 2
            break
        if btype == EPB or btype == OPB or btype == SPB:  # noqa: SIM109
            reason = _frame(b, btype, pos, blen, swap, ifs, fr, k, meta)
            if reason != 0:
                status, meta[2] = CORRUPT, reason
                break
            k += 1
        pos += blen
    meta[0], meta[1] = pos, k
    return status


@inline
def _frame(
    b: Any, btype: Int, pos: Int, blen: Int, swap: bool, ifs: Any, fr: Any, k: Int, meta: Any
) -> Int:
    """List the packet block at pos as frame k; a corruption reason code, or 0."""
    if (btype != SPB and blen < 32) or blen < 16:
        return 3
    iface, data, incl, hi, lo = _packet(b, btype, pos + 8, pos + blen - 4, swap, ifs)
    if data + incl > pos + blen - 4:
        return 3
    if iface >= 0 and incl > max(ifs[iface, IF_SNAP], MIN_CAPLEN_LIMIT):
        return 4
    if iface >= 0 and hi >= 0:
        meta[3] = ts_micros(hi, lo, ifs[iface])
    fr[0, k], fr[1, k], fr[3, k] = data, incl, meta[3]
    fr[2, k] = ifs[iface, IF_LINK] if iface >= 0 else -1
    return 0
