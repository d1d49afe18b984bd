"""Addresses of the server (stage: serve; pure, no I/O)."""

from __future__ import annotations


def address(host: str, port: int, tls: bool = False) -> str:
    """The URL users open for a host and port."""
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}/"
