"""`isdas ingest`: read capture files into the lake and update hourly metrics."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from isdas.cli import EXIT_PARTIAL, common
from isdas.ingest import IngestReport, expand_paths, ingest_paths


@click.command(name="ingest")
@click.option("--sensor", "sensor_id", required=True, help="Sensor that recorded the captures.")
@click.option(
    "--addresses", multiple=True, metavar="CIDR", help="Monitored address block(s) of the sensor."
)
@click.option("--json", "as_json", is_flag=True, help="Summary as JSON on stdout.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def command(
    ctx: click.Context,
    sensor_id: str,
    addresses: tuple[str, ...],
    as_json: bool,
    paths: tuple[Path, ...],
) -> None:
    """Ingest pcap/pcapng files (optionally gzip) or directories of tcpdump rotations.

    Files already ingested (same content) are reported and skipped. Exit code 0 when every
    file was stored, 10 when some were truncated or unreadable, 3 when none could be read.
    """
    settings = common.settings(ctx)
    files = expand_paths(paths)
    total = sum(p.stat().st_size for p in files)
    err = Console(stderr=True, soft_wrap=True)
    with Progress(
        TextColumn("ingest"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("ingest", total=total)
        report = ingest_paths(
            settings,
            sensor_id,
            files,
            addresses=list(addresses) or None,
            progress=lambda n: bar.advance(task, n),
        )
    _summarise(report, err, as_json)
    if report.outcome == "partial":
        sys.exit(EXIT_PARTIAL)
    if report.outcome == "failed":
        sys.exit(3)


def _summarise(report: IngestReport, err: Console, as_json: bool) -> None:
    for f in report.files:
        if f.status == "already":
            err.print(f"{f.path}: already ingested", highlight=False)
        elif f.error:
            err.print(f"{f.path}: {f.status}: {f.error}", highlight=False, style="yellow")
    err.print(
        f"{report.packets:,} packets stored, {report.skipped:,} frames skipped, "
        f"{len(report.errors)} errors, {len(report.files)} files in {report.seconds:.2f} s "
        f"({report.rate:,.0f} packets/s)",
        highlight=False,
    )
    if as_json:
        common.write_json(
            {
                "outcome": report.outcome,
                "packets": report.packets,
                "skipped": report.skipped,
                "errors": report.errors,
                "seconds": report.seconds,
                "rate": report.rate,
                "files": [f.__dict__ for f in report.files],
            }
        )
