"""Publish stage: the webhook sink: JSON POST signed with HMAC-SHA256.

The `X-Isdas-Signature: sha256=<hex>` header is the HMAC of the exact body bytes with the
shared secret; receivers recompute it (see `signature`). Must not retry (notify.py does).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Isdas-Signature"


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex digest>` of `body` under `secret`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookSink:
    """POSTs each notification as JSON to `url`."""

    name: str
    url: str
    secret: str
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0

    def send(self, payload: Mapping[str, Any]) -> None:
        body = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self.secret, body),
            "User-Agent": "isdas-webhook",
        }
        response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        response.raise_for_status()


def from_config(raw: Mapping[str, Any], name: str) -> WebhookSink:
    """A webhook sink from its TOML table (url, secret, timeout, retries, backoff)."""
    return WebhookSink(
        name=name,
        url=str(raw["url"]),
        secret=str(raw["secret"]),
        timeout=float(raw.get("timeout", 10.0)),
        retries=int(raw.get("retries", 3)),
        backoff=float(raw.get("backoff", 1.0)),
    )
