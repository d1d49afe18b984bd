"""`isdas sensor ...`: list (foundation); add, revoke, run (collector/sensor stage)."""

from __future__ import annotations

import click

from isdas.cli import common


@click.group(name="sensor")
def command() -> None:
    """Register, list, revoke and run sensors."""


@command.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="JSON array on stdout.")
@click.pass_context
def list_sensors(ctx: click.Context, as_json: bool) -> None:
    """Sensors with monitored addresses, first/last seen and packets."""
    from isdas.store import queries

    rows = queries.sensor_list(common.settings(ctx))
    if as_json:
        common.write_json(rows)
        return
    from isdas.cli.tables import print_table

    print_table(rows, ["sensor_id", "addresses", "first_seen", "last_seen", "packets"], "Sensors")
