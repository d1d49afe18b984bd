"""`isdas backtest`: simulate, ingest, calibrate on the early part, detect, score every detector.

For each seed: the scenario is simulated (cached) and ingested into its own data home under
`<home>/backtest/`, then the default and the reference detectors run over it and are scored
against truth.json. Prints per detector and per event kind: false alarms per week across all
keys, recall within 72 h, delay median / p90, and expected-silent events that alarmed.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import click

from isdas.analyse import scoring
from isdas.cli import common
from isdas.settings import Settings

TEST_AFTER_HOURS = 336


def prepare(home: Path, scenario: str, seed: int) -> tuple[Settings, dict[str, Any]]:
    """Simulate and ingest one seed (both idempotent); its settings and truth data."""
    from isdas.ingest import ingest_paths
    from isdas.simulate import run

    out = home / "backtest" / f"{Path(scenario).stem}-{seed}"
    truth = run(scenario, out / "capture", seed)
    settings = Settings(out / "data")
    for sensor in truth.data["sensors"]:
        files = [out / "capture" / f for f in truth.data["files"][sensor["id"]]]
        ingest_paths(settings, sensor["id"], files, addresses=[sensor["prefix"]])
    return settings, truth.data


def evaluate(settings: Settings, truth: dict[str, Any], budget: float) -> dict[str, Any]:
    """Per detector: FA/week in the test weeks, per-kind scores, silent events that alarmed."""
    from isdas.store.detect_backtest import default_alarms, reference_alarms

    alarms = default_alarms(settings, budget) + reference_alarms(settings, budget)
    start, end = scoring.event_hour(truth["start"]), scoring.event_hour(truth["end"])
    test0 = start + TEST_AFTER_HOURS
    weeks = max((end - test0) / 168, 1e-9)
    events = truth["events"]
    result: dict[str, Any] = {}
    for name in ("isdas", "dshield", "greynoise"):
        mine = [a for a in alarms if a.detector == name and a.detected >= test0]
        kinds: dict[str, scoring.KindScore] = {}
        for kind in sorted({e["kind"] for e in events}):
            evs = [e for e in events if e["kind"] == kind]
            want = evs[0].get("expected", "global")
            if want in ("global", "local", "multiport"):
                kinds[kind] = scoring.score_kind(mine, evs, want)
        fas = scoring.false_alarms(mine, events)
        silent = scoring.silent_hits(mine, events)
        result[name] = {"fa": len(fas) / weeks, "kinds": kinds, "silent": silent}
    return result


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in runs[0]:
        kinds: dict[str, scoring.KindScore] = defaultdict(scoring.KindScore)
        for r in runs:
            for kind, ks in r[name]["kinds"].items():
                agg = kinds[kind]
                for f in ("events", "found", "visible", "visible_found", "country_ok", "country_n"):
                    setattr(agg, f, getattr(agg, f) + getattr(ks, f))
                agg.delays.extend(ks.delays)
        out[name] = {
            "fa": sum(r[name]["fa"] for r in runs) / len(runs), "kinds": dict(kinds),
            "silent": sorted({s for r in runs for s in r[name]["silent"]}),
        }  # fmt: skip
    return out


def rows(merged: dict[str, Any]) -> list[dict[str, Any]]:
    """Flat table rows: one per detector and event kind."""
    out = []
    for name, res in merged.items():
        for kind, ks in sorted(res["kinds"].items()):
            out.append({
                "detector": name, "kind": kind, "events": ks.events,
                "recall_72h": _ratio(ks.found, ks.events),
                "recall_ge10": _ratio(ks.visible_found, ks.visible),
                "delay_median_h": scoring.percentile(ks.delays, 50),
                "delay_p90_h": scoring.percentile(ks.delays, 90),
                "countries_ok": f"{ks.country_ok}/{ks.country_n}", "fa_per_week": res["fa"],
            })  # fmt: skip
    return out


def _ratio(a: int, b: int) -> float:
    return a / b if b else math.nan


@click.command(name="backtest")
@click.argument("scenario", default="backtest")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1, 20))
@click.option("--budget", default=1.0, show_default=True, type=float,
              help="False global alarms per week every detector is calibrated for.")  # fmt: skip
@click.option("--json", "json_out", is_flag=True, help="JSON on stdout.")
@click.pass_context
def command(ctx: click.Context, scenario: str, seeds: int, budget: float, json_out: bool) -> None:
    """Score detectors on simulated scenarios with ground truth."""
    home = common.settings(ctx).home
    runs = []
    for seed in range(seeds):
        settings, truth = prepare(home, scenario, seed)
        runs.append(evaluate(settings, truth, budget))
    merged = _merge(runs)
    table = rows(merged)
    silent = {name: res["silent"] for name, res in merged.items()}
    if json_out:
        common.write_json({"rows": table, "silent_global": silent, "seeds": seeds})
        return
    from isdas.cli.tables import print_table

    cols = ["detector", "kind", "events", "recall_72h", "recall_ge10", "delay_median_h",
            "delay_p90_h", "countries_ok", "fa_per_week"]  # fmt: skip
    print_table(table, cols, f"Backtest {scenario}: {seeds} seed(s), budget {budget}/week")
    click.echo("expected-silent events that raised a global alarm: " + json.dumps(silent))
