"""`isdas demo`: the main job behind `make run`.

simulate the `demo` preset (cached) -> ingest every sensor -> detect -> draft and publish
alerts + static site -> serve the dashboard until Ctrl-C. Each stage reports its time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from isdas.cli import common
from isdas.settings import Settings

err = Console(stderr=True, highlight=False, soft_wrap=True)


def _stage(name: str, fn: Callable[[], str]) -> None:
    started = time.perf_counter()
    with err.status(f"{name}..."):
        summary = fn()
    err.print(f"[bold]{name}[/bold] {summary} ({time.perf_counter() - started:.1f} s)")


def _simulate(out: Path, seed: int, preset: str) -> str:
    from isdas.simulate import run

    truth: Any = run(preset, out, seed)
    events = getattr(truth, "events", None)
    return f"{preset} preset in {out} ({len(events) if events is not None else '?'} events)"


def _ingest(settings: Settings, out: Path) -> str:
    from isdas.ingest import ingest_paths
    from isdas.store.writes import flush_metrics

    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    packets = files = 0
    for sensor in truth["sensors"]:
        folder = out / sensor["id"]
        prefix = [sensor["prefix"]] if sensor.get("prefix") else None
        report = ingest_paths(settings, sensor["id"], [folder], addresses=prefix, flush=False)
        packets += report.packets
        files += sum(1 for f in report.files if f.status != "already")
    flush_metrics(settings)
    return f"{packets:,} packets from {files} new files of {len(truth['sensors'])} sensors"


def _detect(settings: Settings) -> str:
    from isdas.store.detections import run_detection

    found = run_detection(settings)
    return f"{len(found)} detections"


def _publish(settings: Settings, limit: int = 10) -> str:
    from isdas.publish import manage
    from isdas.publish.site import publish_all
    from isdas.store.detections import list_detections

    found = [d for d in list_detections(settings) if d.kind == "global"]
    best = sorted(found, key=lambda d: d.score, reverse=True)[:limit]
    new = manage.draft_from_detections(settings, sorted(best, key=lambda d: d.start))
    for alert_id in new:
        manage.publish(settings, alert_id)
    site = publish_all(settings, settings.site)
    return f"{len(new)} new alerts published, site with {len(site.alerts)} alerts in {site.site}"


@click.command(name="demo")
@click.option("--preset", default="demo", show_default=True, help="Simulator preset.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, help="Serve the dashboard at the end.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.pass_context
def command(ctx: click.Context, preset: str, seed: int, serve: bool, host: str, port: int) -> None:
    """Run the whole pipeline on simulated sensors and serve the result."""
    settings = common.settings(ctx)
    out = settings.home / "captures" / f"{preset}-{seed}"
    started = time.perf_counter()
    _stage("simulate", lambda: _simulate(out, seed, preset))
    _stage("ingest", lambda: _ingest(settings, out))
    for name, fn in (("detect", _detect), ("publish", _publish)):
        try:
            _stage(name, lambda fn=fn: fn(settings))  # type: ignore[misc]
        except ImportError as exc:
            err.print(f"[yellow]{name} skipped: {exc}[/yellow]")
    err.print(f"batch part done in {time.perf_counter() - started:.1f} s; home: {settings.home}")
    if serve:
        from isdas.serve import run_server

        run_server(settings, host, port)
