"""Labelled events: their source-rate curves, their sessions for one day, and the packet
filters some of them need (outage, missing hours, flat totals of a new-source surge).

Stage: simulate. Must not write files; the curves here define the ground truth magnitudes.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from isdas.simulate.pools import BACKGROUND_MIX, Pools, draw_sources, mix_weights
from isdas.simulate.scenario import EventSpec, Scenario
from isdas.simulate.traffic import (
    FP_MASSCAN,
    FP_MIRAI,
    FP_ZMAP,
    SYNACK,
    US,
    Cols,
    sessions,
    take,
)

FP_CODES = {None: 0, "mirai": FP_MIRAI, "zmap": FP_ZMAP, "masscan": FP_MASSCAN}
HOUR = 3600 * US
SCANNING = ("step", "ramp", "logistic", "newsource", "local")


def rate_at(ev: EventSpec, hours_since_onset: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Injected sources per hour at the given times (0 before onset)."""
    t, a = np.maximum(hours_since_onset, 0.0), ev.magnitude
    if ev.kind == "ramp":
        r = a * np.minimum(1.0, t / max(ev.ramp_hours, 1e-9))
    elif ev.kind == "logistic":
        tau = ev.doubling_hours or 6.0
        r = a / (1 + (a / 0.5 - 1) * np.exp(-t * math.log(2) / tau))
    else:
        r = np.full_like(t, a)
    out: npt.NDArray[np.float64] = np.where(hours_since_onset >= 0, r, 0.0)
    return out


def resolve(sc: Scenario, seed: int) -> Scenario:
    """Fill defaults (sensors of one-sensor kinds, sensor lists of global kinds) and add the
    planned spoofed floods, so that truth.json states every choice."""
    largest = max(sc.sensors, key=lambda s: s.addresses).id
    ids = tuple(s.id for s in sc.sensors)
    events = []
    for ev in sc.events:
        if ev.kind in ("local", "heavy", "outage", "missing", "flood") and not ev.sensors:
            ev = replace(ev, sensors=(largest,))
        elif not ev.sensors:
            ev = replace(ev, sensors=ids)
        events.append(ev)
    return replace(sc, events=tuple(events) + _floods(sc, seed, len(events)))


def _floods(sc: Scenario, seed: int, first: int) -> tuple[EventSpec, ...]:
    rng = np.random.default_rng([seed, 3])
    n = int(rng.poisson(sc.background.floods_per_week * sc.hours / 168))
    out = []
    for i in range(n):
        onset = sc.start + timedelta(hours=int(rng.integers(0, max(sc.hours - 1, 1))))
        sensor = sc.sensors[int(rng.integers(0, len(sc.sensors)))].id
        port = int(rng.choice([80, 443, 22, 53]))
        out.append(EventSpec(
            f"e{first + i + 1:02d}-flood-tcp{port}", "flood", "tcp", port, onset,
            onset + timedelta(minutes=int(rng.integers(5, 30))), float(rng.integers(500, 3000)),
            sensors=(sensor,),
        ))  # fmt: skip
    return tuple(out)


def _hours(ev: EventSpec, day0: datetime, hours: int) -> npt.NDArray[np.float64]:
    """Hours of this day (as hours since onset, at their middle) inside the event."""
    first = (day0 - ev.onset).total_seconds() / 3600
    h = first + np.arange(hours) + 0.5
    span = (ev.end - ev.onset).total_seconds() / 3600
    return np.where((h >= 0) & (h < span), h, -1.0)


def _population(ev: EventSpec, idx: int, seed: int, pools: Pools) -> npt.NDArray[np.uint32]:
    """The event's stable source population (infected hosts, campaign members)."""
    rng = np.random.default_rng([seed, 100 + idx])
    size = math.ceil(ev.magnitude * 1.5) + 5
    return draw_sources(rng, pools, mix_weights(pools, ev.countries or BACKGROUND_MIX), size)


def _scan(
    ev: EventSpec,
    idx: int,
    h: npt.NDArray[np.float64],
    ctx: dict[str, object],
    rng: np.random.Generator,
) -> Cols:
    pools, seed, t_day, sensor = ctx["pools"], ctx["seed"], ctx["t_day"], ctx["sensor"]
    assert isinstance(pools, Pools) and isinstance(seed, int) and isinstance(t_day, int)
    counts = rng.poisson(rate_at(ev, h)) * (h >= 0)
    hour = np.repeat(np.arange(len(h)), counts)
    if ev.kind == "newsource":
        weights = mix_weights(pools, ev.countries or BACKGROUND_MIX)
        src = draw_sources(rng, pools, weights, len(hour))
    else:
        pop = _population(ev, idx, seed, pools)
        member = np.concatenate([np.arange(c) for c in counts]) if len(hour) else hour
        src = pop[np.minimum(member, len(pop) - 1)]
    n = len(hour)
    return sessions(
        n, t0=t_day + hour * HOUR + rng.integers(0, HOUR, n), dur=rng.integers(0, 600, n) * US,
        proto=6 if ev.proto == "tcp" else 17, dport=ev.port, src=src, origin=idx,
        n=1 if ev.kind == "newsource" else 1 + rng.poisson(1.0, n), fp=FP_CODES[ev.fingerprint],
        sensor=sensor if ev.kind == "local" else -1,
    )  # fmt: skip


def _repeated(
    ev: EventSpec,
    idx: int,
    h: npt.NDArray[np.float64],
    ctx: dict[str, object],
    rng: np.random.Generator,
) -> Cols:
    """Heavy scanner, all-port scanner and backscatter burst: fixed sources, every hour."""
    pools, seed, t_day, sensor = ctx["pools"], ctx["seed"], ctx["t_day"], ctx["sensor"]
    assert isinstance(pools, Pools) and isinstance(seed, int) and isinstance(t_day, int)
    pop = _population(ev, idx, seed, pools)[: max(1, round(ev.magnitude))]
    span = max((ev.end - ev.onset).total_seconds() / 3600, 1.0)
    default = {"heavy": 5000.0, "backscatter": 500.0, "allport": math.ceil(65535 / span)}
    per = int(ev.packets_per_hour or default[ev.kind])
    hours = np.nonzero(h >= 0)[0]
    hour, src = np.repeat(hours, len(pop)), np.tile(pop, len(hours))
    n = len(hour)
    return sessions(
        n, t0=t_day + hour * HOUR, dur=HOUR, proto=6 if ev.proto == "tcp" else 17,
        dport=ev.port, src=src, origin=idx, n=per, fp=FP_CODES[ev.fingerprint],
        sensor=sensor if ev.kind == "heavy" else -1, allport=ev.kind != "heavy",
        rank0=np.floor(h[hour]).astype(np.int64) * per,
        flags=SYNACK if ev.kind == "backscatter" else 2,
        sport=ev.port if ev.kind == "backscatter" else 0,
    )  # fmt: skip


def _flood(
    ev: EventSpec,
    idx: int,
    ctx: dict[str, object],
    day0: datetime,
    hours: int,
    rng: np.random.Generator,
) -> Cols:
    """A randomly spoofed SYN flood on one address: every packet from a new source."""
    lo, hi = max(ev.onset, day0), min(ev.end, day0 + timedelta(hours=hours))
    total = (ev.end - ev.onset).total_seconds()
    if hi <= lo:
        return sessions(0)
    n = int(ev.magnitude * (hi - lo).total_seconds() / total)
    base, sensor = ctx["dst"], ctx["sensor"]
    t0 = int(lo.timestamp()) * US + rng.integers(0, int((hi - lo).total_seconds() * US), n)
    return sessions(
        n, t0=t0, dport=ev.port, src=rng.integers(1 << 24, 0xE0000000, n, dtype=np.uint32),
        origin=idx, sensor=sensor, dst=base,
    )  # fmt: skip


def event_sessions(
    ev: EventSpec,
    idx: int,
    sc: Scenario,
    ctx: dict[str, object],
    day0: datetime,
    hours: int,
    rng: np.random.Generator,
) -> Cols:
    """Sessions of one event for one day (none for outage and missing hours)."""
    h = _hours(ev, day0, hours)
    ids = [s.id for s in sc.sensors]
    first = sc.sensors[ids.index(ev.sensors[0])]
    ctx = {**ctx, "t_day": int(day0.timestamp()) * US, "sensor": ids.index(first.id),
           "dst": int(first.network.network_address) + idx % first.addresses}  # fmt: skip
    if ev.kind == "flood":
        return _flood(ev, idx, ctx, day0, hours, rng)
    if not (h >= 0).any() or ev.kind in ("outage", "missing"):
        return sessions(0)
    if ev.kind in SCANNING:
        return _scan(ev, idx, h, ctx, rng)
    return _repeated(ev, idx, h, ctx, rng)


def drop_dark(pk: Cols, sc: Scenario) -> Cols:
    """Remove packets of sensors in an outage or a missing-hours window."""
    keep = np.ones(len(pk["ts"]), bool)
    ids = [s.id for s in sc.sensors]
    for ev in sc.events:
        if ev.kind in ("outage", "missing"):
            lo, hi = int(ev.onset.timestamp()) * US, int(ev.end.timestamp()) * US
            sens = np.isin(pk["sensor"], [ids.index(s) for s in ev.sensors])
            keep &= ~(sens & (pk["ts"] >= lo) & (pk["ts"] < hi))
    return take(pk, keep)


def flatten_surges(pk: Cols, sc: Scenario, rng: np.random.Generator) -> Cols:
    """Keep packet totals flat under a new-source surge: for each surge packet, drop one
    background retransmission on the same key in the same hour (sources stay unchanged)."""
    keep = np.ones(len(pk["ts"]), bool)
    hour = pk["ts"] // HOUR
    for idx, ev in enumerate(sc.events):
        if ev.kind != "newsource":
            continue
        on_key = (pk["dport"] == ev.port) & (pk["proto"] == (6 if ev.proto == "tcp" else 17))
        added = np.bincount(hour[pk["origin"] == idx] - hour.min(), minlength=int(np.ptp(hour)) + 1)
        cand = np.nonzero(on_key & (pk["origin"] == -1) & (pk["retx"] > 0))[0]
        cand = cand[np.lexsort((rng.random(len(cand)), hour[cand]))]
        ch = hour[cand] - hour.min()
        rank = np.arange(len(cand)) - np.searchsorted(ch, ch)
        keep[cand[rank < added[ch]]] = False
    return take(pk, keep)
