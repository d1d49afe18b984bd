"""Validation of request parameters (paging, time ranges, keys) with clear 4xx errors.

Stage: serve. Pure functions over strings: no I/O, no clock (the caller passes `now`). Every
failure is an `isdas.errors.InputError` (400) naming the parameter and what is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from isdas.errors import InputError, NotFound
from isdas.models import PROTO_NUMBERS

INTEGER_RE = re.compile(r"-?[0-9]+")

MAX_LIMIT = 1000
MAX_OFFSET = 100_000
MAX_RANGE = timedelta(days=3 * 366)
CLASSES = ("scan", "backscatter", "other")


@dataclass(frozen=True)
class Window:
    """A named graph window: its span and the bucket size of its series."""

    name: str
    span: timedelta
    bucket_hours: int
    label: str


WINDOWS: dict[str, Window] = {
    "1w": Window("1w", timedelta(days=7), 1, "1 week (hourly)"),
    "1m": Window("1m", timedelta(days=30), 6, "1 month (6-hourly)"),
    "3m": Window("3m", timedelta(days=91), 24, "3 months (daily)"),
    "1y": Window("1y", timedelta(days=365), 24, "1 year (daily)"),
}


@dataclass(frozen=True)
class TimeRange:
    """A half-open UTC interval [since, until)."""

    since: datetime
    until: datetime


def window(value: str | None, default: str = "1w") -> Window:
    """The named window; 400 for anything but 1w, 1m, 3m, 1y."""
    name = default if value is None else value
    if name not in WINDOWS:
        raise InputError(f"window must be one of {', '.join(WINDOWS)}, not {name!r}")
    return WINDOWS[name]


def integer(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    # ASCII digits only: str.isdigit() also accepts "²", and strip() removes control
    # characters such as \x1f that int() refuses
    if not INTEGER_RE.fullmatch(text) or len(raw) > 12:
        raise InputError(f"{name} must be an integer, not {raw[:40]!r}")
    value = int(text)
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high}, not {value}")
    return value


def choice(query: Mapping[str, str], name: str, options: tuple[str, ...], default: str) -> str:
    """A query parameter restricted to a few values."""
    value = query.get(name) or default
    if value not in options:
        raise InputError(f"{name} must be one of {', '.join(options)}, not {value[:40]!r}")
    return value


def proto(name: str) -> int:
    """A protocol name (tcp, udp, icmp, icmpv6) to its number; 404 for unknown names."""
    number = PROTO_NUMBERS.get(name.lower())
    if number is None:
        raise NotFound(f"unknown protocol {name[:20]!r} (expected tcp, udp, icmp or icmpv6)")
    return number


def optional_proto(query: Mapping[str, str]) -> int | None:
    """The `proto` filter of a query, or None."""
    raw = query.get("proto")
    if not raw:
        return None
    number = PROTO_NUMBERS.get(raw.lower())
    if number is None:
        raise InputError(f"proto must be one of {', '.join(PROTO_NUMBERS)}, not {raw[:20]!r}")
    return number


def port(value: int) -> int:
    """A port number (or ICMP type) in 0..65535; 404 beyond."""
    if not 0 <= value <= 65535:
        raise NotFound(f"port must be between 0 and 65535, not {value}")
    return value


def timestamp(raw: str, name: str) -> datetime:
    """An ISO-8601 date or datetime (naive means UTC)."""
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"{name} must be an ISO-8601 time, not {raw[:40]!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not 1970 <= value.year <= 2200:
        raise InputError(f"{name} must be between 1970 and 2200, not {raw[:40]!r}")
    return value.astimezone(UTC)


def time_range(query: Mapping[str, str], now: datetime, default: timedelta) -> TimeRange:
    """`since`/`until` of a query; until defaults to the hour after `now`."""
    until = timestamp(query["until"], "until") if query.get("until") else now + timedelta(hours=1)
    since = timestamp(query["since"], "since") if query.get("since") else until - default
    if since >= until:
        raise InputError("since must be before until")
    if until - since > MAX_RANGE:
        raise InputError(f"time range longer than {MAX_RANGE.days} days")
    return TimeRange(since, until)
