"""Store stage: run every detector over a backtest catalog without touching stored detections.

The default detector replays all hours from a fresh state (calibrating on the early part as in
production); the reference detectors run on daily lake counts, calibrated on the same weeks to
the same budget. Returns `scoring.Alarm`s. Read-only on the catalog.
"""

from __future__ import annotations

from isdas.analyse import references
from isdas.analyse.explain import Enrichment, build
from isdas.analyse.frames import hour_index, key_parts
from isdas.analyse.pipeline import Detector, feed
from isdas.analyse.scoring import Alarm
from isdas.analyse.state import Params
from isdas.settings import Settings
from isdas.store.catalog import connect
from isdas.store.detect_daily import daily_counts
from isdas.store.detect_enrich import countries
from isdas.store.detect_frames import hour_range, read_frames


def default_alarms(settings: Settings, budget: float, params: Params | None = None) -> list[Alarm]:
    """Every episode of the default detector over the whole catalog, as alarms."""
    p = params or Params()
    det = Detector(budget=budget)
    out: list[Alarm] = []
    with connect(settings, read_only=True) as con:
        span = hour_range(con)
        if span is None:
            return []
        feed(det, read_frames(con, span[0], span[1]), p)
        for ep in det.tracker.take_closed() + list(det.tracker.open.values()):
            facts = Enrichment()
            if ep.kind == "global":
                facts = Enrichment(countries(con, ep.key >> 16, ep.key & 0xFFFF, ep))
            d = build(ep, facts)
            where = tuple(c.country for c in d.countries)
            start, seen = hour_index(d.start), hour_index(d.detected_at)
            out.append(Alarm("isdas", d.proto, d.port, d.kind, start, seen, where))
    return out


def reference_alarms(settings: Settings, budget: float, warmup_days: int = 7) -> list[Alarm]:
    """DShield and GreyNoise alarms, thresholds calibrated on the second week to `budget`."""
    first, keys, src, dst = daily_counts(settings)
    if not keys:
        return []
    cal = slice(warmup_days, warmup_days + 7)
    out: list[Alarm] = []
    for name, scores in (
        ("dshield", references.dshield_scores(src, dst, warmup_days)),
        ("greynoise", references.greynoise_scores(src, warmup_days)),
    ):
        threshold = references.calibrate_daily(scores, cal, 1.0, budget)
        for k, d, _ in references.alarms(scores, threshold, warmup_days):
            proto, port = key_parts(keys[k])
            day = (first + d) * 24
            out.append(Alarm(name, proto, port, "global", day, day + 23))
    return out
