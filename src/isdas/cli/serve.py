"""`isdas serve`: run the dashboard, JSON API, /metrics and the collector endpoints."""

from __future__ import annotations

import click

from isdas.cli import common


@click.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="PEM certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="PEM private key.")
@click.pass_context
def command(
    ctx: click.Context, host: str, port: int, tls_cert: str | None, tls_key: str | None
) -> None:
    """Run the collector, JSON API and dashboard until Ctrl-C."""
    from isdas.serve import run_server

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    run_server(common.settings(ctx), host, port, tls_cert=tls_cert, tls_key=tls_key)
