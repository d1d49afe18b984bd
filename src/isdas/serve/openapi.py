"""The OpenAPI 3.1 document of the JSON API (served at /openapi.json, rendered at /api/docs).

Stage: serve. A constant description built by small helpers; must stay in step with
`serve.api` and `serve.pages` (the schemathesis test checks the two against each other).
"""

from __future__ import annotations

from typing import Any

from isdas.serve.params import CLASSES, MAX_LIMIT, MAX_OFFSET, WINDOWS

Obj = dict[str, Any]
ERROR: Obj = {
    "type": "object",
    "required": ["ok", "error", "status"],
    "properties": {
        "ok": {"const": False},
        "error": {"type": "string"},
        "status": {"type": "integer"},
    },
}
OK: Obj = {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}}
PROTOS = ["tcp", "udp", "icmp", "icmpv6"]


def _q(name: str, schema: Obj, text: str) -> Obj:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": text}


def _path(name: str, schema: Obj, text: str) -> Obj:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": text}


TIME = {"type": "string", "format": "date-time"}
SINCE = _q("since", TIME, "Start (ISO-8601, UTC if no offset); default depends on the endpoint.")
UNTIL = _q("until", TIME, "End, exclusive; default: the hour after the newest data.")
LIMIT = _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Page size.")
OFFSET = _q("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, "Rows to skip.")
CLS = _q("cls", {"type": "string", "enum": list(CLASSES)}, "Traffic class (default scan).")
FORMAT = _q("format", {"type": "string", "enum": ["json", "csv"]}, "json (default) or csv.")
PROTO = _path("proto", {"type": "string", "enum": PROTOS}, "Protocol name.")
PORT = _path("port", {"type": "integer", "minimum": 0, "maximum": 65535}, "Port or ICMP type.")
WINDOW = _q("window", {"type": "string", "enum": list(WINDOWS)}, "Graph window (default 1w).")
QUERY = _q("q", {"type": "string", "maxLength": 100}, "Port number, proto/port or service name.")


def _get(
    summary: str, parameters: list[Obj], kinds: tuple[str, ...] = ("application/json",)
) -> Obj:
    content = {k: {"schema": OK if k == "application/json" else {"type": "string"}} for k in kinds}
    errors = {
        str(s): {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        for s in (400, 404)
    }
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": {"description": "OK", "content": content}, **errors},
        }
    }


def _post(summary: str, parameters: list[Obj]) -> Obj:
    errors = {
        str(s): {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        for s in (400, 401, 403, 404, 503)
    }
    return {
        "post": {
            "summary": summary,
            "parameters": parameters,
            "security": [{"token": []}],
            "responses": {"200": {"description": "OK"}, **errors},
        }
    }


def paths() -> Obj:
    """Every documented path."""
    csv = ("application/json", "text/csv")
    alert_id = _path("alert_id", {"type": "string", "maxLength": 80}, "Alert ID.")
    return {
        "/overview.json": _get("Overview: top ports, protocols, regions, sensors, alerts", []),
        "/ports/{proto}/{port}.json": _get(
            "One port: trend, breakdowns, knowledge", [PROTO, PORT, WINDOW]
        ),
        "/sensors.json": _get("Sensors' health, counters and gaps", []),
        "/alerts.json": _get("Alert archive and recent detections", []),
        "/alerts/{alert_id}.json": _get("One alert document", [alert_id]),
        "/search.json": _get("Search by port or service name", [QUERY]),
        "/api/v1/top-ports": _get(
            "Top ports over a time range",
            [
                SINCE,
                UNTIL,
                _q("by", {"type": "string", "enum": ["packets", "sources"]}, "Ranking."),
                _q("proto", {"type": "string", "enum": PROTOS}, "Protocol filter."),
                CLS,
                LIMIT,
                OFFSET,
                FORMAT,
            ],
            csv,
        ),
        "/api/v1/series/{proto}/{port}": _get(
            "Series of one port",
            [
                PROTO,
                PORT,
                SINCE,
                UNTIL,
                CLS,
                FORMAT,
                _q("bucket", {"type": "string", "enum": ["1", "6", "24"]}, "Bucket hours."),
            ],
            csv,
        ),
        "/api/v1/sensors": {**_get("Sensors", []), **_post("Register a sensor (admin)", [])},
        "/api/v1/detections": _get("Detections", [SINCE, UNTIL, LIMIT, OFFSET]),
        "/api/v1/alerts": _get("Alerts", [LIMIT, OFFSET]),
        "/api/v1/alerts/{alert_id}/publish": _post("Publish an alert (admin)", [alert_id]),
        "/api/v1/alerts/{alert_id}/edit": _post(
            "Edit an alert (admin): JSON title, overview, situation, solution, note", [alert_id]
        ),
        "/healthz": _get("Liveness", []),
    }


def document() -> Obj:
    """The OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "isdas API",
            "version": "1",
            "description": "Darknet scan metrics, detections and alerts. Errors are "
            '{"ok": false, "error", "status"}. Times are UTC.',
        },
        "paths": paths(),
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    }
