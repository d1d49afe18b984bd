"""Simulator writing speed: packets/s to classic pcap on one core, against a naive
struct.pack loop writing the same packets, measured in the same run (CPU time)."""

from __future__ import annotations

import io
import struct
import time

import numpy as np

from isdas.simulate import load_scenario
from isdas.simulate.background import port_model
from isdas.simulate.engine import day_packets
from isdas.simulate.events import resolve
from isdas.simulate.pcapout import CaptureWriter
from isdas.simulate.pools import build_pools
from isdas.simulate.traffic import Cols, concat, take


def _packets(copies: int) -> Cols:
    sc = resolve(load_scenario("demo"), 1)
    pk = day_packets(sc, port_model(sc, 1), build_pools(1), 1, sc.start, 24)
    pk = concat([pk] * copies)
    return take(pk, np.argsort(pk["ts"], kind="stable"))


def _naive(pk: Cols, limit: int) -> float:
    fh = io.BytesIO()
    t = time.process_time()
    for i in range(limit):
        ts = int(pk["ts"][i])
        ip = struct.pack(">BBHHHBBHII", 0x45, 0, 40, int(pk["ipid"][i]), 0, int(pk["ttl"][i]),
                         int(pk["proto"][i]), 0, int(pk["src"][i]), int(pk["dst"][i]))  # fmt: skip
        tcp = struct.pack(">HHIIBBHHH", int(pk["sport"][i]), int(pk["dport"][i]), int(pk["seq"][i]),
                          0, 0x50, int(pk["flags"][i]), int(pk["win"][i]), 0, 0)  # fmt: skip
        frame = b"\x00" * 12 + b"\x08\x00" + ip + tcp
        fh.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)))
        fh.write(frame)
    return limit / (time.process_time() - t)


def main() -> dict[str, object]:
    pk = _packets(16)
    n = len(pk["ts"])
    results: dict[str, object] = {"packets": n}
    pps: dict[str, float] = {}
    CaptureWriter(io.BytesIO(), "pcap", (0, 0)).write(take(pk, slice(0, 1000)))  # JIT warm-up
    for fmt in ("pcap", "pcapng"):
        t = time.process_time()
        CaptureWriter(io.BytesIO(), fmt, (0, 0)).write(pk)
        pps[f"isdas_{fmt}_pps"] = n / (time.process_time() - t)
    pps["naive_struct_pps"] = _naive(pk, min(n, 200_000))
    pps["ratio_pcap_vs_naive"] = pps["isdas_pcap_pps"] / pps["naive_struct_pps"]
    results.update(pps)
    for k, v in results.items():
        print(f"{k:24s} {v:>14,.1f}" if isinstance(v, float) else f"{k:24s} {v:>14}")
    return results


if __name__ == "__main__":
    main()
