"""The built-in scenarios `smoke`, `demo` and `backtest`, written as the same tables a TOML
scenario file holds (so presets and files go through one validation path).

Stage: simulate. Pure data; must not generate traffic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

JP_CN = {"JP": 0.6, "CN": 0.3, "US": 0.1}


def smoke() -> dict[str, Any]:
    """Three small sensors, two days, a step and a local scan: generates in about a second."""
    return {
        "scenario": {"name": "smoke", "start": "2026-11-20T00:00:00Z", "days": 2},
        "background": {"sources_per_hour": 150.0, "tail_ports": 800, "research_scanners": 2},
        "sensors": [{"id": "s01", "size": 22}, {"id": "s02", "size": 24},
                    {"id": "s03", "size": 28}],
        "events": [
            {"kind": "step", "port": 5168, "onset": "2026-11-21T06:00:00Z", "hours": 18,
             "magnitude": 20.0},
            {"kind": "local", "port": 8291, "onset": "2026-11-21T02:00:00Z", "hours": 6,
             "magnitude": 15.0, "sensors": ["s02"]},
            {"kind": "heavy", "port": 6379, "onset": "2026-11-20T10:00:00Z", "hours": 4,
             "magnitude": 1.0, "packets_per_hour": 2000.0, "sensors": ["s01"],
             "fingerprint": "masscan"},
        ],
    }  # fmt: skip


def demo() -> dict[str, Any]:
    """About 5 weeks ending 2026-11-22T00:00Z on 14 sensors (/20 .. /32)."""
    sizes = [20, 21, 22, 22, 23, 24, 24, 25, 26, 27, 28, 30, 32, 32]
    return {
        "scenario": {"name": "demo", "start": "2026-10-18T00:00:00Z",
                     "end": "2026-11-22T00:00:00Z"},
        "background": {"sources_per_hour": 1600.0, "tail_ports": 3000},
        "sensors": [{"id": f"s{i + 1:02d}", "size": s} for i, s in enumerate(sizes)],
        "events": [
            {"id": "worm-445", "kind": "newsource", "port": 445, "onset": "2026-11-18T02:00:00Z",
             "end": "2026-11-22T00:00:00Z", "magnitude": 40.0, "countries": JP_CN},
            {"id": "rise-5168", "kind": "step", "port": 5168, "onset": "2026-11-20T01:00:00Z",
             "end": "2026-11-22T00:00:00Z", "magnitude": 30.0, "countries": {"CN": 0.5, "*": 0.5}},
            {"id": "mirai-23", "kind": "logistic", "port": 23, "onset": "2026-11-08T00:00:00Z",
             "end": "2026-11-13T00:00:00Z", "magnitude": 150.0, "doubling_hours": 1.3,
             "fingerprint": "mirai"},
            {"id": "mirai-2323", "kind": "logistic", "port": 2323, "onset": "2026-11-08T00:00:00Z",
             "end": "2026-11-13T00:00:00Z", "magnitude": 40.0, "doubling_hours": 1.3,
             "fingerprint": "mirai"},
            {"id": "heavy-6379", "kind": "heavy", "port": 6379, "onset": "2026-11-03T04:00:00Z",
             "hours": 24, "magnitude": 1.0, "packets_per_hour": 5000.0, "sensors": ["s03"]},
            {"id": "outage-s01", "kind": "outage", "onset": "2026-11-01T00:00:00Z", "hours": 48,
             "magnitude": 0.0, "sensors": ["s01"]},
            {"id": "ramp-8291", "kind": "ramp", "port": 8291, "onset": "2026-10-28T00:00:00Z",
             "hours": 120, "magnitude": 20.0, "ramp_hours": 72.0},
        ],
    }  # fmt: skip


def _backtest_events(rng: np.random.Generator) -> list[dict[str, Any]]:
    kinds = ["step", "ramp", "logistic", "newsource", "local", "heavy", "backscatter"]
    busy = [445, 23, 22, 80, 3389]
    dormant = rng.choice(np.arange(20000, 60000), size=60, replace=False)
    out: list[dict[str, Any]] = []
    for i in range(42):
        kind = kinds[i % len(kinds)]
        port = busy[i % len(busy)] if kind == "newsource" else int(dormant[i])
        ev: dict[str, Any] = {
            "kind": kind,
            "port": port,
            "onset_hours": 336 + int(rng.integers(0, 300)),
            "hours": int(rng.choice([24, 72, 168])),
            "magnitude": float(rng.choice([5, 10, 20, 50, 200])),
        }
        if kind == "logistic":
            ev["doubling_hours"] = float(rng.choice([1.3, 6.0, 24.0]))
            ev["hours"] = 168
        if kind in ("local", "heavy"):
            ev["sensors"] = [f"s{int(rng.integers(1, 9)):02d}"]
            ev["hours"] = 24
        if kind == "heavy":
            ev["magnitude"], ev["packets_per_hour"] = 1.0, 2000.0
        if kind == "backscatter":  # a 12 h burst of 1000 SYN-ACKs/h (keeps a seed under 2.5 M)
            ev["magnitude"], ev["packets_per_hour"], ev["hours"] = 1.0, 1000.0, 12
        if i % 5 == 0:
            ev["countries"] = JP_CN
        out.append(ev)
    return out


def backtest() -> dict[str, Any]:
    """Four weeks on 8 sensors: two calibration weeks, then many events of every kind."""
    rng = np.random.default_rng(2026)
    events = _backtest_events(rng)
    events += [
        {"kind": "allport", "onset_hours": 400, "hours": 6, "magnitude": 2.0, "port": 0},
        {"kind": "outage", "onset_hours": 150, "hours": 48, "sensors": ["s01"], "magnitude": 0.0},
        {"kind": "outage", "onset_hours": 500, "hours": 48, "sensors": ["s01"], "magnitude": 0.0},
        {"kind": "outage", "onset_hours": 560, "hours": 6, "sensors": ["s07"], "magnitude": 0.0},
        {"kind": "missing", "onset_hours": 610, "hours": 3, "sensors": ["s04"], "magnitude": 0.0},
    ]  # fmt: skip
    sizes = [20, 21, 22, 23, 24, 26, 28, 32]
    return {
        "scenario": {"name": "backtest", "start": "2026-09-01T00:00:00Z", "days": 28},
        "background": {"sources_per_hour": 300.0, "tail_ports": 3000, "research_scanners": 2},
        "sensors": [{"id": f"s{i + 1:02d}", "size": s} for i, s in enumerate(sizes)],
        "events": events,
    }


PRESETS = {"smoke": smoke, "demo": demo, "backtest": backtest}
