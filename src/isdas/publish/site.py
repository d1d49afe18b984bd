"""Publish stage: the static alert archive (index by year, alert pages with graphs, reports,
Atom feed), written atomically file by file under the site directory.

Published and withdrawn alerts appear (drafts never); the feed lists every published alert.
Must not send notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import groupby
from pathlib import Path

from isdas.errors import IsdasError
from isdas.knowledge.update import write_atomic
from isdas.models import PROTO_NUMBERS, Key
from isdas.publish import feed, figures, html, manage, render, report
from isdas.publish.document import Alert
from isdas.settings import Settings

log = logging.getLogger(__name__)
GRAPH_MARGIN = timedelta(hours=12)


@dataclass(frozen=True)
class SiteResult:
    """What publish_all wrote."""

    site: Path
    alerts: tuple[str, ...]
    reports: tuple[str, ...]
    feed: Path


def _graphs(settings: Settings, alert: Alert) -> dict[str, bytes]:
    key = Key(PROTO_NUMBERS.get(alert.proto, 6), alert.port)
    until = alert.observed.until + GRAPH_MARGIN
    onset = alert.observed.onset
    try:
        return {
            "port-1w.png": figures.port_graph(settings, key, until=until, onset=onset),
            "regions-1w.png": figures.region_graph(settings, key, until=until),
        }
    except IsdasError as exc:
        log.warning("no graphs for %s: %s", alert.id, exc)
        return {}


def write_alert(settings: Settings, site: Path, alert: Alert) -> None:
    """One alert's folder: index.html, text, Markdown, JSON, STIX and its graphs."""
    folder = site / "alerts" / alert.id
    pictures = _graphs(settings, alert)
    for name, data in pictures.items():
        write_atomic(folder / name, data)
    shown = replace(alert, graphs=tuple(pictures))
    write_atomic(folder / "index.html", html.page(shown, home="../../index.html").encode())
    for name, fmt in (("alert.txt", "text"), ("alert.md", "md"), ("alert.json", "json")):
        write_atomic(folder / name, render.renderer(fmt)(shown).encode())
    write_atomic(folder / "alert.stix.json", render.renderer("stix")(shown).encode())


def write_report(
    settings: Settings, folder: Path, rep: report.Report, home: str = "../index.html"
) -> None:
    """One report into `folder`: HTML, Markdown and its top-ports graph."""
    graph = f"{rep.slug}-top-ports.png"
    window = "1w" if rep.period == "week" else "3m"
    write_atomic(folder / graph, figures.top_ports_graph(settings, window=window, until=rep.until))
    write_atomic(folder / f"{rep.slug}.html", report.page(rep, graph, home).encode())
    write_atomic(folder / f"{rep.slug}.md", report.markdown(rep, graph).encode())


def _index(alerts: Sequence[Alert], reports: Sequence[report.Report]) -> bytes:
    def year(a: Alert) -> int:
        return (a.published or a.created).year

    ordered = sorted(alerts, key=lambda a: (year(a), a.id), reverse=True)
    years = [(y, list(items)) for y, items in groupby(ordered, key=year)]
    return html.render("index.html.j2", years=years, reports=reports).encode()


def publish_all(
    settings: Settings,
    site_dir: Path | None = None,
    *,
    base_url: str = "",
    until: datetime | None = None,
) -> SiteResult:
    """Write the whole site: every published/withdrawn alert, this week's and quarter's
    reports, the index and the Atom feed."""
    site = site_dir or settings.site
    shown = [a for a in manage.list_alerts(settings) if a.status != "draft"]
    for alert in shown:
        write_alert(settings, site, alert)
    end = until or manage.now()
    reports = [report.build(settings, p, end) for p in ("week", "quarter")]
    for rep in reports:
        write_report(settings, site / "reports", rep)
    write_atomic(site / "index.html", _index(shown, reports))
    published = [a for a in shown if a.status == "published"]
    write_atomic(site / "feed.xml", feed.atom(published, base_url=base_url))
    return SiteResult(
        site, tuple(a.id for a in shown), tuple(r.slug for r in reports), site / "feed.xml"
    )
