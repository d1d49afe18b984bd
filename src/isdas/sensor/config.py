"""Sensor configuration: one TOML file, validated into a frozen value.

Stage: sensor. Must not open sockets or files other than the config (and a token file).

Example (all keys; only collector, sensor_id and token/token_file are required):

    collector = "https://collector.example.org:8443"
    sensor_id = "tokyo-1"
    token_file = "/etc/isdas/sensor.token"   # or token = "isdas_..."
    interface = "eth1"                       # live capture; or run with --watch DIR
    bpf = "ip or ip6"
    batch_seconds = 10.0
    batch_events = 100000
    spool_dir = "/var/lib/isdas-sensor/spool"
    spool_cap_bytes = 1073741824
    tls_ca = "/etc/isdas/ca.pem"             # CA bundle to trust for https
    user = "isdas"                           # privileges dropped to it after opening capture
    heartbeat_seconds = 30.0
    watch_idle_seconds = 60.0                # a rotation idle this long is complete
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from isdas.errors import InputError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # as isdas.store.tokens.check_name


@dataclass(frozen=True)
class SensorConfig:
    """Everything `isdas sensor run` needs."""

    collector: str
    sensor_id: str
    token: str
    spool_dir: Path
    interface: str = ""
    bpf: str = "ip or ip6"
    batch_seconds: float = 10.0
    batch_events: int = 100_000
    spool_cap_bytes: int = 1 << 30
    tls_ca: str = ""
    user: str = ""
    heartbeat_seconds: float = 30.0
    watch_idle_seconds: float = 60.0
    retry_base_s: float = 0.5
    retry_cap_s: float = 60.0


def _token(raw: dict[str, Any], base: Path) -> str:
    if raw.get("token"):
        return str(raw.pop("token"))
    if raw.get("token_file"):
        path = base / str(raw.pop("token_file"))
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InputError(f"cannot read token_file {path}: {exc}") from exc
    raise InputError("sensor config needs `token` or `token_file`")


def _coerce(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, Path) or name == "spool_dir":
        return Path(str(value))
    kind = type(default)
    if kind is float and isinstance(value, int | float):
        return float(value)
    if not isinstance(value, kind):
        raise InputError(f"sensor config: {name} must be {kind.__name__}, got {value!r}")
    return value


def from_mapping(raw: dict[str, Any], base: Path = Path(".")) -> SensorConfig:
    """Validate a parsed TOML table into a SensorConfig (paths relative to `base`)."""
    raw = dict(raw)
    values: dict[str, Any] = {"token": _token(raw, base)}
    raw.pop("token_file", None)
    raw.setdefault("spool_dir", "spool")
    known = {f.name: f for f in fields(SensorConfig)}
    for name, value in raw.items():
        if name not in known:
            raise InputError(f"sensor config: unknown key {name!r}")
        default = known[name].default if name not in ("collector", "sensor_id") else ""
        values[name] = _coerce(name, value, default)
    for name in ("collector", "sensor_id"):
        if not values.get(name):
            raise InputError(f"sensor config needs `{name}`")
    if not NAME_RE.match(values["sensor_id"]):
        raise InputError(f"sensor config: bad sensor_id {values['sensor_id']!r}")
    values["spool_dir"] = base / values["spool_dir"]
    if values.get("batch_events", 1) < 1 or values.get("batch_seconds", 1.0) <= 0:
        raise InputError("sensor config: batch_events and batch_seconds must be positive")
    return SensorConfig(**values)


def load_config(path: Path) -> SensorConfig:
    """Read and validate a sensor TOML file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read sensor config {path}: {exc}") from exc
    return from_mapping(raw, path.parent)
