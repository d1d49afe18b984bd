"""Helpers shared by CLI commands: output formats, time parsing, the settings object."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import click

from isdas.errors import InputError
from isdas.settings import Settings


def settings(ctx: click.Context) -> Settings:
    """The Settings the root command built."""
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


def parse_time(text: str | None) -> datetime | None:
    """Parse an ISO-8601 date or datetime (naive means UTC); None passes through."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"not an ISO-8601 time: {text!r}") from exc
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_json(rows: Any) -> None:
    """Valid JSON to stdout (datetimes as ISO-8601 UTC)."""
    json.dump(rows, sys.stdout, default=_jsonable, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def write_csv(rows: Sequence[Mapping[str, Any]], columns: Iterable[str]) -> None:
    """CSV with a header row to stdout."""
    cols = list(columns)
    writer = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _jsonable(row.get(k)) for k in cols})
