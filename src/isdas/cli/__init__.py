"""Command-line interface: thin commands that parse arguments, build objects, call the library.

Each command lives in its own module of this package and exports `command` (a click command or
group). Commands are imported lazily, so `isdas --help` stays fast. This is the only place that
configures logging handlers and maps `IsdasError` to exit codes.

Exit codes: 0 success; 10 partial success (some input was bad, the rest was stored);
otherwise the `exit_code` of the `IsdasError` raised (2 input, 3 capture, 4 store, 5 not found,
6 auth), 1 for anything unexpected.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from isdas.errors import IsdasError
from isdas.settings import resolve_home

EXIT_PARTIAL = 10

# name -> module under isdas.cli that defines `command`
COMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("ingest", "Read captures or logs into the lake and update hourly metrics."),
    "sensor": ("sensor", "Register, list, revoke and run sensors."),
    "ports": ("ports", "Top destination ports over a time range."),
    "series": ("series", "Hourly series of one port."),
    "sources": ("sources", "Top scanning sources with their scan profile."),
    "simulate": ("simulate", "Generate labelled darknet captures (smoke, demo, backtest, TOML)."),
    "detect": ("detect", "Detect increased scanning of ports and explain it."),
    "backtest": ("backtest", "Score detectors on simulated scenarios with ground truth."),
    "knowledge": ("knowledge", "Port, threat and vulnerability knowledge: show and refresh."),
    "alert": ("alert", "Draft, edit, publish and render alert documents."),
    "graph": ("graph", "Render the ISDAS-style graph of a port."),
    "report": ("report", "Weekly or quarterly report: top ports, regions, notable events."),
    "publish": ("publish", "Write the static alert archive site and Atom feed; notify sinks."),
    "serve": ("serve", "Run the collector, JSON API and dashboard."),
    "demo": ("demo", "The main job: simulate, ingest, detect, publish, serve."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"isdas.cli.{COMMANDS[cmd_name][0]}")
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    default=None,
    help="Data home (lake + catalog). Default: $ISDAS_HOME or ./isdas-data.",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(package_name="isdas")
@click.pass_context
def cli(ctx: click.Context, home: str | None, verbose: int) -> None:
    """isdas: watch the scans reaching your dark addresses, detect rises, publish alerts."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.obj = resolve_home(home)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, mapping IsdasError to a message on stderr and an exit code."""
    try:
        return cli.main(args=argv, prog_name="isdas", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except IsdasError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
