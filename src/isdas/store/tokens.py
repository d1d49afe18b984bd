"""Collector bookkeeping in the catalog: sensor tokens, heartbeats and acknowledged batches.

Stage: store. Must not parse HTTP or capture bytes; callers pass plain values.

A token reads `isdas_<token_id>_<secret>`. Only `token_id` (a public lookup key), a per-token
random salt and sha256(salt || secret) are stored, so the catalog never holds a usable token.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from isdas.errors import AuthError, Forbidden, InputError, NotFound
from isdas.settings import Settings
from isdas.store.catalog import connect

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TOKEN_RE = re.compile(r"^isdas_([0-9a-f]{16})_([0-9a-f]{48})$")
HEARTBEAT_COLUMNS: tuple[str, ...] = (
    "received", "kernel_drops", "parsed", "spooled", "shipped", "spool_dropped", "rejected",
    "spool_bytes", "spool_files",
)  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def hash_secret(salt: str, secret: str) -> str:
    """Hex sha256 of salt || secret."""
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("ascii")).hexdigest()


def address_count(cidrs: Sequence[str]) -> int:
    """Number of addresses in the CIDRs (capped to BIGINT); InputError on a malformed one."""
    try:
        total = sum(ipaddress.ip_network(c.strip(), strict=False).num_addresses for c in cidrs)
        return min(total, 2**63 - 1)
    except ValueError as exc:
        raise InputError(f"not a CIDR: {exc}") from exc


def check_name(name: str) -> str:
    """A sensor id: 1-64 of letters, digits, '.', '_', '-' (starting alphanumeric)."""
    if not NAME_RE.match(name):
        raise InputError(f"bad sensor name {name!r}: use 1-64 of A-Z a-z 0-9 . _ -")
    return name


def register(settings: Settings, name: str, cidrs: Sequence[str] = ()) -> str:
    """Register sensor `name` (or update its CIDRs) and return a new token; shown once."""
    check_name(name)
    count = address_count(cidrs) if cidrs else None
    token_id, secret, salt = secrets.token_hex(8), secrets.token_hex(24), secrets.token_hex(16)
    now = _now()
    with connect(settings) as con:
        active = con.execute(
            "SELECT count(*) FROM sensor_tokens WHERE sensor_id = ? AND revoked_at IS NULL",
            [name],
        ).fetchone()
        if active and active[0]:
            raise InputError(f"sensor {name!r} already has a valid token; revoke it first")
        con.execute(
            "INSERT INTO sensors (sensor_id, addresses, cidrs, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sensor_id) DO UPDATE SET addresses = coalesce(excluded.addresses, "
            "sensors.addresses), cidrs = coalesce(excluded.cidrs, sensors.cidrs)",
            [name, count, ",".join(cidrs) if cidrs else None, now],
        )
        con.execute(
            "INSERT INTO sensor_tokens VALUES (?, ?, ?, ?, ?, NULL)",
            [token_id, name, salt, hash_secret(salt, secret), now],
        )
    return f"isdas_{token_id}_{secret}"


def revoke(settings: Settings, name: str) -> int:
    """Revoke every valid token of `name`; raises NotFound when it has none."""
    with connect(settings) as con:
        rows = con.execute(
            "UPDATE sensor_tokens SET revoked_at = ? WHERE sensor_id = ? AND revoked_at IS NULL "
            "RETURNING token_id",
            [_now(), name],
        ).fetchall()
    if not rows:
        raise NotFound(f"sensor {name!r} has no valid token")
    return len(rows)


def verify(settings: Settings, token: str) -> str:
    """The sensor id of a valid token; AuthError if unknown/malformed, Forbidden if revoked."""
    match = TOKEN_RE.match(token)
    if not match:
        raise AuthError("missing or malformed sensor token")
    token_id, secret = match.groups()
    with connect(
        settings,
    ) as con:
        row = con.execute(
            "SELECT sensor_id, salt, token_hash, revoked_at FROM sensor_tokens WHERE token_id = ?",
            [token_id],
        ).fetchone()
    if row is None or not hmac.compare_digest(hash_secret(row[1], secret), row[2]):
        raise AuthError("unknown sensor token")
    if row[3] is not None:
        raise Forbidden(f"the token of sensor {row[0]!r} was revoked")
    return str(row[0])


def batch_seen(settings: Settings, sensor_id: str, batch_id: str) -> bool:
    """Whether the collector already acknowledged this batch of this sensor."""
    with connect(
        settings,
    ) as con:
        row = con.execute(
            "SELECT 1 FROM collector_batches WHERE sensor_id = ? AND batch_id = ?",
            [sensor_id, batch_id],
        ).fetchone()
    return row is not None


def record_batch(
    settings: Settings, sensor_id: str, batch_id: str, events: int, span: tuple[datetime, datetime]
) -> None:
    """Remember an acknowledged batch (idempotent)."""
    with connect(settings) as con:
        con.execute(
            "INSERT INTO collector_batches VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [sensor_id, batch_id, events, _naive(span[0]), _naive(span[1]), _now()],
        )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def record_heartbeat(
    settings: Settings, sensor_id: str, beat: Mapping[str, Any], sensor_time: datetime | None
) -> None:
    """Store the latest heartbeat of a sensor (counters as sent; unknown keys ignored)."""
    counters = [_int(beat.get(name)) for name in HEARTBEAT_COLUMNS]
    offset = beat.get("clock_offset_s")
    error = beat.get("last_error")
    row = [
        sensor_id, _now(), _naive(sensor_time) if sensor_time else None,
        float(offset) if isinstance(offset, int | float) else None, *counters,
        str(error)[:500] if error else None, str(beat.get("version", ""))[:40],
    ]  # fmt: skip
    marks = ", ".join("?" for _ in row)
    with connect(settings) as con:
        con.execute(f"INSERT OR REPLACE INTO sensor_heartbeats VALUES ({marks})", row)


def _aware(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


def health(settings: Settings) -> dict[str, dict[str, Any]]:
    """Latest heartbeat and token state per sensor id."""
    with connect(
        settings,
    ) as con:
        cur = con.execute(
            "SELECT t.sensor_id, CASE WHEN bool_or(t.revoked_at IS NULL) THEN 'valid' "
            "ELSE 'revoked' END AS token, any_value(h.received_at) AS heartbeat_at, "
            + ", ".join(f"any_value(h.{c}) AS {c}" for c in ("clock_offset_s", *HEARTBEAT_COLUMNS))
            + ", any_value(h.last_error) AS last_error FROM sensor_tokens t "
            "LEFT JOIN sensor_heartbeats h USING (sensor_id) GROUP BY t.sensor_id"
        )
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    return {r[0]: {k: _aware(v) for k, v in zip(names, r, strict=True)} for r in rows}


def with_health(settings: Settings, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (sensor_list output, keyed by sensor_id) left-joined with health columns."""
    known = health(settings)
    blank = dict.fromkeys(
        ("token", "heartbeat_at", "clock_offset_s", *HEARTBEAT_COLUMNS, "last_error")
    )
    return [{**row, **blank, **known.get(str(row.get("sensor_id")), {})} for row in rows]
