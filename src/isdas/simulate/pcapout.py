"""Vectorised capture writing: packet columns to classic pcap or pcapng (EPB) bytes.

Stage: simulate. Packets are grouped by layout (IP version, protocol, option/payload bytes);
each layout is one numpy structured array (record header + Ethernet + IP + L4, big-endian
fields), checksums are computed column-wise, and the rows are scattered into one buffer in time
order. No per-packet Python loop. Must not decide any packet content.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import Any, BinaryIO

import numba
import numpy as np
import numpy.typing as npt

from isdas.simulate.traffic import US, Cols, take

CHUNK = 131_072
ETH = np.void(bytes.fromhex("02000000000102000000000200"[:24]))  # dst, src MACs (locally admin.)
TCP_OPTS = {
    4: bytes.fromhex("020405b4"),
    12: bytes.fromhex("020405b40103030801010402"),
    20: bytes.fromhex("020405b40402080a000000000000000001030307"),
}
V6_SRC = np.array([0x20010200, 0x2400CB00, 0x2A0104F8, 0x2604A880, 0x240E0000], np.uint64)
WRITE_COLS: tuple[str, ...] = (
    "ts",
    "ipver",
    "proto",
    "l4x",
    "src",
    "dst",
    "sport",
    "dport",
    "seq",
    "ack",
)
WRITE_COLS += ("flags", "win", "ttl", "ipid")
PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
PCAPNG_HEADER = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28) + struct.pack(
    "<IIHHII", 1, 20, 1, 0, 65535, 20
)


def _l4_fields(proto: int, l4x: int) -> list[tuple[str, str]]:
    extra = [("x", f"V{l4x}")] if l4x else []
    if proto == 6:
        tcp = [("sport", ">u2"), ("dport", ">u2"), ("seq", ">u4"), ("ack", ">u4"), ("off", "u1")]
        return [*tcp, ("flags", "u1"), ("win", ">u2"), ("l4sum", ">u2"), ("urg", ">u2"), *extra]
    if proto == 17:
        return [("sport", ">u2"), ("dport", ">u2"), ("ulen", ">u2"), ("l4sum", ">u2"), *extra]
    icmp = [("itype", "u1"), ("icode", "u1"), ("l4sum", ">u2"), ("ident", ">u2")]
    return [*icmp, ("iseq", ">u2"), *extra]


@lru_cache(maxsize=256)
def layout(fmt: str, ipver: int, proto: int, l4x: int) -> tuple[np.dtype[Any], int, int]:
    """Record dtype, offset of the IP header and L4 length of one packet layout."""
    head = [("ts_sec", "<u4"), ("ts_usec", "<u4"), ("incl", "<u4"), ("orig", "<u4")]
    if fmt == "pcapng":
        head = [("btype", "<u4"), ("blen", "<u4"), ("ifid", "<u4"), ("ts_hi", "<u4")]
        head += [("ts_lo", "<u4"), ("incl", "<u4"), ("orig", "<u4")]
    ip = [("vihl", "u1"), ("tos", "u1"), ("tlen", ">u2"), ("ipid", ">u2"), ("frag", ">u2")]
    ip += [("ttl", "u1"), ("proto", "u1"), ("ipsum", ">u2"), ("src", ">u4"), ("dst", ">u4")]
    if ipver == 6:
        ip = [("vtc", ">u4"), ("plen", ">u2"), ("nxt", "u1"), ("ttl", "u1")]
        ip += [("s_hi", ">u8"), ("s_lo", ">u8"), ("d_hi", ">u8"), ("d_lo", ">u8")]
    l4 = _l4_fields(proto, l4x)
    fields = [*head, ("eth", "V12"), ("etype", ">u2"), *ip, *l4]
    ip_off = 4 * len(head) + 14
    l4len = np.dtype(l4).itemsize
    if fmt == "pcapng":
        frame = 14 + np.dtype(ip).itemsize + l4len
        if -frame % 4:
            fields.append(("pad", f"V{-frame % 4}"))
        fields.append(("blen2", "<u4"))
    return np.dtype(fields), ip_off, l4len


def _sum16(b: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """Sum of big-endian 16-bit words of each row (odd rows padded with a zero byte)."""
    if b.shape[1] % 2:
        b = np.concatenate([b, np.zeros((len(b), 1), np.uint8)], axis=1)
    w = np.ascontiguousarray(b).view(">u2")
    out: npt.NDArray[np.uint64] = w.sum(axis=1, dtype=np.uint64)
    return out


def _fold(s: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint16]:
    for _ in range(3):
        s = (s & np.uint64(0xFFFF)) + (s >> np.uint64(16))
    return (~s & np.uint64(0xFFFF)).astype(np.uint16)


def _words(x: npt.NDArray[np.uint64], n: int) -> npt.NDArray[np.uint64]:
    """Sum of the n low 16-bit words of x."""
    return sum(((x >> np.uint64(16 * i)) & np.uint64(0xFFFF) for i in range(n)), np.zeros_like(x))


def _fill_ip(rec: npt.NDArray[Any], pk: Cols, ipver: int, proto: int, v6: tuple[int, int]) -> None:
    if ipver == 4:
        rec["etype"], rec["vihl"], rec["ipid"], rec["proto"] = 0x0800, 0x45, pk["ipid"], proto
        rec["frag"] = np.where(pk["proto"] == 6, 0x4000, 0)  # DF on TCP
        rec["src"], rec["dst"] = pk["src"], pk["dst"]
    else:
        src = pk["src"].astype(np.uint64)
        rec["etype"], rec["vtc"], rec["nxt"] = 0x86DD, 0x60000000, proto
        rec["s_hi"] = (V6_SRC[src % np.uint64(5)] << np.uint64(32)) | (src >> np.uint64(8))
        rec["s_lo"] = src * np.uint64(0x9E3779B1) | np.uint64(1)
        rec["d_hi"] = np.uint64(v6[0])
        rec["d_lo"] = (pk["dst"].astype(np.uint64) - np.uint64(v6[1])) + np.uint64(1)
    rec["ttl"] = pk["ttl"]


def _fill_l4(rec: npt.NDArray[Any], pk: Cols, proto: int, l4x: int, l4len: int) -> None:
    if proto == 6:
        rec["sport"], rec["dport"], rec["seq"], rec["ack"] = (
            pk["sport"],
            pk["dport"],
            pk["seq"],
            pk["ack"],
        )
        rec["off"], rec["flags"], rec["win"] = (5 + l4x // 4) << 4, pk["flags"], pk["win"]
        if l4x:
            rec["x"] = np.void(TCP_OPTS[l4x])
    elif proto == 17:
        rec["sport"], rec["dport"], rec["ulen"] = pk["sport"], pk["dport"], l4len
    else:
        rec["itype"], rec["ident"], rec["iseq"] = (
            pk["dport"] & 0xFF,
            pk["sport"],
            pk["seq"] & 0xFFFF,
        )


def _checksums(rec: npt.NDArray[Any], ipver: int, proto: int, ip_off: int, l4len: int) -> None:
    rows = rec.view(np.uint8).reshape(len(rec), -1)
    iplen = 20 if ipver == 4 else 40
    l4 = rows[:, ip_off + iplen : ip_off + iplen + l4len]
    s = _sum16(l4)
    if proto in (6, 17):
        if ipver == 4:
            addr = rec["src"].astype(np.uint64) + (rec["dst"].astype(np.uint64) << np.uint64(32))
            s += _words(addr, 4)
        else:
            s += sum(
                (_words(rec[f].astype(np.uint64), 4) for f in ("s_hi", "s_lo", "d_hi", "d_lo")),
                np.zeros_like(s),
            )
        s += np.uint64(proto + l4len)
    csum = _fold(s)
    rec["l4sum"] = np.where((csum == 0) & (proto == 17), 0xFFFF, csum)
    if ipver == 4:
        rec["ipsum"] = _fold(_sum16(rows[:, ip_off : ip_off + 20]))


def build_layout(
    pk: Cols, fmt: str, key: tuple[int, int, int], v6: tuple[int, int]
) -> npt.NDArray[np.uint8]:
    """Records of packets sharing one layout, as (n, record length) bytes."""
    ipver, proto, l4x = key
    dt, ip_off, l4len = layout(fmt, ipver, proto, l4x)
    rec = np.zeros(len(pk["ts"]), dt)
    frame = 14 + (20 if ipver == 4 else 40) + l4len
    ts = pk["ts"]
    if fmt == "pcap":
        rec["ts_sec"], rec["ts_usec"] = ts // US, ts % US
    else:
        rec["btype"], rec["blen"], rec["blen2"] = 6, dt.itemsize, dt.itemsize
        rec["ts_hi"], rec["ts_lo"] = ts >> 32, ts & 0xFFFFFFFF
    rec["incl"], rec["orig"], rec["eth"] = frame, frame, ETH
    if ipver == 4:
        rec["tlen"] = frame - 14
    else:
        rec["plen"] = l4len
    _fill_ip(rec, pk, ipver, proto, v6)
    _fill_l4(rec, pk, proto, l4x, l4len)
    _checksums(rec, ipver, proto, ip_off, l4len)
    return rec.view(np.uint8).reshape(len(rec), dt.itemsize)


def _layout_index(pk: Cols) -> tuple[list[int], npt.NDArray[np.int16]]:
    """Layout codes present, and each packet's index into them (small ints: radix-sortable)."""
    code = (pk["ipver"].astype(np.int32) << 16) | (pk["proto"].astype(np.int32) << 8)
    code |= pk["l4x"]
    small = ((code >> 16) == 6).astype(np.int32) << 16 | (code & 0xFFFF)
    present = np.nonzero(np.bincount(small, minlength=1 << 17))[0]
    table = np.zeros(1 << 17, np.int16)
    table[present] = np.arange(len(present), dtype=np.int16)
    keys = [((6 if k >> 16 else 4) << 16) | (k & 0xFFFF) for k in present.tolist()]
    return keys, table[small]


def encode(pk: Cols, fmt: str, v6: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Records of time-sorted packets (one sensor) as the bytes that follow the file header."""
    keys, inv = _layout_index(pk)
    order = np.argsort(inv, kind="stable")
    grouped = {k: pk[k][order] for k in WRITE_COLS}
    bounds = np.searchsorted(inv[order], np.arange(len(keys) + 1))
    built = []
    for i, c in enumerate(keys):
        part = take(grouped, slice(bounds[i], bounds[i + 1]))
        built.append(build_layout(part, fmt, (c >> 16, (c >> 8) & 255, c & 255), v6))
    size = np.array([b.shape[1] for b in built], np.int64)[inv]
    off = (np.cumsum(size) - size)[order]
    out = np.empty(int(size.sum()), np.uint8)
    for i, rows in enumerate(built):
        _scatter(out, off[bounds[i] : bounds[i + 1]], rows)
    return out


@numba.njit(cache=True, nogil=True)
def _scatter(
    out: npt.NDArray[np.uint8], off: npt.NDArray[np.int64], rows: npt.NDArray[np.uint8]
) -> None:
    """Copy row i of `rows` to out[off[i]:]: the one step numpy cannot do without an n x L index."""
    width = rows.shape[1]
    for i in range(rows.shape[0]):
        out[off[i] : off[i] + width] = rows[i]


def scatter_numpy(
    out: npt.NDArray[np.uint8], off: npt.NDArray[np.int64], rows: npt.NDArray[np.uint8]
) -> None:
    """Pure-numpy equivalent of `_scatter` (record lengths are even); the benchmark's peer."""
    wide = out.view("<u2")
    wide[(off // 2)[:, None] + np.arange(rows.shape[1] // 2)] = rows.view("<u2")


class CaptureWriter:
    """Appends time-sorted packet columns of one sensor to a pcap or pcapng file."""

    def __init__(self, fh: BinaryIO, fmt: str, v6: tuple[int, int]) -> None:
        self.fh, self.fmt, self.v6, self.packets = fh, fmt, v6, 0
        fh.write(PCAP_HEADER if fmt == "pcap" else PCAPNG_HEADER)

    def write(self, pk: Cols) -> None:
        n = len(pk["ts"])
        for lo in range(0, n, CHUNK):
            self.fh.write(encode(take(pk, slice(lo, lo + CHUNK)), self.fmt, self.v6).data)
        self.packets += n
