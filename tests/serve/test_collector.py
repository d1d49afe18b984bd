"""Collector endpoints through a real uvicorn server on 127.0.0.1 and a real catalog + lake."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette

from isdas.sensor import wire
from isdas.serve.collector import Collector, CollectorConfig
from isdas.settings import Settings
from isdas.store import tokens
from tests.sensor import procs

HOUR_US = 3_600_000_000


def make_batch(n: int, start_us: int, port0: int = 0) -> dict[str, np.ndarray]:
    batch = wire.empty_batch()
    cols = {k: np.zeros(n, dtype=v.dtype) for k, v in batch.items()}
    cols["ts_us"] = start_us + np.arange(n, dtype=np.int64) * 1000
    cols["ipver"][:] = 4
    cols["src_lo"][:] = 0xFFFF_0000_0000 | (0xCB007100 + np.arange(n) % 200).astype(np.uint64)
    cols["dst_lo"][:] = 0xFFFF_0000_0000 | 0xC0000207
    cols["proto"][:] = 6
    cols["tcp_flags"][:] = 2
    cols["dport"][:] = (port0 + np.arange(n)) % 65536
    cols["length"][:] = 40
    return cols


class Server:
    def __init__(self, settings: Settings, config: CollectorConfig) -> None:
        self.collector = Collector(settings, config)
        app = Starlette(routes=self.collector.routes(), lifespan=self.collector.lifespan)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        cfg = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        procs.wait_for(lambda: self.server.started, 10, "uvicorn")
        self.url = f"http://127.0.0.1:{self.port}"

    def post(self, token: str | None, body: bytes, batch_id: str | None = "b1") -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if batch_id is not None:
            headers["X-Batch-Id"] = batch_id
        return httpx.post(f"{self.url}/api/v1/ingest", content=body, headers=headers, timeout=30)


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    srv = Server(settings, CollectorConfig(max_body_bytes=200_000, rate_per_s=1000, burst=1000))
    yield srv
    srv.server.should_exit = True
    srv.thread.join(timeout=5)


def now_us() -> int:
    return time.time_ns() // 1000


def test_batch_stored_once_even_when_retried(settings: Settings, server: Server) -> None:
    token = tokens.register(settings, "s1")
    body = wire.encode(make_batch(300, now_us() - HOUR_US))
    first = server.post(token, body, "a1")
    assert first.status_code == 200, first.text
    assert first.json() == {"ok": True, "batch_id": "a1", "events": 300, "duplicate": False}
    again = server.post(token, body, "a1")
    assert again.json()["duplicate"] is True
    assert procs.stored_packets(settings) == 300
    assert procs.lake_rows(settings) == 300


def _bad_requests(settings: Settings, token: str) -> list[tuple[int, str | None, bytes, str]]:
    good = wire.encode(make_batch(10, now_us()))
    other_schema = make_batch(10, now_us())
    other_schema["ts_us"] = other_schema["ts_us"].astype(np.uint64)
    revoked = tokens.register(settings, "gone")
    tokens.revoke(settings, "gone")
    return [
        (401, None, good, "x1"),
        (401, "isdas_0000000000000000_" + "0" * 48, good, "x2"),
        (401, token[:-1] + ("0" if token[-1] != "0" else "1"), good, "x3"),
        (403, revoked, good, "x4"),
        (413, token, b"\0" * 300_000, "x5"),
        (422, token, b"garbage, not arrow", "x6"),
        (422, token, good, None),
        (422, token, good, "bad id with spaces"),
        (422, token, wire.encode(make_batch(5, now_us() + 2 * 24 * HOUR_US)), "x7"),
        (422, token, wire.encode(make_batch(5, 10 * 1_000_000)), "x8"),
        (422, token, b"".join([wire.encode(make_batch(3, now_us()))[:-40]]), "x9"),
    ]


def test_bad_requests_store_nothing_and_others_are_served(
    settings: Settings, server: Server
) -> None:
    token = tokens.register(settings, "s1")
    for status, tok, body, batch_id in _bad_requests(settings, token):
        response = server.post(tok, body, batch_id)
        assert response.status_code == status, (status, batch_id, response.text)
        assert response.json() == {"ok": False, "error": response.json()["error"], "status": status}
    assert procs.stored_packets(settings) == 0
    assert procs.lake_rows(settings) == 0
    assert server.post(token, wire.encode(make_batch(7, now_us())), "ok1").status_code == 200
    assert procs.stored_packets(settings) == 7


def test_rate_limit_answers_429_and_stores_nothing(settings: Settings) -> None:
    srv = Server(settings, CollectorConfig(rate_per_s=0.01, burst=1))
    try:
        token = tokens.register(settings, "s1")
        assert srv.post(token, wire.encode(make_batch(5, now_us())), "r1").status_code == 200
        limited = srv.post(token, wire.encode(make_batch(5, now_us())), "r2")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        assert procs.stored_packets(settings) == 5
    finally:
        srv.server.should_exit = True
        srv.thread.join(timeout=5)


def test_skewed_and_out_of_order_batches_are_all_counted(
    settings: Settings, server: Server
) -> None:
    token = tokens.register(settings, "s1")
    starts = [now_us() + 2 * HOUR_US, now_us() - 30 * HOUR_US, now_us() - 5 * HOUR_US]
    for i, start in enumerate(starts):  # clock 2 h ahead, then older batches arriving late
        response = server.post(token, wire.encode(make_batch(100, start, i * 100)), f"o{i}")
        assert response.status_code == 200, response.text
    assert procs.stored_packets(settings) == 300


def test_heartbeat_is_listed_with_the_sensor(settings: Settings, server: Server) -> None:
    token = tokens.register(settings, "s1", ["192.0.2.0/24"])
    beat = {"received": 12, "kernel_drops": 1, "shipped": 10, "last_error": "boom",
            "clock_offset_s": -2.5, "sensor_time": "2026-01-01T00:00:00Z"}  # fmt: skip
    response = httpx.post(f"{server.url}/api/v1/heartbeat", json=beat,
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["sensor"] == "s1"
    garbage = httpx.post(f"{server.url}/api/v1/heartbeat", content=b"[1,",
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert garbage.status_code == 422
    row = tokens.with_health(settings, [{"sensor_id": "s1"}])[0]
    assert (row["received"], row["kernel_drops"], row["shipped"]) == (12, 1, 10)
    assert row["last_error"] == "boom"
    assert row["clock_offset_s"] == -2.5
    assert row["token"] == "valid"


def test_wire_roundtrip_keeps_every_column(tmp_path: Path) -> None:
    batch = make_batch(50, now_us(), 7)
    decoded = wire.decode(wire.encode(batch), max_events=100)
    assert decoded.events == 50
    for name in wire.WIRE_COLUMNS:
        assert np.array_equal(decoded.batch[name], batch[name]), name
