"""Helpers shared by CLI commands: output formats, time parsing, the settings object."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import click

from isdas.errors import InputError
from isdas.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def query_options(fn: F) -> F:
    """--since/--until, --class and --json/--csv, shared by the read commands."""
    options = [
        click.option("--since", help="Start (ISO-8601, UTC if no zone)."),
        click.option("--until", help="End, exclusive (ISO-8601)."),
        click.option(
            "--class", "cls", default="scan", show_default=True,
            type=click.Choice(["scan", "backscatter", "other"]), help="Traffic class.",
        ),
        click.option("--json", "fmt", flag_value="json", help="JSON array on stdout."),
        click.option("--csv", "fmt", flag_value="csv", help="CSV on stdout."),
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


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


def emit(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str | None, title: str
) -> None:
    """Rows to stdout as JSON (`fmt == "json"`), CSV (`"csv"`) or a terminal table."""
    if fmt == "json":
        write_json([{c: r[c] for c in columns} for r in rows])
    elif fmt == "csv":
        write_csv(rows, columns)
    else:
        from isdas.cli.tables import print_table

        print_table(rows, columns, title)
