"""Live capture proofs on a veth pair in a test-made namespace: every packet sent is stored,
counted, and the counters survive a sensor restart."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from isdas.sensor.state import STATE_FILE
from isdas.settings import Settings
from isdas.store import tokens
from tests.pcapbuild import Pkt, write_pcap
from tests.sensor import netns, procs


@dataclass
class Rig:
    """A collector, a registered sensor's config and its spool, on one veth pair."""

    settings: Settings
    link: netns.Link
    config: Path
    spool: Path

    def health(self) -> dict[str, object]:
        return tokens.with_health(self.settings, [{"sensor_id": "s1"}])[0]

    def stored(self) -> int:
        return procs.stored_packets(self.settings)

    def saved(self) -> dict[str, object]:
        return dict(json.loads((self.spool / STATE_FILE).read_text()))


@contextmanager
def rig(tmp_path: Path) -> Iterator[Rig]:
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
        try:
            yield Rig(settings, link, config, spool)
        finally:
            procs.stop(collector)
            shutil.rmtree(spool, ignore_errors=True)


def wait_up(r: Rig, restarts: int) -> None:
    """The sensor captures (its counters are loaded) and the collector heard from it."""
    before = r.health()["heartbeat_at"]
    procs.wait_for(
        lambda: (r.spool / STATE_FILE).exists() and r.saved()["restarts"] == restarts,
        120, "sensor to start",
    )  # fmt: skip
    procs.wait_for(lambda: r.health()["heartbeat_at"] not in (None, before), 60, "a heartbeat")


def wait_delivered(r: Rig, total: int) -> None:
    procs.wait_for(lambda: r.stored() >= total, 150, f"{total} events stored")
    procs.wait_for(lambda: r.health()["shipped"] == total, 20, "heartbeat after shipping")


def replay(link: netns.Link, pcap: Path, loops: int, pps: int) -> int:
    """tcpreplay `pcap` `loops` times at `pps` from the namespace; the packets it sent."""
    cmd = ["ip", "netns", "exec", link.ns, "tcpreplay", "-i", link.far, f"--pps={pps}",
           f"--loop={loops}", "--preload-pcap", str(pcap)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    sent = re.search(r"Successful packets:\s+(\d+)", out)
    assert sent is not None, out
    return int(sent.group(1))


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a live process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def mixed_pcap(path: Path, count: int) -> Path:
    """`count` distinct frames: IPv4 and IPv6; TCP, UDP and ICMP."""
    pkts = []
    for i in range(count):
        v6, proto = i % 4 == 0, ("tcp", "udp", "icmp")[i % 3]
        src = f"2001:db8:1::{i + 1:x}" if v6 else f"203.0.113.{i % 250 + 1}"
        dst = "2001:db8:ffff::7" if v6 else "192.0.2.7"
        pkts.append(Pkt(ts=i * 1e-4, src=src, dst=dst, proto=proto, sport=1024 + i,
                        dport=8 if proto == "icmp" else i))  # fmt: skip
    return write_pcap(path, pkts)


@pytest.mark.slow
def test_live_sensor_delivers_exactly_the_packets_sent(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        sensor = procs.start_sensor(r.config)
        try:
            wait_up(r, 0)
            netns.send_frames(r.link, 6000)
            wait_delivered(r, 6000)
            assert procs.stored_packets(r.settings) == 6000
            assert procs.lake_rows(r.settings) == 6000
            health = r.health()
            assert (health["received"], health["parsed"], health["kernel_drops"]) == (6000, 6000, 0)
        finally:
            procs.stop(sensor)


@pytest.mark.slow
def test_replay_is_counted_exactly_and_counters_survive_a_restart(tmp_path: Path) -> None:
    if shutil.which("tcpreplay") is None:
        pytest.skip("tcpreplay is not installed (scripts/system-deps.sh installs it)")
    pcap = mixed_pcap(tmp_path / "replay.pcap", 5000)
    with rig(tmp_path) as r:
        sensor = procs.start_sensor(r.config)
        try:
            wait_up(r, 0)
            first = replay(r.link, pcap, 8, 100_000)
            assert first == 40_000
            wait_delivered(r, first)
            health = r.health()
            assert (health["received"], health["parsed"]) == (first, first)
            assert health["kernel_drops"] == 0
            assert peak_rss_mb(sensor.pid) < 200  # the memory target
            assert "llvmlite" not in Path(f"/proc/{sensor.pid}/maps").read_text()  # no JIT
            procs.kill9(sensor)  # no clean shutdown: what was saved on the way must suffice
            sensor = procs.start_sensor(r.config)
            wait_up(r, 1)
            assert r.health()["received"] == first  # the new process goes on from there
            second = replay(r.link, pcap, 2, 100_000)
            wait_delivered(r, first + second)
            health = r.health()
            total = first + second
            assert (health["received"], health["parsed"], health["spooled"]) == (total,) * 3
            assert (health["kernel_drops"], health["rejected"], health["spool_dropped"]) == (0,) * 3
            assert procs.lake_rows(r.settings) == total
        finally:
            procs.stop(sensor)
        saved = r.saved()
        assert (saved["received"], saved["shipped"], saved["restarts"]) == (total, total, 1)
