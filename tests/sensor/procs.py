"""Test helpers: real collector and sensor processes on 127.0.0.1, and what they stored."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from isdas.settings import Settings
from isdas.store import queries

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}


def start_collector(home: Path, port: int, *args: str, **limits: str) -> subprocess.Popen[bytes]:
    extra = {f"ISDAS_COLLECTOR_{k.upper()}": v for k, v in limits.items()}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "collector_app.py"), str(home), str(port), *args],
        env={**env(), **extra},
    )
    wait_for(lambda: _port_open(port), 20, "collector to listen")
    return proc


def write_config(path: Path, port: int, token: str, **extra: object) -> Path:
    values: dict[str, object] = {
        "collector": f"http://127.0.0.1:{port}",
        "sensor_id": "s1",
        "token": token,
        "spool_dir": str(path.parent / "spool"),
        "batch_events": 500,
        "batch_seconds": 0.5,
        "heartbeat_seconds": 0.5,
        "retry_base_s": 0.1,
        "retry_cap_s": 1.0,
        "watch_idle_seconds": 0.5,
        **extra,
    }
    lines = [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in values.items()]
    path.write_text("\n".join(lines).replace("'", '"') + "\n")
    return path


def start_sensor(config: Path, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "isdas", "sensor", "run", "--config", str(config), *args]
    return subprocess.Popen(cmd, env=env())


def kill9(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(timeout=10)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill9(proc)


def stored_packets(settings: Settings, sensor: str = "s1") -> int:
    """Packets the catalog says it stored for `sensor`."""
    rows = [r for r in queries.sensor_list(settings) if r["sensor_id"] == sensor]
    return int(rows[0]["packets"] or 0) if rows else 0


def lake_rows(settings: Settings, sensor: str = "s1") -> int:
    """Rows in the Parquet parts of `sensor` (catches double writes the catalog would hide)."""
    parts = settings.lake.rglob(f"sensor={sensor}/*.parquet")
    return sum(pq.ParquetFile(p).metadata.num_rows for p in parts)


def spooled(spool: Path) -> list[Path]:
    return sorted(spool.glob("b-*.arrows")) if spool.exists() else []
