"""Scenario description of the simulator: sensors, background knobs and labelled events.

Stage: simulate. Pure values and validation of TOML/preset input; must not generate traffic,
touch the store or write files.

Sensors live in 198.18.0.0/15 (RFC 2544 benchmarking space, never routed on the Internet), each
in its own /20 block so that they look like different networks; IPv6 destinations use
2001:db8:<n>::/64 (RFC 3849 documentation space).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import tomllib
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from isdas.errors import InputError

SENSOR_SPACE = ipaddress.IPv4Network("198.18.0.0/15")
BLOCK_PREFIX = 20
KINDS: dict[str, str] = {
    "step": "global",
    "ramp": "global",
    "logistic": "global",
    "newsource": "global",
    "local": "local",
    "heavy": "silent",
    "backscatter": "silent",
    "outage": "silent",
    "missing": "silent",
    "flood": "silent",
    "allport": "multiport",
}
FINGERPRINTS = (None, "mirai", "zmap", "masscan")


@dataclass(frozen=True)
class SensorSpec:
    """One dark-address sensor: an id and its IPv4 prefix (a /32 up to a /20)."""

    id: str
    prefix: str

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.prefix)

    @property
    def addresses(self) -> int:
        return self.network.num_addresses


@dataclass(frozen=True)
class Background:
    """Knobs of the unlabelled background (see docs/simulation.md for the figures behind them)."""

    sources_per_hour: float = 400.0  # distinct sources/h seen by the whole sensor set
    tail_ports: int = 3000  # number of keys in the long tail
    persistent_share: float = 0.5  # share of sessions from returning scanners
    size_exponent: float = 0.5  # sensor weight = addresses ** size_exponent
    ipv6_share: float = 0.01
    mirai_share: float = 0.3  # share of telnet-family sessions with the Mirai fingerprint
    research_scanners: int = 4
    research_ports_per_day: int = 3
    research_coverage: float = 0.25
    backscatter_per_day: float = 4.0  # DoS victims whose replies reach the sensors
    floods_per_week: float = 1.0
    placement_sigma: float = 0.3
    overdispersion_shape: float = 50.0
    drift_per_week: float = 0.05


@dataclass(frozen=True)
class EventSpec:
    """A labelled injected event; `magnitude` is sources per hour at the plateau."""

    id: str
    kind: str
    proto: str
    port: int
    onset: datetime
    end: datetime
    magnitude: float
    doubling_hours: float | None = None
    ramp_hours: float = 72.0
    sensors: tuple[str, ...] = ()
    countries: dict[str, float] | None = None
    fingerprint: str | None = None
    packets_per_hour: float = 0.0

    @property
    def expected(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class Scenario:
    """Everything that determines a simulation, apart from the seed."""

    name: str
    start: datetime
    end: datetime
    sensors: tuple[SensorSpec, ...]
    background: Background = field(default_factory=Background)
    events: tuple[EventSpec, ...] = ()

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)

    def digest(self) -> str:
        """A stable hash of the content (not the name) used for the cache check."""
        text = json.dumps(asdict(replace(self, name="")), default=str, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_time(value: Any) -> datetime:
    """A TOML datetime or ISO-8601 string to an aware UTC datetime."""
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(f"not an ISO-8601 time: {value!r}") from exc
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def place_sensors(sizes: list[tuple[str, int]]) -> tuple[SensorSpec, ...]:
    """Sensors of the given prefix lengths, each in its own /20 of 198.18.0.0/15."""
    blocks = list(SENSOR_SPACE.subnets(new_prefix=BLOCK_PREFIX))
    if len(sizes) > len(blocks):
        raise InputError(f"at most {len(blocks)} auto-placed sensors")
    out = []
    for i, (sid, plen) in enumerate(sizes):
        if not BLOCK_PREFIX <= plen <= 32:
            raise InputError(f"sensor {sid}: prefix length {plen} outside /20../32")
        subnets = list(blocks[i].subnets(new_prefix=plen)) if plen < 28 else None
        net = subnets[(i * 7) % len(subnets)] if subnets else _small(blocks[i], plen, i)
        out.append(SensorSpec(sid, str(net)))
    return tuple(out)


def _small(block: ipaddress.IPv4Network, plen: int, i: int) -> ipaddress.IPv4Network:
    base = int(block.network_address) + 256 * (1 + i * 3) + 16 * (i % 8)
    size = 1 << (32 - plen)
    return ipaddress.IPv4Network((base - base % size, plen))


def _sensor(raw: dict[str, Any], index: int) -> SensorSpec | tuple[str, int]:
    sid = str(raw.get("id", f"s{index + 1:02d}"))
    if "prefix" in raw:
        try:
            net = ipaddress.IPv4Network(str(raw["prefix"]), strict=True)
        except ValueError as exc:
            raise InputError(f"sensor {sid}: bad prefix {raw['prefix']!r}") from exc
        if not BLOCK_PREFIX <= net.prefixlen <= 32:
            raise InputError(f"sensor {sid}: prefix must be /20 .. /32")
        return SensorSpec(sid, str(net))
    return sid, int(raw.get("size", 32))


def sensors_from(raw: list[dict[str, Any]]) -> tuple[SensorSpec, ...]:
    """Sensors from TOML tables: explicit `prefix`, or `size` (prefix length) auto-placed."""
    items = [_sensor(r, i) for i, r in enumerate(raw)]
    auto = [x for x in items if isinstance(x, tuple)]
    placed = iter(place_sensors(auto))
    out = tuple(x if isinstance(x, SensorSpec) else next(placed) for x in items)
    if len({s.id for s in out}) != len(out) or not out:
        raise InputError("sensors need unique ids and at least one sensor")
    return out


def event_from(raw: dict[str, Any], index: int, start: datetime) -> EventSpec:
    """One event table; onset/end as times, or `onset_hours`/`hours` relative to the start."""
    kind = str(raw.get("kind", ""))
    if kind not in KINDS:
        raise InputError(f"event {index}: unknown kind {kind!r} (one of {sorted(KINDS)})")
    onset = parse_time(raw["onset"]) if "onset" in raw else start + _h(raw, "onset_hours", 0)
    end = parse_time(raw["end"]) if "end" in raw else onset + _h(raw, "hours", 24)
    proto, port = str(raw.get("proto", "tcp")), int(raw.get("port", 0))
    fp = raw.get("fingerprint")
    if proto not in ("tcp", "udp") or not 0 <= port <= 65535 or end <= onset:
        raise InputError(f"event {index}: bad proto/port/onset/end")
    if fp not in FINGERPRINTS:
        raise InputError(f"event {index}: fingerprint must be mirai, zmap or masscan")
    dbl = raw.get("doubling_hours")
    eid = str(raw.get("id", f"e{index + 1:02d}-{kind}-{proto}{port}"))
    countries = (
        {str(k).upper(): float(v) for k, v in raw["countries"].items()}
        if raw.get("countries")
        else None
    )
    return EventSpec(
        eid, kind, proto, port, onset, end, float(raw.get("magnitude", 10.0)),
        float(dbl) if dbl is not None else None, float(raw.get("ramp_hours", 72.0)),
        tuple(str(s) for s in raw.get("sensors", ())), countries, fp,
        float(raw.get("packets_per_hour", 0.0)),
    )  # fmt: skip


def _h(raw: dict[str, Any], name: str, default: float) -> timedelta:
    return timedelta(hours=float(raw.get(name, default)))


def scenario_from_dict(raw: dict[str, Any], name: str) -> Scenario:
    """Build and validate a Scenario from parsed TOML."""
    meta = raw.get("scenario", {})
    start = parse_time(meta.get("start", "2026-11-01T00:00:00Z"))
    end = parse_time(meta["end"]) if "end" in meta else start + timedelta(days=meta.get("days", 2))
    if end <= start or start.minute or start.second or end.minute or end.second:
        raise InputError("scenario start/end must be whole hours with end after start")
    bg_raw = raw.get("background", {})
    known = set(Background.__dataclass_fields__)
    if set(bg_raw) - known:
        raise InputError(f"unknown background keys: {sorted(set(bg_raw) - known)}")
    sensors = sensors_from(list(raw.get("sensors", [])))
    events = tuple(event_from(e, i, start) for i, e in enumerate(raw.get("events", [])))
    ids = {s.id for s in sensors}
    for ev in events:
        if set(ev.sensors) - ids:
            raise InputError(f"event {ev.id}: unknown sensors {sorted(set(ev.sensors) - ids)}")
    return Scenario(str(meta.get("name", name)), start, end, sensors, Background(**bg_raw), events)


def load_toml(path: Path) -> Scenario:
    """Read a scenario TOML file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read scenario {path}: {exc}") from exc
    return scenario_from_dict(raw, path.stem)
