"""End to end: a simulated scenario with one event of every kind, ingested into a real catalog
and lake (tmp_path), must show each injected event in the metrics and lake columns ingest makes.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from isdas.ingest import ingest_paths
from isdas.models import Cls, Key, Tag
from isdas.settings import Settings
from isdas.simulate import run
from isdas.simulate.scenario import scenario_from_dict
from isdas.store.catalog import connect
from isdas.store.queries import series
from isdas.store.writes import flush_metrics

MIX = {"JP": 0.6, "CN": 0.3, "US": 0.1}
EVENTS: list[dict[str, Any]] = [
    {"id": "step", "kind": "step", "port": 5168, "onset_hours": 20, "hours": 24,
     "magnitude": 30.0},
    {"id": "ramp", "kind": "ramp", "port": 8291, "onset_hours": 6, "hours": 36,
     "magnitude": 30.0, "ramp_hours": 12.0, "fingerprint": "zmap"},
    {"id": "worm", "kind": "logistic", "port": 7547, "onset_hours": 12, "hours": 30,
     "magnitude": 40.0, "doubling_hours": 1.3, "fingerprint": "mirai"},
    {"id": "surge", "kind": "newsource", "port": 445, "onset_hours": 26, "hours": 18,
     "magnitude": 40.0, "countries": MIX, "fingerprint": "masscan"},
    {"id": "local", "kind": "local", "port": 9999, "onset_hours": 8, "hours": 10,
     "magnitude": 12.0, "sensors": ["s03"]},
    {"id": "heavy", "kind": "heavy", "port": 6379, "onset_hours": 3, "hours": 3,
     "magnitude": 1.0, "packets_per_hour": 1500.0, "sensors": ["s01"]},
    {"id": "allport", "kind": "allport", "onset_hours": 30, "hours": 2, "magnitude": 1.0},
    {"id": "bs", "kind": "backscatter", "port": 80, "onset_hours": 14, "hours": 3,
     "magnitude": 2.0, "packets_per_hour": 300.0},
    {"id": "outage", "kind": "outage", "onset_hours": 36, "hours": 5, "magnitude": 0.0,
     "sensors": ["s02"]},
    {"id": "missing", "kind": "missing", "onset_hours": 43, "hours": 2, "magnitude": 0.0,
     "sensors": ["s03"]},
]  # fmt: skip
SCENARIO: dict[str, Any] = {
    "scenario": {"name": "e2e", "start": "2026-11-20T00:00:00Z", "days": 2},
    "background": {"sources_per_hour": 150.0, "tail_ports": 800, "research_scanners": 2,
                   "floods_per_week": 0.0},
    "sensors": [{"id": "s01", "size": 22}, {"id": "s02", "size": 24}, {"id": "s03", "size": 26}],
    "events": EVENTS,
}  # fmt: skip
Run = tuple[Settings, dict[str, Any]]


def _build(root: Path) -> None:
    out, st = root / "out", Settings(root / "home")
    run(scenario_from_dict(SCENARIO, "e2e"), out, seed=5)
    truth = json.loads((out / "truth.json").read_text())
    for s in truth["sensors"]:
        ingest_paths(st, s["id"], [out / s["id"]], addresses=[s["prefix"]], flush=False)
    flush_metrics(st)
    (root / "done").touch()


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Simulate + ingest once per test run, shared by the xdist workers through a lock."""
    base = tmp_path_factory.getbasetemp()
    # xdist workers get basetemp/popen-gwN: their common parent belongs to this run only
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "sim-e2e"
    root.mkdir(exist_ok=True)
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            _build(root)
        fcntl.flock(lock, fcntl.LOCK_UN)
    return Settings(root / "home"), json.loads((root / "out" / "truth.json").read_text())


@pytest.fixture(scope="session")
def lake(ingested: Run) -> dict[str, np.ndarray]:
    st, _ = ingested
    with connect(st, read_only=True) as con:
        paths = [str(st.lake / p) for (p,) in con.execute("SELECT path FROM parts").fetchall()]
    cols = ["ts", "sensor", "src_lo", "dst_lo", "proto", "sport", "dport", "tcp_flags"]
    cols += ["country", "cls", "tags", "ipver"]
    table = pa.concat_tables([pq.read_table(p, columns=cols) for p in paths])
    out = {c: table.column(c).to_numpy() for c in cols if c not in ("ts", "sensor", "country")}
    out["ts"] = table.column("ts").cast(pa.int64()).to_numpy() / 1e6
    out["sensor"] = np.asarray(table.column("sensor").to_pylist())
    out["country"] = np.asarray(table.column("country").to_pylist())
    out["src"] = out["src_lo"] & 0xFFFFFFFF
    return out


def _event(truth: dict[str, Any], eid: str) -> dict[str, Any]:
    return next(e for e in truth["events"] if e["id"] == eid)


def _window(ev: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(ev["onset"]), datetime.fromisoformat(ev["end"])


def _hours(ev: dict[str, Any]) -> float:
    lo, hi = _window(ev)
    return (hi - lo).total_seconds() / 3600


def _hourly(st: Settings, port: int, field: str, lo: datetime, hi: datetime) -> np.ndarray:
    rows = series(st, Key(6, port), by=None)
    return np.array([r[field] for r in rows if lo <= r["hour"] < hi], np.float64)


def _rise(st: Settings, truth: dict[str, Any], ev: dict[str, Any], skip: int = 0) -> float:
    """Mean distinct sources per hour in the event (after `skip` hours) minus before it."""
    lo, hi = _window(ev)
    during = _hourly(st, ev["port"], "sources", lo + timedelta(hours=skip), hi)
    before = _hourly(st, ev["port"], "sources", datetime.fromisoformat(truth["start"]), lo)
    return float(during.mean() - (before.mean() if len(before) else 0.0))


def test_step_rises_by_magnitude(ingested: Run) -> None:
    st, truth = ingested
    ev = _event(truth, "step")
    assert _rise(st, truth, ev) == pytest.approx(ev["magnitude"], rel=0.2)


def test_ramp_grows_linearly_then_holds(ingested: Run) -> None:
    st, truth = ingested
    ev = _event(truth, "ramp")
    lo, _ = _window(ev)
    s = _hourly(st, ev["port"], "sources", lo, lo + timedelta(hours=36))
    first, second, plateau = s[:6].mean(), s[6:12].mean(), s[12:].mean()
    assert first < second < plateau
    assert first == pytest.approx(ev["magnitude"] * 0.25, abs=6)
    assert plateau == pytest.approx(ev["magnitude"], rel=0.2)


def test_logistic_starts_small_and_saturates(ingested: Run) -> None:
    st, truth = ingested
    ev = _event(truth, "worm")
    lo, _ = _window(ev)
    s = _hourly(st, ev["port"], "sources", lo, lo + timedelta(hours=30))
    assert s[:2].mean() < 0.2 * ev["magnitude"]  # 0.5 -> 1 -> 2 sources in the first hours
    assert _rise(st, truth, ev, skip=12) == pytest.approx(ev["magnitude"], rel=0.2)


def test_newsource_surge_keeps_packets_flat(ingested: Run) -> None:
    st, truth = ingested
    ev = _event(truth, "surge")
    lo, hi = _window(ev)
    start = datetime.fromisoformat(truth["start"])
    before = _hourly(st, 445, "packets", start, lo)
    during = _hourly(st, 445, "packets", lo, hi)
    assert during.mean() == pytest.approx(before.mean(), rel=0.25)
    assert _rise(st, truth, ev) == pytest.approx(ev["magnitude"], rel=0.25)


def test_local_event_only_at_its_sensor(ingested: Run) -> None:
    st, truth = ingested
    ev = _event(truth, "local")
    lo, hi = _window(ev)
    rows = [r for r in series(st, Key(6, ev["port"]), by="sensor") if lo <= r["hour"] < hi]
    here = sum(r["sources"] for r in rows if r["sensor_id"] == "s03") / (
        (hi - lo).total_seconds() / 3600
    )
    assert here == pytest.approx(ev["magnitude"], rel=0.3)
    assert sum(r["sources"] for r in rows if r["sensor_id"] != "s03") <= 2


def _in(lk: dict[str, np.ndarray], ev: dict[str, Any], grace: float = 0.0) -> np.ndarray:
    """Rows inside the event; `grace` seconds after its end for sessions begun before it."""
    lo, hi = _window(ev)
    return (lk["ts"] >= lo.timestamp()) & (lk["ts"] < hi.timestamp() + grace)


def test_fingerprints_exactly_where_intended(ingested: Run, lake: dict[str, np.ndarray]) -> None:
    _, truth = ingested
    addr = {
        fp: {int.from_bytes(bytes(map(int, r["addr"].split("."))), "big")
             for r in truth["research_scanners"] if r["fingerprint"] == fp}
        for fp in ("zmap", "masscan")
    }  # fmt: skip
    tags, tcp = lake["tags"], (lake["proto"] == 6) & (lake["ipver"] == 4)
    for fp, tag, eid in (("zmap", Tag.ZMAP, "ramp"), ("masscan", Tag.MASSCAN, "surge")):
        ev = _event(truth, eid)
        event_rows = _in(lake, ev, grace=600) & (lake["dport"] == ev["port"]) & tcp
        research = np.isin(lake["src"], list(addr[fp])) & tcp & (lake["tcp_flags"] == 2)
        tagged = (tags & int(tag)) != 0
        mine = tagged & event_rows
        source_hours = len(np.unique(lake["src"][mine] * 1e5 + lake["ts"][mine] // 3600))
        full = _hours(ev) - (ev["ramp_hours"] or 0.0) / 2  # a ramp's mean rate is half at first
        assert source_hours == pytest.approx(ev["magnitude"] * full, rel=0.2)
        assert np.all(tagged[research])
        assert not np.any(tagged & ~event_rows & ~research)
    mirai = (tags & int(Tag.MIRAI)) != 0
    assert set(np.unique(lake["dport"][mirai])) <= {23, 2323, 37215, 52869, 5555, 7547, 81}
    worm = _event(truth, "worm")
    on_worm = _in(lake, worm) & (lake["dport"] == 7547) & tcp & (lake["tcp_flags"] == 2)
    assert mirai[on_worm].mean() > 0.8


def test_event_country_mix(ingested: Run, lake: dict[str, np.ndarray]) -> None:
    _, truth = ingested
    ev = _event(truth, "surge")
    rows = _in(lake, ev) & (lake["dport"] == 445) & ((lake["tags"] & int(Tag.MASSCAN)) != 0)
    src, first = np.unique(lake["src"][rows], return_index=True)
    cc = lake["country"][rows][first]
    assert len(src) > 400
    for country, share in MIX.items():
        assert np.mean(cc == country) == pytest.approx(share, abs=0.06)


def test_allport_sweeps_every_port(ingested: Run, lake: dict[str, np.ndarray]) -> None:
    _, truth = ingested
    rows = _in(lake, _event(truth, "allport")) & (lake["proto"] == 6)
    srcs, counts = np.unique(lake["src"][rows], return_counts=True)
    top = srcs[counts.argmax()]
    ports = np.unique(lake["dport"][rows & (lake["src"] == top)])
    assert len(ports) > 0.98 * 65535


def test_backscatter_classified_not_scan(ingested: Run, lake: dict[str, np.ndarray]) -> None:
    _, truth = ingested
    ev = _event(truth, "bs")
    rows = _in(lake, ev) & (lake["sport"] == 80) & (lake["tcp_flags"] == 0x12)
    srcs, counts = np.unique(lake["src"][rows], return_counts=True)
    victims = srcs[counts >= 0.5 * ev["packets_per_hour"] * 3]
    assert len(victims) == ev["magnitude"]
    mine = rows & np.isin(lake["src"], victims)
    assert np.all(lake["cls"][mine] == Cls.BACKSCATTER)
    assert mine.sum() >= ev["magnitude"] * ev["packets_per_hour"] * 3


def _sensor_hours(st: Settings, sensor: str) -> set[datetime]:
    with connect(st, read_only=True) as con:
        rows = con.execute(
            "SELECT hour FROM sensor_hours WHERE sensor_id = ? AND packets > 0", [sensor]
        ).fetchall()
    return {h for (h,) in rows}


@pytest.mark.parametrize("eid", ["outage", "missing"])
def test_dark_hours_have_no_packets(ingested: Run, eid: str) -> None:
    st, truth = ingested
    ev = _event(truth, eid)
    lo, hi = (t.replace(tzinfo=None) for t in _window(ev))
    seen = _sensor_hours(st, ev["sensors"][0])
    dark = {lo + timedelta(hours=i) for i in range(int((hi - lo).total_seconds() // 3600))}
    assert not seen & dark
    assert lo - timedelta(hours=1) in seen and hi in seen  # and the sensor comes back
    others = [s["id"] for s in truth["sensors"] if s["id"] != ev["sensors"][0]]
    assert all(dark <= _sensor_hours(st, o) for o in others)


def test_heavy_scanner_packets_at_one_sensor(ingested: Run, lake: dict[str, np.ndarray]) -> None:
    _, truth = ingested
    ev = _event(truth, "heavy")
    rows = _in(lake, ev) & (lake["dport"] == ev["port"])
    srcs, counts = np.unique(lake["src"][rows], return_counts=True)
    top = srcs[counts.argmax()]
    assert counts.max() >= ev["packets_per_hour"] * 3
    assert set(lake["sensor"][rows & (lake["src"] == top)]) == {"s01"}
