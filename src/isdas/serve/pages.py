"""Dashboard pages and their JSON twins: overview, port, sensors, alerts, search, login.

Stage: serve. Each handler validates its parameters, gets the page's data from `serve.data`
(through the version cache) and renders it as HTML or JSON. Must not build SQL or hold state
beyond the app's cache.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from isdas.errors import AuthError, NotFound
from isdas.serve import data, feed, params, security, sources
from isdas.serve.responses import html_page, json_bytes, json_response, render_page


async def cached(request: Request, key: Hashable, compute: Callable[[], Any]) -> Any:
    """The data of `key` from the app's version cache, computed in a worker thread on a miss."""
    cache = request.app.state.cache
    found, value = cache.peek(key)
    if found:
        return value
    return await run_in_threadpool(cache.get, key, compute)


def _is_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


async def _twin(
    request: Request, key: tuple[Hashable, ...], compute: Callable[[], Any], template: str
) -> Response:
    """The page of `key` as JSON or HTML; the encoded bodies are cached with the data.

    HTML is cached only for visitors who are not logged in (it then holds nothing personal).
    """
    found = await cached(request, key, compute)
    if _is_json(request):
        body = await cached(request, (*key, "json"), lambda: json_bytes(found))
        return Response(body, media_type="application/json")
    if request.scope.get("isdas", {}).get("admin"):
        return html_page(request, template, found)
    html = await cached(request, (*key, "html"), lambda: render_page(request, template, found))
    return HTMLResponse(html)


async def related(request: Request) -> data.Related:
    """Alerts and detections, cached apart from the pages that show them."""
    settings = request.app.state.settings
    found: data.Related = await cached(request, ("related",), lambda: data.related(settings))
    return found


async def overview(request: Request) -> Response:
    settings = request.app.state.settings
    rel = await related(request)
    compute = lambda: data.overview(settings, rel)  # noqa: E731
    return await _twin(request, ("overview",), compute, "overview.html.j2")


async def port_page(request: Request) -> Response:
    settings = request.app.state.settings
    proto = params.proto(request.path_params["proto"])
    port = params.port(request.path_params["port"])
    win = params.window(request.query_params.get("window"))
    rel = await related(request)
    compute = lambda: data.port_page(settings, proto, port, win, rel)  # noqa: E731
    return await _twin(request, ("port", proto, port, win.name), compute, "port.html.j2")


async def sensors_page(request: Request) -> Response:
    settings = request.app.state.settings
    return await _twin(
        request, ("sensors",), lambda: data.sensors_page(settings), "sensors.html.j2"
    )


async def alerts_page(request: Request) -> Response:
    rel = await related(request)
    found = {"alerts": rel.alerts, "detections": rel.detections}
    return (
        json_response(found) if _is_json(request) else html_page(request, "alerts.html.j2", found)
    )


async def alert_page(request: Request) -> Response:
    settings = request.app.state.settings
    ident = request.path_params["alert_id"]
    if len(ident) > 80:
        raise NotFound("no such alert")
    found = await cached(request, ("alert", ident), lambda: _one_alert(settings, ident))
    return json_response(found) if _is_json(request) else html_page(request, "alert.html.j2", found)


def _one_alert(settings: Any, ident: str) -> dict[str, Any]:
    alert = sources.alert(settings, ident)
    key = str(alert.get("key") or f"{alert.get('proto', '')}/{alert.get('port', '')}")
    return {"alert": alert, "key": key}


async def atom_feed(request: Request) -> Response:
    settings = request.app.state.settings
    rel = await related(request)
    body = feed.atom(rel.alerts, str(request.base_url).rstrip("/"), settings.alert_prefix)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


async def search(request: Request) -> Response:
    settings = request.app.state.settings
    query = request.query_params.get("q", "")[:100]
    found = await cached(request, ("search", query), lambda: data.search(settings, query))
    if not _is_json(request) and len(found["results"]) == 1 and "/" in query:
        only = found["results"][0]
        return RedirectResponse(f"/ports/{only['proto_name']}/{only['port']}", status_code=303)
    return (
        json_response(found) if _is_json(request) else html_page(request, "search.html.j2", found)
    )


async def login_form(request: Request) -> Response:
    return html_page(request, "login.html.j2", {"error": ""})


async def login(request: Request) -> Response:
    form = await security.form_fields(request)
    security.check_csrf(request, form.get("csrf", ""))
    token = security.admin_token(request.app.state.settings)
    given = form.get("token", "")
    if token is None or not security.same(given, token):
        raise AuthError("wrong token")
    reply = RedirectResponse("/alerts", status_code=303)
    reply.set_cookie(
        security.SESSION_COOKIE,
        security.make_session(token),
        httponly=True,
        samesite="strict",
        max_age=security.SESSION_SECONDS,
        secure=request.url.scheme == "https",
    )
    return reply


async def logout(request: Request) -> Response:
    form = await security.form_fields(request)
    security.check_csrf(request, form.get("csrf", ""))
    reply = RedirectResponse("/", status_code=303)
    reply.delete_cookie(security.SESSION_COOKIE)
    return reply


ROUTES = [
    Route("/", overview),
    Route("/overview.json", overview),
    Route("/ports/{proto}/{port:int}.json", port_page),
    Route("/ports/{proto}/{port:int}", port_page),
    Route("/sensors.json", sensors_page),
    Route("/sensors", sensors_page),
    Route("/alerts.json", alerts_page),
    Route("/alerts", alerts_page),
    Route("/alerts/feed.atom", atom_feed),
    Route("/alerts/{alert_id}.json", alert_page),
    Route("/alerts/{alert_id}", alert_page),
    Route("/search.json", search),
    Route("/search", search),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
