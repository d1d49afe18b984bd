"""Detections in the catalog: batch = hourly incremental, idempotent re-runs, lookups."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from isdas.analyse.frames import HourFrame, hour_time
from isdas.errors import NotFound
from isdas.settings import Settings
from isdas.store.catalog import connect
from isdas.store.detections import get_detection, list_detections, run_detection
from tests.analyse.synth import START, step_event, world

ONSET = 24 * 16


def fill(settings: Settings, frames: list[HourFrame], countries: dict[int, str]) -> None:
    """Write frames into the metrics tables the ingest would fill."""
    rows_s: dict[str, list[object]] = {
        k: []
        for k in ("hour", "sensor_id", "proto", "port", "cls", "packets", "sources", "targets")
    }
    rows_p: dict[str, list[object]] = {k: [] for k in ("hour", "proto", "port", "cls", "sources")}
    rows_h: dict[str, list[object]] = {k: [] for k in ("hour", "sensor_id", "packets", "sources")}
    for f in frames:
        hour = hour_time(f.hour).replace(tzinfo=None)
        for k, s, src, pk in zip(f.keys, f.sensors, f.sources, f.packets, strict=True):
            for name, v in zip(
                rows_s,
                (hour, s, int(k) >> 16, int(k) & 0xFFFF, "scan", int(pk), int(src), int(src)),
                strict=True,
            ):
                rows_s[name].append(v)
        for k, src in zip(f.union_keys, f.union_sources, strict=True):
            for name, v in zip(
                rows_p, (hour, int(k) >> 16, int(k) & 0xFFFF, "scan", int(src)), strict=True
            ):
                rows_p[name].append(v)
        for s, v in f.health.items():
            for name, val in zip(rows_h, (hour, s, int(v), int(v)), strict=True):
                rows_h[name].append(val)
    with connect(settings) as con:
        con.register("ms", pa.table(rows_s))
        con.execute("INSERT INTO metrics_sensor SELECT * FROM ms")
        con.register("mp", pa.table(rows_p))
        con.execute("INSERT INTO metrics_port (hour, proto, port, cls, sources) SELECT * FROM mp")
        con.register("mh", pa.table(rows_h))
        con.execute("INSERT INTO sensor_hours SELECT * FROM mh")
        con.execute(
            "INSERT INTO metrics_country SELECT hour, proto, port, cls, "
            "CASE WHEN port % 2 = 0 THEN 'JP' ELSE 'CN' END, 0, sources FROM mp"
        )


@pytest.fixture(scope="module")
def frames() -> list[HourFrame]:
    w = world(n_keys=200, hours=24 * 20, seed=11)
    step_event(w, 150, ONSET, 30)
    return w.frames()


def end_time(frames: list[HourFrame]) -> datetime:
    return hour_time(frames[-1].hour + 2)


def test_batch_equals_incremental_and_reruns_are_idempotent(
    tmp_path: Path, frames: list[HourFrame]
) -> None:
    batch, inc = Settings(tmp_path / "a"), Settings(tmp_path / "b")
    fill(batch, frames, {})
    first = run_detection(batch, now=end_time(frames))
    again = run_detection(batch, now=end_time(frames))
    assert first == again
    assert any(d.kind == "global" for d in first)
    cut = len(frames) - 60
    fill(inc, frames[:cut], {})
    run_detection(inc, now=hour_time(frames[cut - 1].hour + 1))
    fill(inc, frames[cut:], {})
    for extra in range(1, 40, 13):  # hourly-ish steps through the remaining hours
        run_detection(inc, now=hour_time(frames[cut - 1].hour + 1 + extra))
    assert run_detection(inc, now=end_time(frames)) == first


def test_detection_is_explained_and_found_by_id(tmp_path: Path, frames: list[HourFrame]) -> None:
    s = Settings(tmp_path)
    fill(s, frames, {})
    dets = [d for d in run_detection(s, now=end_time(frames)) if d.kind == "global"]
    assert len(dets) == 1
    d = dets[0]
    assert d.port == 1150
    assert d.proto == "tcp"
    assert d.id == f"D-{d.start:%Y%m%dT%H}-tcp-1150"
    assert d.countries
    assert d.countries[0].country == "JP"
    assert get_detection(s, d.id) == d
    with pytest.raises(NotFound):
        get_detection(s, "D-nope")
    onset = hour_time(START + ONSET)
    assert list_detections(s, since=onset + timedelta(days=30)) == []
    assert d in list_detections(s, since=onset - timedelta(hours=3))


def test_late_data_restarts_from_scratch(tmp_path: Path, frames: list[HourFrame]) -> None:
    s = Settings(tmp_path)
    fill(s, frames, {})
    before = run_detection(s, now=end_time(frames))
    with connect(s) as con:  # a late batch changes an old hour of the step key
        con.execute("DELETE FROM metrics_sensor WHERE port = 1150")
        con.execute("DELETE FROM metrics_port WHERE port = 1150")
    after = run_detection(s, now=end_time(frames))
    assert any(d.port == 1150 for d in before)
    assert not any(d.port == 1150 for d in after)  # the stale detection went with the state
