"""Store stage: source-level facts about an alarm episode, for its explanation.

Countries of the excess (metrics_country in the episode vs the week before), fingerprints
and the top source's packet share (lake parts of the episode's first two days). Read-only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from isdas.analyse.episodes import MULTIPORT, Episode
from isdas.analyse.explain import Enrichment
from isdas.analyse.frames import hour_time
from isdas.models import CountryShare, tag_names

BASE_HOURS = 168
LAKE_WINDOW = timedelta(hours=48)

COUNTRY_SQL = """
SELECT country,
       sum(CASE WHEN hour >= $a THEN sources ELSE 0 END)::DOUBLE AS run,
       sum(CASE WHEN hour < $a THEN sources ELSE 0 END)::DOUBLE AS base
FROM metrics_country
WHERE cls = 'scan' AND proto = $proto AND port = $port AND hour >= $base AND hour <= $b
GROUP BY country
"""

SOURCES_SQL = """
SELECT count(*) AS n, bit_or(tags) AS t
FROM read_parquet($files)
WHERE proto = $proto AND dport = $port AND cls = 1 AND ts >= $a AND ts < $b
GROUP BY src_hi, src_lo
"""


def _naive(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None)


def countries(
    con: duckdb.DuckDBPyConnection, proto: int, port: int, ep: Episode
) -> tuple[CountryShare, ...]:
    """Countries of the excess sources, ordered by share (at most 5 with share >= 1 %)."""
    a, b = hour_time(ep.onset), hour_time(max(ep.last_hour, ep.detected))
    base = a - timedelta(hours=BASE_HOURS)
    rows = con.execute(
        COUNTRY_SQL,
        {"a": _naive(a), "b": _naive(b), "base": _naive(base), "proto": proto, "port": port},
    ).fetchall()
    scale = (ep.last_hour - ep.onset + 1) / BASE_HOURS
    excess = {str(c): max(float(r) - float(s) * scale, 0.0) for c, r, s in rows}
    total = sum(excess.values())
    if total <= 0:
        return ()
    ranked = sorted(excess.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(
        CountryShare(c, round(v / total, 3), round(v)) for c, v in ranked[:5] if v / total >= 0.01
    )


def _files(con: duckdb.DuckDBPyConnection, lake: Path, a: datetime, b: datetime) -> list[str]:
    rows = con.execute(
        "SELECT path FROM parts WHERE day BETWEEN $a AND $b ORDER BY path",
        {"a": a.date(), "b": b.date()},
    ).fetchall()
    return [str(lake / r[0]) for r in rows if (lake / r[0]).exists()]


def lake_facts(
    con: duckdb.DuckDBPyConnection, lake: Path, proto: int, port: int, ep: Episode
) -> tuple[tuple[str, ...], float]:
    """(fingerprints seen on >= 10 % of the sources, top source's share of packets)."""
    a = hour_time(ep.onset)
    b = min(hour_time(ep.last_hour + 1), a + LAKE_WINDOW)
    files = _files(con, lake, a, b)
    if not files:
        return (), 0.0
    args = {"files": files, "proto": proto, "port": port, "a": a, "b": b}
    res = con.execute(SOURCES_SQL, args).fetchnumpy()
    n, tags = res["n"], res["t"]
    if len(n) == 0:
        return (), 0.0
    names: list[str] = []
    for bit in (1, 2, 4, 8, 32):
        if ((tags & bit) != 0).mean() >= 0.1:
            names.extend(tag_names(bit))
    return tuple(names), float(n.max() / n.sum())


def enrich(con: duckdb.DuckDBPyConnection, lake: Path, ep: Episode) -> Enrichment:
    """All facts for one episode (none for multi-port episodes; recon episodes, a few sources
    each and hundreds per month, skip the lake scan for fingerprints and top source share)."""
    if ep.key == MULTIPORT:
        return Enrichment()
    proto, port = ep.key >> 16, ep.key & 0xFFFF
    if ep.family == "recon":
        return Enrichment(countries(con, proto, port, ep), (), 0.0)
    prints, top = lake_facts(con, lake, proto, port, ep)
    return Enrichment(countries(con, proto, port, ep), prints, top)
