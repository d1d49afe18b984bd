"""Expansion of scanning sessions into probes and packets, with per-source header fields.

Stage: simulate. Columnar numpy only: a session (one source on one key in one hour) becomes
probes spread over the sensors, a probe becomes 1-3 packets (retransmissions), and every packet
gets TTL, window, lengths, IP id and sequence number from its source's stable profile and its
fingerprint. Must not write files or decide what traffic exists (background/events do that).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from isdas.simulate.pools import mix32

Cols = dict[str, npt.NDArray[Any]]

FP_NONE, FP_MIRAI, FP_ZMAP, FP_MASSCAN = 0, 1, 2, 3
ZMAP_IP_ID = 54321
SYN, SYNACK, RST, RSTACK = 0x02, 0x12, 0x04, 0x14
US = 1_000_000
# (initial TTL, TCP option bytes, windows, retransmission offsets in s) per source OS class
OS_TTL = np.array([64, 128, 255], np.int64)
OS_OPTS = np.array([20, 12, 0], np.int64)
OS_WIN = np.array([[64240, 29200, 65535], [64240, 8192, 65535], [1024, 14600, 65535]], np.int64)
RETX_S = np.array([[0, 1, 3], [0, 3, 9], [0, 1, 3]], np.int64)
# UDP payload bytes per port (even, so every record length is even: see pcapout.encode)
UDP_PAYLOAD = {53: 30, 123: 48, 161: 40, 1900: 94, 5060: 94, 11211: 16, 137: 50, 19: 2}

SESSION_COLS: dict[str, type[np.generic]] = {
    "t0": np.int64, "dur": np.int64, "proto": np.uint8, "dport": np.uint16, "src": np.uint32,
    "ipver": np.uint8, "n": np.int64, "sensor": np.int16, "fp": np.uint8, "origin": np.int16,
    "flags": np.uint8, "allport": np.bool_, "dst": np.uint32, "sport": np.uint16,
    "rank0": np.int64,
}  # fmt: skip


def sessions(rows: int, **cols: Any) -> Cols:
    """A session table of `rows` rows: given columns broadcast, the rest default (SYN, random)."""
    out: Cols = {}
    defaults = {"ipver": 4, "proto": 6, "sensor": -1, "origin": -1, "flags": SYN, "n": 1}
    for name, dtype in SESSION_COLS.items():
        value = cols.get(name, defaults.get(name, 0))
        out[name] = np.broadcast_to(np.asarray(value, dtype=dtype), (rows,)).copy()
    return out


def concat(parts: list[Cols]) -> Cols:
    """Row-wise concatenation of tables with the same columns."""
    parts = [p for p in parts if len(next(iter(p.values()))) > 0] or parts[:1]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def take(cols: Cols, index: npt.NDArray[Any] | slice) -> Cols:
    """Rows `index` (int array or bool mask) of every column."""
    return {k: v[index] for k, v in cols.items()}


def _rank(counts: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - starts[owner]


def _pick_sensor(
    rng: np.random.Generator, weights: npt.NDArray[np.float64], fixed: npt.NDArray[np.int16]
) -> npt.NDArray[np.int16]:
    """A sensor per probe: its session's fixed sensor, or drawn by the probe's weight row."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    drawn = (u[:, None] >= cum).sum(axis=1).astype(np.int16)
    return np.where(fixed >= 0, fixed, drawn)


def expand_probes(
    rng: np.random.Generator, sess: Cols, weights: npt.NDArray[np.float64], net: Cols
) -> Cols:
    """One row per probe: time, sensor, destination address and ports.

    `weights` holds one row of per-sensor weights per session; `net` has the sensors' `base`
    and `size` (u32) arrays.
    """
    owner, rank = _rank(sess["n"])
    p = take(sess, owner)
    p["ts"] = p["t0"] + (rng.random(len(owner)) * p["dur"]).astype(np.int64)
    p["sensor"] = _pick_sensor(rng, weights[owner], p["sensor"])
    off = (rng.random(len(owner)) * net["size"][p["sensor"]]).astype(np.uint32)
    p["dst"] = np.where(p["dst"] > 0, p["dst"], net["base"][p["sensor"]] + off)
    spread = ((rank + p["rank0"]) * 7919 + (p["src"].astype(np.int64) % 65535)) % 65535 + 1
    p["dport"] = np.where(p["allport"], spread, p["dport"]).astype(np.uint16)
    eph = rng.integers(1024, 65536, len(owner)).astype(np.uint16)
    p["sport"] = np.where(p["sport"] > 0, p["sport"], eph)
    p["seq"] = rng.integers(0, 1 << 32, len(owner), dtype=np.uint32)
    return p


def source_profile(src: npt.NDArray[np.uint32], seed: int) -> Cols:
    """Stable per-source attributes from a hash of (seed, address): OS class, hops, window."""
    h = mix32(src.astype(np.uint64) ^ np.uint64((seed & 0xFFFFFFFF) << 32))
    pct = (h % np.uint64(100)).astype(np.int64)
    osc = np.where(pct < 55, 0, np.where(pct < 80, 1, 2))
    hops = 6 + ((h >> np.uint64(8)) % np.uint64(20)).astype(np.int64)
    wsel = ((h >> np.uint64(16)) % np.uint64(3)).astype(np.int64)
    tries = 1 + ((h >> np.uint64(24)) % np.uint64(3)).astype(np.int64)
    udp_len = np.array([0, 8, 16, 28])[((h >> np.uint64(32)) % np.uint64(4)).astype(np.int64)]
    return {"os": osc, "hops": hops, "win": OS_WIN[osc, wsel], "tries": tries, "udp": udp_len}
