"""The main job (`make run` = `isdas demo`) composes every stage, on the small preset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from isdas.settings import Settings
from isdas.store.queries import sensor_list, top_ports


def test_demo_batch_part_runs_every_stage(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "ISDAS_HOME": str(home)}
    cmd = [sys.executable, "-m", "isdas", "demo", "--preset", "smoke", "--no-serve"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for stage in ("simulate", "ingest", "detect", "publish"):
        assert f"{stage} " in done.stderr, done.stderr
    assert "skipped" not in done.stderr
    settings = Settings(home=home)
    assert len(sensor_list(settings)) >= 2
    assert top_ports(settings, top=3)[0]["packets"] > 0
    assert (home / "site" / "index.html").is_file()
    assert (home / "site" / "feed.xml").is_file()
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "0 packets from 0 new files" in again.stderr
