"""Collector throughput, measured against a peer in the same run.

4 concurrent sensors (threads, one request in flight each, like the sensor's shipper) POST
pre-encoded darknet-like batches of 100k events to a collector process on 127.0.0.1 (the real
routes with their lifespan, as `isdas serve` mounts them). Reported:

- collector events/s acknowledged (auth, decode, validate, enrich, lake parts fsynced, one
  catalog transaction per group of batches), and the collector's CPU-seconds per million;
- metrics lag: seconds from the last acknowledgement until the deferred metrics are recounted
  (no dirty mark left), then a check that the stored metrics count every event sent;
- peer: the same bodies POSTed to an endpoint that only reads them (loopback HTTP ceiling).

Run: `python benchmarks/bench_collector.py` (ISDAS_BENCH_BATCHES batches per sensor, default
10). The sensor has its own benchmarks/bench_sensor.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.sensor import procs  # noqa: E402

from benchmarks.darknet import HOT_PORTS  # noqa: E402
from isdas.sensor import wire  # noqa: E402
from isdas.settings import Settings  # noqa: E402
from isdas.store import tokens  # noqa: E402
from isdas.store.catalog import connect  # noqa: E402

SENSORS, EVENTS = 4, 100_000
BATCHES = int(os.environ.get("ISDAS_BENCH_BATCHES", "10"))
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
COLLECTOR_APP = """
import logging, os, sys, uvicorn
logging.basicConfig(level=os.environ.get("ISDAS_BENCH_LOG", "WARNING"))
from pathlib import Path
from starlette.applications import Starlette
from isdas.serve.collector import Collector, CollectorConfig
from isdas.settings import Settings
c = Collector(Settings(home=Path(sys.argv[1])), CollectorConfig.from_env())
uvicorn.run(Starlette(routes=c.routes(), lifespan=c.lifespan), host="127.0.0.1",
            port=int(sys.argv[2]), log_level="warning")
"""


def darknet_batch(rng: np.random.Generator, n: int, start_us: int) -> dict[str, np.ndarray]:
    """Wire columns like benchmarks/darknet.py: Zipf sources, a /16 of targets, hot ports."""
    cols = {k: np.zeros(n, dtype=v.dtype) for k, v in wire.empty_batch().items()}
    cols["ts_us"] = start_us + np.sort(rng.integers(0, 100_000_000, n))
    cols["ipver"][:] = 4
    src = 0x01000000 + (rng.zipf(1.3, n) * 2654435761 % 0xDE000000).astype(np.uint32)
    cols["src_lo"][:] = 0xFFFF_0000_0000 | src.astype(np.uint64)
    dst = 0xC6120000 + rng.integers(0, 65536, n)
    cols["dst_lo"][:] = 0xFFFF_0000_0000 | dst.astype(np.uint64)
    cols["proto"][:] = np.where(rng.random(n) < 0.1, 17, 6)
    hot = rng.random(n) < 0.7
    cols["dport"][:] = np.where(
        hot, HOT_PORTS[rng.integers(0, len(HOT_PORTS), n)], rng.zipf(1.2, n) % 65536
    )
    cols["sport"][:] = rng.integers(1024, 65536, n)
    cols["tcp_flags"][:] = np.where(rng.random(n) < 0.95, 0x02, 0x12)
    cols["tcp_seq"][:] = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    cols["ip_id"][:] = rng.integers(0, 65536, n)
    cols["ttl"][:] = rng.choice(np.array([50, 110, 240], np.uint8), n)
    cols["tcp_win"][:] = 1024
    cols["length"][:] = 40
    return cols


def _post_all(url: str, toks: list[str], bodies: list[list[bytes]], tag: str = "") -> float:
    failures: list[str] = []

    def one(i: int) -> None:
        with httpx.Client(timeout=300) as client:
            for b, body in enumerate(bodies[i]):
                headers = {"Authorization": f"Bearer {toks[i]}", "X-Batch-Id": f"{tag}s{i}b{b}"}
                response = client.post(f"{url}/api/v1/ingest", content=body, headers=headers)
                if response.status_code != 200:
                    failures.append(response.text)
                    return

    threads = [threading.Thread(target=one, args=(i,)) for i in range(SENSORS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise AssertionError(f"{len(failures)} sensors stopped on an error: {failures[0]}")
    return time.perf_counter() - start


def _cpu_s(pid: int) -> float:
    """User + system CPU-seconds of a process (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pending(settings: Settings) -> int:
    with connect(settings, read_only=True) as con:
        row = con.execute(
            "SELECT (SELECT count(*) FROM dirty_sensor_hours) + (SELECT count(*) FROM dirty_hours)"
        ).fetchone()
    return int(row[0]) if row else -1


def _stored(settings: Settings) -> tuple[int, int, int]:
    """Packets in sensors, metrics_sensor and metrics_port."""
    with connect(settings, read_only=True) as con:
        row = con.execute(
            "SELECT (SELECT sum(packets) FROM sensors), (SELECT sum(packets) FROM metrics_sensor),"
            " (SELECT sum(packets) FROM metrics_port)"
        ).fetchone()
    assert row is not None
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def _bodies() -> list[list[bytes]]:
    rng = np.random.default_rng(1)
    start = time.time_ns() // 1000 - 3_600_000_000
    return [
        [wire.encode(darknet_batch(rng, EVENTS, start + (i * BATCHES + b) * 100_000_000))
         for b in range(BATCHES)]
        for i in range(SENSORS)
    ]  # fmt: skip


def _start_collector(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**procs.env(), "ISDAS_COLLECTOR_RATE_PER_S": "1000", "ISDAS_COLLECTOR_BURST": "1000"}
    proc = subprocess.Popen([sys.executable, "-c", COLLECTOR_APP, str(home), str(port)], env=env)
    procs.wait_for(lambda: procs._port_open(port), 30, "collector")
    return proc


def bench_collector() -> dict[str, float]:
    home = Path(tempfile.mkdtemp()) / "home"
    settings = Settings(home=home)
    toks = [tokens.register(settings, f"bench{i}") for i in range(SENSORS)]
    bodies = _bodies()
    port, sink_port = procs.free_port(), procs.free_port()
    collector = _start_collector(home, port)
    sink = subprocess.Popen([sys.executable, "-c", SINK_APP, str(sink_port)], env=procs.env())
    procs.wait_for(lambda: procs._port_open(sink_port), 20, "sink")
    total = SENSORS * BATCHES * EVENTS
    try:
        load = os.getloadavg()[0]
        time.sleep(3.0)  # let the startup flush finish
        cpu0 = _cpu_s(collector.pid)
        secs = _post_all(f"http://127.0.0.1:{port}", toks, bodies)
        cpu = _cpu_s(collector.pid) - cpu0
        acked = time.perf_counter()
        procs.wait_for(lambda: _pending(settings) == 0, 300, "metrics flush")
        lag = time.perf_counter() - acked
        procs.stop(collector)
        stored = _stored(settings)
        assert stored == (total, total, total), (stored, total)
        peer = _post_all(f"http://127.0.0.1:{sink_port}", toks, bodies)
    finally:
        procs.stop(collector)
        procs.stop(sink)
    return {
        "events_sent": float(total),
        "body_mb": sum(len(b) for bs in bodies for b in bs) / 1e6,
        "collector_events_s": total / secs,
        "collector_cpu_s_per_m_events": cpu / (total / 1e6),
        "metrics_lag_s": lag,
        "loopback_sink_events_s": total / peer,
        "load_1min_before": load,
    }


def main() -> dict[str, object]:
    out: dict[str, object] = dict(bench_collector())
    c, s = out["collector_events_s"], out["loopback_sink_events_s"]
    assert isinstance(c, float) and isinstance(s, float)
    rows = [(k, f"{v:,.2f}" if isinstance(v, float) else str(v)) for k, v in out.items()]
    rows.append(("collector / loopback sink", f"{c / s:.3f}"))
    for k, v in rows:
        print(f"{k:32} {v:>16}")
    return out


if __name__ == "__main__":
    main()
