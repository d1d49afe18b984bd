"""Notification sinks against real local servers: webhook (HMAC), SMTP with STARTTLS, directory;
a failing sink is retried and reported without blocking the others."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller

from isdas.errors import InputError
from isdas.publish import notify
from isdas.publish.sinks import load
from isdas.publish.sinks.directory import DirectorySink
from isdas.publish.sinks.email import EmailSink
from isdas.publish.sinks.webhook import SIGNATURE_HEADER, WebhookSink, signature
from isdas.settings import Settings
from tests.publish.sample import fixed_alert


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_url() -> Iterator[str]:
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[int, str, _Inbox]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()
    port = _closed_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    yield port, str(cert), inbox
    controller.stop()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_webhook_posts_signed_json(hook_url: str) -> None:
    sink = WebhookSink("hook", hook_url, "s3cret", retries=0)
    [outcome] = notify.notify([sink], fixed_alert())
    assert outcome.ok and outcome.attempts == 1
    headers, body = _Hook.received[0]
    assert headers[SIGNATURE_HEADER] == signature("s3cret", body)
    assert headers[SIGNATURE_HEADER] != signature("other", body)
    payload = json.loads(body)
    assert payload["id"] == "ISDAS-AT-2007-0019" and "III. Solution" in payload["text"]


def test_email_uses_starttls(smtp: tuple[int, str, _Inbox]) -> None:
    port, cafile, inbox = smtp
    sink = EmailSink(
        "mail",
        "127.0.0.1",
        port,
        "isdas@example.org",
        ("soc@example.org",),
        cafile=cafile,
        retries=0,
    )
    [outcome] = notify.notify([sink], fixed_alert())
    assert outcome.ok, outcome.error
    text = inbox.messages[0].decode()
    assert "Subject: [ISDAS-AT-2007-0019] Increased activity targeting TCP port 5168" in text


def test_email_without_trusted_certificate_fails(smtp: tuple[int, str, _Inbox]) -> None:
    port, _, inbox = smtp
    sink = EmailSink("mail", "127.0.0.1", port, "a@example.org", ("b@example.org",), retries=0)
    [outcome] = notify.notify([sink], fixed_alert())
    assert not outcome.ok and inbox.messages == []


def test_failing_sink_is_retried_and_never_blocks_others(tmp_path: Path, hook_url: str) -> None:
    dead = WebhookSink(
        "dead", f"http://127.0.0.1:{_closed_port()}/", "k", timeout=1, retries=2, backoff=0.05
    )
    good = [WebhookSink("hook", hook_url, "k", retries=0), DirectorySink("dir", tmp_path / "out")]
    started = time.monotonic()
    outcomes = notify.notify([dead, *good], fixed_alert())
    assert [o.sink for o in outcomes] == ["dead", "hook", "dir"]
    assert not outcomes[0].ok and outcomes[0].attempts == 3 and outcomes[0].error
    assert outcomes[1].ok and outcomes[2].ok
    assert (
        json.loads((tmp_path / "out" / "ISDAS-AT-2007-0019-r1.json").read_text())["revision"] == 1
    )
    assert time.monotonic() - started < 10


def test_backoff_doubles() -> None:
    waits: list[float] = []

    class Broken:
        name, retries, backoff = "broken", 3, 0.5

        def send(self, payload: Any) -> None:
            raise OSError("down")

    outcome = notify.deliver(Broken(), {}, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0] and outcome.attempts == 4


def test_sinks_toml_is_loaded_and_checked(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    (tmp_path / "sinks.toml").write_text(
        '[[sink]]\ntype = "directory"\npath = "out"\n'
        '[[sink]]\ntype = "webhook"\nurl = "http://127.0.0.1:1/"\nsecret = "x"\n'
        '[[sink]]\ntype = "email"\nfrom = "a@b"\nto = "c@d"\nport = 2525\n'
    )
    sinks = load(settings.home / "sinks.toml")
    assert [type(s).__name__ for s in sinks] == ["DirectorySink", "WebhookSink", "EmailSink"]
    (tmp_path / "sinks.toml").write_text('[[sink]]\ntype = "pigeon"\n')
    with pytest.raises(InputError):
        load(settings.home / "sinks.toml")
    (tmp_path / "sinks.toml").write_text('[[sink]]\ntype = "webhook"\n')
    with pytest.raises(InputError):
        load(settings.home / "sinks.toml")
