"""Publish stage: deliver an alert to every configured sink, concurrently, with retries.

Each sink runs in its own thread and is retried with exponential backoff; a failing sink is
logged and reported in the outcomes, never blocking or failing the others. No rendering here
beyond the payload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from isdas.publish import render
from isdas.publish.document import Alert, to_dict
from isdas.publish.sinks import Sink, load
from isdas.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What happened to one sink."""

    sink: str
    ok: bool
    attempts: int
    error: str = ""


def payload(alert: Alert) -> dict[str, Any]:
    """The notification body: summary fields, the text rendering and the full document."""
    return {
        "id": alert.id,
        "title": alert.title,
        "status": alert.status,
        "revision": alert.revision,
        "key": alert.key,
        "text": render.text(alert),
        "alert": to_dict(alert),
    }


def deliver(
    sink: Sink, body: Mapping[str, Any], sleep: Callable[[float], None] = time.sleep
) -> Outcome:
    """Send with up to `sink.retries` retries, doubling the wait each time."""
    error = ""
    attempts = 0
    for attempt in range(sink.retries + 1):
        attempts = attempt + 1
        try:
            sink.send(body)
            return Outcome(sink.name, True, attempts)
        except Exception as exc:  # a sink may fail in any way; report, never propagate
            error = f"{type(exc).__name__}: {exc}"
            log.warning("sink %s attempt %d failed: %s", sink.name, attempts, error)
            if attempt < sink.retries:
                sleep(sink.backoff * (2**attempt))
    return Outcome(sink.name, False, attempts, error)


def notify(sinks: Sequence[Sink], alert: Alert) -> list[Outcome]:
    """Deliver `alert` to every sink in parallel; one outcome per sink, in order."""
    if not sinks:
        return []
    body = payload(alert)
    with ThreadPoolExecutor(max_workers=min(8, len(sinks))) as pool:
        return list(pool.map(lambda s: deliver(s, body), sinks))


def notify_all(settings: Settings, alert: Alert) -> list[Outcome]:
    """Deliver to the sinks configured in `<home>/sinks.toml`."""
    return notify(load(settings.home / "sinks.toml"), alert)
