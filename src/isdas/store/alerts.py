"""Store stage: alert documents and their revision history in the catalog.

Documents are opaque JSON text here (the publish stage owns their shape); this module allocates
ids, appends revisions in one transaction and reads them back. Revisions are append-only.
Must not import isdas.publish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from isdas.errors import NotFound
from isdas.settings import Settings
from isdas.store.catalog import connect

STATUSES = ("draft", "published", "withdrawn")


@dataclass(frozen=True)
class AlertMeta:
    """The indexed columns of an alert row (the body holds the rest)."""

    status: str
    proto: str
    port: int
    title: str
    detection_id: str | None
    at: datetime
    published_at: datetime | None = None


@dataclass(frozen=True)
class StoredRevision:
    """One stored revision: its number, time, note and the whole document."""

    alert_id: str
    revision: int
    at: datetime
    note: str
    body: str


def _naive(ts: datetime | None) -> datetime | None:
    return None if ts is None else ts.astimezone(UTC).replace(tzinfo=None)


def _aware(ts: datetime | None) -> datetime | None:
    return None if ts is None else ts.replace(tzinfo=UTC)


def format_id(prefix: str, year: int, seq: int) -> str:
    """`<PREFIX>-AT-YYYY-NNNN`."""
    return f"{prefix}-AT-{year:04d}-{seq:04d}"


def _next_seq(con: duckdb.DuckDBPyConnection, prefix: str, year: int) -> int:
    row = con.execute(
        "SELECT coalesce(max(seq), 0) FROM alerts WHERE prefix = ? AND year = ?", [prefix, year]
    ).fetchone()
    return int(row[0] if row else 0) + 1


def create(settings: Settings, meta: AlertMeta, note: str, render: Callable[[str], str]) -> str:
    """Allocate the next id of `meta.at`'s year, store revision 1 (`render(id)`); return the id."""
    prefix, year = settings.alert_prefix, meta.at.astimezone(UTC).year
    with connect(settings) as con:
        con.execute("BEGIN TRANSACTION")
        seq = _next_seq(con, prefix, year)
        alert_id = format_id(prefix, year, seq)
        body = render(alert_id)
        con.execute(
            "INSERT INTO alerts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                alert_id,
                prefix,
                year,
                seq,
                meta.status,
                meta.proto,
                meta.port,
                meta.detection_id,
                meta.title,
                _naive(meta.at),
                _naive(meta.at),
                _naive(meta.published_at),
                1,
                body,
            ],
        )
        con.execute(
            "INSERT INTO alert_revisions VALUES (?,?,?,?,?)",
            [alert_id, 1, _naive(meta.at), note, body],
        )
        con.execute("COMMIT")
    return alert_id


def append_revision(
    settings: Settings, alert_id: str, meta: AlertMeta, note: str, render: Callable[[int], str]
) -> int:
    """Store the next revision (`render(number)`) and make it current; return its number."""
    with connect(settings) as con:
        con.execute("BEGIN TRANSACTION")
        row = con.execute("SELECT revision FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()
        if row is None:
            con.execute("ROLLBACK")
            raise NotFound(f"no alert {alert_id}")
        number = int(row[0]) + 1
        body = render(number)
        con.execute(
            "INSERT INTO alert_revisions VALUES (?,?,?,?,?)",
            [alert_id, number, _naive(meta.at), note, body],
        )
        con.execute(
            """UPDATE alerts SET status = ?, title = ?, updated_at = ?, published_at = ?,
            revision = ?, body = ? WHERE alert_id = ?""",
            [
                meta.status,
                meta.title,
                _naive(meta.at),
                _naive(meta.published_at),
                number,
                body,
                alert_id,
            ],
        )
        con.execute("COMMIT")
    return number


def get_body(settings: Settings, alert_id: str) -> str:
    """The current document of an alert; raises NotFound."""
    with connect(settings, read_only=True) as con:
        row = con.execute("SELECT body FROM alerts WHERE alert_id = ?", [alert_id]).fetchone()
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    return str(row[0])


def revisions(settings: Settings, alert_id: str) -> list[StoredRevision]:
    """Every stored revision of an alert, oldest first; raises NotFound."""
    with connect(settings, read_only=True) as con:
        rows = con.execute(
            """SELECT revision, changed_at, note, body FROM alert_revisions WHERE alert_id = ?
            ORDER BY revision""",
            [alert_id],
        ).fetchall()
    if not rows:
        raise NotFound(f"no alert {alert_id}")
    return [
        StoredRevision(alert_id, int(n), _aware(at) or at, str(note), str(b))
        for n, at, note, b in rows
    ]


def list_rows(settings: Settings, status: str | None = None) -> list[dict[str, Any]]:
    """Summary rows of alerts, newest first; optionally only one status."""
    with connect(settings, read_only=True) as con:
        cur = con.execute(
            """SELECT alert_id, status, proto, port, title, detection_id, created_at,
            updated_at, published_at, revision FROM alerts
            WHERE ? IS NULL OR status = ? ORDER BY year DESC, seq DESC""",
            [status, status],
        )
        cols = [d[0] for d in cur.description or []]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    for row in rows:
        for k in ("created_at", "updated_at", "published_at"):
            row[k] = _aware(row[k])
    return rows


def bodies(settings: Settings, status: str | None = None) -> list[str]:
    """Current documents of every alert (optionally one status), newest first."""
    with connect(settings, read_only=True) as con:
        found = con.execute(
            "SELECT body FROM alerts WHERE ? IS NULL OR status = ? ORDER BY year DESC, seq DESC",
            [status, status],
        ).fetchall()
    return [str(b) for (b,) in found]


def country_totals(
    settings: Settings, since: datetime, until: datetime, *, top: int = 5, cls: str = "scan"
) -> list[dict[str, Any]]:
    """Source countries by packets in [since, until) over all ports (for reports):
    country, packets, sources (sum of hourly distinct sources), share of packets."""
    with connect(settings, read_only=True) as con:
        found = con.execute(
            """WITH m AS (SELECT country, sum(packets) AS packets, sum(sources) AS sources
                          FROM metrics_country WHERE cls = ? AND hour >= ? AND hour < ?
                          GROUP BY country),
                    t AS (SELECT sum(packets) AS total FROM m)
            SELECT country, packets::BIGINT, sources::BIGINT, packets / t.total
            FROM m, t ORDER BY packets DESC, country LIMIT ?""",
            [cls, _naive(since), _naive(until), top],
        ).fetchall()
    return [
        {"country": c, "packets": int(p), "sources": int(s), "share": float(sh or 0.0)}
        for c, p, s, sh in found
    ]
