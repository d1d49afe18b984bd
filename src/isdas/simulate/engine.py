"""The simulation run: day by day, sessions -> probes -> packets -> one capture per sensor,
then truth.json. Also the cache check (same scenario, seed and generator version: no work).

Stage: simulate. Writes only inside the output directory given; must not touch the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np

from isdas.errors import InputError
from isdas.simulate import truth as truth_mod
from isdas.simulate.background import (
    PortModel,
    backscatter_sessions,
    port_model,
    research_scanners,
    research_sessions,
    scan_sessions,
    sensor_weights,
)
from isdas.simulate.events import drop_dark, event_sessions, flatten_surges, resolve
from isdas.simulate.headers import expand_packets
from isdas.simulate.pcapout import CaptureWriter
from isdas.simulate.pools import Pools, build_pools
from isdas.simulate.scenario import Scenario
from isdas.simulate.traffic import US, Cols, concat, expand_probes, sessions, take
from isdas.simulate.truth import Truth

log = logging.getLogger(__name__)
GENERATOR_VERSION = "1.0"
Progress = Callable[[int, int], None]


def _net(sc: Scenario) -> Cols:
    base = [int(s.network.network_address) for s in sc.sensors]
    return {
        "base": np.array(base, np.uint32),
        "size": np.array([s.addresses for s in sc.sensors], np.uint32),
    }


def _event_weights(sc: Scenario, sess: Cols, base: np.ndarray) -> np.ndarray:
    ids = [s.id for s in sc.sensors]
    w = np.tile(base, (len(sess["t0"]), 1))
    for idx, ev in enumerate(sc.events):
        mask = np.isin(np.arange(len(ids)), [ids.index(s) for s in ev.sensors])
        w[sess["origin"] == idx] *= mask
    return w


def day_packets(
    sc: Scenario, pm: PortModel, pools: Pools, seed: int, day0: datetime, hours: int
) -> Cols:
    """Every packet of one day (all sensors), unsorted, header fields filled."""
    rng = np.random.default_rng([seed, 10, int(day0.timestamp()) // 86400])
    bg, w_bg = scan_sessions(pm, sc, pools, seed, day0, hours, rng)
    ctx: dict[str, object] = {"pools": pools, "seed": seed}
    other = [research_sessions(pm, sc, pools, seed, day0, hours, rng)]
    other.append(backscatter_sessions(sc, pools, day0, hours, rng))
    other += [event_sessions(ev, i, sc, ctx, day0, hours, rng) for i, ev in enumerate(sc.events)]
    rest = concat(other) if other else sessions(0)
    w_rest = _event_weights(sc, rest, sensor_weights(sc))
    sess, weights = concat([bg, rest]), np.concatenate([w_bg, w_rest])
    probes = expand_probes(rng, sess, weights, _net(sc))
    pk = expand_packets(rng, probes, seed)
    pk = drop_dark(pk, sc)
    return flatten_surges(pk, sc, rng) if len(pk["ts"]) else pk


def _cached(out: Path, sc: Scenario, seed: int) -> Truth | None:
    path = out / "truth.json"
    if not path.is_file():
        return None
    try:
        old = truth_mod.read(path)
    except InputError:
        return None
    same = old.digest == sc.digest() and old.seed == seed
    files = [out / f for fs in old.data.get("files", {}).values() for f in fs]
    if same and old.generator_version == GENERATOR_VERSION and all(f.is_file() for f in files):
        return replace(old, cached=True)
    return None


class _Files:
    """The open capture files, one per sensor (one per sensor and day when rotating)."""

    def __init__(self, out: Path, sc: Scenario, fmt: str, rotate: bool) -> None:
        self.out, self.sc, self.fmt, self.rotate = out, sc, fmt, rotate
        self.writers: dict[int, tuple[BinaryIO, CaptureWriter]] = {}
        self.files: dict[str, list[str]] = {s.id: [] for s in sc.sensors}
        self.packets: dict[str, int] = {s.id: 0 for s in sc.sensors}

    def open_day(self, day0: datetime) -> None:
        if self.writers and not self.rotate:
            return
        self.close()
        for i, s in enumerate(self.sc.sensors):
            suffix = f"-{day0:%Y%m%d}" if self.rotate else ""
            rel = f"{s.id}/{s.id}{suffix}.{self.fmt}"
            (self.out / s.id).mkdir(parents=True, exist_ok=True)
            fh = (self.out / rel).open("wb")
            v6 = ((0x20010DB8 << 32) | ((i + 1) << 16), int(s.network.network_address))
            self.writers[i] = (fh, CaptureWriter(fh, self.fmt, v6))
            self.files[s.id].append(rel)

    def write(self, pk: Cols) -> None:
        order = np.lexsort((pk["ts"], pk["sensor"]))
        pk = take(pk, order)
        bounds = np.searchsorted(pk["sensor"], np.arange(len(self.sc.sensors) + 1))
        for i, s in enumerate(self.sc.sensors):
            part = take(pk, slice(bounds[i], bounds[i + 1]))
            self.writers[i][1].write(part)
            self.packets[s.id] += bounds[i + 1] - bounds[i]

    def close(self) -> None:
        for fh, _ in self.writers.values():
            fh.close()
        self.writers = {}


def _days(sc: Scenario) -> list[tuple[datetime, int]]:
    out, t = [], sc.start
    while t < sc.end:
        nxt = min(t.replace(hour=0) + timedelta(days=1), sc.end)
        out.append((t, int((nxt - t).total_seconds() // 3600)))
        t = nxt
    return out


def simulate(
    sc: Scenario,
    out: Path,
    seed: int,
    *,
    fmt: str = "pcap",
    rotate_daily: bool = False,
    progress: Progress | None = None,
) -> Truth:
    """Generate `sc` into `out` (cached if the same run is already there); returns the truth."""
    if fmt not in ("pcap", "pcapng"):
        raise InputError(f"format must be pcap or pcapng, not {fmt!r}")
    sc = resolve(sc, seed)
    old = _cached(out, sc, seed)
    if old is not None:
        log.info("simulation in %s is cached", out)
        return old
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth.json").unlink(missing_ok=True)
    pools, pm = build_pools(seed), port_model(sc, seed)
    files, carry, days = _Files(out, sc, fmt, rotate_daily), None, _days(sc)
    end_us = int(sc.end.timestamp()) * US
    try:
        for d, (day0, hours) in enumerate(days):
            pk = day_packets(sc, pm, pools, seed, day0, hours)
            pk = concat([carry, pk]) if carry is not None else pk
            cut = int((day0 + timedelta(hours=hours)).timestamp()) * US
            carry = take(pk, (pk["ts"] >= cut) & (pk["ts"] < end_us))
            files.open_day(day0)
            files.write(take(pk, pk["ts"] < cut))
            if progress:
                progress(d + 1, len(days))
    finally:
        files.close()
    addrs, fps = research_scanners(sc, pools, seed)
    scanners = [{"addr": _dotted(int(a)), "fingerprint": {2: "zmap", 3: "masscan"}[int(f)]}
                for a, f in zip(addrs, fps, strict=True)]  # fmt: skip
    extra = {"packets": {k: int(v) for k, v in files.packets.items()}, "files": files.files,
             "research_scanners": scanners, "format": fmt}  # fmt: skip
    result = truth_mod.build(sc, seed, GENERATOR_VERSION, extra)
    truth_mod.write(result, out / "truth.json")
    return result


def _dotted(a: int) -> str:
    return f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}"
