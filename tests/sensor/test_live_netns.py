"""Live capture proof: frames injected on a veth pair in a test-made namespace are all stored."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from isdas.settings import Settings
from isdas.store import tokens
from tests.sensor import netns, procs


@pytest.mark.slow
def test_live_sensor_delivers_exactly_the_packets_sent(tmp_path: Path) -> None:
    spool = Path(tempfile.mkdtemp(prefix="isdas-spool-"))  # reachable once handed to nobody
    with netns.veth_namespace() as link:
        settings = Settings(home=tmp_path / "home")
        token = tokens.register(settings, "s1", ["192.0.2.0/24", "2001:db8:ffff::/64"])
        port = procs.free_port()
        collector = procs.start_collector(settings.home, port)
        config = procs.write_config(
            tmp_path / "sensor.toml", port, token, interface=link.near, bpf="ip or ip6",
            batch_events=2000, user="nobody", spool_dir=str(spool),
        )  # fmt: skip
        sensor = procs.start_sensor(config)
        try:
            procs.wait_for(lambda: _health(settings)["heartbeat_at"] is not None, 120, "sensor up")
            netns.send_frames(link, 6000)
            procs.wait_for(lambda: procs.stored_packets(settings) >= 6000, 150, "events stored")
            procs.wait_for(lambda: _health(settings)["shipped"] == 6000, 10, "heartbeat")
            assert procs.stored_packets(settings) == 6000
            assert procs.lake_rows(settings) == 6000
            health = _health(settings)
            assert (health["received"], health["parsed"], health["kernel_drops"]) == (6000, 6000, 0)
        finally:
            procs.stop(sensor)
            procs.stop(collector)
            shutil.rmtree(spool, ignore_errors=True)


def _health(settings: Settings) -> dict[str, object]:
    return tokens.with_health(settings, [{"sensor_id": "s1"}])[0]
