"""Sensor capture throughput and memory: a real `isdas sensor run` fed by tcpreplay.

Frames are replayed with tcpreplay (C speed) from a test-made network namespace over a veth
pair; the sensor captures the near end (TPACKET_V3 ring -> numpy decode -> Arrow -> durable
spool) with its collector unreachable, so the figures are the capture side alone. Twice: at a
fixed rate (`--pps`, the issue's target is >= 200 k packets/s on one core with no kernel
drops) and at tcpreplay's top speed. Reported per run: packets sent, received, spooled and
dropped by the kernel, the sender's packets/s, the sensor's CPU seconds (and packets per CPU
second), and its peak RSS. Peer in the same run: `tcpdump -w /dev/null` on the same replays.

Run as root: `python -m benchmarks sensor` (or `python benchmarks/bench_sensor.py [PPS]`);
without root or tcpreplay it reports why and measures nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.pcapbuild import Pkt, write_pcap  # noqa: E402
from tests.sensor import netns, procs  # noqa: E402

from isdas.sensor.state import STATE_FILE  # noqa: E402

DISTINCT = 10_000  # frames in the pcap; replayed LOOPS times
LOOPS = 150
PPS = 250_000
TICK = os.sysconf("SC_CLK_TCK")


def replay_pcap(path: Path, count: int = DISTINCT) -> Path:
    """A pcap of `count` distinct small frames: IPv4 and IPv6; TCP, UDP and ICMP."""
    pkts = []
    for i in range(count):
        v6 = i % 5 == 0
        src = f"2001:db8:1::{i % 3000 + 1:x}" if v6 else f"203.0.{113 + i % 2}.{i % 250 + 1}"
        proto = ("tcp", "udp", "icmp")[i % 3]
        dst = "2001:db8:ffff::7" if v6 else f"192.0.2.{i % 200 + 1}"
        dport = 8 if proto == "icmp" else i % 65536
        pkts.append(Pkt(ts=i * 1e-5, src=src, dst=dst, proto=proto, dport=dport))
    return write_pcap(path, pkts)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tcpreplay(link: netns.Link, pcap: Path, loops: int, pps: int | None) -> dict[str, float]:
    """Replay `pcap` `loops` times from the namespace; what tcpreplay says it sent."""
    rate = [f"--pps={pps}", "--pps-multi=50"] if pps else ["--topspeed"]
    cmd = ["ip", "netns", "exec", link.ns, "tcpreplay", "-i", link.far, *rate,
           f"--loop={loops}", "--preload-pcap", str(pcap)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    sent = re.search(r"Actual: (\d+) packets .* in ([\d.]+) seconds", out)
    failed = re.search(r"Failed packets:\s+(\d+)", out)
    if sent is None:
        raise RuntimeError(f"cannot read tcpreplay's report:\n{out}")
    count, secs = int(sent.group(1)), float(sent.group(2))
    return {
        "sent": count - (int(failed.group(1)) if failed else 0),
        "send_s": secs,
        "sent_pps": count / max(secs, 1e-9),
    }


def _config(path: Path, iface: str, spool: Path) -> Path:
    return procs.write_config(
        path, procs.free_port(), "isdas_bench", interface=iface, spool_dir=str(spool),
        batch_events=100_000, batch_seconds=1.0, heartbeat_seconds=30.0,
        spool_cap_bytes=1 << 34, retry_base_s=5.0, retry_cap_s=30.0,
    )  # fmt: skip


def _counters(spool: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((spool / STATE_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def run_sensor(link: netns.Link, pcap: Path, loops: int, pps: int | None) -> dict[str, Any]:
    """One replay into a real sensor process; its counters, CPU and memory."""
    work = Path(tempfile.mkdtemp(prefix="isdas-bench-sensor-"))
    spool = work / "spool"
    proc = procs.start_sensor(_config(work / "sensor.toml", link.near, spool))
    try:
        procs.wait_for(lambda: (spool / STATE_FILE).exists(), 60, "sensor to capture")
        time.sleep(0.5)
        cpu0 = cpu_seconds(proc.pid)
        sent = tcpreplay(link, pcap, loops, pps)
        want = sent["sent"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _counters(spool).get("received", 0) < want:
            time.sleep(0.2)
        cpu, rss = cpu_seconds(proc.pid) - cpu0, peak_rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        got = _counters(spool)
    finally:
        procs.stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    return {
        **sent,
        **{k: got.get(k, -1) for k in ("received", "parsed", "spooled", "kernel_drops")},
        "cpu_s": cpu,
        "pkts_per_cpu_s": got.get("received", 0) / max(cpu, 1e-9),
        "peak_rss_mb": rss,
    }


def run_tcpdump(link: netns.Link, pcap: Path, loops: int, pps: int | None) -> dict[str, Any]:
    """The same replay captured by `tcpdump -w /dev/null` (the peer)."""
    cmd = ["tcpdump", "-i", link.near, "-w", "/dev/null", "-B", "16384", "-s", "256"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        cpu0 = cpu_seconds(proc.pid)
        sent = tcpreplay(link, pcap, loops, pps)
        time.sleep(1.0)
        cpu, rss = cpu_seconds(proc.pid) - cpu0, peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        stats = proc.communicate(timeout=30)[1]
    captured = re.search(r"(\d+) packets captured", stats)
    dropped = re.search(r"(\d+) packets dropped by kernel", stats)
    return {
        **sent,
        "received": int(captured.group(1)) if captured else -1,
        "kernel_drops": int(dropped.group(1)) if dropped else -1,
        "cpu_s": cpu,
        "peak_rss_mb": rss,
    }


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespace, AF_PACKET)"
    missing = [t for t in ("tcpreplay", "tcpdump", "ip") if shutil.which(t) is None]
    hint = "scripts/system-deps.sh installs them"
    return f"missing {', '.join(missing)} ({hint})" if missing else None


def _print(results: dict[str, dict[str, Any]]) -> None:
    keys = ["sent", "sent_pps", "received", "kernel_drops", "cpu_s", "pkts_per_cpu_s"]
    print(f"{'run':22}" + "".join(f"{k:>15}" for k in [*keys, "peak_rss_mb"]))
    for name, row in results.items():
        cells = [row.get(k, float("nan")) for k in [*keys, "peak_rss_mb"]]
        print(f"{name:22}" + "".join(f"{v:>15,.1f}" if isinstance(v, float) else f"{v:>15,}"
                                     for v in cells))  # fmt: skip


def main(pps: int = PPS) -> dict[str, Any]:
    """Sensor and tcpdump at `pps` and at top speed; the table on stdout."""
    reason = _why_not()
    if reason:
        print(f"bench_sensor skipped: {reason}")
        return {"skipped": reason}
    results: dict[str, Any] = {"load_avg": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp, netns.veth_namespace() as link:
        pcap = replay_pcap(Path(tmp) / "replay.pcap")
        for label, rate in ((f"{pps // 1000}k_pps", pps), ("topspeed", None)):
            results[f"sensor_{label}"] = run_sensor(link, pcap, LOOPS, rate)
            results[f"tcpdump_{label}"] = run_tcpdump(link, pcap, LOOPS, rate)
    _print({k: v for k, v in results.items() if isinstance(v, dict)})
    print(f"load average at start: {results['load_avg']:.2f}")
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else PPS)
