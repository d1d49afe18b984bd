"""Graphs are rendered, sized, non-blank, and carry titles, units and UTC dates."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from matplotlib import image

from isdas.errors import InputError
from isdas.publish import graphs

T0 = datetime(2007, 8, 16, tzinfo=UTC)


def _rows(
    hours: int = 168,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    total, sensors, countries = [], [], []
    for h in range(hours):
        ts = T0 + timedelta(hours=h)
        k = 8 if h >= hours - 20 else 1
        total.append({"hour": ts, "packets": 20 * k, "sources": 5 * k, "mean_per_sensor": 10.0 * k})
        for s in ("s1", "s2"):
            sensors.append({"hour": ts, "sensor_id": s, "packets": 10 * k})
        for cc, w in (("CN", 5), ("JP", 3), ("US", 2), ("KR", 1), ("BR", 1), ("RU", 1)):
            countries.append({"hour": ts, "country": cc, "packets": w * k})
    return total, sensors, countries


def _pixels(png: bytes) -> np.ndarray:  # type: ignore[type-arg]
    return np.asarray(image.imread(io.BytesIO(png), format="png"))


def _plot_area_is_drawn(png: bytes) -> None:
    px = _pixels(png)
    h, w = px.shape[:2]
    center = px[h // 5 : 4 * h // 5, w // 8 : 7 * w // 8, :3]
    non_white = (center < 0.95).any(axis=2).mean()
    assert 0.01 < non_white < 0.9
    assert len(np.unique(center.reshape(-1, 3), axis=0)) > 10


def test_port_graph_png_is_sized_and_drawn() -> None:
    total, sensors, _ = _rows()
    png = graphs.port_graph(total, sensors, key="tcp/5168", onset=T0 + timedelta(hours=148))
    assert png.startswith(b"\x89PNG")
    assert _pixels(png).shape[:2] == (480, 1000)
    _plot_area_is_drawn(png)


def test_port_graph_svg_has_title_units_and_onset() -> None:
    total, sensors, _ = _rows()
    svg = graphs.port_graph(
        total, sensors, key="tcp/5168", service="scte30", onset=T0 + timedelta(hours=148), fmt="svg"
    ).decode()
    for text in (
        "TCP/5168 (scte30)",
        "packets per hour",
        "distinct sources per hour",
        "time (UTC)",
        "onset 2007-08-22 04:00 UTC",
        "sensor s1",
        "mean per sensor",
    ):
        assert text in svg, text


def test_daily_windows_aggregate_by_day() -> None:
    total, sensors, _ = _rows(24 * 30)
    svg = graphs.port_graph(total, sensors, key="udp/53", window="1m", fmt="svg").decode()
    assert "packets per day" in svg and "1 month" in svg and "(daily mean)" in svg


def test_region_graph_stacks_top_five_and_others() -> None:
    _, _, countries = _rows()
    svg = graphs.region_graph(countries, key="tcp/445", fmt="svg").decode()
    for cc in ("CN", "JP", "US", "KR", "BR", "others"):
        assert cc in svg
    assert ">RU<" not in svg
    _plot_area_is_drawn(graphs.region_graph(countries, key="tcp/445"))


def test_top_ports_graph_has_one_line_per_port() -> None:
    total, _, _ = _rows()
    svg = graphs.top_ports_graph({"tcp/445": total, "tcp/23": total[:50]}, fmt="svg").decode()
    assert "Top 2 destination ports" in svg and "tcp/445" in svg and "tcp/23" in svg


def test_empty_data_still_renders_a_labelled_image() -> None:
    svg = graphs.port_graph([], [], key="tcp/1", fmt="svg").decode()
    assert "no data in this window" in svg


def test_bad_window_and_format_are_input_errors() -> None:
    with pytest.raises(InputError):
        graphs.port_graph([], [], key="tcp/1", window="2w")
    with pytest.raises(InputError):
        graphs.port_graph([], [], key="tcp/1", fmt="gif")
