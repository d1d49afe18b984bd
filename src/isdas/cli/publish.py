"""`isdas publish`: write the static alert archive site and Atom feed; optionally notify."""

from __future__ import annotations

from pathlib import Path

import click

from isdas.cli import common


@click.command(name="publish")
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Output directory. Default: <home>/site.",
)
@click.option("--base-url", default="", help="Absolute URL the site is served at (for the feed).")
@click.option("--notify", "alert_id", default=None, help="Also send this alert to the sinks.")
@click.pass_context
def command(ctx: click.Context, site_dir: str | None, base_url: str, alert_id: str | None) -> None:
    """Write the static alert archive site and Atom feed; notify sinks."""
    from isdas.publish import manage, notify, site

    settings = common.settings(ctx)
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    result = site.publish_all(settings, Path(site_dir) if site_dir else None, base_url=base_url)
    click.echo(f"site {result.site}: {len(result.alerts)} alerts, {len(result.reports)} reports")
    if alert_id is not None:
        for o in notify.notify_all(settings, manage.get(settings, alert_id)):
            click.echo(f"sink {o.sink}: {'ok' if o.ok else 'FAILED: ' + o.error}", err=not o.ok)
