"""Adapters to the optional stages the dashboard shows: detections, alerts, port knowledge.

Stage: serve. Each function imports its module lazily and returns plain JSON-able values, or an
empty result when that stage is not installed yet, so pages render a "nothing yet" state instead
of failing. Must not query the catalog directly (the owning stage does that).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Any

from isdas.errors import IsdasError, NotFound
from isdas.settings import Settings

log = logging.getLogger(__name__)


def module(name: str) -> ModuleType | None:
    """The module `name`, or None when it (or one of its imports) is missing."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        log.debug("optional module %s unavailable: %s", name, exc)
        return None


def plain(value: Any) -> Any:
    """Dataclasses, tuples and mappings to JSON-able dicts and lists (datetimes kept)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return plain(value.to_dict())
    return value


def _guarded(what: str, call: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A list from an optional stage; [] (logged) when its tables are not there yet."""
    try:
        return call()
    except IsdasError as exc:
        log.warning("%s unavailable: %s", what, exc)
        return []


def detections(
    settings: Settings, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Detections in a window (newest first), or [] before the detection stage exists."""
    mod = module("isdas.store.detections")
    if mod is None:
        return []
    found = _guarded(
        "detections",
        lambda: [_detection(d) for d in mod.list_detections(settings, since=since, until=until)],
    )
    return sorted(found, key=lambda d: str(d.get("detected_at", "")), reverse=True)


def _detection(value: Any) -> dict[str, Any]:
    found: dict[str, Any] = plain(value)
    found["key"] = f"{found.get('proto')}/{found.get('port')}"
    return found


def detection(settings: Settings, ident: str) -> dict[str, Any]:
    """One detection; NotFound when missing or when the stage is absent."""
    mod = module("isdas.store.detections")
    if mod is None:
        raise NotFound(f"no detection {ident!r}")
    return _detection(mod.get_detection(settings, ident))


def _alert_row(row: dict[str, Any]) -> dict[str, Any]:
    ident = row.get("alert_id")
    return {**row, "id": ident, "key": f"{row.get('proto')}/{row.get('port')}"}


def alerts(settings: Settings) -> list[dict[str, Any]]:
    """Alert summaries (newest first), or [] before the alerts stage exists."""
    mod = module("isdas.store.alerts")
    if mod is None or not hasattr(mod, "list_rows"):
        return []
    return _guarded("alerts", lambda: [_alert_row(r) for r in mod.list_rows(settings)])


def alert(settings: Settings, ident: str) -> dict[str, Any]:
    """One alert document (current revision); NotFound when missing or the stage is absent."""
    mod = module("isdas.publish.manage")
    if mod is None:
        raise NotFound(f"no alert {ident!r}")
    found = mod.get(settings, ident)
    result: dict[str, Any] = plain(found)
    result["key"] = f"{result.get('proto')}/{result.get('port')}"
    result["revision"] = getattr(found, "revision", 0)
    return result


def sensor_health(settings: Settings) -> dict[str, dict[str, Any]]:
    """Heartbeat counters and token state per sensor ({} before the collector stage exists)."""
    mod = module("isdas.store.tokens")
    if mod is None or not hasattr(mod, "health"):
        return {}
    try:
        found: dict[str, dict[str, Any]] = mod.health(settings)
    except IsdasError as exc:
        log.warning("sensor health unavailable: %s", exc)
        return {}
    return found


def service_name(proto: str, port: int) -> str:
    """The service usually on a port ("" when unknown or before the knowledge stage exists)."""
    mod = module("isdas.knowledge.ports")
    if mod is None:
        return ""
    try:
        return str(mod.service_name(proto, port) or "")
    except (LookupError, ValueError, IsdasError):
        return ""


def port_info(proto: str, port: int) -> dict[str, Any]:
    """Services and notable threats of a port ({} when unknown)."""
    mod = module("isdas.knowledge.ports")
    if mod is None or not hasattr(mod, "port_info"):
        return {}
    try:
        info = plain(mod.port_info(proto, port))
    except (LookupError, ValueError, IsdasError):
        return {}
    return info if isinstance(info, dict) else {"text": str(info)}
