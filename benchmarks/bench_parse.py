"""Benchmark: isdas.capture parse speed vs dpkt and vs `cat FILE > /dev/null` (page cache).

Generates (vectorised numpy) a darknet-like classic pcap: 87% IPv4 TCP (95% SYN with 60, 66 or
74 byte frames, the rest SYN-ACK/RST backscatter), 10% UDP with 0-120 byte payloads, 2% ICMP,
1% IPv6 SYN. ISDAS_BENCH_PACKETS (default 10,000,000) sets its size. isdas is measured in a
child process so that its peak RSS is its own.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

WIDTH = 16 + 14 + 20 + 8 + 120  # widest record: UDP with the largest payload
T0 = 1_763_856_000
DPKT_PACKETS = 200_000


def _u(rows: Any, start: int, values: Any, dtype: str) -> None:
    """Write values big-endian (or dtype's order) into byte columns start.. of each row."""
    arr = np.asarray(values).astype(dtype)
    rows[:, start : start + arr.itemsize] = arr.view(np.uint8).reshape(-1, arr.itemsize)


def _block(rng: np.random.Generator, n: int, t_start: float, t_span: float) -> bytes:
    kind = np.searchsorted([0.87, 0.97, 0.99], rng.random(n))  # 0 tcp4, 1 udp4, 2 icmp4, 3 tcp6
    opt = rng.choice(np.array([0, 4, 12, 20]), n, p=[0.3, 0.3, 0.1, 0.3])
    pay = rng.integers(0, 121, n)
    ip_len = np.select([kind == 0, kind == 1, kind == 2], [40 + opt, 28 + pay, 28], 20)
    frame = np.maximum(60, 14 + np.where(kind == 3, 40 + ip_len, ip_len))
    rec = np.zeros((n, WIDTH), np.uint8)
    ts = np.sort(rng.uniform(t_start, t_start + t_span, n))
    _u(rec, 0, (ts // 1), "<u4")
    _u(rec, 4, (ts % 1) * 1e6, "<u4")
    _u(rec, 8, frame, "<u4")
    _u(rec, 12, frame, "<u4")
    _u(rec, 28, np.where(kind == 3, 0x86DD, 0x0800), ">u2")
    src = 0x01000000 + (rng.zipf(1.3, n) * 2654435761 % 0xDE000000)
    dst = 0xC6120000 + rng.integers(0, 65536, n)
    _ipv4(rec, rng, kind, ip_len, src, dst)
    _ipv6(rec, kind, src, dst)
    _l4(rec, rng, kind, opt, pay, np.where(kind == 3, 70, 50))
    out: bytes = rec[np.arange(WIDTH) < (16 + frame)[:, None]].tobytes()
    return out


def _ipv4(rec: Any, rng: np.random.Generator, kind: Any, ip_len: Any, src: Any, dst: Any) -> None:
    v4 = rec[kind != 3]
    v4[:, 30] = 0x45
    _u(v4, 32, ip_len[kind != 3], ">u2")
    _u(v4, 34, rng.integers(0, 65536, len(v4)), ">u2")
    v4[:, 38] = rng.choice(np.array([50, 110, 240]), len(v4))
    v4[:, 39] = np.array([6, 17, 1])[kind[kind != 3]]
    _u(v4, 42, src[kind != 3], ">u4")
    _u(v4, 46, dst[kind != 3], ">u4")
    rec[kind != 3] = v4


def _ipv6(rec: Any, kind: Any, src: Any, dst: Any) -> None:
    v6 = rec[kind == 3]
    v6[:, 30] = 0x60
    _u(v6, 34, np.full(len(v6), 20), ">u2")
    v6[:, 36], v6[:, 37] = 6, 64
    _u(v6, 38, np.full(len(v6), 0x20010DB800000000), ">u8")
    _u(v6, 46, src[kind == 3], ">u8")
    _u(v6, 54, np.full(len(v6), 0x20010DB812340000), ">u8")
    _u(v6, 62, dst[kind == 3], ">u8")
    rec[kind == 3] = v6


def _l4(rec: Any, rng: np.random.Generator, kind: Any, opt: Any, pay: Any, at: Any) -> None:
    n = len(rec)
    hot = np.array([23, 445, 22, 80, 8080, 3389, 5168, 443, 2323, 1433, 5555, 6379])
    dport = np.where(
        rng.random(n) < 0.7, hot[rng.integers(0, len(hot), n)], rng.zipf(1.2, n) % 65536
    )
    for base in (50, 70):
        rows = rec[at == base]
        sel = at == base
        _u(rows, base, rng.integers(1024, 65536, len(rows)), ">u2")
        _u(rows, base + 2, dport[sel], ">u2")
        tcp = (kind[sel] == 0) | (kind[sel] == 3)
        seq = rng.integers(0, 2**32, len(rows))
        _u(rows, base + 4, np.where(kind[sel] == 1, (8 + pay[sel]) << 16, seq), ">u4")
        rows[:, base + 12] = np.where(tcp, ((20 + opt[sel]) // 4) << 4, rows[:, base + 12])
        flags = rng.choice(np.array([2, 0x12, 4]), len(rows), p=[0.95, 0.03, 0.02])
        rows[:, base + 13] = np.where(tcp, flags, rows[:, base + 13])
        icmp = kind[sel] == 2
        rows[icmp, base] = rng.choice(np.array([8, 3, 11]), int(icmp.sum()))
        rec[sel] = rows


def write_pcap(path: Path, packets: int, seed: int = 7, hours: int = 48) -> int:
    """Write the darknet-like pcap; returns its size in bytes."""
    rng = np.random.default_rng(seed)
    step, span = 250_000, hours * 3600
    with path.open("wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for start in range(0, packets, step):
            n = min(step, packets - start)
            fh.write(_block(rng, n, T0 + span * start / packets, span * n / packets))
    return path.stat().st_size


def _cat_seconds(path: Path) -> float:
    """Best of 3 `cat FILE > /dev/null` (the file is in the page cache after the first)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def _dpkt_rate(path: Path) -> dict[str, float]:
    """dpkt: every packet to a (ts, src, dst, proto, sport, dport, flags) tuple."""
    import dpkt

    rows: list[tuple[Any, ...]] = []
    wall, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as fh:
        for ts, buf in dpkt.pcap.Reader(fh):
            ip = dpkt.ethernet.Ethernet(buf).data
            l4 = ip.data
            rows.append(
                (
                    ts,
                    ip.src,
                    ip.dst,
                    ip.p,
                    getattr(l4, "sport", 0),
                    getattr(l4, "dport", 0),
                    getattr(l4, "flags", 0),
                )
            )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"packets": len(rows), "pps_wall": len(rows) / wall, "pps_cpu": len(rows) / cpu}


def child(path: str) -> dict[str, float]:
    """Run in a fresh process: warm the JIT on a tiny file, then parse `path` once."""
    from isdas.capture import read_capture

    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "warm.pcap"
        write_pcap(small, 1000)
        sum(len(b["ts_us"]) for b in read_capture(small))
    reader = read_capture(path)
    wall, cpu = time.perf_counter(), time.process_time()
    packets = sum(len(b["ts_us"]) for b in reader)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "packets": packets,
        "frames": reader.stats.frames,
        "seconds": wall,
        "pps_wall": packets / wall,
        "pps_cpu": packets / cpu,
        "peak_rss_mb": rss,
    }


def _isdas_rate(path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": _pythonpath()},
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _pythonpath() -> str:
    root = Path(__file__).resolve().parent.parent
    return os.pathsep.join(filter(None, [str(root / "src"), os.environ.get("PYTHONPATH")]))


def main() -> dict[str, object]:
    packets = int(os.environ.get("ISDAS_BENCH_PACKETS", "10000000"))
    with tempfile.TemporaryDirectory() as tmp:
        big, prefix = Path(tmp) / "darknet.pcap", Path(tmp) / "prefix.pcap"
        started = time.perf_counter()
        size = write_pcap(big, packets)
        generate_s = time.perf_counter() - started
        write_pcap(prefix, min(DPKT_PACKETS, packets))
        cat_s = _cat_seconds(big)
        peer = _dpkt_rate(prefix)
        ours = _isdas_rate(big)
    result: dict[str, float] = {
        "packets": packets,
        "file_mb": size / 1e6,
        "generate_s": generate_s,
        "cat_gb_s": size / cat_s / 1e9,
        "cat_pps": packets / cat_s,
        "dpkt_pps_cpu": peer["pps_cpu"],
        "dpkt_pps_wall": peer["pps_wall"],
        "isdas_pps_wall": ours["pps_wall"],
        "isdas_pps_cpu": ours["pps_cpu"],
        "isdas_peak_rss_mb": ours["peak_rss_mb"],
        "isdas_seconds": ours["seconds"],
        "ratio_vs_dpkt_cpu": ours["pps_cpu"] / peer["pps_cpu"],
        "ratio_vs_dpkt_wall": ours["pps_wall"] / peer["pps_wall"],
        "ratio_vs_cat": ours["pps_wall"] / (packets / cat_s),
    }
    _print(result)
    return dict(result)


def _print(r: dict[str, float]) -> None:
    lines = [
        (
            "file",
            f"{r['packets']:,} packets, {r['file_mb']:.0f} MB "
            f"(generated in {r['generate_s']:.1f} s)",
        ),
        ("cat > /dev/null", f"{r['cat_gb_s']:.2f} GB/s = {r['cat_pps'] / 1e6:.1f} M pkt/s"),
        ("dpkt (200k prefix)", f"{r['dpkt_pps_cpu'] / 1e3:.1f} k pkt/s per CPU-s"),
        (
            "isdas parse",
            f"{r['isdas_pps_wall'] / 1e6:.2f} M pkt/s wall, "
            f"{r['isdas_pps_cpu'] / 1e6:.2f} M per CPU-s",
        ),
        ("isdas peak RSS", f"{r['isdas_peak_rss_mb']:.0f} MB"),
        (
            "isdas / dpkt",
            f"{r['ratio_vs_dpkt_cpu']:.0f}x per CPU-s ({r['ratio_vs_dpkt_wall']:.0f}x wall)",
        ),
        ("isdas / cat", f"{r['ratio_vs_cat']:.2f}"),
    ]
    for name, value in lines:
        print(f"  {name:<20} {value}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
    else:
        main()
