"""Publish stage: the Atom feed of published alerts (RFC 4287), built with ElementTree.

Entry ids are stable `urn:isdas:alert:<id>` URNs; links are relative to `base_url`. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from isdas.publish.document import Alert

ATOM = "http://www.w3.org/2005/Atom"


def _stamp(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def _entry(feed: ET.Element, alert: Alert, base_url: str) -> None:
    entry = _sub(feed, "entry")
    _sub(entry, "id", f"urn:isdas:alert:{alert.id}")
    _sub(entry, "title", f"{alert.id}: {alert.title}")
    _sub(entry, "updated", _stamp(alert.updated))
    _sub(entry, "published", _stamp(alert.published or alert.created))
    _sub(entry, "link", href=f"{base_url}alerts/{alert.id}/index.html", rel="alternate")
    _sub(entry, "summary", alert.overview)
    _sub(entry, "category", term=alert.key)


def atom(alerts: Sequence[Alert], *, base_url: str = "", title: str = "isdas alerts") -> bytes:
    """The Atom document listing `alerts` (newest first as given)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", "urn:isdas:alerts")
    _sub(feed, "title", title)
    newest = max((a.updated for a in alerts), default=datetime(1970, 1, 1, tzinfo=UTC))
    _sub(feed, "updated", _stamp(newest))
    author = _sub(feed, "author")
    _sub(author, "name", "isdas")
    _sub(feed, "link", href=f"{base_url}feed.xml", rel="self")
    _sub(feed, "link", href=f"{base_url}index.html", rel="alternate")
    for alert in alerts:
        _entry(feed, alert, base_url)
    data: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
