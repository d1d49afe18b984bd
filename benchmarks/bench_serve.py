"""Dashboard and API latency under 20 concurrent clients on loopback.

One year of hourly metrics for 16 sensors is generated into a temporary home, a real
`isdas serve` process is started on 127.0.0.1, and 20 asyncio clients request the port page,
its JSON twin and the overview. Peers measured in the same run: the same server with its cache
disabled (every request queries DuckDB) and /healthz (the HTTP floor of the stack).
Targets: port page and JSON twin p95 < 100 ms, overview p95 < 200 ms.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.serve.conftest import start_server, stop_server  # noqa: E402
from tests.serve.serve_fake import PORTS, fill_catalog  # noqa: E402

from isdas.settings import Settings  # noqa: E402

CLIENTS = 20
REQUESTS = int(os.environ.get("BENCH_SERVE_REQUESTS", "1200"))
WINDOWS = ("1w", "1m", "3m", "1y")


def urls(kind: str) -> list[str]:
    """The rotation of paths of one scenario."""
    keys = [(("tcp", "udp", "icmp")[(6, 17, 1).index(p)], n) for p, n, _ in PORTS[:10]]
    if kind == "overview":
        return ["/"]
    if kind == "healthz":
        return ["/healthz"]
    suffix = ".json" if kind == "port-json" else ""
    return [f"/ports/{p}/{n}{suffix}?window={w}" for p, n in keys for w in WINDOWS]


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
    """One keep-alive HTTP/1.1 GET on a raw connection (a light client: the server is measured,
    not the client library); returns the status."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(h.split(":")[1]) for h in lines if h.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def _client(base: str, paths: list[str], start: int, n: int, out: list[float]) -> None:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for i in range(n):
            t0 = time.perf_counter()
            status = await _get(reader, writer, paths[(start + i) % len(paths)])
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"{status} from {paths[(start + i) % len(paths)]}")
    finally:
        writer.close()


async def _load(base: str, paths: list[str], total: int) -> tuple[list[float], float]:
    out: list[float] = []
    t0 = time.perf_counter()
    per = max(1, total // CLIENTS)
    await asyncio.gather(*(_client(base, paths, i * 7, per, out) for i in range(CLIENTS)))
    return out, time.perf_counter() - t0


def scenario(base: str, kind: str, total: int) -> dict[str, float]:
    """p50/p95 (ms) and requests/s of one scenario."""
    lat, wall = asyncio.run(_load(base, urls(kind), total))
    lat.sort()
    return {
        "p50_ms": round(1000 * statistics.median(lat), 1),
        "p95_ms": round(1000 * lat[int(0.95 * (len(lat) - 1))], 1),
        "rps": round(len(lat) / wall, 1),
        "n": len(lat),
    }


def cold(base: str) -> dict[str, float]:
    """First-hit latency (cache empty) of each port page, one at a time."""
    lat = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in urls("port-json")[:12]:
            t0 = time.perf_counter()
            client.get(path)
            lat.append(time.perf_counter() - t0)
    return {
        "median_ms": round(1000 * statistics.median(lat), 1),
        "max_ms": round(1000 * max(lat), 1),
    }


def run_server_set(settings: Settings, cache_seconds: str, kinds: list[str]) -> dict[str, object]:
    live = start_server(settings, env={"ISDAS_SERVE_CACHE_SECONDS": cache_seconds})
    try:
        found: dict[str, object] = {"cold": cold(live.url)} if cache_seconds != "0" else {}
        for kind in kinds:
            scenario(live.url, kind, CLIENTS * 2)  # warm-up (fills the cache)
            found[kind] = scenario(live.url, kind, REQUESTS if cache_seconds != "0" else 100)
        return found
    finally:
        stop_server(live)


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="isdas-bench-serve-") as tmp:
        settings = Settings(home=Path(tmp) / "home")
        t0 = time.perf_counter()
        fill_catalog(settings, days=365, sensors=16)
        gen = time.perf_counter() - t0
        kinds = ["port-html", "port-json", "overview", "healthz"]
        cached = run_server_set(settings, "60", kinds)
        uncached = run_server_set(settings, "0", kinds[:3])
    load = os.getloadavg()[0]
    result = {"generate_s": round(gen, 1), "load_avg": load, "cached": cached, "uncached": uncached}
    _print(result)
    return result


def _print(result: dict[str, object]) -> None:
    cached, uncached = result["cached"], result["uncached"]
    assert isinstance(cached, dict) and isinstance(uncached, dict)
    target = {"port-html": 100, "port-json": 100, "overview": 200, "healthz": 0}
    head = ("scenario", "p50 ms", "p95 ms", "req/s", "target", "no-cache p95")
    print(f"{head[0]:<10} {head[1]:>8} {head[2]:>8} {head[3]:>8} {head[4]:>7} {head[5]:>13}")
    for kind, goal in target.items():
        row, peer = cached[kind], uncached.get(kind, {})
        print(f"{kind:<10} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['rps']:>8} "
              f"{goal or '-':>7} {peer.get('p95_ms', '-'):>13}")  # fmt: skip
    print(f"cold first hit (port JSON, cache empty): {cached['cold']}")
    print(f"machine load average at the end (2 cores shared): {result['load_avg']:.1f}")
    floor = cached["healthz"]["rps"]
    share = cached["port-json"]["rps"] / floor
    print(f"port JSON req/s as a share of the /healthz floor: {share:.2f}")


if __name__ == "__main__":
    main()
