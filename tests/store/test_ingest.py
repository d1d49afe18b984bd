"""Ingest -> lake -> metrics: numbers equal a brute-force recount from the lake; re-ingest and
crash recovery never double count."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from isdas.ingest import ingest_paths
from isdas.settings import Settings
from isdas.store.catalog import connect
from tests.pcapbuild import Pkt, write_pcap

T0 = 1_763_900_000.0  # 2025-11-23 12:13:20 UTC
SOURCES = [
    "1.0.16.1",
    "8.8.8.8",
    "218.30.0.1",
    "193.0.6.139",
    "5.255.255.5",
    "200.160.2.3",
    "2001:4860:4860::8888",
    "240e::1",
]


def random_packets(rng: random.Random, n: int, dst_net: str) -> list[Pkt]:
    out = []
    for _ in range(n):
        src = rng.choice(SOURCES)
        v6 = ":" in src
        dst = f"2001:db8::{rng.randrange(1, 9)}" if v6 else f"{dst_net}.{rng.randrange(1, 9)}"
        proto = rng.choice(["tcp", "tcp", "tcp", "udp", "icmp"])
        flags = rng.choice([0x02, 0x02, 0x12, 0x04, 0x10])
        dport = rng.choice([8, 0, 3, 128]) if proto == "icmp" else rng.choice([23, 445, 22, 5168])
        out.append(Pkt(T0 + rng.uniform(0, 3 * 3600), src, dst, proto, dport=dport, flags=flags))
    return out


def lake_rows(settings: Settings) -> list[dict[str, Any]]:
    with connect(settings) as con:
        paths = [settings.lake / p for (p,) in con.execute("SELECT path FROM parts").fetchall()]
    rows: list[dict[str, Any]] = []
    for p in paths:
        rows.extend(pq.read_table(p).to_pylist())
    return rows


CLS = {0: "other", 1: "scan", 2: "backscatter"}


def recount(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[Any, ...], tuple[int, ...]]]:
    per_sensor: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, set(), set()])
    per_port: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, set(), set()])
    per_cc: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, set()])
    active: dict[Any, set[str]] = defaultdict(set)
    for r in rows:
        hour = r["ts"].replace(minute=0, second=0, microsecond=0, tzinfo=None)
        port = r["icmp_type"] if r["proto"] in (1, 58) else r["dport"]
        key = (hour, r["proto"], port, CLS[r["cls"]])
        src = (r["src_hi"], r["src_lo"])
        s = per_sensor[(hour, r["sensor"], *key[1:])]
        s[0] += 1
        s[1].add(src)
        s[2].add((r["dst_hi"], r["dst_lo"]))
        p = per_port[key]
        p[0] += 1
        p[1].add(src)
        p[2].add(r["sensor"])
        c = per_cc[(*key, r["country"])]
        c[0] += 1
        c[1].add(src)
        active[hour].add(r["sensor"])
    return {
        "sensor": {k: (v[0], len(v[1]), len(v[2])) for k, v in per_sensor.items()},
        "port": {k: (v[0], len(v[1]), len(v[2]), len(active[k[0]])) for k, v in per_port.items()},
        "country": {k: (v[0], len(v[1])) for k, v in per_cc.items()},
    }


def stored(settings: Settings) -> dict[str, dict[tuple[Any, ...], tuple[int, ...]]]:
    with connect(settings) as con:
        sensor = con.execute(
            "SELECT hour, sensor_id, proto, port, cls, packets, sources, targets"
            " FROM metrics_sensor"
        ).fetchall()
        port = con.execute(
            "SELECT hour, proto, port, cls, packets, sources, sensors, active_sensors"
            " FROM metrics_port"
        ).fetchall()
        cc = con.execute(
            "SELECT hour, proto, port, cls, country, packets, sources FROM metrics_country"
        ).fetchall()
    return {
        "sensor": {tuple(r[:5]): tuple(r[5:]) for r in sensor},
        "port": {tuple(r[:4]): tuple(r[4:]) for r in port},
        "country": {tuple(r[:5]): tuple(r[5:]) for r in cc},
    }


@pytest.fixture
def two_sensors(tmp_path: Path) -> dict[str, list[Path]]:
    rng = random.Random(7)
    files: dict[str, list[Path]] = {}
    for i, sensor in enumerate(["s1", "s2"]):
        files[sensor] = [
            write_pcap(tmp_path / f"{sensor}-{j}.pcap", random_packets(rng, 400, f"198.18.{i}"))
            for j in range(2)
        ]
    return files


def test_metrics_equal_brute_force_recount(
    settings: Settings, two_sensors: dict[str, list[Path]]
) -> None:
    for sensor, paths in two_sensors.items():
        report = ingest_paths(settings, sensor, paths)
        assert report.outcome == "ok"
        assert report.packets == 800
    rows = lake_rows(settings)
    assert len(rows) == 1600
    assert stored(settings) == recount(rows)
    with connect(settings) as con:
        mean = con.execute(
            "SELECT count(*) FROM metrics_port"
            " WHERE abs(mean_per_sensor - packets / active_sensors) > 1e-9"
        ).fetchone()
    assert mean == (0,)


def test_countries_and_classes_derived(settings: Settings, tmp_path: Path) -> None:
    pkts = [
        Pkt(T0, "1.0.16.1", "198.18.0.1", "tcp", dport=445, flags=0x02),
        Pkt(T0 + 1, "218.30.0.1", "198.18.0.1", "tcp", dport=445, flags=0x12),
        Pkt(T0 + 2, "10.1.2.3", "198.18.0.1", "udp", dport=53),
        Pkt(T0 + 3, "240e::1", "2001:db8::1", "icmp", dport=128),
    ]
    ingest_paths(settings, "jp1", [write_pcap(tmp_path / "a.pcap", pkts)])
    rows = sorted(lake_rows(settings), key=lambda r: r["ts"])
    assert [r["country"] for r in rows] == ["JP", "CN", "ZZ", "CN"]
    assert [CLS[r["cls"]] for r in rows] == ["scan", "backscatter", "scan", "scan"]


def test_reingest_changes_nothing(settings: Settings, two_sensors: dict[str, list[Path]]) -> None:
    ingest_paths(settings, "s1", two_sensors["s1"])
    before = stored(settings)
    again = ingest_paths(settings, "s1", two_sensors["s1"])
    assert [f.status for f in again.files] == ["already", "already"]
    assert again.packets == 0
    assert stored(settings) == before
    assert len(lake_rows(settings)) == 800


def test_overlapping_files_of_one_sensor_recount_the_shared_hours(
    settings: Settings, two_sensors: dict[str, list[Path]]
) -> None:
    # the two files of s1 cover the same hours: the second must add to, not replace, the first
    ingest_paths(settings, "s1", two_sensors["s1"][:1])
    ingest_paths(settings, "s1", two_sensors["s1"][1:])
    assert stored(settings) == recount(lake_rows(settings))


def test_sensor_registered_with_addresses(
    settings: Settings, two_sensors: dict[str, list[Path]]
) -> None:
    from isdas.store.queries import sensor_list

    ingest_paths(settings, "s1", two_sensors["s1"])
    ingest_paths(settings, "s2", two_sensors["s2"], addresses=["198.18.1.0/24"])
    rows = {r["sensor_id"]: r for r in sensor_list(settings)}
    assert rows["s2"]["addresses"] == 256
    assert 1 <= rows["s1"]["addresses"] <= 16  # distinct destinations seen (8 v4 + 8 v6 at most)
    assert rows["s1"]["packets"] == 800
    assert rows["s1"]["first_seen"] < rows["s1"]["last_seen"]


def test_kill_9_during_ingest_leaves_store_consistent(settings: Settings, tmp_path: Path) -> None:
    rng = random.Random(3)
    big = write_pcap(tmp_path / "big.pcap", random_packets(rng, 60_000, "198.18.5"))
    small = write_pcap(tmp_path / "small.pcap", random_packets(rng, 300, "198.18.5"))
    ingest_paths(settings, "k", [small])
    env = {**os.environ, "ISDAS_HOME": str(settings.home)}
    cmd = [sys.executable, "-m", "isdas", "ingest", "--sensor", "k", str(big)]
    for delay in (0.5, 1.0, 1.6):
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # whatever state the kill left, the registered data is self-consistent
        assert stored(settings) == recount(lake_rows(settings))
    report = ingest_paths(settings, "k", [big, small])
    assert {f.status for f in report.files} <= {"ingested", "already"}
    rows = lake_rows(settings)
    assert len(rows) == 60_300
    assert stored(settings) == recount(rows)


def test_research_networks_tagged_at_ingest(settings: Settings, tmp_path: Path) -> None:
    from isdas.models import Tag

    settings.home.mkdir(parents=True)
    settings.research_networks.write_text("193.0.6.0/24 example-research  # a comment\n")
    pkts = [
        Pkt(T0, "193.0.6.139", "198.18.0.1", dport=443),
        Pkt(T0 + 1, "8.8.8.8", "198.18.0.1", dport=443),
    ]
    ingest_paths(settings, "r1", [write_pcap(tmp_path / "r.pcap", pkts)])
    rows = sorted(lake_rows(settings), key=lambda r: r["ts"])
    assert [bool(r["tags"] & Tag.RESEARCH) for r in rows] == [True, False]


def test_collector_batches_then_a_file_ingest_recount_exactly(
    settings: Settings, two_sensors: dict[str, list[Path]]
) -> None:
    # batches registered the collector's way only leave dirty marks; the flush that ends a
    # file ingest of another sensor in the same hours recounts them too
    import numpy as np

    from isdas.ingest import prepare_batch
    from isdas.store import writes
    from tests.serve.test_collector_metrics import mixed_batch

    rng = np.random.default_rng(9)
    batches = [
        prepare_batch(settings, "c1", mixed_batch(rng, 300, int(T0 * 1e6)), f"b-c1-{i}", f"{i}")
        for i in range(3)
    ]
    again = prepare_batch(settings, "c1", mixed_batch(rng, 300, int(T0 * 1e6)), "b-c1-0", "0")
    assert writes.register_batches(settings, [*batches, again]) == [True, True, True, False]
    assert writes.register_batches(settings, [batches[0]]) == [False]  # already registered
    assert stored(settings) != recount(lake_rows(settings))  # deferred
    report = ingest_paths(settings, "s1", two_sensors["s1"])
    assert report.outcome == "ok"
    rows = lake_rows(settings)
    assert len(rows) == 900 + 800
    assert stored(settings) == recount(rows)
