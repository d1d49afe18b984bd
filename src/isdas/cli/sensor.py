"""`isdas sensor ...`: list (foundation); add, revoke, run (collector/sensor stage)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import click

from isdas.cli import common

HEALTH_COLUMNS = ["token", "heartbeat_at", "received", "kernel_drops", "shipped", "spool_bytes"]


@click.group(name="sensor")
def command() -> None:
    """Register, list, revoke and run sensors."""


@command.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="JSON array on stdout.")
@click.pass_context
def list_sensors(ctx: click.Context, as_json: bool) -> None:
    """Sensors with addresses, first/last seen, packets and their latest heartbeat."""
    from isdas.store import queries, tokens

    settings = common.settings(ctx)
    rows = tokens.with_health(settings, queries.sensor_list(settings))
    if as_json:
        common.write_json(rows)
        return
    from isdas.cli.tables import print_table

    columns = ["sensor_id", "addresses", "last_seen", "packets", *HEALTH_COLUMNS, "last_error"]
    print_table(rows, columns, "Sensors")


@command.command(name="add")
@click.argument("name")
@click.option("--addresses", "cidrs", multiple=True, help="Monitored CIDR (repeatable).")
@click.pass_context
def add_sensor(ctx: click.Context, name: str, cidrs: tuple[str, ...]) -> None:
    """Register sensor NAME and print its token (shown only this once; stored hashed)."""
    from isdas.store import tokens

    token = tokens.register(common.settings(ctx), name, list(cidrs))
    click.echo(token)
    click.echo(f"sensor {name} registered; put the token above in its config", err=True)


@command.command(name="revoke")
@click.argument("name")
@click.pass_context
def revoke_sensor(ctx: click.Context, name: str) -> None:
    """Revoke the token of sensor NAME (its batches are refused with 403 from then on)."""
    from isdas.store import tokens

    count = tokens.revoke(common.settings(ctx), name)
    click.echo(f"revoked {count} token(s) of sensor {name}", err=True)


@command.command(name="run")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False))
@click.option("--watch", "watch_dir", type=click.Path(file_okay=False), default=None,
              help="Follow tcpdump rotations in DIR instead of capturing live.")  # fmt: skip
def run_sensor(config_path: str, watch_dir: str | None) -> None:
    """Run a sensor: capture (or --watch DIR), spool and ship to the collector until stopped."""
    # Arrow's default allocator (mimalloc) keeps ~20-30 MB it has freed: in a long-running
    # sensor, the system allocator is as fast and hands memory back. Read when pyarrow loads.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    from isdas.sensor import agent
    from isdas.sensor.config import load_config
    from isdas.sensor.counters import Counters

    config = load_config(Path(config_path))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    counters = Counters()
    if watch_dir is not None:
        agent.run_watch(config, Path(watch_dir), stop, counters)
    elif config.interface:
        agent.run_live(config, stop, counters)
    else:
        raise click.UsageError("the config has no `interface`: set one or use --watch DIR")
