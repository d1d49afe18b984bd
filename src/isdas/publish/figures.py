"""Publish stage: fetch the rows behind a port's graphs from the store and render them.

The one place in publish/ that calls isdas.store.queries for graphs; rendering is graphs.py.
Must not write files.
"""

from __future__ import annotations

from datetime import datetime

from isdas.knowledge.ports import service_name
from isdas.models import Key
from isdas.publish import graphs
from isdas.settings import Settings


def port_graph(
    settings: Settings,
    key: Key,
    *,
    window: str = "1w",
    until: datetime,
    onset: datetime | None = None,
    fmt: str = "png",
) -> bytes:
    """The ISDAS-style graph of `key` over the window ending at `until`."""
    from isdas.store import queries

    since = until - graphs.window_span(window)
    total = queries.series(settings, key, since=since, until=until)
    sensors = queries.series(settings, key, since=since, until=until, by="sensor")
    name = service_name(key.proto, key.port, settings)
    return graphs.port_graph(
        total, sensors, key=str(key), window=window, onset=onset, service=name, fmt=fmt
    )


def region_graph(
    settings: Settings, key: Key, *, window: str = "1w", until: datetime, fmt: str = "png"
) -> bytes:
    """Packets of `key` by source country (top 5 + others) over the window ending at `until`."""
    from isdas.store import queries

    since = until - graphs.window_span(window)
    rows = queries.series(settings, key, since=since, until=until, by="country")
    return graphs.region_graph(rows, key=str(key), window=window, fmt=fmt)


def top_ports_graph(
    settings: Settings, *, window: str = "1w", until: datetime, top: int = 5, fmt: str = "png"
) -> bytes:
    """Trend lines of the top ports by packets in the window ending at `until`."""
    from isdas.store import queries

    since = until - graphs.window_span(window)
    ranked = queries.top_ports(settings, since=since, until=until, top=top)
    series = {
        f"{r['proto_name']}/{r['port']}": queries.series(
            settings, Key(r["proto"], r["port"]), since=since, until=until
        )
        for r in ranked
    }
    return graphs.top_ports_graph(series, window=window, fmt=fmt)
