"""`isdas sensor add/revoke/list` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from isdas.settings import Settings
from isdas.store import tokens
from tests.sensor import procs


def isdas(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "isdas", "--home", str(home), "sensor", *args]
    env = {**procs.env(), "COLUMNS": "250"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


def test_add_prints_token_once_then_revoke_and_list(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = isdas(home, "add", "tokyo-1", "--addresses", "192.0.2.0/24")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert tokens.verify(Settings(home=home), token) == "tokyo-1"
    assert token not in (home / "catalog.duckdb").read_bytes().decode("latin-1")
    assert isdas(home, "add", "tokyo-1").returncode == 2  # already has a valid token
    assert isdas(home, "add", "bad name!").returncode == 2
    listed = json.loads(isdas(home, "list", "--json").stdout)
    assert [(r["sensor_id"], r["addresses"], r["token"]) for r in listed] == [
        ("tokyo-1", 256, "valid")
    ]
    assert isdas(home, "revoke", "tokyo-1").returncode == 0
    assert isdas(home, "revoke", "tokyo-1").returncode == 5
    listed = json.loads(isdas(home, "list", "--json").stdout)
    assert listed[0]["token"] == "revoked"
    assert "tokyo-1" in isdas(home, "list").stdout
