"""`isdas simulate`: generate labelled darknet captures and truth.json (thin CLI layer)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from isdas.simulate import run


@click.command("simulate")
@click.argument("scenario")
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False), help="Output directory."
)
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option(
    "--format", "fmt", default="pcap", show_default=True, type=click.Choice(["pcap", "pcapng"])
)
@click.option("--rotate-daily", is_flag=True, help="One file per sensor and day (<id>-YYYYMMDD).")
def command(scenario: str, out: str, seed: int, fmt: str, rotate_daily: bool) -> None:
    """Simulate SCENARIO (smoke, demo, backtest or a TOML file) into --out."""
    console = Console(stderr=True)
    started = time.monotonic()
    with Progress(
        TextColumn("simulate"), BarColumn(), TextColumn("{task.completed}/{task.total} days"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("days", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        truth = run(
            scenario, Path(out), seed, fmt=fmt, rotate_daily=rotate_daily, progress=progress
        )
    total = sum(truth.packets.values())
    state = "cached" if truth.cached else f"written in {time.monotonic() - started:.1f} s"
    console.print(
        f"{truth.scenario} seed {truth.seed}: {len(truth.packets)} sensors, {total:,} packets, "
        f"{len(truth.events)} events -> {out} ({state})"
    )
