"""`isdas detect` through the real entry point on a catalog filled with synthetic metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from isdas.settings import Settings
from tests.analyse.synth import step_event, world
from tests.store.test_detections import fill


def isdas(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "isdas", "--home", str(home), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_detect_json_lists_the_step_with_required_fields(tmp_path: Path) -> None:
    w = world(n_keys=150, hours=24 * 19, seed=12)
    step_event(w, 100, 24 * 16, 25)
    fill(Settings(tmp_path), w.frames(), {})
    out = isdas(tmp_path, "detect", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    glob = [r for r in rows if r["kind"] == "global"]
    assert len(glob) == 1
    row = glob[0]
    for field in ("id", "proto", "port", "kind", "start", "detected_at", "countries",
                  "fingerprints", "score", "explanation"):  # fmt: skip
        assert field in row
    assert (row["proto"], row["port"]) == ("tcp", 1100)
    assert row["start"].endswith("Z")
    assert row["countries"] == ["JP"]
    table = isdas(tmp_path, "detect", "--since", row["start"])
    assert table.returncode == 0
    assert row["id"] in table.stdout


def test_detect_rejects_bad_budget_and_time(tmp_path: Path) -> None:
    assert isdas(tmp_path, "detect", "--budget", "0").returncode == 2
    assert isdas(tmp_path, "detect", "--since", "yesterday").returncode == 2
