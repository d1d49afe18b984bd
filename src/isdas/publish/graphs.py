"""Publish stage: the graphs of alerts, reports and the dashboard, as PNG or SVG bytes.

Matplotlib through its object API (Figure + Agg canvas, no pyplot state), so it is safe in
servers and threads. Inputs are the plain rows of isdas.store.queries (hour, packets, sources,
mean_per_sensor, sensor_id / country); functions never query the store themselves.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from isdas.errors import InputError

Row = Mapping[str, Any]
WINDOWS: dict[str, timedelta] = {
    "1w": timedelta(days=7),
    "1m": timedelta(days=30),
    "3m": timedelta(days=91),
    "1y": timedelta(days=365),
}
WINDOW_NAMES = {"1w": "1 week", "1m": "1 month", "3m": "3 months", "1y": "1 year"}
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
OTHERS_COLOR = "#c7c7c7"


def window_span(window: str) -> timedelta:
    """The length of a window name; raises InputError on an unknown one."""
    if window not in WINDOWS:
        raise InputError(f"unknown window {window!r}; use one of {', '.join(WINDOWS)}")
    return WINDOWS[window]


def bucket(ts: datetime, window: str) -> datetime:
    """The hour (1w) or UTC day (longer windows) that `ts` falls in."""
    ts = ts.astimezone(UTC)
    if window == "1w":
        return ts.replace(minute=0, second=0, microsecond=0)
    return ts.replace(hour=0, minute=0, second=0, microsecond=0)


def _unit(window: str) -> str:
    return "hour" if window == "1w" else "day"


def _sum_by(
    rows: Sequence[Row], group: str | None, column: str, window: str
) -> dict[str, dict[datetime, float]]:
    out: dict[str, dict[datetime, float]] = {}
    for r in rows:
        name = str(r[group]) if group else ""
        slot = out.setdefault(name, {})
        b = bucket(r["hour"], window)
        slot[b] = slot.get(b, 0.0) + float(r[column] or 0)
    return out


def _mean_by_bucket(rows: Sequence[Row], column: str, window: str) -> dict[datetime, float]:
    sums = _sum_by(rows, None, column, window).get("", {})
    counts = _sum_by([{**r, "one": 1} for r in rows], None, "one", window).get("", {})
    return {b: sums[b] / counts[b] for b in sums}


def _figure(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(10, 4.8), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=12)
    ax.grid(True, color="#e5e5e5", linewidth=0.8)
    ax.set_xlabel("time (UTC)")
    return fig, ax


def _time_axis(ax: Axes, window: str) -> None:
    fmt = "%m-%d %H:%M" if window == "1w" else ("%m-%d" if window != "1y" else "%Y-%m")
    formatter = mdates.DateFormatter(fmt, tz=UTC)  # type: ignore[no-untyped-call,unused-ignore]
    locator = mdates.AutoDateLocator(tz=UTC, maxticks=9)  # type: ignore[no-untyped-call,unused-ignore]
    ax.xaxis.set_major_formatter(formatter)
    ax.xaxis.set_major_locator(locator)


def _save(fig: Figure, fmt: str) -> bytes:
    if fmt not in ("png", "svg"):
        raise InputError(f"unknown image format {fmt!r}; use png or svg")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Software": "isdas"} if fmt == "png" else None)
    return buf.getvalue()


def _no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data in this window", ha="center", va="center", transform=ax.transAxes)


def _num(values: Sequence[datetime]) -> npt.NDArray[np.float64]:
    """Matplotlib date numbers (UTC) for aware datetimes."""
    days = mdates.date2num(list(values))  # type: ignore[no-untyped-call,unused-ignore]
    return np.asarray(days, dtype=np.float64)


def _series_xy(points: Mapping[datetime, float]) -> tuple[npt.NDArray[np.float64], list[float]]:
    xs = sorted(points)
    return _num(xs), [points[x] for x in xs]


def _plot_sensors(ax: Axes, sensor_rows: Sequence[Row], window: str) -> None:
    per = _sum_by(sensor_rows, "sensor_id", "packets", window)
    ranked = sorted(per, key=lambda s: -sum(per[s].values()))
    for i, sensor in enumerate(ranked[: len(COLORS)]):
        xs, ys = _series_xy(per[sensor])
        ax.plot(xs, ys, color=COLORS[i], linewidth=1.0, alpha=0.8, label=f"sensor {sensor}")


def _mark_onset(ax: Axes, onset: datetime | None) -> None:
    if onset is None:
        return
    x = float(_num([onset])[0])
    ax.axvline(x, color="#d00000", linestyle="--", linewidth=1.5)
    label = f"onset {onset.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    ax.annotate(
        label,
        (x, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(-4, -14),
        ha="right",
        textcoords="offset points",
        color="#d00000",
        fontsize=9,
    )


def port_graph(
    total_rows: Sequence[Row],
    sensor_rows: Sequence[Row],
    *,
    key: str,
    window: str = "1w",
    onset: datetime | None = None,
    service: str | None = None,
    fmt: str = "png",
) -> bytes:
    """The ISDAS-style graph of one port: packets per sensor (lines, left axis) and distinct
    sources (dashed, right axis) per hour (1w) or day, the mean per sensor bold, onset marked."""
    window_span(window)
    name = f"{key.upper()} ({service})" if service else key.upper()
    unit = _unit(window)
    fig, ax = _figure(
        f"{name}: packets per sensor and distinct sources, {WINDOW_NAMES[window]}, per {unit}"
    )
    ax.set_ylabel(f"packets per {unit}")
    if not total_rows and not sensor_rows:
        _no_data(ax)
        return _save(fig, fmt)
    _plot_sensors(ax, sensor_rows, window)
    xs, ys = _series_xy(_sum_by(total_rows, None, "mean_per_sensor", window).get("", {}))
    ax.plot(xs, ys, color="black", linewidth=2.2, label="mean per sensor")
    right = ax.twinx()
    sx, sy = _series_xy(_mean_by_bucket(total_rows, "sources", window))
    right.plot(sx, sy, color="#555555", linestyle=":", linewidth=1.8, label="distinct sources")
    right.set_ylabel("distinct sources per hour" + (" (daily mean)" if window != "1w" else ""))
    right.set_ylim(bottom=0)
    ax.set_ylim(bottom=0)
    _mark_onset(ax, onset)
    _time_axis(ax, window)
    lines = ax.get_legend_handles_labels()
    extra = right.get_legend_handles_labels()
    ax.legend(lines[0] + extra[0], lines[1] + extra[1], loc="upper left", fontsize=8, ncol=2)
    return _save(fig, fmt)


def _top_names(per: Mapping[str, Mapping[datetime, float]], top: int) -> list[str]:
    return sorted(per, key=lambda c: (-sum(per[c].values()), c))[:top]


def region_graph(
    country_rows: Sequence[Row], *, key: str, window: str = "1w", top: int = 5, fmt: str = "png"
) -> bytes:
    """Packets by source country, top `top` countries + others, stacked per hour or day."""
    window_span(window)
    unit = _unit(window)
    fig, ax = _figure(
        f"{key.upper()}: packets by source region, top {top} + others, {WINDOW_NAMES[window]}"
    )
    ax.set_ylabel(f"packets per {unit}")
    per = _sum_by(country_rows, "country", "packets", window)
    if not per:
        _no_data(ax)
        return _save(fig, fmt)
    names = _top_names(per, top)
    slots = sorted({b for series in per.values() for b in series})
    others = [sum(per[c].get(x, 0.0) for c in per if c not in names) for x in slots]
    stacks = [[per[c].get(x, 0.0) for x in slots] for c in names] + [others]
    xs = _num(slots)
    labels = [*names, "others"]
    colors = [*COLORS[: len(names)], OTHERS_COLOR]
    ax.stackplot(xs, stacks, labels=labels, colors=colors, alpha=0.9)
    ax.set_ylim(bottom=0)
    _time_axis(ax, window)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    return _save(fig, fmt)


def top_ports_graph(
    series_by_key: Mapping[str, Sequence[Row]], *, window: str = "1w", fmt: str = "png"
) -> bytes:
    """Mean packets per sensor of the top ports (one line each), per hour or day."""
    window_span(window)
    unit = _unit(window)
    count = len(series_by_key)
    fig, ax = _figure(
        f"Top {count} destination ports: mean packets per sensor, {WINDOW_NAMES[window]}"
    )
    ax.set_ylabel(f"packets per sensor per {unit}")
    if not series_by_key:
        _no_data(ax)
        return _save(fig, fmt)
    for i, (key, rows) in enumerate(series_by_key.items()):
        xs, ys = _series_xy(_sum_by(rows, None, "mean_per_sensor", window).get("", {}))
        ax.plot(xs, ys, color=COLORS[i % len(COLORS)], linewidth=1.6, label=key)
    ax.set_ylim(bottom=0)
    _time_axis(ax, window)
    ax.legend(loc="upper left", fontsize=8, ncol=min(count, 5))
    return _save(fig, fmt)
