"""Human-readable tables for the terminal (rich), written to stdout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str) -> None:
    """Print `rows` as a table with the given columns."""
    table = Table(title=title)
    for col in columns:
        numeric = bool(rows) and isinstance(rows[0].get(col), int | float)
        table.add_column(col, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    Console(soft_wrap=True).print(table)
