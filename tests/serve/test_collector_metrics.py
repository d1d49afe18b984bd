"""Deferred metrics of the collector through a real uvicorn server, catalog and lake: after a
flush they equal a brute-force recount of the lake, retries are never counted twice, and
they become visible within the documented delay."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from isdas.sensor import wire
from isdas.serve.collector import CollectorConfig
from isdas.settings import Settings
from isdas.store import metrics, tokens
from isdas.store.catalog import connect
from tests.sensor import procs
from tests.serve.test_collector import HOUR_US, Server, now_us
from tests.store.test_ingest import lake_rows, recount, stored

V6 = (0x2001_0DB8 << 32, 0x2400_CB00 << 32)  # src_hi of two IPv6 sources


def mixed_batch(rng: np.random.Generator, n: int, start_us: int) -> dict[str, np.ndarray]:
    """Wire columns of TCP/UDP/ICMP(v6) packets from a small pool of IPv4 and IPv6 sources
    over about three hours, so that keys, sources and targets repeat across batches."""
    cols = {k: np.zeros(n, dtype=v.dtype) for k, v in wire.empty_batch().items()}
    cols["ts_us"] = start_us + rng.integers(0, 3 * HOUR_US, n)
    v6 = rng.random(n) < 0.2
    cols["ipver"][:] = np.where(v6, 6, 4)
    v4_src = np.array([0x01001001, 0x08080808, 0xDA1E0001, 0xC1000001, 0x0A010203], np.uint64)
    cols["src_hi"][:] = np.where(v6, np.array(V6, np.uint64)[rng.integers(0, 2, n)], 0)
    cols["src_lo"][:] = np.where(
        v6, rng.integers(1, 4, n), 0xFFFF_0000_0000 | v4_src[rng.integers(0, 5, n)]
    )
    cols["dst_hi"][:] = np.where(v6, V6[0], 0)
    cols["dst_lo"][:] = np.where(v6, 9, 0xFFFF_0000_0000 | (0xC6120000 + rng.integers(0, 8, n)))
    proto = np.array([6, 6, 6, 17, 1], np.uint8)[rng.integers(0, 5, n)]
    cols["proto"][:] = np.where(v6 & (proto == 1), 58, proto)
    icmp = (cols["proto"] == 1) | (cols["proto"] == 58)
    cols["icmp_type"][:] = np.where(
        icmp, np.array([8, 0, 3, 128], np.uint8)[rng.integers(0, 4, n)], 0
    )
    cols["dport"][:] = np.where(icmp, 0, np.array([23, 445, 22], np.uint16)[rng.integers(0, 3, n)])
    cols["tcp_flags"][:] = np.where(cols["proto"] == 6, rng.choice([0x02, 0x12, 0x04], n), 0)
    cols["length"][:] = 40
    return cols


def flushed(settings: Settings) -> bool:
    """No dirty mark left (call only after the batches were acknowledged)."""
    with connect(settings) as con:
        return metrics.pending(con) == 0


def wait_flushed(settings: Settings, timeout: float = 60.0) -> None:
    procs.wait_for(lambda: flushed(settings), timeout, "metrics flush")


def exact(settings: Settings) -> bool:
    return stored(settings) == recount(lake_rows(settings))


@pytest.fixture
def fast_flush(settings: Settings) -> Iterator[Server]:
    config = CollectorConfig(rate_per_s=1000, burst=1000, flush_s=0.05)
    srv = Server(settings, config)
    yield srv
    srv.server.should_exit = True
    srv.thread.join(timeout=30)


def test_concurrent_sensors_metrics_equal_brute_force_recount(
    settings: Settings, fast_flush: Server
) -> None:
    # three sensors post at once while the flusher recounts every 50 ms beside the writer:
    # no registration may lose its dirty mark to a concurrent flush
    toks = {s: tokens.register(settings, s) for s in ("s1", "s2", "s3")}
    start = now_us() - 4 * HOUR_US
    sent: list[int] = []

    def sensor(name: str, seed: int) -> None:
        rng = np.random.default_rng(seed)
        for b in range(6):
            body = wire.encode(mixed_batch(rng, 400, start))
            reply = fast_flush.post(toks[name], body, f"{name}-{b}")
            assert reply.status_code == 200, reply.text
            sent.append(400)

    threads = [threading.Thread(target=sensor, args=(s, i)) for i, s in enumerate(toks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == 3 * 6 * 400
    wait_flushed(settings)
    rows = lake_rows(settings)
    assert len(rows) == 3 * 6 * 400
    assert stored(settings) == recount(rows)
    assert sum(procs.stored_packets(settings, s) for s in toks) == 3 * 6 * 400


def test_retry_after_the_flush_is_not_counted_twice(settings: Settings, tmp_path: Path) -> None:
    token = tokens.register(settings, "s1")
    body = wire.encode(mixed_batch(np.random.default_rng(1), 500, now_us() - 4 * HOUR_US))
    config = CollectorConfig(rate_per_s=1000, burst=1000, flush_s=0.05)
    first = Server(settings, config)
    try:
        assert first.post(token, body, "r1").json()["duplicate"] is False
        wait_flushed(settings)
        before = stored(settings)
        part = next(settings.lake.rglob("part-*.parquet"))
        inode = part.stat().st_ino
        assert first.post(token, body, "r1").json()["duplicate"] is True  # this process knew
    finally:
        first.server.should_exit = True
        first.thread.join(timeout=30)
    again = Server(settings, config)  # a new process only has the catalog to go by
    try:
        reply = again.post(token, body, "r1")
        assert reply.status_code == 200 and reply.json()["duplicate"] is True
        time.sleep(0.3)
        wait_flushed(settings)
    finally:
        again.server.should_exit = True
        again.thread.join(timeout=30)
    assert stored(settings) == before
    assert exact(settings)
    assert procs.stored_packets(settings) == 500 == procs.lake_rows(settings)
    assert part.stat().st_ino == inode  # the registered part was never replaced
    assert not list(settings.lake.rglob(".*.tmp"))  # the retry's temporary part was removed


def test_metrics_visible_within_the_documented_delay(settings: Settings) -> None:
    srv = Server(settings, CollectorConfig(rate_per_s=1000, burst=1000))  # default flush_s
    try:
        token = tokens.register(settings, "s1")
        srv.post(token, wire.encode(mixed_batch(np.random.default_rng(2), 300, now_us())), "v0")
        body = wire.encode(mixed_batch(np.random.default_rng(3), 300, now_us() - 2 * HOUR_US))
        assert srv.post(token, body, "v1").status_code == 200
        acked = time.monotonic()
        wait_flushed(settings, timeout=10)
        assert time.monotonic() - acked < 5.0
        assert exact(settings)
    finally:
        srv.server.should_exit = True
        srv.thread.join(timeout=30)
