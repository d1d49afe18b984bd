"""The static site: index by year, alert pages with graphs, reports, Atom feed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import feedparser

from isdas.models import Key
from isdas.publish import manage, report, site
from isdas.settings import Settings
from tests.publish.sample import DRAFTED, ONSET, detection, fill_metrics


def test_site_lists_every_published_alert_in_a_valid_feed(
    settings: Settings, tmp_path: Path
) -> None:
    fill_metrics(settings, start=ONSET - timedelta(days=6), hours=160, rise_at=144)
    ids = []
    for i, port in enumerate((5168, 445, 23)):
        alert = manage.draft_detection(settings, detection(port, f"d{i}"), at=DRAFTED)
        ids.append(alert.id)
    manage.publish(settings, ids[0], at=DRAFTED)
    manage.publish(settings, ids[1], at=DRAFTED)
    out = tmp_path / "site"
    result = site.publish_all(
        settings, out, base_url="https://example.org/isdas/", until=DRAFTED + timedelta(days=1)
    )
    assert set(result.alerts) == {ids[0], ids[1]}
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert {e.id for e in parsed.entries} == {f"urn:isdas:alert:{i}" for i in ids[:2]}
    assert all(e.link.startswith("https://example.org/isdas/alerts/") for e in parsed.entries)
    index = (out / "index.html").read_text()
    assert "<h2>2007</h2>" in index and ids[0] in index and ids[2] not in index
    page = out / "alerts" / ids[0]
    assert (page / "port-1w.png").read_bytes().startswith(b"\x89PNG")
    assert 'src="port-1w.png"' in (page / "index.html").read_text()
    for name in ("alert.txt", "alert.md", "alert.json", "alert.stix.json", "regions-1w.png"):
        assert (page / name).stat().st_size > 100
    assert len(list((out / "reports").glob("*.html"))) == 2


def test_withdrawn_alert_stays_in_archive_but_leaves_feed(
    settings: Settings, tmp_path: Path
) -> None:
    alert = manage.draft_detection(settings, detection(), at=DRAFTED)
    manage.publish(settings, alert.id)
    manage.withdraw(settings, alert.id)
    site.publish_all(settings, tmp_path / "s")
    assert feedparser.parse((tmp_path / "s" / "feed.xml").read_bytes()).entries == []
    assert "(withdrawn)" in (tmp_path / "s" / "index.html").read_text()


def test_report_has_top_ports_regions_and_events(settings: Settings) -> None:
    fill_metrics(settings, start=ONSET - timedelta(days=6), hours=160, rise_at=144)
    alert = manage.draft_detection(settings, detection(), at=DRAFTED)
    rep = report.build(settings, "week", DRAFTED + timedelta(days=1))
    assert rep.ports[0]["port"] == 5168
    assert [r["country"] for r in rep.regions][:2] == ["CN", "JP"]
    assert any(e.ref == alert.id for e in rep.events)
    md = report.markdown(rep)
    assert "## Top 5 destination ports" in md and "| 1 | tcp/5168 | scte30 |" in md
    assert "CN" in report.page(rep)


def test_hand_written_alert_takes_figures_from_metrics(settings: Settings) -> None:
    fill_metrics(settings, start=ONSET - timedelta(days=6), hours=160, rise_at=144)
    rise = ONSET - timedelta(days=6) + timedelta(hours=144)
    alert = manage.draft_port(settings, Key(6, 5168), rise, rise + timedelta(hours=16))
    assert alert.observed.expected_sources == 3 and alert.observed.sources == 24
    assert {s.name for s in alert.observed.sensors} == {"s1", "s2"}
    assert alert.observed.countries[0].name == "CN"
    assert "8.0 times the usual level" in alert.overview
