"""`isdas graph PROTO/PORT`: render the ISDAS-style graph (or the region graph) of a port."""

from __future__ import annotations

from pathlib import Path

import click

from isdas.cli import common
from isdas.errors import InputError


@click.command(name="graph")
@click.argument("key")
@click.option(
    "--window",
    type=click.Choice(["1w", "1m", "3m", "1y"]),
    default="1w",
    show_default=True,
    help="Time window: hourly for 1w, daily otherwise.",
)
@click.option("--until", default=None, help="End of the window (ISO-8601 UTC). Default: now.")
@click.option("--onset", default=None, help="Mark this time as the onset of a rise.")
@click.option("--regions", is_flag=True, help="Draw the source-region graph instead.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="Output file; .png or .svg."
)
@click.pass_context
def command(
    ctx: click.Context,
    key: str,
    window: str,
    until: str | None,
    onset: str | None,
    regions: bool,
    out: str,
) -> None:
    """Render the graph of KEY (e.g. tcp/5168) to a PNG or SVG file."""
    from isdas.models import Key
    from isdas.publish import figures, manage

    try:
        parsed = Key.parse(key)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    path = Path(out)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise InputError("--out must end in .png or .svg")
    end = common.parse_time(until) or manage.now()
    settings = common.settings(ctx)
    if regions:
        data = figures.region_graph(settings, parsed, window=window, until=end, fmt=fmt)
    else:
        mark = common.parse_time(onset)
        data = figures.port_graph(settings, parsed, window=window, until=end, onset=mark, fmt=fmt)
    path.write_bytes(data)
    click.echo(f"wrote {path} ({len(data):,} bytes)")
