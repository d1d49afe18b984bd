"""Full ingest speed (parse + country + classify + Parquet + metrics) against dpkt and `cat`.

Target (issue 2): full ingest >= 40x dpkt's parse+aggregate packets/s on a darknet-like pcap;
peak RSS < 2 GB for 10 M packets. Set ISDAS_BENCH_PACKETS to shrink the file.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.darknet import write_darknet_pcap

PACKETS = int(os.environ.get("ISDAS_BENCH_PACKETS", "10000000"))
DPKT_PACKETS = 200_000


def cat_rate(path: Path) -> float:
    """Bytes/s of `cat FILE > /dev/null` from page cache (second run)."""
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    started = time.perf_counter()
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    return path.stat().st_size / (time.perf_counter() - started)


def dpkt_rate(path: Path) -> float:
    """Packets/s of dpkt parsing + hourly (proto, dport) distinct-source aggregation."""
    import dpkt

    groups: dict[tuple[int, int, int], set[bytes]] = defaultdict(set)
    started = time.process_time()
    n = 0
    with open(path, "rb") as fh:
        for ts, buf in dpkt.pcap.Reader(fh):
            ip = dpkt.ethernet.Ethernet(buf).data
            l4 = ip.data
            groups[(int(ts) // 3600, ip.p, getattr(l4, "dport", 0))].add(ip.src)
            n += 1
            if n >= DPKT_PACKETS:
                break
    return n / (time.process_time() - started)


def isdas_ingest(path: Path, home: Path) -> dict[str, float]:
    """Run `isdas ingest` in a child process: wall s, CPU s, peak RSS MB."""
    env = {**os.environ, "ISDAS_HOME": str(home)}
    cmd = [sys.executable, "-m", "isdas", "ingest", "--sensor", "bench", str(path)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": after.ru_maxrss / 1024}


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        pcap = write_darknet_pcap(Path(tmp) / "darknet.pcap", PACKETS)
        # warm the JIT cache of the parser on a tiny file first (not timed)
        small = write_darknet_pcap(Path(tmp) / "warm.pcap", 10_000)
        isdas_ingest(small, Path(tmp) / "warm-home")
        cat_bps = cat_rate(pcap)
        dpkt_pps = dpkt_rate(pcap)
        run = isdas_ingest(pcap, Path(tmp) / "home")
    result = {
        "packets": PACKETS,
        "dpkt_parse_aggregate_pps": dpkt_pps,
        "isdas_ingest_pps_wall": PACKETS / run["wall_s"],
        "isdas_ingest_pps_per_cpu_s": PACKETS / run["cpu_s"],
        "ratio_vs_dpkt_wall": PACKETS / run["wall_s"] / dpkt_pps,
        "cat_pps_equivalent": cat_bps / (pcap_size_per_packet := 76),
        "fraction_of_cat": (PACKETS / run["wall_s"]) / (cat_bps / pcap_size_per_packet),
        "peak_rss_mb": run["peak_rss_mb"],
    }
    for k, v in result.items():
        print(f"{k:32s} {v:,.2f}" if isinstance(v, float) else f"{k:32s} {v}")
    return result
