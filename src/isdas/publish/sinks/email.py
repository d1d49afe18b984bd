"""Publish stage: the e-mail sink: SMTP with STARTTLS (and optional login).

Sends the plain-text alert with the subject `[id] title`. Certificates are verified (a `cafile`
may name a private CA). Must not retry (notify.py does).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any


@dataclass(frozen=True)
class EmailSink:
    """Mails each notification to `to`."""

    name: str
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    starttls: bool = True
    cafile: str | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0

    def message(self, payload: Mapping[str, Any]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = f"[{payload['id']}] {payload['title']}"
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg.set_content(str(payload.get("text", "")))
        return msg

    def send(self, payload: Mapping[str, Any]) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=self.cafile))
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(self.message(payload))


def from_config(raw: Mapping[str, Any], name: str) -> EmailSink:
    """An e-mail sink from its TOML table."""
    to = raw["to"]
    return EmailSink(
        name=name,
        host=str(raw.get("host", "localhost")),
        port=int(raw.get("port", 587)),
        sender=str(raw["from"]),
        to=(to,) if isinstance(to, str) else tuple(str(t) for t in to),
        starttls=bool(raw.get("starttls", True)),
        cafile=raw.get("cafile"),
        username=raw.get("username"),
        password=raw.get("password"),
        timeout=float(raw.get("timeout", 10.0)),
        retries=int(raw.get("retries", 3)),
        backoff=float(raw.get("backoff", 1.0)),
    )
