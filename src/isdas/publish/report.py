"""Publish stage: weekly and quarterly reports (top 5 ports, top 5 regions, notable events).

Builds a Report value from the store and renders it as Markdown and HTML (with a top-ports
graph). Must not write files; the CLI and site.py decide where the output goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from isdas.errors import InputError
from isdas.publish import html
from isdas.settings import Settings

PERIODS = {"week": timedelta(days=7), "quarter": timedelta(days=91)}


@dataclass(frozen=True)
class Event:
    """A notable event of the period: an alert or a detection."""

    at: datetime
    kind: str  # "alert" or "detection"
    ref: str
    text: str


@dataclass(frozen=True)
class Report:
    """One period's report."""

    period: str
    since: datetime
    until: datetime
    ports: tuple[dict[str, Any], ...]
    regions: tuple[dict[str, Any], ...]
    events: tuple[Event, ...]

    @property
    def slug(self) -> str:
        return f"{self.period}-{self.since:%Y-%m-%d}"

    @property
    def title(self) -> str:
        return f"isdas {self.period}ly report, {self.since:%Y-%m-%d} to {self.until:%Y-%m-%d}"


def period_bounds(period: str, until: datetime) -> tuple[datetime, datetime]:
    """[since, until) of a period ending at `until` (rounded down to a UTC day)."""
    if period not in PERIODS:
        raise InputError(f"unknown period {period!r}; use week or quarter")
    end = until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return end - PERIODS[period], end


def _events(settings: Settings, since: datetime, until: datetime) -> list[Event]:
    from isdas.publish import manage

    found = [
        Event(a.created, "alert", a.id, a.title)
        for a in manage.list_alerts(settings)
        if since <= a.created < until and a.status != "withdrawn"
    ]
    try:
        from isdas.store.detections import list_detections
    except ImportError:
        return found
    for d in list_detections(settings, since=since, until=until):
        text = f"{d.key}: {d.observed_sources:,.0f} sources vs {d.expected_sources:,.1f} expected"
        found.append(Event(d.start, "detection", d.id, f"{text} ({d.kind})"))
    return sorted(found, key=lambda e: (e.at, e.ref))


def build(settings: Settings, period: str, until: datetime) -> Report:
    """Gather the report of the period ending at `until`."""
    from isdas.store import alerts, queries

    since, end = period_bounds(period, until)
    ports = queries.top_ports(settings, since=since, until=end, top=5)
    regions = alerts.country_totals(settings, since, end, top=5)
    events = _events(settings, since, end)
    return Report(period, since, end, tuple(ports), tuple(regions), tuple(events))


def markdown(report: Report, graph: str | None = None) -> str:
    """The report as Markdown."""
    lines = [f"# {report.title}", "", "## Top 5 destination ports", ""]
    lines += [
        "| # | port | service | packets | distinct sources | share |",
        "|---|---|---|---|---|---|",
    ]
    for i, p in enumerate(report.ports, 1):
        name = f"{p['proto_name']}/{p['port']}"
        lines.append(
            f"| {i} | {name} | {p.get('service') or '-'} | {p['packets']:,} | "
            f"{p['sources']:,} | {p['share']:.1%} |"
        )
    if graph:
        lines += ["", f"![top ports]({graph})"]
    lines += [
        "",
        "## Top 5 source regions",
        "",
        "| # | country | packets | share |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {i} | {r['country']} | {r['packets']:,} | {r['share']:.1%} |"
        for i, r in enumerate(report.regions, 1)
    ]
    lines += ["", "## Notable events", ""]
    lines += [f"- {e.at:%Y-%m-%d %H:%M} UTC {e.kind} {e.ref}: {e.text}" for e in report.events]
    if not report.events:
        lines.append("- none")
    return "\n".join(lines) + "\n"


def page(report: Report, graph: str | None = None, home: str = "../index.html") -> str:
    """The report as an HTML page."""
    return html.render("report.html.j2", r=report, graph=graph, home=home)
