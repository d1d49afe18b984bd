"""`isdas alert|graph|report|publish|knowledge` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import feedparser
import stix2

from isdas.settings import Settings
from tests.publish.sample import ONSET, fill_metrics


def isdas(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ISDAS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "isdas", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_alert_life_cycle(tmp_path: Path) -> None:
    home = tmp_path / "home"
    start = ONSET - timedelta(days=6)
    fill_metrics(Settings(home=home.resolve()), start=start, hours=160, rise_at=144)
    rise = (start + timedelta(hours=144)).isoformat()
    end = (start + timedelta(hours=160)).isoformat()
    drafted = isdas(home, "alert", "draft", "--port", "tcp/5168", "--since", rise, "--until", end)
    assert drafted.returncode == 0, drafted.stderr
    alert_id = drafted.stdout.strip()
    assert alert_id.startswith("ISDAS-AT-") and len(alert_id) == len("ISDAS-AT-2026-0001")

    edited = isdas(
        home,
        "alert",
        "edit",
        alert_id,
        "--title",
        "Increased activity targeting TCP port 5168 and 3628",
        "--add-reference",
        "https://example.org/a",
        "--note",
        "Added TCP port 3628",
    )
    assert edited.returncode == 0, edited.stderr
    exported = isdas(home, "alert", "edit", alert_id, "--export").stdout
    md = tmp_path / "alert.md"
    md.write_text(exported.replace("## III. Solution\n\n", "## III. Solution\n\n- Unplug it.\n"))
    assert (
        isdas(home, "alert", "edit", alert_id, "--file", str(md), "--note", "advice").returncode
        == 0
    )

    assert isdas(home, "alert", "publish", alert_id).returncode == 0
    text = isdas(home, "alert", "show", alert_id).stdout
    assert (
        "TCP port 5168 and 3628" in text and "Unplug it." in text and "Added TCP port 3628" in text
    )
    first = isdas(home, "alert", "show", alert_id, "--revision", "1").stdout
    assert "TCP port 5168 and 3628" not in first and "TCP port 5168" in first
    stix2.parse(isdas(home, "alert", "show", alert_id, "--format", "stix").stdout)
    rows = json.loads(isdas(home, "alert", "list", "--json").stdout)
    assert rows[0]["status"] == "published" and rows[0]["revision"] == 4

    site = tmp_path / "site"
    assert isdas(home, "publish", "--site", str(site)).returncode == 0
    assert len(feedparser.parse(str(site / "feed.xml")).entries) == 1


def test_errors_map_to_exit_codes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert isdas(home, "alert", "show", "ISDAS-AT-2000-0001").returncode == 5
    assert isdas(home, "alert", "draft").returncode == 2
    assert (
        isdas(home, "alert", "draft", "--port", "tcp/99999", "--since", "2020-01-01").returncode
        == 2
    )


def test_graph_and_report_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    start = ONSET - timedelta(days=6)
    fill_metrics(Settings(home=home.resolve()), start=start, hours=160, rise_at=144)
    until = (start + timedelta(hours=162)).isoformat()
    out = tmp_path / "g.png"
    done = isdas(home, "graph", "tcp/5168", "--window", "1w", "--until", until, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"\x89PNG") and out.stat().st_size > 20_000
    svg = tmp_path / "r.svg"
    assert (
        isdas(
            home, "graph", "tcp/5168", "--regions", "--until", until, "--out", str(svg)
        ).returncode
        == 0
    )
    assert "source region" in svg.read_text()
    md = isdas(home, "report", "--period", "week", "--until", until).stdout
    assert "tcp/5168" in md and "| 1 | CN |" in md
    assert (
        isdas(
            home, "report", "--period", "quarter", "--until", until, "--out", str(tmp_path / "rep")
        ).returncode
        == 0
    )
    assert len(list((tmp_path / "rep").glob("quarter-*"))) == 3


def test_knowledge_show(tmp_path: Path) -> None:
    done = isdas(tmp_path, "knowledge", "show", "tcp/445", "--json")
    info = json.loads(done.stdout)
    assert info["service"] == "microsoft-ds" and "CVE-2017-0144" in json.dumps(info)
