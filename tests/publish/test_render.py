"""Renderers on a fixed alert: golden files per format, STIX validation, JSON round trip.

Regenerate the golden files after an intended change with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
import stix2

from isdas.errors import InputError
from isdas.publish import document, render, stix
from tests.publish.sample import fixed_alert

GOLDEN = Path(__file__).parent / "golden"
FORMATS = {
    "text": "alert.txt",
    "md": "alert.md",
    "html": "alert.html",
    "json": "alert.json",
    "stix": "alert.stix.json",
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_renderer_matches_golden_file(fmt: str) -> None:
    out = render.renderer(fmt)(fixed_alert())
    path = GOLDEN / FORMATS[fmt]
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_text_has_the_jpcert_sections_in_order() -> None:
    out = render.text(fixed_alert())
    marks = [
        "ISDAS-AT-2007-0019",
        "Increased activity targeting TCP port 5168",
        "I. Overview",
        "II. Situation observed",
        "III. Solution",
        "IV. References",
        "Revision history",
    ]
    positions = [out.index(m) for m in marks]
    assert positions == sorted(positions)
    assert all(len(line) <= 72 for line in out.splitlines())


def test_stix_bundle_validates_and_links_objects() -> None:
    alert = fixed_alert()
    parsed = stix2.parse(stix.bundle_json(alert), allow_custom=False)
    kinds = {o.type for o in parsed.objects}
    assert {"report", "indicator", "observed-data", "vulnerability", "identity"} <= kinds
    report = next(o for o in parsed.objects if o.type == "report")
    ids = {o.id for o in parsed.objects}
    assert set(report.object_refs) <= ids
    cves = {o.name for o in parsed.objects if o.type == "vulnerability"}
    assert "CVE-2007-1070" in cves


def test_withdrawn_alert_report_is_revoked() -> None:
    alert = replace(fixed_alert(), status="withdrawn")
    report = next(o for o in stix.bundle(alert).objects if o.type == "report")
    assert report.revoked is True


def test_html_escapes_analyst_text() -> None:
    alert = replace(fixed_alert(), overview="<script>alert(1)</script>")
    out = render.renderer("html")(alert)
    assert "<script>alert(1)" not in out and "&lt;script&gt;" in out


def test_json_round_trips() -> None:
    alert = fixed_alert()
    assert document.from_json(document.to_json(alert)) == alert
    assert json.loads(render.json_text(alert))["id"] == alert.id


def test_malformed_json_raises_input_error() -> None:
    with pytest.raises(InputError):
        document.from_json('{"id": 1}')
    with pytest.raises(InputError):
        render.renderer("pdf")
