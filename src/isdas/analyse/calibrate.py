"""Analyse stage: choose alarm thresholds on history for an operator's false-alarm budget.

Candidate alarms (key, hour, score) recorded over a calibration window are merged into
episodes (same key, < 24 h apart); the smallest threshold whose episode rate fits the budget
per week wins, clipped to a sane range so that a real event in the window cannot blind the
detector. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
MERGE_HOURS = 24


def episodes(keys: F64, hours: F64, merge: int = MERGE_HOURS) -> int:
    """Number of alarm episodes: alarms on one key less than `merge` hours apart are one."""
    if keys.size == 0:
        return 0
    order = np.lexsort((hours, keys))
    k, h = keys[order], hours[order]
    new = np.ones(k.size, dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (h[1:] - h[:-1] >= merge)
    return int(new.sum())


def threshold_for_budget(records: F64, weeks: float, budget: float, grid: Sequence[float]) -> float:
    """Smallest grid value whose episode rate per week is <= budget (else the largest).

    `records` is an (n, 3) array of (key, hour, score).
    """
    for value in grid:
        hit = records[records[:, 2] >= value] if records.size else records
        if episodes(hit[:, 0], hit[:, 1]) / max(weeks, 1e-9) <= budget:
            return float(value)
    return float(grid[-1])


def rate_per_week(records: F64, weeks: float, value: float) -> float:
    """Alarm episodes per week at threshold `value`."""
    hit = records[records[:, 2] >= value] if records.size else records
    return episodes(hit[:, 0], hit[:, 1]) / max(weeks, 1e-9) if hit.size else 0.0


# Capped (burst 10, CUSUM 60): a real event in the calibration week pushed h* to 130 in the demo
# and blinded the slow test to the Mirai waves that followed.
BURST_GRID = tuple(np.round(np.arange(5.0, 10.01, 0.5), 2))
CUSUM_GRID = tuple(float(v) for v in (20, 25, 30, 35, 40, 50, 60))
