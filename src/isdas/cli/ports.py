"""`isdas ports`: top destination ports over a time range."""

from __future__ import annotations

import click

from isdas.cli import common
from isdas.models import PROTO_NUMBERS

COLUMNS = ["proto_name", "port", "service", "packets", "mean_per_sensor", "sources", "share"]


@click.command(name="ports")
@click.option("--top", default=10, show_default=True, type=int, help="How many ports.")
@click.option(
    "--proto", type=click.Choice(["tcp", "udp", "icmp", "icmpv6"]), help="Only this protocol."
)
@common.query_options
@click.pass_context
def command(
    ctx: click.Context,
    since: str | None,
    until: str | None,
    top: int,
    proto: str | None,
    cls: str,
    fmt: str | None,
) -> None:
    """Top destination ports: packets, mean packets per sensor, distinct sources, share."""
    from isdas.store.queries import top_ports

    rows = top_ports(
        common.settings(ctx),
        since=common.parse_time(since),
        until=common.parse_time(until),
        proto=PROTO_NUMBERS[proto] if proto else None,
        top=top,
        cls=cls,
    )
    for r in rows:
        r["proto"] = r.pop("proto_name")
    cols = ["proto", *COLUMNS[1:]]
    common.emit(rows, cols, fmt, f"Top {top} ports ({cls})")
