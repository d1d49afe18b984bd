"""Capture stage: classic libpcap files (both byte orders, µs/ns, Kuznetzov's modified format).

`walk_pcap` (numba) walks the record headers and lists each frame's offset, length, link type
and timestamp; `decode.decode_many` then decodes them. Must not read files itself (the driver
in reader.py does) and must never trust a length field: a caplen over the bound stops the walk
as corrupt.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from isdas.capture.decode import Int, inline, jit

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D
MAGIC_KUZ = 0xA1B2CD34
MIN_CAPLEN_LIMIT = 262144
MAX_RECORD = 64 << 20  # hard bound whatever the header's snaplen says

# Walker status codes (shared with pcapng.py).
NEED = 0  # the next record is not complete in the buffer
FULL = 1  # output columns are full
CORRUPT = 2  # the record at meta[0] is corrupt (reason code in meta[4])
SPECIAL = 3  # pcapng: a section or interface block for Python to handle


@dataclass(frozen=True)
class PcapHeader:
    """The 24-byte global header of a classic pcap file."""

    swap: bool  # True: fields are big-endian
    nanos: bool
    rec_len: int  # record header bytes: 16, or 24 for Kuznetzov's format
    snaplen: int
    linktype: int

    @property
    def caplen_limit(self) -> int:
        return min(max(self.snaplen, MIN_CAPLEN_LIMIT), MAX_RECORD)


def is_pcap(head: bytes) -> bool:
    """True if the first 4 bytes are a classic pcap magic in either byte order."""
    if len(head) < 4:
        return False
    magics = {MAGIC_US, MAGIC_NS, MAGIC_KUZ}
    return any(struct.unpack(e + "I", head[:4])[0] in magics for e in "<>")


def parse_header(head: bytes) -> PcapHeader:
    """Parse the global header (caller checked is_pcap and len(head) >= 24)."""
    order = "<" if struct.unpack("<I", head[:4])[0] in (MAGIC_US, MAGIC_NS, MAGIC_KUZ) else ">"
    magic, _major, _minor, _zone, _sigfigs, snaplen, link = struct.unpack(order + "IHHiIII", head)
    return PcapHeader(
        swap=order == ">",
        nanos=magic == MAGIC_NS,
        rec_len=24 if magic == MAGIC_KUZ else 16,
        snaplen=snaplen,
        linktype=link & 0xFFFF,
    )


@inline
def rd32(b: Any, i: Int, swap: bool) -> Int:
    """An unsigned 32-bit field in the file's byte order."""
    if swap:
        return (
            (np.int64(b[i]) << 24)
            | (np.int64(b[i + 1]) << 16)
            | (np.int64(b[i + 2]) << 8)
            | np.int64(b[i + 3])
        )
    return (
        (np.int64(b[i + 3]) << 24)
        | (np.int64(b[i + 2]) << 16)
        | (np.int64(b[i + 1]) << 8)
        | np.int64(b[i])
    )


@jit
def walk_pcap(b: Any, n: Int, pos: Int, hdr: Any, fr: Any, meta: Any) -> Int:
    """Frame records from pos into fr (offset, caplen, linktype, ts_us rows), up to fr's width.

    hdr = (swap, nanos, rec_len, linktype, caplen_limit). meta out: [pos, frames, need/caplen].
    """
    swap = hdr[0] != 0
    rec_len = hdr[2]
    k = 0
    status = NEED
    while True:
        if k >= fr.shape[1]:
            status = FULL
            break
        if pos + rec_len > n:
            meta[2] = rec_len
            break
        incl = rd32(b, pos + 8, swap)
        if incl > hdr[4]:
            status = CORRUPT
            meta[2] = incl
            break
        if pos + rec_len + incl > n:
            meta[2] = rec_len + incl
            break
        frac = rd32(b, pos + 4, swap)
        fr[0, k], fr[1, k], fr[2, k] = pos + rec_len, incl, hdr[3]
        fr[3, k] = rd32(b, pos, swap) * 1_000_000 + (frac // 1000 if hdr[1] != 0 else frac)
        k += 1
        pos += rec_len + incl
    meta[0], meta[1] = pos, k
    return status


def header_array(h: PcapHeader) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The header as the int64 vector walk_pcap takes."""
    return np.array(
        [int(h.swap), int(h.nanos), h.rec_len, h.linktype, h.caplen_limit], dtype=np.int64
    )
