"""Analyse stage: turn an alarm episode into an explained `Detection`.

Stable ids, growth shape (step / ramp / epidemic with doubling time), sensors involved,
and the one-sentence explanation. Pure: enrichment from the lake (countries of the excess,
fingerprints, top source share) comes in as an argument. No I/O, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from isdas.analyse.episodes import MULTIPORT, Episode
from isdas.analyse.frames import hour_time, key_parts
from isdas.models import CountryShare, Detection, SensorShare

SUFFIX = {"global": "", "local": "", "heavy-scanner": "-heavy", "recon": "-recon"}


@dataclass(frozen=True)
class Enrichment:
    """Source-level facts about an episode, computed by the store from the lake."""

    countries: tuple[CountryShare, ...] = ()
    fingerprints: tuple[str, ...] = ()
    top_source_share: float = 0.0


def detection_id(ep: Episode) -> str:
    """Deterministic id from key, onset and kind family, e.g. D-20261118T22-tcp-445."""
    stamp = hour_time(ep.onset).strftime("%Y%m%dT%H")
    if ep.key == MULTIPORT:
        return f"D-{stamp}-multiport"
    proto, port = key_parts(ep.key)
    return f"D-{stamp}-{proto}-{port}{SUFFIX.get(ep.kind, '')}"


def growth_shape(excess: list[float], lag: int) -> tuple[str, float | None]:
    """Step, ramp or epidemic (with doubling time in hours) from the hourly distinct excess.

    `lag` is the number of hours from onset to detection (a step is noticed within 2 h).
    """
    series = np.asarray(excess[:48], dtype=np.float64)
    if series.size < 3:
        return ("step" if lag <= 2 else "ramp"), None
    peak = int(np.argmax(series))
    rising = series[: peak + 1]
    positive = rising[(rising >= 1.0) & (rising <= 0.6 * series.max())]
    if positive.size >= 4:
        slope = theil_sen(np.log(positive))
        if slope > math.log(2) / 48 and positive[-1] >= 4 * positive[0]:
            return "epidemic", round(math.log(2) / slope, 2)
    if lag <= 2 and series[0] >= 0.5 * series.max():
        return "step", None
    return "ramp", None


def theil_sen(values: np.ndarray) -> float:
    """Median of pairwise slopes of `values` against 0..n-1."""
    n = values.size
    i, j = np.triu_indices(n, k=1)
    return float(np.median((values[j] - values[i]) / (j - i)))


def sensor_shares(ep: Episode) -> tuple[SensorShare, ...]:
    """Per-sensor mean observed/expected sources per hour over the episode."""
    hours = max(ep.hours, 1)
    rows = [
        SensorShare(
            name, round(ep.sensor_obs[name] / hours, 3), round(ep.sensor_exp[name] / hours, 3)
        )
        for name in sorted(ep.sensor_obs)
    ]
    return tuple(sorted(rows, key=lambda s: (-(s.observed - s.expected), s.sensor)))


def involved(shares: tuple[SensorShare, ...]) -> int:
    """Sensors whose mean excess is notable (>= 0.5 source/h and >= 20 % over expected)."""
    return sum(1 for s in shares if s.observed - s.expected >= max(0.5, 0.2 * s.expected))


def build(ep: Episode, facts: Enrichment, detector: str = "isdas") -> Detection:
    """The Detection for an episode (its current snapshot)."""
    proto, port = ("any", 0) if ep.key == MULTIPORT else key_parts(ep.key)
    shape, doubling = growth_shape(ep.excess, ep.detected - ep.onset)
    distinct, expected, pk, pk_mu = ep.peak
    shares = sensor_shares(ep)
    det = Detection(
        id=detection_id(ep), proto=proto, port=port, kind=ep.kind,
        start=hour_time(ep.onset), detected_at=hour_time(ep.detected),
        observed_sources=round(distinct, 2), expected_sources=round(expected, 2),
        observed_packets=round(pk, 2), expected_packets=round(pk_mu, 2),
        excess_sources=round(max(distinct - expected, 0.0), 2), score=round(ep.score, 3),
        detector=detector, shape=shape, doubling_hours=doubling,
        top_source_share=round(facts.top_source_share, 3),
        end=hour_time(ep.last_hour) if ep.closed else None, sensors=shares,
        countries=facts.countries, fingerprints=facts.fingerprints,
        ports=tuple(p & 0xFFFF for p in ep.ports),
        extra={"hours": float(ep.hours), "burst": float(ep.burst)},
    )  # fmt: skip
    return _with_text(det)


def _with_text(det: Detection) -> Detection:
    from dataclasses import replace

    return replace(det, explanation=explanation(det))


def explanation(det: Detection) -> str:
    """One human sentence, e.g. "Increased activity targeting TCP port 445 since ...: ..."."""
    since = det.start.strftime("%Y-%m-%d %H:00 UTC")
    target = f"{det.proto.upper()} port {det.port}"
    if det.kind == "multiport":
        return (
            f"Many ports rose together since {since} ({len(det.ports)} ports): "
            "one multi-port scanner, not a port-specific campaign."
        )
    rate = f"{det.observed_sources:.0f} sources/h vs {det.expected_sources:.0f} expected"
    n_all = len(det.sensors)
    where = f"on {involved(det.sensors)} of {n_all} sensors" if n_all else "on no healthy sensor"
    lead = {
        "global": f"Increased activity targeting {target} since {since}",
        "local": f"Localized increase targeting {target} since {since}",
        "heavy-scanner": f"Packet surge on {target} since {since} from very few sources",
        "recon": f"Reconnaissance of dormant {target} since {since}",
    }.get(det.kind, f"Activity on {target} since {since}")
    tail = _countries_text(det.countries)
    tools = f", fingerprints {', '.join(det.fingerprints)}" if det.fingerprints else ""
    return f"{lead}: {rate} {where}{tail}{tools}."


def _countries_text(countries: tuple[CountryShare, ...]) -> str:
    top = [c for c in countries if c.share >= 0.1][:3]
    if not top:
        return ""
    parts = [f"{c.country} ({c.share * 100:.0f}%)" for c in top]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f", mainly from {joined}"
