"""`isdas report`: the weekly or quarterly report (top ports, regions, notable events)."""

from __future__ import annotations

from pathlib import Path

import click

from isdas.cli import common


@click.command(name="report")
@click.option("--period", type=click.Choice(["week", "quarter"]), default="week", show_default=True)
@click.option("--until", default=None, help="End of the period (ISO-8601 UTC). Default: today.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write <slug>.html, <slug>.md and the graph here; else Markdown to stdout.",
)
@click.pass_context
def command(ctx: click.Context, period: str, until: str | None, out_dir: str | None) -> None:
    """Weekly or quarterly report: top ports, regions, notable events."""
    from isdas.publish import manage, report, site

    settings = common.settings(ctx)
    rep = report.build(settings, period, common.parse_time(until) or manage.now())
    if out_dir is None:
        click.echo(report.markdown(rep), nl=False)
        return
    folder = Path(out_dir)
    site.write_report(settings, folder, rep, home="index.html")
    click.echo(f"wrote {folder / rep.slug}.html and .md")
