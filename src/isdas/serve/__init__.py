"""Serve stage: the dashboard, JSON API, /metrics and (mounted) collector endpoints.

Public entry points: `create_app(settings)` (an ASGI app) and `run_server(settings, host, port)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from isdas.serve.urls import address

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from isdas.settings import Settings

__all__ = ["address", "create_app", "run_server"]


def create_app(settings: Settings) -> Starlette:
    """The ASGI app over one data home (imported lazily to keep `import isdas.serve` cheap)."""
    from isdas.serve.app import create_app as build

    return build(settings)


def run_server(settings: Settings, host: str = "127.0.0.1", port: int = 8080, **tls: Any) -> None:
    """Serve until Ctrl-C (blocks), announcing the address on stderr once listening.

    Keywords: `tls_cert`/`tls_key` enable HTTPS; `announce` replaces the stderr line
    (a callable taking the URL, or None for silence).
    """
    from isdas.serve.app import run_server as run

    run(settings, host, port, **tls)
