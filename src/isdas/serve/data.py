"""Data functions of the pages: each returns the dict that the HTML page renders and that its
JSON twin serves, so both always show the same figures.

Stage: serve. Reads through `isdas.store.dashboard` (one short-lived connection per call) and the
optional stages through `serve.sources`. Must not write anything or hold connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from isdas.models import PROTO_NAMES
from isdas.serve import shape, sources
from isdas.serve.params import WINDOWS, TimeRange, Window
from isdas.settings import Settings
from isdas.store.dashboard import Reader, open_reader

Row = dict[str, Any]
FINGERPRINT_SPAN = timedelta(days=1)


def data_now(reader: Reader) -> datetime:
    """The data clock: the newest hour with metrics, else the current hour."""
    latest = reader.latest_hour()
    return latest or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def with_names(rows: list[Row]) -> list[Row]:
    """Rows of (proto, port) with their key name, protocol name and service name."""
    out = []
    for r in rows:
        proto = PROTO_NAMES.get(r["proto"], str(r["proto"]))
        service = sources.service_name(proto, r["port"])
        out.append({**r, "key": f"{proto}/{r['port']}", "proto_name": proto, "service": service})
    return out


@dataclass(frozen=True)
class Related:
    """Alerts and detections (fetched and cached apart: they change rarely)."""

    alerts: list[Row] = field(default_factory=list)
    detections: list[Row] = field(default_factory=list)


def related(settings: Settings) -> Related:
    """Every alert summary and detection, newest first."""
    return Related(sources.alerts(settings), sources.detections(settings))


def overview(settings: Settings, rel: Related) -> dict[str, Any]:
    """Top ports of the last 24 h, protocol split, regions of the week, sensors, latest alerts."""
    with open_reader(settings) as r:
        now = data_now(r)
        day = TimeRange(now - timedelta(hours=23), now + timedelta(hours=1))
        week = TimeRange(now - timedelta(days=7) + timedelta(hours=1), day.until)
        top_packets = r.top_ports(day.since, day.until, by="packets", limit=10)
        top_sources = r.top_ports(day.since, day.until, by="sources", limit=10)
        split = r.proto_split(day.since, day.until)
        regions = r.country_series(week.since, week.until, 6)
        health = shape.sensor_health(r.sensors(), r.sensor_hours(week.since, week.until), now)
    starts = shape.buckets(week.since, week.until, 6)
    return {
        "now": now,
        "range": {"since": day.since, "until": day.until},
        "top_packets": with_names(top_packets),
        "top_sources": with_names(top_sources),
        "protocols": [{**p, "proto_name": PROTO_NAMES.get(p["proto"], "?")} for p in split],
        "regions": shape.region_series(regions, starts),
        "sensors": {
            "up": sum(1 for s in health if s["up"]),
            "down": sum(1 for s in health if not s["up"]),
            "list": [{"sensor": s["sensor"], "up": s["up"]} for s in health],
        },
        "alerts": rel.alerts[:5],
        "detections": rel.detections[:5],
    }


def _window_range(now: datetime, win: Window) -> TimeRange:
    until = shape.floor_hours(now, win.bucket_hours) + timedelta(hours=win.bucket_hours)
    return TimeRange(until - win.span, until)


def port_page(
    settings: Settings, proto: int, port: int, win: Window, rel: Related
) -> dict[str, Any]:
    """Trend, breakdowns, fingerprints, knowledge, detections and alerts of one key."""
    name = PROTO_NAMES.get(proto, str(proto))
    with open_reader(settings) as r:
        now = data_now(r)
        rng = _window_range(now, win)
        rows = r.port_series(proto, port, rng.since, rng.until, win.bucket_hours)
        breakdown = r.port_breakdown(proto, port, rng.since, rng.until)
        regions = r.country_series(rng.since, rng.until, win.bucket_hours, key=(proto, port))
        since = now + timedelta(hours=1) - FINGERPRINT_SPAN
        tags = r.tag_counts(settings.lake, proto, port, since, now + timedelta(hours=1))
    starts = shape.buckets(rng.since, rng.until, win.bucket_hours)
    fields = ("packets_per_sensor", "sources", "packets")
    return {
        "key": f"{name}/{port}",
        "proto": name,
        "port": port,
        "now": now,
        "window": win.name,
        "windows": {w.name: w.label for w in WINDOWS.values()},
        "range": {"since": rng.since, "until": rng.until, "bucket_hours": win.bucket_hours},
        "service": sources.service_name(name, port),
        "info": sources.port_info(name, port),
        "series": shape.fill_series(rows, starts, win.bucket_hours, fields),
        "regions": shape.region_series(regions, starts),
        **breakdown,
        "fingerprints": shape.fingerprint_share(tags),
        "detections": [d for d in rel.detections if _is_key(d, name, port)],
        "alerts": [a for a in rel.alerts if _is_key(a, name, port)],
    }


def _is_key(item: Row, proto: str, port: int) -> bool:
    if item.get("proto") == proto and item.get("port") == port:
        return True
    keys = item.get("keys") or item.get("ports") or []
    return f"{proto}/{port}" in [str(k) for k in keys] if isinstance(keys, list) else False


def sensors_page(settings: Settings) -> dict[str, Any]:
    """Every sensor's health, counters, last seen and gaps over the last week."""
    with open_reader(settings) as r:
        now = data_now(r)
        since = now - timedelta(days=7) + timedelta(hours=1)
        health = shape.sensor_health(
            r.sensors(), r.sensor_hours(since, now + timedelta(hours=1)), now
        )
    return {"now": now, "since": since, "sensors": health}


def top_ports(
    settings: Settings,
    rng: TimeRange,
    *,
    by: str,
    limit: int,
    offset: int,
    proto: int | None,
    cls: str,
) -> dict[str, Any]:
    """Ranked ports over a time range (the API's top-ports and its CSV)."""
    with open_reader(settings) as r:
        rows = r.top_ports(
            rng.since, rng.until, by=by, limit=limit, offset=offset, proto=proto, cls=cls
        )
    ranked = [{"rank": offset + i + 1, **row} for i, row in enumerate(with_names(rows))]
    return {
        "since": rng.since,
        "until": rng.until,
        "by": by,
        "cls": cls,
        "offset": offset,
        "limit": limit,
        "ports": ranked,
    }


def series(
    settings: Settings, proto: int, port: int, rng: TimeRange, bucket_hours: int, cls: str
) -> dict[str, Any]:
    """Bucketed series of one key over a time range (the API's series and its CSV)."""
    with open_reader(settings) as r:
        rows = r.port_series(proto, port, rng.since, rng.until, bucket_hours, cls)
    starts = shape.buckets(rng.since, rng.until, bucket_hours)
    cols = shape.fill_series(
        rows, starts, bucket_hours, ("packets_per_sensor", "sources", "packets")
    )
    points = [
        {
            "time": starts[i],
            "packets_per_sensor": cols["packets_per_sensor"][i],
            "sources": cols["sources"][i],
            "packets": cols["packets"][i],
        }
        for i in range(len(starts))
    ]
    return {
        "key": shape.key_name(proto, port),
        "cls": cls,
        "since": rng.since,
        "until": rng.until,
        "bucket_hours": bucket_hours,
        "points": points,
    }


def search(settings: Settings, query: str) -> dict[str, Any]:
    """Keys matching a port number, a `proto/port` key or a service name."""
    text = query.strip().lower()
    results: list[Row] = []
    if text:
        with open_reader(settings) as r:
            number = text.rpartition("/")[2]
            if number.isdigit() and int(number) <= 65535:
                results = r.ports_numbered(int(number))
            else:
                results = [k for k in with_names(r.known_keys()) if text in k["service"].lower()]
    return {"query": query, "results": with_names(results)}
