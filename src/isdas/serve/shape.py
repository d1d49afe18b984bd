"""Pure shaping of query rows into what pages and graphs show: filled series, regions, gaps.

Stage: serve. Pure functions (no I/O, no clock): times and windows are arguments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from isdas.models import PROTO_NAMES, Tag, tag_names

Row = dict[str, Any]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_hours(value: datetime, hours: int) -> datetime:
    """`value` floored to a multiple of `hours` since the epoch (UTC midnight for 24)."""
    seconds = int((value - EPOCH).total_seconds())
    step = hours * 3600
    return EPOCH + timedelta(seconds=seconds - seconds % step)


def buckets(since: datetime, until: datetime, hours: int) -> list[datetime]:
    """Bucket starts from floor(since) up to (excluding) until."""
    out: list[datetime] = []
    cur = floor_hours(since, hours)
    while cur < until:
        out.append(cur)
        cur += timedelta(hours=hours)
    return out


def epoch(value: datetime) -> int:
    """Seconds since the epoch (what the chart library plots)."""
    return int((value - EPOCH).total_seconds())


def fill_series(
    rows: Sequence[Row], starts: Sequence[datetime], hours: int, fields: Sequence[str]
) -> dict[str, list[Any]]:
    """Column arrays over every bucket (missing buckets are 0), values as per-hour means."""
    by_t = {r["t"]: r for r in rows}
    out: dict[str, list[Any]] = {"t": [epoch(t) for t in starts]}
    for name in fields:
        out[name] = [
            round(float(by_t[t][name] or 0) / hours, 3) if t in by_t else 0 for t in starts
        ]
    return out


def region_series(rows: Sequence[Row], starts: Sequence[datetime], top: int = 5) -> dict[str, Any]:
    """Per-bucket packets of the `top` source countries plus "others"."""
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r["country"]] += int(r["packets"] or 0)
    leaders = [c for c, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    index = {t: i for i, t in enumerate(starts)}
    names = [*leaders, "others"]
    values = {name: [0] * len(starts) for name in names}
    for r in rows:
        i = index.get(r["t"])
        if i is not None:
            name = r["country"] if r["country"] in leaders else "others"
            values[name][i] += int(r["packets"] or 0)
    share = {c: totals[c] for c in leaders}
    share["others"] = sum(totals.values()) - sum(share.values())
    return {"t": [epoch(t) for t in starts], "countries": names, "values": values, "totals": share}


def key_name(proto: int, port: int) -> str:
    """`tcp/445`-style key name."""
    return f"{PROTO_NAMES.get(proto, str(proto))}/{port}"


def gaps(hours: Sequence[datetime], since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Runs of missing hours in [since, until) given the hours that had traffic."""
    seen = sorted(set(hours))
    out: list[dict[str, Any]] = []
    cur = since
    for h in [*seen, until]:
        if h > cur:
            out.append({"start": cur, "end": h, "hours": int((h - cur).total_seconds() // 3600)})
        cur = max(cur, h + timedelta(hours=1))
    return out


def sensor_health(
    sensors: Sequence[Row], hours: Sequence[Row], now: datetime, days: int = 7
) -> list[Row]:
    """Sensors with up/down, packets in the last 24 h and gaps over the last `days` days."""
    since = now - timedelta(days=days) + timedelta(hours=1)
    per: dict[str, list[Row]] = defaultdict(list)
    for r in hours:
        per[r["sensor"]].append(r)
    out = []
    for s in sensors:
        mine = per.get(s["sensor"], [])
        last = max((r["hour"] for r in mine if r["packets"]), default=s.get("last_seen"))
        recent = sum(int(r["packets"] or 0) for r in mine if r["hour"] > now - timedelta(days=1))
        found = gaps([r["hour"] for r in mine if r["packets"]], since, now + timedelta(hours=1))
        up = last is not None and last >= now - timedelta(hours=2)
        out.append({**s, "up": up, "last_hour": last, "packets_24h": recent, "gaps": found})
    return out


def fingerprint_share(rows: Sequence[Row]) -> dict[str, Any]:
    """Share of packets per fingerprint tag and the research-scanner share of sources."""
    total = sum(int(r["packets"]) for r in rows) or 0
    by_tag: dict[str, int] = defaultdict(int)
    research_sources = sum(int(r["sources"]) for r in rows if int(r["tags"]) & Tag.RESEARCH)
    all_sources = sum(int(r["sources"]) for r in rows)
    for r in rows:
        for name in tag_names(int(r["tags"])):
            by_tag[name] += int(r["packets"])
    shares = {k: round(v / total, 4) for k, v in sorted(by_tag.items())} if total else {}
    research = round(research_sources / all_sources, 4) if all_sources else 0.0
    return {"packets": total, "tags": shares, "research_source_share": research}
