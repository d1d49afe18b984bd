"""`isdas sources`: per-source scan profiles through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_foundation_cli import T0, isdas
from tests.pcapbuild import Pkt, write_pcap


def test_all_port_focused_and_horizontal_sources_are_told_apart(tmp_path: Path) -> None:
    pkts = [Pkt(T0 + i, "203.0.113.9", "198.18.0.1", dport=1000 + i) for i in range(150)]
    pkts += [Pkt(T0 + i, "1.0.16.5", f"198.18.0.{i + 1}", dport=445) for i in range(40)]
    pkts += [Pkt(T0 + i, "218.30.0.1", "198.18.0.2", dport=p) for i, p in enumerate((22, 23))]
    home = tmp_path / "home"
    done = isdas(home, "ingest", "--sensor", "s1", "--addresses", "198.18.0.0/24",
                 str(write_pcap(tmp_path / "a.pcap", pkts)))  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(isdas(home, "sources", "--json").stdout)
    by = {r["source"]: r for r in out["sources"]}
    assert by["203.0.113.9"]["profile"] == "all-port"
    assert by["203.0.113.9"]["ports"] == 150
    assert (by["1.0.16.5"]["profile"], by["1.0.16.5"]["max_targets"]) == ("port-focused", 40)
    assert by["1.0.16.5"]["horizontal"] is True  # 40 targets >= max(10, 100 * 256 / 2**24)
    assert by["218.30.0.1"]["horizontal"] is False
    assert out["summary"] | {"since": "", "until": ""} == {
        "since": "", "until": "", "sources": 3, "port_focused": 2, "all_port": 1,
        "horizontal": 1, "monitored_addresses": 256, "horizontal_threshold": 10,
    }  # fmt: skip
    only = json.loads(isdas(home, "sources", "--port", "445", "--json").stdout)["sources"]
    assert [r["source"] for r in only] == ["1.0.16.5"]
    table = isdas(home, "sources", "--top", "1")
    assert table.returncode == 0 and "3 scanning sources" in table.stdout
