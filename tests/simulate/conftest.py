"""Shared fixtures: one smoke simulation per test session, parsed back with dpkt."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dpkt
import numpy as np
import pytest

from isdas.simulate import run


def parse(path: Path) -> dict[str, np.ndarray]:
    """Packet columns of a pcap or pcapng file, read with dpkt (an independent parser)."""
    rows: list[tuple[Any, ...]] = []
    opener = dpkt.pcapng.Reader if path.suffix == ".pcapng" else dpkt.pcap.Reader
    with path.open("rb") as fh:
        for ts, buf in opener(fh):
            ip = dpkt.ethernet.Ethernet(buf).data
            if not isinstance(ip, dpkt.ip.IP):
                rows.append((ts, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0))
                continue
            l4 = ip.data
            src = int.from_bytes(ip.src, "big")
            dst = int.from_bytes(ip.dst, "big")
            sport = getattr(l4, "sport", 0)
            dport = getattr(l4, "dport", getattr(l4, "type", 0))
            seq = getattr(l4, "seq", 0)
            flags = getattr(l4, "flags", 0)
            rows.append((ts, 4, src, dst, ip.p, sport, dport, seq, flags, ip.id, ip.ttl))
    names = ("ts", "ipver", "src", "dst", "proto", "sport", "dport", "seq", "flags", "ipid", "ttl")
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return {
        n: np.array(c, dtype=np.float64 if n == "ts" else np.int64)
        for n, c in zip(names, cols, strict=True)
    }


def dotted(a: int) -> str:
    return socket.inet_ntoa(int(a).to_bytes(4, "big"))


@pytest.fixture(scope="session")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("smoke")
    run("smoke", out, seed=7)
    return out, json.loads((out / "truth.json").read_text())


@pytest.fixture(scope="session")
def packets(smoke: tuple[Path, dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    out, truth = smoke
    return {s["id"]: parse(out / s["id"] / f"{s['id']}.pcap") for s in truth["sensors"]}
