"""Publish stage: notification sinks (webhook, e-mail, directory) and their configuration.

`<home>/sinks.toml` holds `[[sink]]` tables with `type` = webhook | email | directory. Each sink
module sends one message and raises on failure; retrying and reporting is notify.py's job.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from isdas.errors import InputError


class Sink(Protocol):
    """Something an alert notification can be delivered to."""

    @property
    def name(self) -> str:
        """Label used in logs and reports."""

    @property
    def retries(self) -> int:
        """Retries after the first failed attempt."""

    @property
    def backoff(self) -> float:
        """Seconds before the first retry (doubled each time)."""

    def send(self, payload: Mapping[str, Any]) -> None:
        """Deliver one notification; raise any exception on failure."""


def build(raw: Mapping[str, Any], index: int) -> Sink:
    """One sink from its TOML table."""
    from isdas.publish.sinks import directory, email, webhook

    kinds: dict[str, Callable[[Mapping[str, Any], str], Sink]] = {
        "webhook": webhook.from_config,
        "email": email.from_config,
        "directory": directory.from_config,
    }
    kind = raw.get("type")
    if kind not in kinds:
        raise InputError(f"sink #{index + 1}: type must be one of {', '.join(kinds)}")
    try:
        return kinds[kind](raw, str(raw.get("name", f"{kind}-{index + 1}")))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"sink #{index + 1} ({kind}): bad setting {exc}") from exc


def load(path: Path) -> list[Sink]:
    """The sinks configured in a sinks.toml file (none when it does not exist)."""
    if not path.is_file():
        return []
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from exc
    return [build(raw, i) for i, raw in enumerate(doc.get("sink", []))]
