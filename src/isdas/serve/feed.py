"""Atom feed of the alert archive.

Stage: serve. Pure: alert dicts and the site's base URL in, XML bytes out (ElementTree escapes).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

ATOM = "http://www.w3.org/2005/Atom"


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and value:
        return value
    return "1970-01-01T00:00:00Z"


def _entry(root: ET.Element, alert: dict[str, Any], base: str) -> str:
    ident = str(alert.get("id", ""))
    updated = _when(alert.get("updated") or alert.get("published") or alert.get("created"))
    entry = ET.SubElement(root, "entry")
    ET.SubElement(entry, "id").text = f"{base}/alerts/{ident}"
    ET.SubElement(entry, "title").text = f"{ident}: {alert.get('title', '')}"
    ET.SubElement(entry, "updated").text = updated
    ET.SubElement(entry, "link", href=f"{base}/alerts/{ident}")
    ET.SubElement(entry, "summary").text = str(alert.get("summary") or alert.get("overview") or "")
    return updated


def atom(alerts: Sequence[dict[str, Any]], base: str, prefix: str) -> bytes:
    """An Atom 1.0 feed of the alerts, newest first."""
    root = ET.Element("feed", xmlns=ATOM)
    ET.SubElement(root, "title").text = f"{prefix} alerts"
    ET.SubElement(root, "id").text = f"{base}/alerts"
    ET.SubElement(root, "link", href=f"{base}/alerts/feed.atom", rel="self")
    ET.SubElement(root, "link", href=f"{base}/alerts")
    updated = ET.SubElement(root, "updated")
    stamps = [_entry(root, a, base) for a in alerts[:50]]
    updated.text = max(stamps, default="1970-01-01T00:00:00Z")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
