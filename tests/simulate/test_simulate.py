"""Simulator output: determinism, cache, valid captures, events and fingerprints visible."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import dpkt
import numpy as np
import pytest

from isdas.errors import InputError
from isdas.simulate import load_scenario, run
from isdas.simulate.scenario import scenario_from_dict

from .conftest import parse

Packets = dict[str, dict[str, np.ndarray]]


def _digest(out: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(out.rglob("*.pcap")):
        h.update(f.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_and_cache(tmp_path: Path) -> None:
    a = run("smoke", tmp_path / "a", seed=11)
    b = run("smoke", tmp_path / "b", seed=11)
    run("smoke", tmp_path / "c", seed=12)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")
    assert a.packets == b.packets and not a.cached
    again = run("smoke", tmp_path / "a", seed=11)
    assert again.cached and again.packets == a.packets


def test_truth_schema(smoke: tuple[Path, dict[str, Any]]) -> None:
    _, truth = smoke
    for key in ("scenario", "seed", "generator_version", "start", "end", "sensors", "events"):
        assert key in truth
    assert {s["id"] for s in truth["sensors"]} == set(truth["packets"])
    for ev in truth["events"]:
        assert ev["expected"] in ("global", "local", "silent", "multiport")
        assert datetime.fromisoformat(ev["onset"]) < datetime.fromisoformat(ev["end"])
        assert ev["proto"] in ("tcp", "udp")


def test_captures_valid_sorted_with_checksums(
    smoke: tuple[Path, dict[str, Any]], packets: Packets
) -> None:
    out, truth = smoke
    for sid, pk in packets.items():
        assert len(pk["ts"]) == truth["packets"][sid]
        assert np.all(np.diff(pk["ts"]) >= 0)
    with (out / "s01" / "s01.pcap").open("rb") as fh:
        for i, (_, buf) in enumerate(dpkt.pcap.Reader(fh)):
            ip = dpkt.ethernet.Ethernet(buf).data
            if isinstance(ip, dpkt.ip.IP) and i < 3000:
                raw = bytes(ip)
                assert dpkt.in_cksum(raw[:20]) == 0
                if ip.p == 6:
                    pseudo = ip.src + ip.dst + b"\x00\x06" + len(raw[20:]).to_bytes(2, "big")
                    assert dpkt.in_cksum(pseudo + raw[20:]) == 0


def test_pcapng_rotated_matches_pcap(tmp_path: Path) -> None:
    t = run("smoke", tmp_path / "ng", seed=7, fmt="pcapng", rotate_daily=True)
    files = sorted((tmp_path / "ng" / "s02").glob("s02-*.pcapng"))
    assert [f.name for f in files] == ["s02-20261120.pcapng", "s02-20261121.pcapng"]
    total = sum(len(parse(f)["ts"]) for f in files)
    assert total == t.packets["s02"]


def _sources_per_hour(
    pk: Packets, port: int, lo: datetime, hi: datetime, sensors: list[str] | None = None
) -> float:
    srcs: set[tuple[int, int]] = set()
    a, b = lo.timestamp(), hi.timestamp()
    for sid, p in pk.items():
        if sensors and sid not in sensors:
            continue
        m = (p["dport"] == port) & (p["proto"] == 6) & (p["ts"] >= a) & (p["ts"] < b)
        srcs |= set(
            zip(p["src"][m].tolist(), ((p["ts"][m] - a) // 3600).astype(int).tolist(), strict=True)
        )
    return len(srcs) / ((b - a) / 3600)


def test_injected_events_visible(smoke: tuple[Path, dict[str, Any]], packets: Packets) -> None:
    _, truth = smoke
    for ev in truth["events"]:
        lo, hi = datetime.fromisoformat(ev["onset"]), datetime.fromisoformat(ev["end"])
        if ev["kind"] == "step":
            during = _sources_per_hour(packets, ev["port"], lo, hi)
            before = _sources_per_hour(
                packets, ev["port"], datetime.fromisoformat(truth["start"]), lo
            )
            assert during - before == pytest.approx(ev["magnitude"], rel=0.25)
        if ev["kind"] == "local":
            here = _sources_per_hour(packets, ev["port"], lo, hi, ev["sensors"])
            others = [s for s in packets if s not in ev["sensors"]]
            assert here == pytest.approx(ev["magnitude"], rel=0.3)
            assert _sources_per_hour(packets, ev["port"], lo, hi, others) < 1.0
        if ev["kind"] == "heavy":
            p = packets[ev["sensors"][0]]
            m = (
                (p["dport"] == ev["port"])
                & (p["ts"] >= lo.timestamp())
                & (p["ts"] < hi.timestamp())
            )
            hours = (hi - lo).total_seconds() / 3600
            assert m.sum() / hours >= 0.9 * ev["packets_per_hour"]


def test_fingerprints_exactly_where_meant(
    smoke: tuple[Path, dict[str, Any]], packets: Packets
) -> None:
    _, truth = smoke
    zmap = {
        int.from_bytes(bytes(map(int, s["addr"].split("."))), "big")
        for s in truth["research_scanners"]
        if s["fingerprint"] == "zmap"
    }
    masscan = {
        int.from_bytes(bytes(map(int, s["addr"].split("."))), "big")
        for s in truth["research_scanners"]
        if s["fingerprint"] == "masscan"
    }
    heavy = next(e for e in truth["events"] if e["kind"] == "heavy")
    hp = packets[heavy["sensors"][0]]
    on_port = hp["src"][hp["dport"] == heavy["port"]]
    masscan.add(
        int(
            np.bincount(np.unique(on_port, return_inverse=True)[1]).argmax() * 0
            + np.unique(on_port)[np.bincount(np.unique(on_port, return_inverse=True)[1]).argmax()]
        )
    )
    n_mirai = 0
    for p in packets.values():
        v4tcp = (p["ipver"] == 4) & (p["proto"] == 6)
        is_zmap = np.isin(p["src"], list(zmap))
        assert np.array_equal((p["ipid"] == 54321) & v4tcp, is_zmap & v4tcp)
        mass = ((p["dst"] ^ p["dport"] ^ p["seq"]) & 0xFFFF) == p["ipid"]
        from_mass = np.isin(p["src"], list(masscan))
        assert np.array_equal(mass & v4tcp, from_mass & v4tcp)
        mirai = v4tcp & (p["seq"] == p["dst"])
        assert np.isin(p["dport"][mirai], [23, 2323, 37215, 52869, 5555, 7547, 81]).all()
        n_mirai += int(mirai.sum())
    assert n_mirai > 50


def test_retransmissions_follow_rto(packets: Packets) -> None:
    p = packets["s01"]
    syn = (p["proto"] == 6) & (p["flags"] == 2) & (p["ipver"] == 4)
    key = p["src"][syn] * (1 << 32) + p["seq"][syn]
    order = np.lexsort((p["ts"][syn], key))
    k, t = key[order], p["ts"][syn][order]
    same = k[1:] == k[:-1]
    gaps = np.diff(t)[same]
    gaps = gaps[gaps < 12]  # the same (src, seq) much later is another probe (Mirai: seq = dst)
    assert same.mean() > 0.1  # a good share of probes are retransmitted
    assert np.all(
        np.isin(np.round(gaps), [1, 2, 3, 6])
    )  # gaps of +1 s, +3 s (Linux RTO 1 s) or +3 s, +9 s (3 s)
    assert np.mean(np.abs(gaps - np.round(gaps)) < 0.0025) > 0.99  # jitter of at most 2 ms


def test_port_popularity_heavy_tailed(packets: Packets) -> None:
    srcs: dict[int, set[int]] = {}
    for p in packets.values():
        scan = (p["proto"] == 6) & (p["flags"] == 2)
        for port, s in zip(p["dport"][scan].tolist(), p["src"][scan].tolist(), strict=True):
            srcs.setdefault(port, set()).add(s)
    counts = np.sort([len(v) for v in srcs.values()])[::-1]
    assert len(counts) > 200  # a long tail of ports
    assert counts[:5].sum() > 0.3 * counts.sum()  # a handful dominate
    assert set(sorted(srcs, key=lambda k: -len(srcs[k]))[:6]) & {23, 445, 22}


@pytest.mark.parametrize(
    "bad",
    [
        {"events": [{"kind": "nope"}]},
        {"sensors": [{"id": "a", "size": 8}]},
        {"events": [{"kind": "step", "port": 70000}]},
        {"events": [{"kind": "local", "sensors": ["zz"]}]},
        {"background": {"unknown": 1}},
    ],
)
def test_bad_scenarios_raise_input_error(bad: dict[str, Any]) -> None:
    raw: dict[str, Any] = {"sensors": [{"id": "a", "size": 24}], **bad}
    with pytest.raises(InputError):
        scenario_from_dict(raw, "bad")


def test_toml_scenario_and_presets(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[scenario]\nstart = "2026-01-01T00:00:00Z"\ndays = 1\n'
        '[[sensors]]\nid = "x"\nprefix = "198.18.4.0/24"\n'
        '[[events]]\nkind = "logistic"\nport = 7547\nonset_hours = 2\nhours = 10\n'
        "magnitude = 30\ndoubling_hours = 1.3\ncountries = {JP = 0.6, CN = 0.4}\n"
    )
    sc = load_scenario(path)
    assert sc.sensors[0].addresses == 256 and sc.events[0].doubling_hours == 1.3
    demo = load_scenario("demo")
    assert len(demo.sensors) >= 12 and (demo.end - demo.start).days == 35
    sizes = {s.addresses for s in demo.sensors}
    assert 1 in sizes and 4096 in sizes
    with pytest.raises(InputError):
        load_scenario("no-such-preset")
