"""The HTTP application: routes, middleware, error handlers, static files; and the server.

Stage: serve. Assembles the dashboard, the JSON API and (when installed) the collector's routes
into one Starlette app. Must not contain page logic (see pages, api) or open the catalog.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from importlib import resources
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from isdas.errors import IsdasError
from isdas.serve import api, pages
from isdas.serve.cache import VersionedCache
from isdas.serve.metrics import LatencyRecorder, TimingMiddleware
from isdas.serve.responses import error_response, isdas_error, make_templates
from isdas.serve.security import SecurityMiddleware
from isdas.serve.urls import address
from isdas.settings import Settings

log = logging.getLogger(__name__)


def collector_parts(settings: Settings) -> tuple[list[BaseRoute], Any]:
    """The collector's ingest and heartbeat routes and its lifespan (which starts the
    committer, recovering deferred metrics, and flushes them at shutdown)."""
    from isdas.serve import collector

    found = collector.Collector(settings, collector.CollectorConfig.from_env())
    return found.routes(), found.lifespan


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(request, exc.status_code, str(exc.detail))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    return error_response(request, 500, "internal error")


async def _isdas_error(request: Request, exc: Exception) -> Response:
    return isdas_error(request, exc)


def create_app(settings: Settings) -> Starlette:
    """The isdas web app over one data home.

    $ISDAS_SERVE_CACHE_SECONDS bounds how long computed page data is reused (default 60;
    0 disables the cache). Any catalog write invalidates it anyway.
    """
    static = resources.files("isdas.serve") / "static"
    collector_routes, lifespan = collector_parts(settings)
    routes: list[BaseRoute] = [
        *collector_routes,
        *pages.ROUTES,
        *api.ROUTES,
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    latency = LatencyRecorder()
    handlers: dict[Any, Any] = {
        IsdasError: _isdas_error,
        HTTPException: http_error,
        Exception: server_error,
    }
    middleware = [
        Middleware(TimingMiddleware, recorder=latency),
        Middleware(SecurityMiddleware, token_source=settings),
    ]
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers=handlers, lifespan=lifespan
    )
    app.state.settings = settings
    ttl = float(os.environ.get("ISDAS_SERVE_CACHE_SECONDS", "60") or 0)
    app.state.cache = VersionedCache(settings.catalog, ttl=ttl)
    app.state.latency = latency
    app.state.templates = make_templates()
    return app


def _stderr_line(url: str) -> None:
    sys.stderr.write(f"isdas dashboard: {url} (Ctrl-C to stop)\n")
    sys.stderr.flush()


def run_server(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    announce: Callable[[str], None] | None = _stderr_line,
) -> None:
    """Serve the app until Ctrl-C (blocks): the process's main loop, like `uvicorn.run`.

    Once listening it calls `announce(url)` (default: one line on stderr; None: silent).
    Access logs are off: request latency goes to /metrics.
    """
    app = create_app(settings)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, ssl_certfile=tls_cert,
        ssl_keyfile=tls_key, proxy_headers=False, server_header=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    url = address(host, port, tls=bool(tls_cert))
    try:
        asyncio.run(_serve(server, url, announce))
    except KeyboardInterrupt:
        log.info("stopped")


async def _serve(server: uvicorn.Server, url: str, announce: Callable[[str], None] | None) -> None:
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started and announce is not None:
        announce(url)
    await task
