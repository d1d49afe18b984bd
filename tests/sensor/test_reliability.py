"""Reliability proofs with real processes on 127.0.0.1: kill -9 the collector or the sensor
mid-stream, restart, and the stored count equals what was sent (no loss, no duplicates); the
collector's deferred metrics, once recounted, equal a brute-force recount of the lake, even when
the kill left them pending."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from isdas.sensor import wire
from isdas.settings import Settings
from isdas.store import metrics, tokens
from isdas.store.catalog import connect
from tests.pcapbuild import Pkt, write_pcap
from tests.sensor import procs
from tests.serve.test_collector_metrics import flushed, mixed_batch
from tests.store.test_ingest import lake_rows, recount, stored

FILES, PER_FILE = 4, 1500


def make_rotations(folder: Path) -> int:
    """FILES closed tcpdump-like rotations of PER_FILE distinct SYNs, an hour ago; total."""
    folder.mkdir()
    base = time.time() - 3600
    for f in range(FILES):
        pkts = [
            Pkt(ts=base + f * 60 + i / 1000, src=f"203.0.113.{i % 250 + 1}", dst="192.0.2.7",
                sport=10000 + i, dport=(f * PER_FILE + i) % 65536)
            for i in range(PER_FILE)
        ]  # fmt: skip
        path = write_pcap(folder / f"dark.pcap{f}", pkts)
        os.utime(path, (base + f, base + f))
    return FILES * PER_FILE


def _drained(settings: Settings, spool: Path, expected: int) -> bool:
    return not procs.spooled(spool) and procs.stored_packets(settings) >= expected


def _finish(settings: Settings, spool: Path, expected: int) -> None:
    procs.wait_for(lambda: _drained(settings, spool, expected), 150, "spool to drain")
    time.sleep(0.5)
    assert procs.stored_packets(settings) == expected
    assert procs.lake_rows(settings) == expected
    _metrics_exact(settings, expected)


def _metrics_exact(settings: Settings, expected: int) -> None:
    """The deferred metrics, once recounted, equal a brute-force recount of the lake."""
    procs.wait_for(lambda: flushed(settings), 60, "metrics flush")
    rows = lake_rows(settings)
    assert len(rows) == expected
    assert stored(settings) == recount(rows)


@pytest.mark.slow
def test_kill9_collector_mid_stream_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    token = tokens.register(settings, "s1")
    expected = make_rotations(tmp_path / "rot")
    port = procs.free_port()
    limits = {"rate_per_s": "4", "burst": "2"}  # slow the stream so the kill lands inside it
    collector = procs.start_collector(settings.home, port, **limits)
    config = procs.write_config(tmp_path / "sensor.toml", port, token)
    sensor = procs.start_sensor(config, "--watch", str(tmp_path / "rot"))
    try:
        procs.wait_for(lambda: procs.stored_packets(settings) > 0, 120, "first batch stored")
        procs.kill9(collector)
        assert procs.stored_packets(settings) < expected  # really mid-stream
        time.sleep(1.0)
        collector = procs.start_collector(settings.home, port)
        _finish(settings, tmp_path / "spool", expected)
    finally:
        procs.stop(sensor)
        procs.stop(collector)


@pytest.mark.slow
def test_kill9_sensor_between_spooling_and_shipping(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    token = tokens.register(settings, "s1")
    expected = make_rotations(tmp_path / "rot")
    port = procs.free_port()  # nobody listens yet: the sensor can only spool
    config = procs.write_config(tmp_path / "sensor.toml", port, token)
    spool = tmp_path / "spool"
    sensor = procs.start_sensor(config, "--watch", str(tmp_path / "rot"))

    def all_spooled() -> bool:
        return sum(int(p.stem.rsplit("-", 1)[1]) for p in procs.spooled(spool)) == expected

    procs.wait_for(all_spooled, 120, "every event spooled")
    procs.kill9(sensor)
    collector = procs.start_collector(settings.home, port)
    sensor = procs.start_sensor(config, "--watch", str(tmp_path / "rot"))
    try:
        _finish(settings, spool, expected)
    finally:
        procs.stop(sensor)
        procs.stop(collector)


def _post(port: int, token: str, body: bytes, batch_id: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Batch-Id": batch_id}
    url = f"http://127.0.0.1:{port}/api/v1/ingest"
    return httpx.post(url, content=body, headers=headers, timeout=60)


def _pending(settings: Settings) -> int:
    with connect(settings) as con:
        return metrics.pending(con)


@pytest.mark.slow
def test_kill9_collector_with_metrics_pending_recovers_them_exactly(tmp_path: Path) -> None:
    # the first collector never flushes while it runs (flush_s of an hour): every batch it
    # acknowledged leaves its dirty marks behind when it is killed; the next one recounts them
    settings = Settings(home=tmp_path / "home")
    token = tokens.register(settings, "s1")
    rng = np.random.default_rng(5)
    start = time.time_ns() // 1000 - 5 * 3_600_000_000
    bodies = [wire.encode(mixed_batch(rng, 700, start)) for _ in range(6)]
    port = procs.free_port()
    collector = procs.start_collector(settings.home, port, flush_s="3600")
    try:
        for i, body in enumerate(bodies[:4]):
            assert _post(port, token, body, f"k{i}").status_code == 200
        procs.kill9(collector)
        assert _pending(settings) > 0
        assert stored(settings) != recount(lake_rows(settings))  # really left stale
        collector = procs.start_collector(settings.home, port)
        beat = httpx.post(f"http://127.0.0.1:{port}/api/v1/heartbeat", json={},
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert beat.status_code == 200  # a heartbeat alone starts the recovering flusher
        _metrics_exact(settings, 4 * 700)
        for i, body in enumerate(bodies[3:], start=3):  # k3 again: acknowledged before the kill
            reply = _post(port, token, body, f"k{i}")
            assert reply.status_code == 200 and reply.json()["duplicate"] is (i == 3)
        _metrics_exact(settings, 6 * 700)
        assert procs.stored_packets(settings) == 6 * 700
    finally:
        procs.stop(collector)
