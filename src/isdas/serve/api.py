"""The JSON API (/api/v1), its CSV exports, analyst actions, /metrics and the OpenAPI document.

Stage: serve. Validates parameters (clear 4xx), calls `serve.data` / `serve.sources`, formats.
Analyst actions require the admin token (see `serve.security`). Must not build SQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from isdas.errors import InputError, StoreError
from isdas.serve import data, metrics, openapi, params, security, sources
from isdas.serve.pages import cached, related
from isdas.serve.responses import FastJSON, csv_response, html_page, json_response
from isdas.store.dashboard import open_reader

TOP_COLUMNS = (
    "rank",
    "key",
    "proto_name",
    "port",
    "service",
    "packets_per_sensor",
    "packets",
    "sources_per_hour",
    "max_sources",
    "sensors",
)
SERIES_COLUMNS = ("time", "packets_per_sensor", "sources", "packets")


def _now(request: Request) -> Any:
    def compute() -> Any:
        with open_reader(request.app.state.settings) as r:
            return data.data_now(r)

    return cached(request, ("now",), compute)


async def top_ports(request: Request) -> Response:
    q = request.query_params
    rng = params.time_range(q, await _now(request), timedelta(days=1))
    by = params.choice(q, "by", ("packets", "sources"), "packets")
    cls = params.choice(q, "cls", params.CLASSES, "scan")
    fmt = params.choice(q, "format", ("json", "csv"), "json")
    limit = params.integer(q, "limit", 10, 1, params.MAX_LIMIT)
    offset = params.integer(q, "offset", 0, 0, params.MAX_OFFSET)
    proto = params.optional_proto(q)
    key = ("top", rng, by, cls, limit, offset, proto)
    settings = request.app.state.settings
    found = await cached(
        request,
        key,
        lambda: data.top_ports(
            settings, rng, by=by, limit=limit, offset=offset, proto=proto, cls=cls
        ),
    )
    if fmt == "csv":
        return csv_response(found["ports"], TOP_COLUMNS, "top-ports")
    return json_response(found)


async def series(request: Request) -> Response:
    q = request.query_params
    proto = params.proto(request.path_params["proto"])
    port = params.port(request.path_params["port"])
    rng = params.time_range(q, await _now(request), timedelta(days=7))
    bucket = int(params.choice(q, "bucket", ("1", "6", "24"), "1"))
    if (rng.until - rng.since) / timedelta(hours=bucket) > 20_000:
        raise InputError("too many points: use a larger bucket or a shorter range")
    cls = params.choice(q, "cls", params.CLASSES, "scan")
    fmt = params.choice(q, "format", ("json", "csv"), "json")
    settings = request.app.state.settings
    key = ("series", proto, port, rng, bucket, cls)
    found = await cached(request, key, lambda: data.series(settings, proto, port, rng, bucket, cls))
    if fmt == "csv":
        return csv_response(found["points"], SERIES_COLUMNS, found["key"].replace("/", "-"))
    return json_response(found)


async def sensors(request: Request) -> Response:
    settings = request.app.state.settings
    return json_response(await cached(request, ("sensors",), lambda: data.sensors_page(settings)))


def _page(request: Request, items: list[Any]) -> dict[str, Any]:
    q = request.query_params
    limit = params.integer(q, "limit", 50, 1, params.MAX_LIMIT)
    offset = params.integer(q, "offset", 0, 0, params.MAX_OFFSET)
    return {
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "items": items[offset : offset + limit],
    }


async def detections(request: Request) -> Response:
    q = request.query_params
    since = params.timestamp(q["since"], "since") if q.get("since") else None
    until = params.timestamp(q["until"], "until") if q.get("until") else None
    settings = request.app.state.settings
    found = await cached(
        request, ("detections", since, until), lambda: sources.detections(settings, since, until)
    )
    return json_response(_page(request, found))


async def alerts(request: Request) -> Response:
    settings = request.app.state.settings
    del settings
    return json_response(_page(request, (await related(request)).alerts))


def _action(module: str, name: str) -> Any:
    mod = sources.module(module)
    fn = getattr(mod, name, None) if mod is not None else None
    if fn is None:
        raise StoreError(f"{module}.{name} is not available in this installation yet")
    return fn


async def publish_alert(request: Request) -> Response:
    state = request.scope["isdas"]
    await security.require_admin(request, state["token"])
    fn = _action("isdas.publish.manage", "publish")
    settings = request.app.state.settings
    ident = request.path_params["alert_id"]
    result = await run_in_threadpool(fn, settings, ident)
    if not request.url.path.startswith("/api/"):
        return RedirectResponse(f"/alerts/{ident}", status_code=303)
    return json_response({"alert": sources.plain(result)})


EDIT_FIELDS = ("title", "overview", "situation", "note")


def _edit_of(body: dict[str, Any]) -> Any:
    """An `isdas.publish.edit.Edit` from form or JSON fields (blank fields stay unchanged)."""
    mod = sources.module("isdas.publish.edit")
    if mod is None:
        raise StoreError("alert editing is not available in this installation yet")
    fields = {k: str(body[k]) for k in EDIT_FIELDS if body.get(k)}
    solution = body.get("solution")
    if isinstance(solution, str):
        solution = [line.strip(" -*") for line in solution.splitlines() if line.strip(" -*")]
    if isinstance(solution, list) and solution:
        fields["solution"] = tuple(str(s) for s in solution)  # type: ignore[assignment]
    return mod.Edit(**fields)


async def edit_alert(request: Request) -> Response:
    state = request.scope["isdas"]
    form = await security.require_admin(request, state["token"])
    is_json = request.headers.get("content-type", "").startswith("application/json")
    body = (await request.json()) if is_json else form
    if not isinstance(body, dict):
        raise InputError("send a JSON object or a form with title, overview, situation, note")
    fn = _action("isdas.publish.manage", "edit")
    ident = request.path_params["alert_id"]
    result = await run_in_threadpool(fn, request.app.state.settings, ident, _edit_of(body))
    if not request.url.path.startswith("/api/"):
        return RedirectResponse(f"/alerts/{ident}", status_code=303)
    return json_response({"alert": sources.plain(result)})


async def register_sensor(request: Request) -> Response:
    state = request.scope["isdas"]
    form = await security.require_admin(request, state["token"])
    body = form or (
        await request.json()
        if request.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    sensor_id = str(body.get("sensor_id", "")) if isinstance(body, dict) else ""
    if not sensor_id or len(sensor_id) > 64:
        raise InputError("sensor_id (1-64 characters) is required")
    raw_cidrs = body.get("cidrs", []) if isinstance(body, dict) else []
    cidrs = [c.strip() for c in (raw_cidrs.split(",") if isinstance(raw_cidrs, str) else raw_cidrs)]
    fn = _action("isdas.store.tokens", "register")
    token = await run_in_threadpool(
        fn, request.app.state.settings, sensor_id, [c for c in cidrs if c]
    )
    return json_response({"sensor": sensor_id, "token": token}, status=201)


def _metrics_text(request: Request) -> str:
    settings = request.app.state.settings
    with open_reader(settings) as r:
        totals = r.ingest_totals()
    health = data.sensors_page(settings)["sensors"]
    lat = [
        (d["detected_at"] - d["start"]).total_seconds() / 3600
        for d in sources.detections(settings)
        if d.get("detected_at") and d.get("start")
    ]
    lines = request.app.state.latency.lines() + metrics.catalog_lines(totals, health, lat)
    return "\n".join(lines) + "\n"


async def prometheus(request: Request) -> Response:
    body = await run_in_threadpool(_metrics_text, request)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")


async def openapi_json(request: Request) -> Response:
    return FastJSON(openapi.document())


async def api_docs(request: Request) -> Response:
    return html_page(request, "docs.html.j2", openapi.document())


async def healthz(request: Request) -> Response:
    return json_response({"status": "up"})


ROUTES = [
    Route("/api/v1/top-ports", top_ports),
    Route("/api/v1/series/{proto}/{port:int}", series),
    Route("/api/v1/sensors", sensors, methods=["GET"]),
    Route("/api/v1/sensors", register_sensor, methods=["POST"]),
    Route("/api/v1/detections", detections),
    Route("/api/v1/alerts", alerts),
    Route("/api/v1/alerts/{alert_id}/publish", publish_alert, methods=["POST"]),
    Route("/alerts/{alert_id}/publish", publish_alert, methods=["POST"]),
    Route("/api/v1/alerts/{alert_id}/edit", edit_alert, methods=["POST"]),
    Route("/alerts/{alert_id}/edit", edit_alert, methods=["POST"]),
    Route("/metrics", prometheus),
    Route("/openapi.json", openapi_json),
    Route("/api/docs", api_docs),
    Route("/healthz", healthz),
]
