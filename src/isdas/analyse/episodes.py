"""Analyse stage: turn hourly signals into alarm episodes (one per key and family).

An episode opens at the first alarm of a key, collects what the detector saw each hour while
it is open (per-sensor observed/expected, distinct excess, packets), and closes after a quiet
day. Episodes are plain JSON-able values so the store can keep them between runs. No I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from isdas.analyse.detector import HourView
from isdas.analyse.state import Params, State

MULTIPORT = -1
MAX_SERIES = 240


@dataclass
class Episode:
    """One alarm episode while it is being followed (mutable; see `Tracker`)."""

    key: int
    family: str  # port, heavy, recon, multi
    kind: str  # global, local, heavy-scanner, recon, multiport
    onset: int  # hour index
    detected: int
    last_alarm: int
    last_hour: int
    score: float = 0.0
    burst: bool = False  # first alarm came from the fast test
    excess: list[float] = field(default_factory=list)  # distinct excess per hour from onset
    peak_hour: int = -1
    peak: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # distinct, exp, pkts, exp
    sensor_obs: dict[str, float] = field(default_factory=dict)
    sensor_exp: dict[str, float] = field(default_factory=dict)
    hours: int = 0
    ports: list[int] = field(default_factory=list)
    closed: bool = False

    @property
    def ident(self) -> str:
        return f"{self.key}:{self.family}"


def to_json(ep: Episode) -> dict[str, Any]:
    """The episode as a JSON-able dict."""
    return asdict(ep)


def from_json(data: dict[str, Any]) -> Episode:
    """Inverse of to_json."""
    data = dict(data)
    data["peak"] = tuple(data["peak"])
    return Episode(**data)


@dataclass
class Tracker:
    """Open episodes plus those that closed since the caller last took them."""

    open: dict[str, Episode] = field(default_factory=dict)
    closed: list[Episode] = field(default_factory=list)

    def take_closed(self) -> list[Episode]:
        out, self.closed = self.closed, []
        return out


def _kind(state: State, view: HourView, i: int, p: Params, ep: Episode | None = None) -> str:
    """Global or local, from the spread over sensors of the excess so far: the CUSUM run's
    when the episode opens, the episode's own (every hour since it opened) afterwards."""
    run = np.maximum(view.x[i] - view.mu[i], 0) * view.up
    if ep is None:
        run = run + state.run_sensor[i]
    else:
        seen = [ep.sensor_obs.get(s, 0.0) - ep.sensor_exp.get(s, 0.0) for s in state.sensors]
        run = run + np.maximum(np.asarray(seen), 0.0)
    total = float(run.sum())
    if total <= 0:
        return "global"
    share = run / total
    weight = state.health / max(float(state.health.sum()), 1e-9)
    top = int(np.argmax(share))
    lonely = int((share >= 0.05).sum()) < 2
    concentrated = share[top] > p.local_share and share[top] > weight[top] + 0.3
    return "local" if concentrated or (lonely and len(state.sensors) > 1) else "global"


def _open(view: HourView, key: int, family: str, kind: str, onset: int, score: float) -> Episode:
    h = view.hour
    return Episode(key, family, kind, onset, h, h, h, score=score, burst=family == "port")


def observe(tracker: Tracker, state: State, view: HourView, p: Params) -> None:
    """Open, extend and close episodes from one hour's view."""
    h = view.hour
    if view.common_mode:
        _multiport(tracker, state, view)
    for i in np.flatnonzero(view.burst | view.slow):
        _alarm(tracker, state, view, int(i), p)
    for family, mask, kind in (
        ("heavy", view.heavy, "heavy-scanner"),
        ("recon", view.recon, "recon"),
    ):
        for i in np.flatnonzero(mask):
            ident = f"{state.keys[int(i)]}:{family}"
            ep = tracker.open.get(ident)
            if ep is None:
                tracker.open[ident] = _open(view, state.keys[int(i)], family, kind, h, 0.0)
            else:
                ep.last_alarm = h
    index = state.key_index()
    for ident, ep in list(tracker.open.items()):
        if ep.key != MULTIPORT:
            _extend(ep, state, view, index[ep.key])
        if h - ep.last_alarm >= p.episode_close and _settled(ep, state, index):
            ep.closed = True
            tracker.closed.append(tracker.open.pop(ident))


def _settled(ep: Episode, state: State, index: dict[int, int]) -> bool:
    if ep.family != "port":
        return True
    i = index[ep.key]
    return bool(state.cusum[i] <= 0 and state.ucusum[i] <= 0)


def _alarm(tracker: Tracker, state: State, view: HourView, i: int, p: Params) -> None:
    key = state.keys[i]
    score = max(float(view.score[i]) if view.burst[i] else 0.0, _cusum_score(view, i))
    ep = tracker.open.get(f"{key}:port")
    if ep is None:
        start = state.onset(i) if state.onset(i) >= 0 else view.hour
        onset = max(start, view.hour - 72)
        ep = _open(view, key, "port", _kind(state, view, i, p), onset, score)
        ep.burst = bool(view.burst[i])
        tracker.open[ep.ident] = ep
        return
    ep.last_alarm = view.hour
    ep.score = max(ep.score, score)
    if ep.kind == "local" and _kind(state, view, i, p, ep) == "global":
        ep.kind = "global"


def _cusum_score(view: HourView, i: int) -> float:
    return float(view.cusum[i]) / max(view.h_star, 1e-9) * view.s_star


def _multiport(tracker: Tracker, state: State, view: HourView) -> None:
    ident = f"{MULTIPORT}:multi"
    ports = sorted({state.keys[int(i)] for i in np.flatnonzero(view.cm_keys)})
    ep = tracker.open.get(ident)
    if ep is None:
        ep = _open(view, MULTIPORT, "multi", "multiport", view.hour, float(len(ports)))
        tracker.open[ident] = ep
    ep.last_alarm = view.hour
    ep.ports = sorted(set(ep.ports) | set(ports))[:5000]
    ep.score = max(ep.score, float(len(ports)))
    ep.hours += 1


def _extend(ep: Episode, state: State, view: HourView, i: int) -> None:
    """Record one hour of an open key episode."""
    dx = float(view.distinct[i] - view.distinct_expected[i])
    if len(ep.excess) < MAX_SERIES:
        ep.excess.append(round(dx, 3))
    if ep.peak_hour < 0 or dx > ep.peak[0] - ep.peak[1]:
        pk, pk_mu = float(view.pk[i].sum()), float(view.pk_mu[i].sum())
        ep.peak = (float(view.distinct[i]), float(view.distinct_expected[i]), pk, pk_mu)
        ep.peak_hour = view.hour
    for s in np.flatnonzero(view.up):
        name = state.sensors[int(s)]
        ep.sensor_obs[name] = ep.sensor_obs.get(name, 0.0) + float(view.x[i, s])
        ep.sensor_exp[name] = ep.sensor_exp.get(name, 0.0) + float(view.mu[i, s])
    ep.hours += 1
    ep.last_hour = view.hour
