"""Publish stage: the sentences of a drafted alert (title, overview, situation).

Pure text built from figures and knowledge; no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from isdas.knowledge.ports import PortInfo
from isdas.publish.document import Observed

FINGERPRINTS = {
    "mirai": "Mirai-like (TCP sequence number equal to the destination address)",
    "zmap": "ZMap (IP id 54321)",
    "masscan": "Masscan (IP id derived from address, port and sequence number)",
    "research": "known research scanners",
    "nmap": "Nmap",
    "spoofed-flood": "randomly spoofed flood",
}


def when(ts: datetime) -> str:
    """`2007-08-22 15:00 UTC`."""
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def title_for(proto: str, port: int, ports: Sequence[int] = ()) -> str:
    """`Increased activity targeting TCP port 5168` (or `ports 23, 2323`)."""
    if len(ports) > 1:
        listed = ", ".join(str(p) for p in sorted(ports)[:8])
        return f"Increased activity targeting {proto.upper()} ports {listed}"
    return f"Increased activity targeting {proto.upper()} port {port}"


def _magnitude(o: Observed) -> str:
    if o.expected_sources > 0:
        ratio = o.sources / o.expected_sources
        return (
            f"about {o.sources:,.0f} distinct sources per hour against {o.expected_sources:,.1f} "
            f"expected ({ratio:,.1f} times the usual level)"
        )
    return f"about {o.sources:,.0f} distinct sources per hour where almost none were expected"


def countries_text(o: Observed, top: int = 3) -> str:
    """`CN (45%), JP (20%)`, or '' when unknown."""
    return ", ".join(f"{c.name} ({c.value:.0%})" for c in o.countries[:top])


def _product_sentence(info: PortInfo) -> str:
    if not info.threats:
        name = f" ({info.service})" if info.service else ""
        return f"The port is registered to a service{name}; no notable threat is recorded for it."
    products = "; ".join(info.products[:3])
    cves = ", ".join(info.cves[:4])
    vuln = f", with known vulnerabilities ({cves})" if cves else ""
    return f"Products using this port include {products}{vuln}."


def overview_text(o: Observed, info: PortInfo, ports: Sequence[int] = ()) -> str:
    """Section I: what rose, since when, how much, from where, and why it matters."""
    target = title_for(info.proto, info.port, ports).removeprefix("Increased activity targeting ")
    start = when(o.onset or o.since)
    where = countries_text(o)
    origin = f", mainly from {where}" if where else ""
    return (
        f"isdas sensors have observed increased scanning of {target} since {start}: "
        f"{_magnitude(o)}{origin}. {_product_sentence(info)} Administrators of hosts using "
        f"this port should check them and apply the countermeasures in section III."
    )


def _sensor_sentence(o: Observed) -> str:
    if not o.sensors:
        return ""
    seen = [s for s in o.sensors if s.value > s.expected]
    scope = {"global": "the rise is global", "local": "the rise is local to some sensors"}
    kind = f"; {scope[o.kind]}" if o.kind in scope else ""
    return f" {len(seen) or len(o.sensors)} of {len(o.sensors)} sensors saw the rise{kind}."


def situation_text(o: Observed, info: PortInfo) -> str:
    """Section II: timing, sensors, countries, fingerprints, growth."""
    parts = [
        f"The graph shows scanning of {info.proto.upper()} port {info.port} as packets per "
        f"sensor and distinct sources. The rise began around {when(o.onset or o.since)} "
        f"(observation until {when(o.until)}).{_sensor_sentence(o)}"
    ]
    if o.countries:
        parts.append(f"Top source countries of the sources: {countries_text(o, 5)}.")
    if o.fingerprints:
        tools = ", ".join(FINGERPRINTS.get(f, f) for f in o.fingerprints)
        parts.append(f"Scanning tool fingerprints: {tools}.")
    if o.doubling_hours:
        parts.append(f"The number of sources doubled about every {o.doubling_hours:.0f} hours.")
    return " ".join(parts)
