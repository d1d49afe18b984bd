"""Ground truth of a simulation run: the `truth.json` file the backtests and tests consume.

Stage: simulate. Pure value plus JSON (de)serialisation; the schema is documented in
docs/simulation.md. Must not generate traffic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from isdas.errors import InputError
from isdas.simulate.scenario import EventSpec, Scenario

MASSCAN_FORMULA = "ip_id == (dst_ipv4 ^ dport ^ tcp_seq) & 0xffff"
MIRAI_FORMULA = "tcp_seq == dst_ipv4 (as unsigned 32-bit)"
ZMAP_FORMULA = "ip_id == 54321"


def iso(dt: Any) -> str:
    return str(dt.isoformat()).replace("+00:00", "Z")


def event_json(ev: EventSpec) -> dict[str, Any]:
    """One event as truth.json states it."""
    return {
        "id": ev.id, "kind": ev.kind, "proto": ev.proto, "port": ev.port,
        "onset": iso(ev.onset), "end": iso(ev.end), "magnitude": ev.magnitude,
        "doubling_hours": ev.doubling_hours if ev.kind == "logistic" else None,
        "ramp_hours": ev.ramp_hours if ev.kind == "ramp" else None,
        "packets_per_hour": ev.packets_per_hour or None, "sensors": list(ev.sensors),
        "countries": ev.countries, "fingerprint": ev.fingerprint, "expected": ev.expected,
    }  # fmt: skip


@dataclass(frozen=True)
class Truth:
    """What was generated: the scenario, sensors, labelled events and packet counts."""

    scenario: str
    digest: str
    seed: int
    generator_version: str
    data: dict[str, Any] = field(default_factory=dict)
    cached: bool = False

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self.data["events"])

    @property
    def packets(self) -> dict[str, int]:
        return dict(self.data["packets"])


def build(sc: Scenario, seed: int, version: str, extra: dict[str, Any]) -> Truth:
    """The truth of a finished run; `extra` has packets, files and scanners."""
    data = {
        "scenario": sc.name, "scenario_digest": sc.digest(), "seed": seed,
        "generator_version": version, "start": iso(sc.start), "end": iso(sc.end),
        "sensors": [{"id": s.id, "prefix": s.prefix, "addresses": s.addresses,
                     "ipv6_prefix": f"2001:db8:{i + 1:x}::/64"} for i, s in enumerate(sc.sensors)],
        "events": [event_json(e) for e in sc.events],
        "fingerprints": {"mirai": MIRAI_FORMULA, "zmap": ZMAP_FORMULA, "masscan": MASSCAN_FORMULA},
        **extra,
    }  # fmt: skip
    return Truth(sc.name, sc.digest(), seed, version, data)


def write(truth: Truth, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(truth.data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def read(path: Path) -> Truth:
    """Load a truth.json (raises InputError if it is not one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Truth(data["scenario"], data.get("scenario_digest", ""), int(data["seed"]),
                     str(data["generator_version"]), data)  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"not a truth file: {path}: {exc}") from exc
