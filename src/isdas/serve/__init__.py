"""Serve stage: the dashboard, JSON API, /metrics and (mounted) collector endpoints.

Public entry points: `create_app(settings)` (an ASGI app) and `run_server(settings, host, port)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from isdas.settings import Settings

__all__ = ["address", "create_app", "run_server"]


def address(host: str, port: int, tls: bool = False) -> str:
    """The URL users open for a host and port."""
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}/"


def create_app(settings: Settings) -> Starlette:
    """The ASGI app over one data home (imported lazily to keep `import isdas.serve` cheap)."""
    from isdas.serve.app import create_app as build

    return build(settings)


def run_server(settings: Settings, host: str = "127.0.0.1", port: int = 8080, **tls: Any) -> None:
    """Serve until Ctrl-C (blocks); `tls_cert`/`tls_key` enable HTTPS."""
    from isdas.serve.app import run_server as run

    run(settings, host, port, **tls)
