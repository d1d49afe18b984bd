"""Analyse stage: drive the default detector over a sequence of hours.

Runs `detector.step` hour by hour, feeds the episode tracker, records calibration candidates
during the calibration window and fixes the thresholds at its end (so an hourly incremental
run and one batch run make the same decisions). Pure: frames come in, episodes go out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from isdas.analyse import calibrate
from isdas.analyse.detector import HourView, step
from isdas.analyse.episodes import Tracker, observe
from isdas.analyse.frames import HourFrame
from isdas.analyse.state import Params, State, grow

F64 = npt.NDArray[np.float64]


@dataclass
class Detector:
    """State, episode tracker and calibration records: everything a run carries forward."""

    state: State = field(default_factory=State)
    tracker: Tracker = field(default_factory=Tracker)
    cal_burst: F64 = field(default_factory=lambda: np.zeros((0, 3)))
    cal_slow: F64 = field(default_factory=lambda: np.zeros((0, 3)))
    budget: float = 1.0


def feed(det: Detector, frames: Iterable[HourFrame], p: Params) -> None:
    """Process every frame in order (hours must increase)."""
    todo = [f for f in frames if f.hour > det.state.last_hour]
    grow_ahead(det.state, todo)
    for frame in todo:
        view = step(det.state, frame, p)
        _calibration(det, view, p)
        observe(det.tracker, det.state, view, p)


def grow_ahead(state: State, frames: list[HourFrame]) -> None:
    """Grow the state once for every key of `frames`, in order of first appearance.

    A key's rows stay exactly zero until its first data (see `state.grow`), so growing ahead
    changes no decision; it saves re-allocating every (key, sensor) array each hour a new key
    appears. Sensors are not grown ahead: a sensor's health state depends on when it appears.
    """
    if frames:
        keys = np.concatenate([a for f in frames for a in (f.keys, f.union_keys)])
        grow(state, keys, [])


def _calibration(det: Detector, view: HourView, p: Params) -> None:
    """Record candidates inside the window; fix thresholds when the window ends."""
    first = p.warmup_hours
    done = det.state.hours - 1 - first
    if not view.warm or det.state.s_star > 0:
        return
    keys = np.asarray(det.state.keys, dtype=np.float64)
    b = view.burst_floor & (view.score >= calibrate.BURST_GRID[0])
    s = view.slow_floor & (view.cusum >= calibrate.CUSUM_GRID[0])
    det.cal_burst = _append(det.cal_burst, keys[b], view.hour, view.score[b])
    det.cal_slow = _append(det.cal_slow, keys[s], view.hour, view.cusum[s])
    if done + 1 >= p.calibration_hours:
        weeks = p.calibration_hours / 168
        half = det.budget / 2
        det.state.s_star = max(
            p.s_star,
            calibrate.threshold_for_budget(det.cal_burst, weeks, half, calibrate.BURST_GRID),
        )
        det.state.h_star = max(
            p.h_star,
            calibrate.threshold_for_budget(det.cal_slow, weeks, half, calibrate.CUSUM_GRID),
        )


def _append(rec: F64, keys: F64, hour: int, scores: F64) -> F64:
    if keys.size == 0:
        return rec
    rows = np.column_stack([keys, np.full(keys.size, float(hour)), scores])
    return np.concatenate([rec, rows])
