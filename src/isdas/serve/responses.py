"""Responses of the HTTP layer: JSON (datetimes as ISO-8601 UTC), CSV, HTML from templates,
and the one error shape `{"ok": false, "error", "status"}`.

Stage: serve. Must not query anything: it formats what the data functions returned.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from isdas.errors import IsdasError


def jsonable(value: Any) -> Any:
    """JSON default: datetimes as `...Z` strings, dates as ISO, non-finite floats as null."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON of a data function's result (NaN and infinities become null)."""
    try:
        text = json.dumps(data, default=jsonable, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False)  # fmt: skip
    except ValueError:
        text = json.dumps(
            _finite(data), default=jsonable, ensure_ascii=False, separators=(",", ":")
        )
    return text.encode("utf-8")


class FastJSON(JSONResponse):
    """A JSONResponse that understands datetimes (and accepts pre-encoded bytes)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else dumps(content)


def json_response(data: Any, status: int = 200) -> Response:
    """JSON with `ok: true` added to dict payloads."""
    payload = {"ok": True, **data} if isinstance(data, dict) and status < 400 else data
    return FastJSON(payload, status_code=status)


def json_bytes(data: Any) -> bytes:
    """The body `json_response(data)` would send, for caching."""
    return dumps({"ok": True, **data} if isinstance(data, dict) else data)


def render_page(request: Request, template: str, data: Mapping[str, Any]) -> str:
    """A page template rendered with the request's context (CSRF token, login state)."""
    env: jinja2.Environment = request.app.state.templates
    context = {"data": data, "request": request, "state": request.scope.get("isdas", {})}
    return env.get_template(template).render(context)


def error_payload(status: int, message: str) -> dict[str, Any]:
    """The one error shape of the API."""
    return {"ok": False, "error": message, "status": status}


def csv_response(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], name: str) -> Response:
    """CSV with a header row, served as a download."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _cell(value: Any) -> Any:
    return jsonable(value) if isinstance(value, datetime | date) else value


def _fmt_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _fmt_num(value: Any, digits: int = 1) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return "" if value is None else str(value)


def make_templates() -> jinja2.Environment:
    """The Jinja2 environment of the dashboard (autoescaped, templates from the package)."""
    folder = resources.files("isdas.serve") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = _fmt_time
    env.filters["num"] = _fmt_num
    env.filters["pct"] = lambda v: f"{100 * float(v or 0):.1f}%"
    env.filters["tojson_attr"] = lambda v: dumps(v).decode("utf-8")
    return env


def html_page(
    request: Request, template: str, data: Mapping[str, Any], status: int = 200
) -> Response:
    """Render a page template with the request's context (CSRF token, login state)."""
    return HTMLResponse(render_page(request, template, data), status_code=status)


def wants_json(request: Request) -> bool:
    """API and `.json` paths answer JSON; so does a request accepting JSON but not HTML."""
    path = request.url.path
    if path.startswith("/api/") or path.endswith(".json") or path in ("/openapi.json", "/metrics"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, status: int, message: str) -> Response:
    """The error in JSON for API clients, as an HTML page for browsers."""
    if wants_json(request):
        return FastJSON(error_payload(status, message), status_code=status)
    return html_page(request, "error.html.j2", {"status": status, "error": message}, status)


def isdas_error(request: Request, exc: Exception) -> Response:
    """Exception handler: IsdasError to its http_status."""
    assert isinstance(exc, IsdasError)
    return error_response(request, exc.http_status, str(exc))
