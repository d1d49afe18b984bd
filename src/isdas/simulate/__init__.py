"""The Internet background radiation simulator: labelled darknet captures plus truth.json.

Stage: simulate (feeds ingest, tests, backtests). Public API: `load_scenario`, `run`, `Truth`,
`GENERATOR_VERSION`. Must not touch the store; writes only inside the given output directory.
"""

from __future__ import annotations

from pathlib import Path

from isdas.errors import InputError
from isdas.simulate.engine import GENERATOR_VERSION, Progress, simulate
from isdas.simulate.presets import PRESETS
from isdas.simulate.scenario import Scenario, load_toml, scenario_from_dict
from isdas.simulate.truth import Truth

__all__ = ["GENERATOR_VERSION", "PRESETS", "Scenario", "Truth", "load_scenario", "run"]


def load_scenario(name_or_path: str | Path | Scenario) -> Scenario:
    """A preset name (`smoke`, `demo`, `backtest`) or a scenario TOML file."""
    if isinstance(name_or_path, Scenario):
        return name_or_path
    text = str(name_or_path)
    if text in PRESETS:
        return scenario_from_dict(PRESETS[text](), text)
    path = Path(text)
    if not path.is_file():
        raise InputError(f"no preset or scenario file named {text!r} (presets: {sorted(PRESETS)})")
    return load_toml(path)


def run(
    scenario: str | Path | Scenario,
    out: Path,
    seed: int = 0,
    *,
    fmt: str = "pcap",
    rotate_daily: bool = False,
    progress: Progress | None = None,
) -> Truth:
    """Simulate `scenario` into `out` (one capture per sensor + truth.json); cached when the
    same scenario, seed and generator version are already there (`Truth.cached`)."""
    sc = load_scenario(scenario)
    return simulate(sc, Path(out), seed, fmt=fmt, rotate_daily=rotate_daily, progress=progress)
