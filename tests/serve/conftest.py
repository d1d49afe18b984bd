"""Fixtures of the serve tests: a catalog filled with generated metrics, an app client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from isdas.serve import create_app
from isdas.settings import Settings
from tests.serve.serve_fake import fill_catalog

ISDAS = Path(sys.executable).parent / "isdas"


class Filled:
    """A filled home: its settings and the newest hour written."""

    def __init__(self, settings: Settings, last: datetime) -> None:
        self.settings = settings
        self.last = last


@pytest.fixture(scope="session")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Filled:
    """Two weeks of hourly metrics for 4 sensors (the last one silent for 2 days)."""
    settings = Settings(home=tmp_path_factory.mktemp("dash") / "home")
    return Filled(settings, fill_catalog(settings, days=14, sensors=4))


@pytest.fixture(scope="session")
def client(filled: Filled) -> Iterator[TestClient]:
    """A client of the app over the filled home."""
    with TestClient(create_app(filled.settings)) as c:
        yield c


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    """A client of the app over a brand-new home."""
    with TestClient(create_app(Settings(home=tmp_path / "home"))) as c:
        yield c


class Live:
    """A real `isdas serve` subprocess on 127.0.0.1."""

    def __init__(self, settings: Settings, url: str, proc: subprocess.Popen[bytes]) -> None:
        self.settings = settings
        self.url = url
        self.proc = proc


def free_port() -> int:
    """A port the kernel just gave us on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(settings: Settings, env: dict[str, str] | None = None) -> Live:
    """Start `isdas serve` and wait until /healthz answers."""
    port = free_port()
    cmd = [str(ISDAS), "--home", str(settings.home), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Live(settings, url, proc)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"isdas serve did not start: {proc.stderr.read() if proc.stderr else ''}")


def stop_server(live: Live) -> None:
    """Interrupt the server (as Ctrl-C does) and wait for it."""
    live.proc.send_signal(signal.SIGINT)
    try:
        live.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        live.proc.kill()


@pytest.fixture(scope="session")
def live(filled: Filled) -> Iterator[Live]:
    """`isdas serve` over the filled home."""
    server = start_server(filled.settings)
    yield server
    stop_server(server)
