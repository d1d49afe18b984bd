"""`isdas knowledge show|update`: what isdas knows about a port; refresh the derived tables."""

from __future__ import annotations

from pathlib import Path

import click

from isdas.cli import common
from isdas.errors import InputError


@click.group(name="knowledge")
def command() -> None:
    """Port, threat and vulnerability knowledge: show and refresh."""


@command.command(name="show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="JSON object on stdout.")
@click.pass_context
def show(ctx: click.Context, key: str, as_json: bool) -> None:
    """Service, threats, KEV entries and countermeasures of KEY (e.g. tcp/445)."""
    from dataclasses import asdict

    from isdas.knowledge.ports import port_info
    from isdas.models import Key

    try:
        parsed = Key.parse(key)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    info = port_info(parsed.proto, parsed.port, common.settings(ctx))
    if as_json:
        import json

        click.echo(json.dumps(asdict(info), default=str, indent=2, ensure_ascii=False))
        return
    click.echo(f"{info.key}: {info.service or '(unregistered)'} {info.description or ''}".rstrip())
    for t in info.threats:
        click.echo(f"- {t.name} [{', '.join(t.cves) or 'no CVE'}] since {t.first_seen}")
    for k in info.kev:
        click.echo(f"  KEV {k.cve} ({k.date_added}): {k.name}")
    for i, text in enumerate(info.countermeasures, 1):
        click.echo(f"{i}. {text}")


@command.command(name="update")
@click.option(
    "--iana",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="IANA service-names-port-numbers.csv to derive the service table from.",
)
@click.option(
    "--kev",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CISA known_exploited_vulnerabilities.json to derive the KEV subset from.",
)
@click.option("--ship", is_flag=True, help="Also rewrite the package's shipped copy (maintainers).")
@click.pass_context
def update(ctx: click.Context, iana: str | None, kev: str | None, ship: bool) -> None:
    """Refresh the derived tables in <home>/knowledge (they override the shipped ones)."""
    from isdas.knowledge import update as refresh

    if iana is None and kev is None:
        raise InputError("give --iana FILE and/or --kev FILE")
    settings = common.settings(ctx)
    results = []
    if iana is not None:
        results.append(refresh.update_iana(settings, Path(iana), ship=ship))
    if kev is not None:
        results.append(refresh.update_kev(settings, Path(kev), ship=ship))
    for r in results:
        click.echo(f"{r.kind}: {r.rows:,} entries -> {', '.join(str(p) for p in r.paths)}")
