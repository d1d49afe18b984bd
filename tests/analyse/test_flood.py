"""Randomly spoofed floods are not scans; scanners and slow busy ports are."""

from __future__ import annotations

import numpy as np

from isdas.analyse.classify import classify
from isdas.models import Cls, Tag

V4 = np.uint64(0xFFFF << 32)


def syns(
    ts_s: np.ndarray, src: np.ndarray, dst: np.ndarray, dport: int = 80
) -> dict[str, np.ndarray]:
    n = len(ts_s)
    z = np.zeros(n, np.uint64)
    return {
        "ts_us": (ts_s * 1e6).astype(np.int64), "ipver": np.full(n, 4, np.uint8),
        "src_hi": z, "src_lo": V4 | src.astype(np.uint64), "dst_hi": z,
        "dst_lo": V4 | dst.astype(np.uint64), "proto": np.full(n, 6, np.uint8),
        "sport": np.full(n, 40000, np.uint16), "dport": np.full(n, dport, np.uint16),
        "icmp_type": np.zeros(n, np.uint8), "icmp_code": np.zeros(n, np.uint8),
        "tcp_flags": np.full(n, 2, np.uint8), "ttl": np.full(n, 50, np.uint8),
        "ip_id": np.arange(n, dtype=np.uint16), "tcp_seq": np.arange(n, dtype=np.uint32) * 7,
        "tcp_win": np.full(n, 1024, np.uint16), "length": np.full(n, 40, np.uint16),
        "frag": np.zeros(n, np.uint8),
    }  # fmt: skip


def test_spoofed_flood_on_one_address_is_not_a_scan() -> None:
    rng = np.random.default_rng(1)
    n = 400  # 400 never-returning sources in 40 seconds at one address
    flood = syns(1e9 + rng.uniform(0, 40, n), rng.integers(1 << 24, 0xE0000000, n), np.full(n, 7))
    cls, tags = classify(flood)
    assert (cls == Cls.OTHER).all()
    assert ((tags & Tag.SPOOFED_FLOOD) != 0).all()


def test_scanners_sweeping_many_addresses_stay_scans() -> None:
    rng = np.random.default_rng(2)
    src = np.repeat(rng.integers(1 << 24, 0xE0000000, 60), 20)  # 60 sources x 20 addresses
    dst = np.tile(np.arange(20), 60)
    batch = syns(1e9 + rng.uniform(0, 50, src.size), src, dst, 445)
    cls, tags = classify(batch)
    assert (cls == Cls.SCAN).all()
    assert not (tags & Tag.SPOOFED_FLOOD).any()


def test_busy_port_of_a_one_address_sensor_over_hours_is_not_a_flood() -> None:
    rng = np.random.default_rng(3)
    n = 300  # 300 sources at one address, but over 3 hours (< 2 per minute)
    batch = syns(
        1e9 + rng.uniform(0, 3 * 3600, n), rng.integers(1 << 24, 0xE0000000, n), np.full(n, 9)
    )
    cls, _ = classify(batch)
    assert (cls == Cls.SCAN).all()


def test_flood_mixed_with_a_scanner_tags_only_the_flood() -> None:
    rng = np.random.default_rng(4)
    n = 300
    flood = syns(1e9 + rng.uniform(0, 30, n), rng.integers(1 << 24, 0xE0000000, n), np.full(n, 7))
    scan = syns(1e9 + np.arange(50.0), np.full(50, 0x0A0B0C0D), np.arange(50))  # incl. address 7
    batch = {k: np.concatenate([flood[k], scan[k]]) for k in flood}
    cls, _ = classify(batch)
    assert (cls[:n] == Cls.OTHER).all()
    assert (cls[n:] == Cls.SCAN).all()
