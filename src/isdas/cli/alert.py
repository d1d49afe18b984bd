"""`isdas alert ...`: draft, list, show, edit, publish and withdraw alert documents."""

from __future__ import annotations

from pathlib import Path

import click

from isdas.cli import common
from isdas.errors import InputError


@click.group(name="alert")
def command() -> None:
    """Draft, edit, publish and render alert documents."""


@command.command(name="draft")
@click.option("--from-detection", "detection_id", default=None, help="Detection id to draft from.")
@click.option("--port", "key", default=None, help="Hand-written alert for a port, e.g. tcp/5168.")
@click.option("--since", default=None, help="With --port: when the rise began (ISO-8601 UTC).")
@click.option("--until", default=None, help="With --port: end of the observation. Default: now.")
@click.pass_context
def draft(
    ctx: click.Context,
    detection_id: str | None,
    key: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """Draft an alert from a detection or for any port; prints the new id."""
    from isdas.models import Key
    from isdas.publish import manage

    settings = common.settings(ctx)
    if (detection_id is None) == (key is None):
        raise InputError("give exactly one of --from-detection ID or --port PROTO/PORT")
    if detection_id is not None:
        from isdas.store.detections import get_detection

        alert = manage.draft_detection(settings, get_detection(settings, detection_id))
    else:
        start = common.parse_time(since)
        if start is None:
            raise InputError("--port needs --since")
        try:
            parsed = Key.parse(key or "")
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        alert = manage.draft_port(settings, parsed, start, common.parse_time(until))
    click.echo(alert.id)


@command.command(name="list")
@click.option("--status", type=click.Choice(["draft", "published", "withdrawn"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="JSON array on stdout.")
@click.pass_context
def list_alerts(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """Alerts, newest first."""
    from isdas.store import alerts

    rows = alerts.list_rows(common.settings(ctx), status)
    if as_json:
        common.write_json(rows)
        return
    from isdas.cli.tables import print_table

    cols = ["alert_id", "status", "proto", "port", "title", "updated_at", "revision"]
    print_table(rows, cols, "Alerts")


@command.command(name="show")
@click.argument("alert_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "md", "html", "json", "stix"]),
    default="text",
    show_default=True,
)
@click.option("--revision", type=int, default=None, help="Show an earlier revision.")
@click.pass_context
def show(ctx: click.Context, alert_id: str, fmt: str, revision: int | None) -> None:
    """Render an alert."""
    from isdas.publish import manage, render

    settings = common.settings(ctx)
    if revision is None:
        alert = manage.get(settings, alert_id)
    else:
        found = [a for a in manage.history(settings, alert_id) if a.revision == revision]
        if not found:
            raise InputError(f"{alert_id} has no revision {revision}")
        alert = found[0]
    click.echo(render.renderer(fmt)(alert), nl=False)


def _file_edit(path: str | None, note: str | None) -> object:
    from dataclasses import replace

    from isdas.publish.edit import parse_markdown

    if path is None:
        return None
    change = parse_markdown(Path(path).read_text(encoding="utf-8"))
    return replace(change, note=note or change.note)


@command.command(name="edit")
@click.argument("alert_id")
@click.option("--title", default=None)
@click.option("--overview", default=None)
@click.option("--situation", default=None)
@click.option("--solution", multiple=True, help="A countermeasure (repeat; replaces the list).")
@click.option("--add-reference", multiple=True, help="A reference URL to add (repeat).")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="An edited Markdown file (see --export).",
)
@click.option("--export", is_flag=True, help="Print the editable Markdown form and exit.")
@click.option("--note", default=None, help="What changed, for the revision history.")
@click.pass_context
def edit(
    ctx: click.Context,
    alert_id: str,
    title: str | None,
    overview: str | None,
    situation: str | None,
    solution: tuple[str, ...],
    add_reference: tuple[str, ...],
    path: str | None,
    export: bool,
    note: str | None,
) -> None:
    """Edit an alert; every edit is stored as a new revision."""
    from isdas.publish import edit as editing
    from isdas.publish import manage

    settings = common.settings(ctx)
    if export:
        click.echo(editing.to_markdown(manage.get(settings, alert_id)), nl=False)
        return
    change = _file_edit(path, note)
    if not isinstance(change, editing.Edit):
        change = editing.Edit(
            title, overview, situation, solution or None, add_reference, None, note or ""
        )
    alert = manage.edit(settings, alert_id, change)
    click.echo(f"{alert.id} revision {alert.revision}: {alert.revisions[-1].note}")


@command.command(name="publish")
@click.argument("alert_id")
@click.pass_context
def publish(ctx: click.Context, alert_id: str) -> None:
    """Publish an alert (and notify the configured sinks)."""
    from isdas.publish import manage, notify

    settings = common.settings(ctx)
    alert = manage.publish(settings, alert_id)
    for outcome in notify.notify_all(settings, alert):
        state = "ok" if outcome.ok else f"FAILED after {outcome.attempts} tries: {outcome.error}"
        click.echo(f"sink {outcome.sink}: {state}", err=not outcome.ok)
    click.echo(f"{alert.id} published (revision {alert.revision})")


@command.command(name="withdraw")
@click.argument("alert_id")
@click.pass_context
def withdraw(ctx: click.Context, alert_id: str) -> None:
    """Withdraw an alert."""
    from isdas.publish import manage

    alert = manage.withdraw(common.settings(ctx), alert_id)
    click.echo(f"{alert.id} withdrawn (revision {alert.revision})")
