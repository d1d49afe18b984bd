"""The foundation commands through the real entry point (`python -m isdas`)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pcapbuild import Pkt, write_pcap

T0 = 1_763_900_000.0


def isdas(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ISDAS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "isdas", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def captures(tmp_path: Path) -> dict[str, Path]:
    scans = [Pkt(T0 + i, f"1.0.16.{i % 7 + 1}", "198.18.0.1", dport=445) for i in range(30)]
    scans += [Pkt(T0 + 3600 + i, "218.30.0.1", "198.18.0.2", dport=23) for i in range(5)]
    scans += [Pkt(T0 + i, "8.8.8.8", "198.18.0.3", "udp", dport=53) for i in range(3)]
    full = write_pcap(tmp_path / "a.pcap", scans)
    data = full.read_bytes()
    (tmp_path / "trunc.pcap").write_bytes(data[: len(data) - 10])
    (tmp_path / "garbage.pcap").write_bytes(b"this is not a capture at all" * 10)
    return {"full": full, "trunc": tmp_path / "trunc.pcap", "garbage": tmp_path / "garbage.pcap"}


def test_ingest_then_ports_json_and_csv(tmp_path: Path, captures: dict[str, Path]) -> None:
    home = tmp_path / "home"
    done = isdas(home, "ingest", "--sensor", "s1", str(captures["full"]))
    assert done.returncode == 0, done.stderr
    assert "38 packets stored" in done.stderr
    ports = json.loads(isdas(home, "ports", "--json").stdout)
    assert [(p["proto"], p["port"], p["packets"], p["sources"]) for p in ports] == [
        ("tcp", 445, 30, 7),
        ("tcp", 23, 5, 1),
        ("udp", 53, 3, 1),
    ]
    assert abs(sum(p["share"] for p in ports) - 1.0) < 1e-9
    rows = list(csv.DictReader(io.StringIO(isdas(home, "ports", "--csv", "--proto", "udp").stdout)))
    assert [(r["proto"], r["port"], r["packets"]) for r in rows] == [("udp", "53", "3")]


def test_series_by_country_and_sensor_list(tmp_path: Path, captures: dict[str, Path]) -> None:
    home = tmp_path / "home"
    isdas(home, "ingest", "--sensor", "s1", "--addresses", "198.18.0.0/24", str(captures["full"]))
    series = json.loads(isdas(home, "series", "tcp/445", "--json").stdout)
    assert sum(r["packets"] for r in series) == 30
    assert all(r["hour"].endswith("Z") for r in series)
    by_cc = json.loads(isdas(home, "series", "tcp/23", "--by", "country", "--json").stdout)
    assert [(r["country"], r["packets"]) for r in by_cc] == [("CN", 5)]
    sensors = json.loads(isdas(home, "sensor", "list", "--json").stdout)
    assert [(s["sensor_id"], s["addresses"], s["packets"]) for s in sensors] == [("s1", 256, 38)]


def test_exit_codes_and_messages(tmp_path: Path, captures: dict[str, Path]) -> None:
    home = tmp_path / "home"
    partial = isdas(home, "ingest", "--sensor", "s1", str(captures["trunc"]))
    assert partial.returncode == 10, partial.stderr
    assert "trunc.pcap" in partial.stderr and "byte" in partial.stderr
    assert "37 packets stored" in partial.stderr
    bad = isdas(home, "ingest", "--sensor", "s1", str(captures["garbage"]))
    assert bad.returncode == 3
    assert "garbage.pcap" in bad.stderr
    again = isdas(home, "ingest", "--sensor", "s1", str(captures["trunc"]))
    assert again.returncode == 0 and "already ingested" in again.stderr
    missing = isdas(home, "series", "tcp/99999")
    assert missing.returncode == 2 and "not a port key" in missing.stderr
    assert "Traceback" not in missing.stderr + bad.stderr + partial.stderr
