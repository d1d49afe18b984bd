"""Publish stage: write a first draft of an alert from a detection or from observed figures.

Pure: takes the detection (or the rows already queried) and the port's knowledge, returns an
Alert value. Must not touch the store or the clock (times are arguments).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from isdas.knowledge.ports import PortInfo
from isdas.models import Detection
from isdas.publish.document import Alert, Observed, Revision, Share, Vuln
from isdas.publish.wording import overview_text, situation_text, title_for

MAX_REFERENCES = 10


def observed_from_detection(d: Detection) -> Observed:
    """Section II figures from a detection's explanation."""
    return Observed(
        since=d.start,
        until=d.end or d.detected_at,
        onset=d.start,
        sources=d.observed_sources,
        expected_sources=d.expected_sources,
        packets=d.observed_packets,
        expected_packets=d.expected_packets,
        sensors=tuple(Share(s.sensor, s.observed, s.expected) for s in d.sensors),
        countries=tuple(Share(c.country, c.share, 0.0, c.sources) for c in d.countries),
        fingerprints=d.fingerprints,
        shape=d.shape,
        doubling_hours=d.doubling_hours,
        kind=d.kind,
    )


def _mean(rows: Sequence[Mapping[str, Any]], column: str) -> float:
    return sum(float(r[column]) for r in rows) / len(rows) if rows else 0.0


def _grouped(rows: Sequence[Mapping[str, Any]], by: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in rows:
        totals[str(r[by])] = totals.get(str(r[by]), 0.0) + float(r["sources"])
    return totals


def _country_shares(rows: Sequence[Mapping[str, Any]]) -> tuple[Share, ...]:
    totals = _grouped(rows, "country")
    whole = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return tuple(Share(cc, n / whole, 0.0, int(n)) for cc, n in ranked)


def observed_from_rows(
    since: datetime,
    until: datetime,
    baseline: Sequence[Mapping[str, Any]],
    window: Sequence[Mapping[str, Any]],
    countries: Sequence[Mapping[str, Any]] = (),
    sensors: Sequence[Mapping[str, Any]] = (),
) -> Observed:
    """Section II figures for a hand-written alert: mean hourly sources and packets in
    [since, until) against the baseline rows before `since` (series rows of isdas.store)."""
    hours = max(len({r["hour"] for r in sensors}), 1)
    per_sensor = _grouped(sensors, "sensor_id")
    return Observed(
        since=since,
        until=until,
        onset=since,
        sources=_mean(window, "sources"),
        expected_sources=_mean(baseline, "sources"),
        packets=_mean(window, "packets"),
        expected_packets=_mean(baseline, "packets"),
        sensors=tuple(Share(s, n / hours) for s, n in sorted(per_sensor.items())),
        countries=_country_shares(countries),
        kind="manual",
    )


def vulns_for(info: PortInfo) -> tuple[Vuln, ...]:
    """KEV entries first (newest first), then curated CVEs not already listed."""
    listed = [Vuln(k.cve, k.name, k.date_added.isoformat(), k.url) for k in info.kev]
    seen = {v.cve for v in listed}
    for threat in info.threats:
        for cve in threat.cves:
            if cve not in seen:
                seen.add(cve)
                listed.append(Vuln(cve, threat.name, "", f"https://nvd.nist.gov/vuln/detail/{cve}"))
    return tuple(listed)


def references_for(info: PortInfo) -> tuple[str, ...]:
    """Curated advisories of the port's threats plus the port's public activity page."""
    refs = [ref for t in info.threats for ref in t.references]
    refs.append(f"https://isc.sans.edu/data/port.html?port={info.port}")
    return tuple(dict.fromkeys(refs))[:MAX_REFERENCES]


def build(
    observed: Observed,
    info: PortInfo,
    *,
    at: datetime,
    detection_id: str | None = None,
    ports: Sequence[int] = (),
) -> Alert:
    """A draft alert (id filled in when stored) with revision 1."""
    return Alert(
        id="",
        title=title_for(info.proto, info.port, ports),
        status="draft",
        proto=info.proto,
        port=info.port,
        created=at,
        updated=at,
        overview=overview_text(observed, info, ports),
        situation=situation_text(observed, info),
        solution=info.countermeasures,
        references=references_for(info),
        observed=observed,
        detection_id=detection_id,
        service=info.service,
        vulns=vulns_for(info),
        revisions=(Revision(1, at, "First version"),),
    )


def from_detection(detection: Detection, info: PortInfo, *, at: datetime) -> Alert:
    """The draft alert for a detection."""
    ports = detection.ports if detection.kind == "multiport" else ()
    return build(
        observed_from_detection(detection), info, at=at, detection_id=detection.id, ports=ports
    )
