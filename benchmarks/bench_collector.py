"""Collector throughput, measured against a peer in the same run.

4 concurrent sensors POST pre-encoded batches (100k events) to a collector process on
127.0.0.1; events/s stored end to end (auth, validate, enrich, lake, metrics).
Peer: the same bodies POSTed to an endpoint that only reads them (loopback HTTP ceiling).
Run: `python benchmarks/bench_collector.py`. (The sensor has its own bench_sensor.py.)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from tests.sensor import procs  # noqa: E402
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


def main() -> dict[str, object]:
    out: dict[str, object] = dict(bench_collector())
    rows = [(k, f"{v:,.0f}" if isinstance(v, float) else str(v)) for k, v in out.items()]
    c, s = out["collector_events_s"], out["loopback_sink_events_s"]
    assert isinstance(c, float) and isinstance(s, float)
    rows.append(("collector / loopback sink", f"{c / s:.3f}"))
    a = out["collector_accept_only_events_s"]
    assert isinstance(a, float)
    rows.append(("accept path / loopback sink", f"{a / s:.2f}"))
    for k, v in rows:
        print(f"{k:32} {v:>16}")
    return out


if __name__ == "__main__":
    main()
