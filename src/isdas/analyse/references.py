"""Analyse stage: the reference detectors the default one is compared with (daily resolution).

- DShield trend score: sqrt((S - s)^2 / s + (T - t)^2 / t), S/T today's sources/targets,
  s/t their mean over the previous 28 days (floored at 1).
- GreyNoise spike rule: today's unique sources above both median + k IQR and mean + k sigma of
  the previous 28 days (k = 2 as published; calibrated like every threshold here).
Pure functions over (days, keys) matrices; an alarm is (key index, day index, score).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
WINDOW = 28


def _history(m: F64, d: int) -> F64:
    return m[max(0, d - WINDOW) : d]


def dshield_scores(sources: F64, targets: F64, min_days: int = 7) -> F64:
    """(D,K) trend scores; 0 for the first `min_days` days and for falls."""
    out = np.zeros(sources.shape)
    for d in range(min_days, sources.shape[0]):
        s = np.maximum(_history(sources, d).mean(axis=0), 1.0)
        t = np.maximum(_history(targets, d).mean(axis=0), 1.0)
        score = np.sqrt((sources[d] - s) ** 2 / s + (targets[d] - t) ** 2 / t)
        out[d] = np.where(sources[d] > s, score, 0.0)
    return out


def greynoise_scores(sources: F64, min_days: int = 7) -> F64:
    """(D,K) the largest k for which today's count passes both spike bounds (0 if none)."""
    out = np.zeros(sources.shape)
    for d in range(min_days, sources.shape[0]):
        h = _history(sources, d)
        q1, med, q3 = np.percentile(h, [25, 50, 75], axis=0)
        mean, sd = h.mean(axis=0), h.std(axis=0)
        x = sources[d]
        big = 1e6
        k_iqr = np.where(q3 - q1 > 0, (x - med) / np.maximum(q3 - q1, 1e-9), big * (x > med))
        k_sd = np.where(sd > 0, (x - mean) / np.maximum(sd, 1e-9), big * (x > mean))
        k = np.minimum(k_iqr, k_sd)
        out[d] = np.maximum(k, 0.0)
    return out


def alarms(scores: F64, threshold: float, first_day: int = 0) -> list[tuple[int, int, float]]:
    """(key, day, score) where the score reaches the threshold, from `first_day` on."""
    d, k = np.nonzero(scores[first_day:] >= threshold)
    return [
        (int(kk), int(dd) + first_day, float(scores[dd + first_day, kk]))
        for dd, kk in zip(d, k, strict=True)
    ]


def calibrate_daily(scores: F64, days: slice, weeks: float, budget: float) -> float:
    """Smallest threshold whose alarm episodes (key, consecutive days merged) fit the budget."""
    window = scores[days]
    values = np.unique(window[window > 0])
    if values.size == 0:
        return 1.0
    for v in np.concatenate([values[::-1][:2000][::-1], [values.max() + 1]]):
        hit = window >= v
        starts = hit.copy()
        starts[1:] &= ~hit[:-1]
        if starts.sum() / max(weeks, 1e-9) <= budget:
            return float(v)
    return float(values.max() + 1)
