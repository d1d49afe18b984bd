"""Collector and sensor throughput, measured against peers in the same run.

1. Collector: 4 concurrent sensors POST pre-encoded batches (100k events) to a collector
   process on 127.0.0.1; events/s stored end to end (auth, validate, enrich, lake, metrics).
   Peer: the same bodies POSTed to an endpoint that only reads them (loopback HTTP ceiling).
2. Sensor: frames replayed from a test-made network namespace over a veth pair; the capture
   loop (TPACKET_V3 ring -> decode -> Arrow -> durable spool) on one core; packets/s per CPU
   second, kernel drops, peak RSS. Peer: tcpdump -w /dev/null on the same replay.
Run as root: `python benchmarks/bench_collector.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.sensor import netns, procs  # noqa: E402
from tests.serve.test_collector import make_batch  # noqa: E402

from isdas.sensor import wire  # noqa: E402
from isdas.settings import Settings  # noqa: E402
from isdas.store import tokens  # noqa: E402

SENSORS, BATCHES, EVENTS = 4, 5, 100_000
SINK_APP = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def sink(request):
    n = 0
    async for chunk in request.stream():
        n += len(chunk)
    return JSONResponse({"ok": True, "bytes": n})
uvicorn.run(Starlette(routes=[Route("/api/v1/ingest", sink, methods=["POST"])]),
            host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _post_all(url: str, toks: list[str], bodies: list[bytes], tag: str = "") -> float:
    def one(i: int) -> None:
        with httpx.Client(timeout=300) as client:
            for b, body in enumerate(bodies):
                headers = {"Authorization": f"Bearer {toks[i]}", "X-Batch-Id": f"{tag}s{i}b{b}"}
                response = client.post(f"{url}/api/v1/ingest", content=body, headers=headers)
                assert response.status_code == 200, response.text

    threads = [threading.Thread(target=one, args=(i,)) for i in range(SENSORS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def bench_collector() -> dict[str, float]:
    home = Path(tempfile.mkdtemp()) / "home"
    settings = Settings(home=home)
    toks = [tokens.register(settings, f"bench{i}") for i in range(SENSORS)]
    now = time.time_ns() // 1000 - 3_600_000_000
    bodies = [wire.encode(make_batch(EVENTS, now + b * 1000, b)) for b in range(BATCHES)]
    port, sink_port = procs.free_port(), procs.free_port()
    collector = procs.start_collector(home, port, rate_per_s="1000", burst="1000")
    accept_port = procs.free_port()
    accept = procs.start_collector(home, accept_port, "noop", rate_per_s="1000", burst="1000")
    sink = subprocess.Popen([sys.executable, "-c", SINK_APP, str(sink_port)], env=procs.env())
    procs.wait_for(lambda: procs._port_open(sink_port), 20, "sink")
    try:
        total = SENSORS * BATCHES * EVENTS
        secs = _post_all(f"http://127.0.0.1:{port}", toks, bodies)
        procs.stop(collector)
        accept_s = _post_all(f"http://127.0.0.1:{accept_port}", toks, bodies, "n")
        peer = _post_all(f"http://127.0.0.1:{sink_port}", toks, bodies)
    finally:
        procs.stop(collector)
        procs.stop(accept)
        procs.stop(sink)
    return {
        "collector_events_s": total / secs,
        "collector_accept_only_events_s": total / accept_s,
        "loopback_sink_events_s": total / peer,
    }


CAPTURE = """
import json, resource, sys, time
from pathlib import Path
from isdas.sensor.live import LiveCapture
from isdas.sensor.batcher import Batcher, warm_up
from isdas.sensor.counters import Counters
from isdas.sensor.spool import Spool
cap = LiveCapture(sys.argv[1], "ip or ip6")
warm_up(cap.linktype)
counters = Counters()
batcher = Batcher(Spool(Path(sys.argv[2]), 1 << 34), counters, cap.linktype, 100000, 1.0)
print("ready", flush=True)
deadline, cpu0, idle = time.time() + float(sys.argv[3]), time.process_time(), 0
while time.time() < deadline and idle < 15:
    frames, ts = cap.read(0.2)
    idle = 0 if frames else idle + (counters.received > 0)
    if frames:
        batcher.add(frames, ts)
    if batcher.due():
        batcher.flush()
batcher.flush()
cap.poll_drops()
cpu = time.process_time() - cpu0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"received": counters.received, "spooled": counters.spooled,
                  "drops": cap.kernel_drops, "cpu": cpu, "rss_mb": rss}))
"""


FAST_SENDER = """
import socket, sys
from tests.pcapbuild import Pkt, frame
n, iface = int(sys.argv[1]), sys.argv[2]
frames = [frame(Pkt(ts=0.0, src=f"203.0.113.{i % 250 + 1}", dst="192.0.2.7", dport=i))
          for i in range(1000)]
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
send = sock.send
for i in range(n):
    send(frames[i % 1000])
"""


def _replay(link: netns.Link, count: int) -> float:
    cmd = ["ip", "netns", "exec", link.ns, sys.executable, "-c", FAST_SENDER, str(count), link.far]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=procs.env(), timeout=120)
    return time.perf_counter() - start


def bench_sensor(count: int = 300_000) -> dict[str, float]:
    with netns.veth_namespace() as link, tempfile.TemporaryDirectory() as spool:
        cmd = [sys.executable, "-c", CAPTURE, link.near, spool, "120"]
        proc = subprocess.Popen(cmd, env=procs.env(), stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        replay_s = _replay(link, count)
        result = json.loads(proc.communicate(timeout=180)[0].strip().splitlines()[-1])
        tcpdump = subprocess.Popen(["tcpdump", "-i", link.near, "-w", "/dev/null", "-B", "65536"],
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        time.sleep(1.0)
        _replay(link, count)
        time.sleep(1.0)
        tcpdump.terminate()
        stats = tcpdump.communicate(timeout=30)[1]
    got = [int(line.split()[0]) for line in stats.splitlines() if "captured" in line]
    return {
        "replay_pkts_s": count / replay_s, "sensor_received": result["received"],
        "sensor_spooled": result["spooled"], "sensor_kernel_drops": result["drops"],
        "sensor_pkts_per_cpu_s": result["received"] / max(result["cpu"], 1e-9),
        "sensor_rss_mb": result["rss_mb"], "tcpdump_captured": got[0] if got else -1,
    }  # fmt: skip


def main() -> dict[str, object]:
    out: dict[str, object] = dict(bench_collector())
    if os.geteuid() == 0:
        out.update(bench_sensor())
    rows = [(k, f"{v:,.0f}" if isinstance(v, float) else str(v)) for k, v in out.items()]
    c, s = out["collector_events_s"], out["loopback_sink_events_s"]
    assert isinstance(c, float) and isinstance(s, float)
    rows.append(("collector / loopback sink", f"{c / s:.3f}"))
    a = out["collector_accept_only_events_s"]
    assert isinstance(a, float)
    rows.append(("accept path / loopback sink", f"{a / s:.2f}"))
    if "sensor_received" in out:
        rows.append(("sensor received / sent", f"{int(out['sensor_received']) / 300_000:.3f}"))  # type: ignore[call-overload]
    for k, v in rows:
        print(f"{k:32} {v:>16}")
    return out


if __name__ == "__main__":
    main()
