"""A real `isdas serve` process: the CLI keeps writing the catalog while pages are served."""

from __future__ import annotations

import subprocess
import threading
import time

import httpx

from tests.serve.conftest import ISDAS, Live


def _hammer(url: str, stop: threading.Event, statuses: list[int]) -> None:
    ports = [23, 22, 445, 80, 443, 3389, 8080, 5555]
    windows = ["1w", "1m", "3m", "1y"]
    with httpx.Client(base_url=url, timeout=30) as client:
        i = 0
        while not stop.is_set():
            path = f"/ports/tcp/{ports[i % len(ports)]}.json?window={windows[i % 4]}"
            statuses.append(client.get(path if i % 3 else "/overview.json").status_code)
            i += 1


def test_cli_writes_while_the_server_reads(live: Live) -> None:
    stop = threading.Event()
    statuses: list[int] = []
    workers = [threading.Thread(target=_hammer, args=(live.url, stop, statuses)) for _ in range(3)]
    for w in workers:
        w.start()
    try:
        time.sleep(0.5)
        home = str(live.settings.home)
        for name in ("edge-a", "edge-b"):
            done = subprocess.run(
                [str(ISDAS), "--home", home, "sensor", "add", name, "--addresses", "192.0.2.0/28"],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert statuses and set(statuses) == {200}
    sensors = httpx.get(live.url + "/sensors.json", timeout=30).json()["sensors"]
    assert {"edge-a", "edge-b"} <= {s["sensor"] for s in sensors}
    reply = httpx.get(live.url + "/", timeout=30)
    assert reply.status_code == 200 and "content-security-policy" in reply.headers
    assert live.proc.poll() is None
