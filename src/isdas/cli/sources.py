"""`isdas sources`: the top scanning sources of a time range, with their scan profile."""

from __future__ import annotations

import click

from isdas.cli import common

COLUMNS = ["source", "country", "packets", "ports", "max_targets", "profile", "horizontal"]


@click.command(name="sources")
@click.option("--since", help="Start (ISO-8601, UTC if no zone); default: 24 h before --until.")
@click.option("--until", help="End, exclusive; default: the end of the data.")
@click.option("--port", type=click.IntRange(0, 65535), help="Only sources that scanned this port.")
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "fmt", flag_value="json", help="JSON on stdout.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV on stdout.")
@click.pass_context
def command(
    ctx: click.Context, since: str | None, until: str | None, port: int | None, top: int,
    fmt: str | None,
) -> None:  # fmt: skip
    """Top scanning sources: ports touched, most targets on one port, and whether each is
    port-focused (<= 16 ports), an all-port scanner (>= 100) or a horizontal scan."""
    from isdas.store.sources import scan_sources

    rows, summary = scan_sources(
        common.settings(ctx), common.parse_time(since), common.parse_time(until), port, top
    )
    if fmt == "json":
        common.write_json({"summary": summary, "sources": rows})
        return
    title = (
        f"{summary.get('sources', 0)} scanning sources: {summary.get('port_focused', 0)} "
        f"port-focused, {summary.get('all_port', 0)} all-port, "
        f"{summary.get('horizontal', 0)} horizontal scans"
    )
    common.emit(rows, COLUMNS, fmt, title)
