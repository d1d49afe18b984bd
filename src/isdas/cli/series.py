"""`isdas series`: the hourly series of one port."""

from __future__ import annotations

import click

from isdas.cli import common
from isdas.errors import InputError
from isdas.models import Key


@click.command(name="series")
@click.argument("key", metavar="PROTO/PORT")
@click.option(
    "--by", type=click.Choice(["sensor", "country"]), help="Break down per sensor or country."
)
@common.query_options
@click.pass_context
def command(
    ctx: click.Context,
    key: str,
    since: str | None,
    until: str | None,
    by: str | None,
    cls: str,
    fmt: str | None,
) -> None:
    """Hourly packets, distinct sources and packets per sensor of PROTO/PORT (e.g. tcp/445)."""
    from isdas.store.queries import series

    try:
        parsed = Key.parse(key)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    rows = series(
        common.settings(ctx),
        parsed,
        since=common.parse_time(since),
        until=common.parse_time(until),
        by=by,
        cls=cls,
    )
    group = {"sensor": ["sensor_id"], "country": ["country"]}.get(by or "", [])
    extra = {None: ["sensors", "mean_per_sensor"], "sensor": ["targets"], "country": []}[by]
    cols = ["hour", *group, "packets", "sources", *extra]
    common.emit(rows, cols, fmt, f"{parsed} hourly ({cls})")
