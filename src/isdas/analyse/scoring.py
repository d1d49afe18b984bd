"""Analyse stage: score detector alarms against a simulation's ground truth (backtests).

False alarms per week across all keys (global alarms on keys and times no event explains,
merged per key within 24 h), recall within 72 h of the point an event reaches 10 sources/h,
detection delay (median, p90), and the expected-silent events that raised a global alarm.
Pure: events (truth.json dicts) and alarms come in, rows come out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from isdas.analyse.frames import hour_index

HORIZON = 72
VISIBLE = 10.0


@dataclass(frozen=True)
class Alarm:
    """One alarm of any detector, in hour indexes."""

    detector: str
    proto: str
    port: int
    kind: str
    onset: int
    detected: int
    countries: tuple[str, ...] = ()


@dataclass
class KindScore:
    """Results for one detector and one event kind."""

    events: int = 0
    found: int = 0
    visible: int = 0  # events with magnitude >= 10 sources/h
    visible_found: int = 0
    delays: list[float] = field(default_factory=list)
    country_ok: int = 0
    country_n: int = 0


def event_hour(text: str) -> int:
    """Hour index of an ISO-8601 UTC time from truth.json."""
    return hour_index(datetime.fromisoformat(text.replace("Z", "+00:00")))


def visible_after(ev: dict[str, Any]) -> float:
    """Hours from onset until the injected rate reaches 10 sources/h (inf if never)."""
    mag = float(ev.get("magnitude") or 0.0)
    if mag < VISIBLE:
        return math.inf if ev["kind"] != "step" else 0.0
    if ev["kind"] == "ramp":
        return float(ev.get("ramp_hours") or 0.0) * VISIBLE / mag
    if ev["kind"] == "logistic":
        tau = float(ev.get("doubling_hours") or 1.0)
        return tau / math.log(2) * math.log((mag / 0.5 - 1) / max(mag / VISIBLE - 1, 1e-9))
    return 0.0


def _matches(a: Alarm, ev: dict[str, Any]) -> bool:
    return a.proto == ev.get("proto") and a.port == ev.get("port")


def _in_event(a: Alarm, ev: dict[str, Any], pad: int = 24) -> bool:
    return event_hour(ev["onset"]) - 2 <= a.detected <= event_hour(ev["end"]) + pad


def false_alarms(alarms: list[Alarm], events: list[dict[str, Any]]) -> list[Alarm]:
    """Global alarms that no event on the same key explains (one per key within 24 h)."""
    out: list[Alarm] = []
    last: dict[tuple[str, int], int] = {}
    for a in sorted(alarms, key=lambda a: (a.proto, a.port, a.detected)):
        if a.kind != "global" or any(_matches(a, e) and _in_event(a, e, HORIZON) for e in events):
            continue
        prev = last.get((a.proto, a.port))
        last[(a.proto, a.port)] = a.detected
        if prev is None or a.detected - prev >= 24:
            out.append(a)
    return out


def silent_hits(alarms: list[Alarm], events: list[dict[str, Any]]) -> list[str]:
    """Ids of expected-silent events whose key raised a global alarm while they ran."""
    hits = []
    for ev in events:
        if ev.get("expected") != "silent" or not ev.get("port"):
            continue
        if any(a.kind == "global" and _matches(a, ev) and _in_event(a, ev) for a in alarms):
            hits.append(str(ev["id"]))
    return hits


def score_kind(alarms: list[Alarm], events: list[dict[str, Any]], want: str) -> KindScore:
    """Recall, delays and country check for events that expect alarm kind `want`."""
    ks = KindScore()
    for ev in events:
        if ev.get("expected") != want:
            continue
        onset = event_hour(ev["onset"])
        limit = onset + visible_after(ev) + HORIZON
        hit = [a for a in alarms if a.kind == want and (want == "multiport" or _matches(a, ev))
               and onset - 2 <= a.detected <= limit]  # fmt: skip
        big = float(ev.get("magnitude") or 0) >= VISIBLE
        ks.events += 1
        ks.visible += big
        if hit:
            first = min(hit, key=lambda a: a.detected)
            ks.found += 1
            ks.visible_found += big
            ks.delays.append(max(first.detected - onset, 0) + 1.0)
            _country(ks, ev, first)
    return ks


def _country(ks: KindScore, ev: dict[str, Any], a: Alarm) -> None:
    mix = ev.get("countries") or {}
    if mix and a.countries:
        top = max(mix.items(), key=lambda kv: kv[1])[0]
        ks.country_n += 1
        ks.country_ok += a.countries[0] == top


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan
