"""Store stage: per-source scan profiles over a time range (`isdas sources`).

Reads the scan packets of the range from the lake once, as distinct (source, port, target)
triples with packet counts, and profiles every source with `analyse.profile`: how many
ports it touched, its most targets on one port, and whether it is port-focused, an all-port
scanner or a horizontal scan for the monitored space. Read-only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from isdas.analyse.classify import mix64
from isdas.analyse.profile import horizontal_threshold, profile
from isdas.models import format_addr
from isdas.settings import Settings
from isdas.store.catalog import connect
from isdas.store.queries import parts_between

TRIPLES_SQL = """
SELECT src_hi, src_lo, dport, dst_hi, dst_lo, count(*) AS packets, any_value(country) AS country
FROM read_parquet($files)
WHERE cls = 1 AND proto IN (6, 17) AND ts >= $lo AND ts < $hi
GROUP BY ALL
"""


def _range(
    con: Any, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime] | None:
    """[since, until) in naive UTC; by default the last 24 hours with data."""
    last = con.execute("SELECT max(max_ts) FROM parts").fetchone()
    if last is None or last[0] is None:
        return None
    hi = until.astimezone(UTC).replace(tzinfo=None) if until else last[0] + timedelta(seconds=1)
    lo = since.astimezone(UTC).replace(tzinfo=None) if since else hi - timedelta(hours=24)
    return lo, hi


def scan_sources(
    settings: Settings,
    since: datetime | None = None,
    until: datetime | None = None,
    port: int | None = None,
    limit: int = 20,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The top sources by packets (those that scanned `port`, if given) with their profile,
    and a summary of every source in the range."""
    with connect(settings, read_only=True) as con:
        span = _range(con, since, until)
        if span is None:
            return [], {"sources": 0}
        lo, hi = span
        files = parts_between(con, settings, lo, hi)
        row = con.execute("SELECT coalesce(sum(addresses), 0) FROM sensors").fetchone()
        monitored = int(row[0]) if row else 0
        if not files:
            return [], {"sources": 0}
        t = con.execute(TRIPLES_SQL, {"files": files, "lo": lo, "hi": hi}).fetchnumpy()
    return _profiled(t, monitored, port, limit, (lo, hi))


def _profiled(
    t: dict[str, Any], monitored: int, port: int | None, limit: int, span: tuple[datetime, datetime]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    hi_, lo_ = np.asarray(t["src_hi"], np.uint64), np.asarray(t["src_lo"], np.uint64)
    if hi_.size == 0:
        return [], {"sources": 0}
    src = mix64(hi_, lo_)
    dst = mix64(np.asarray(t["dst_hi"], np.uint64), np.asarray(t["dst_lo"], np.uint64))
    dport = np.asarray(t["dport"], np.int64)
    prof = profile(src, dst, dport, monitored)
    idx = np.searchsorted(prof.source, src)
    packets = np.bincount(
        idx, weights=np.asarray(t["packets"], np.float64), minlength=prof.source.size
    )
    first = np.full(prof.source.size, -1, dtype=np.int64)
    first[idx[::-1]] = np.arange(idx.size)[::-1]
    wanted = np.ones(prof.source.size, dtype=bool)
    if port is not None:
        wanted = np.zeros(prof.source.size, dtype=bool)
        wanted[idx[dport == port]] = True
    order = [int(i) for i in np.argsort(-packets, kind="stable") if wanted[i]][:limit]
    rows = []
    for i in order:
        j = int(first[i])
        rows.append({
            "source": format_addr(int(t["src_hi"][j]), int(t["src_lo"][j])),
            "country": str(t["country"][j]), "packets": int(packets[i]),
            "ports": int(prof.ports[i]), "max_targets": int(prof.targets[i]),
            "profile": _kind(prof.focused[i], prof.all_port[i]),
            "horizontal": bool(prof.horizontal[i]),
        })  # fmt: skip
    summary = {
        "since": span[0].replace(tzinfo=UTC).isoformat(),
        "until": span[1].replace(tzinfo=UTC).isoformat(),
        "sources": int(prof.source.size), "port_focused": int(prof.focused.sum()),
        "all_port": int(prof.all_port.sum()), "horizontal": int(prof.horizontal.sum()),
        "monitored_addresses": monitored, "horizontal_threshold": horizontal_threshold(monitored),
    }  # fmt: skip
    return rows, summary


def _kind(focused: bool, all_port: bool) -> str:
    return "all-port" if all_port else "port-focused" if focused else "multi-port"
