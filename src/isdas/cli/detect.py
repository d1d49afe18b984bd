"""`isdas detect`: bring detections up to date and print them (table or JSON)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from isdas.cli import common
from isdas.models import Detection

COLUMNS = [
    "id",
    "kind",
    "key",
    "start",
    "detected_at",
    "observed",
    "expected",
    "score",
    "countries",
]


def as_json(det: Detection) -> dict[str, Any]:
    """The JSON object of one detection (the fields the issue names first)."""
    data = asdict(det)
    data["countries"] = [c.country for c in det.countries]
    data["country_shares"] = [asdict(c) for c in det.countries]
    data["fingerprints"] = list(det.fingerprints)
    data["sensors"] = [asdict(s) for s in det.sensors]
    data["ports"] = list(det.ports)
    return data


PRIMARY = ("global", "multiport", "local")


def primary_first(found: list[Detection], show_all: bool) -> list[Detection]:
    """Rises of scanning (global, multiport, local) first, strongest first; the informational
    kinds (recon, heavy-scanner) after them, only when asked for."""
    rank = {k: i for i, k in enumerate(PRIMARY)}
    main = sorted((d for d in found if d.kind in rank), key=lambda d: (rank[d.kind], -d.score))
    rest = [d for d in found if d.kind not in rank] if show_all else []
    return main + rest


def _row(det: Detection) -> dict[str, Any]:
    return {
        "id": det.id, "kind": det.kind, "key": det.key, "start": det.start,
        "detected_at": det.detected_at, "observed": det.observed_sources,
        "expected": det.expected_sources, "score": det.score,
        "countries": " ".join(c.country for c in det.countries[:3]),
    }  # fmt: skip


@click.command(name="detect")
@click.option("--since", default=None, help="Only detections detected at or after T (ISO-8601).")
@click.option("--until", default=None, help="Only detections detected at or before T.")
@click.option("--json", "json_out", is_flag=True, help="JSON array on stdout.")
@click.option("--budget", default=1.0, show_default=True, type=float,
              help="False global alarms per week the thresholds are calibrated for.")  # fmt: skip
@click.option("--all", "show_all", is_flag=True,
              help="Also list the informational kinds (recon, heavy-scanner).")  # fmt: skip
@click.pass_context
def command(
    ctx: click.Context, since: str | None, until: str | None, json_out: bool, budget: float,
    show_all: bool,
) -> None:  # fmt: skip
    """Detect increased scanning of ports and explain it."""
    from isdas.errors import InputError
    from isdas.store.detections import run_detection

    if budget <= 0:
        raise InputError("--budget must be > 0 (alarms per week)")
    found = run_detection(
        common.settings(ctx), common.parse_time(since), common.parse_time(until), budget
    )
    if json_out:
        common.write_json([as_json(d) for d in found])
        return
    from isdas.cli.tables import print_table

    shown = primary_first(found, show_all)
    print_table([_row(d) for d in shown], COLUMNS, "Detections")
    for det in shown:
        click.echo(f"{det.id}: {det.explanation}")
    hidden = len(found) - len(shown)
    if hidden:
        click.echo(f"{hidden} informational detections (recon, heavy-scanner) not shown: --all")
