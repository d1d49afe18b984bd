"""Analyse stage: numba loops for the detector's per-(key, sensor) work (one fused pass each).

The hourly step touches every (key, sensor) cell a few times; doing that with numpy made one
temporary (K, S) array per operation. These kernels do each phase in a single loop over the
cells: expected values and sums (`expect`), the CUSUM run's per-sensor excess (`run_sensor`)
and the baseline update (`learn`). Pure array-in, array-out; no I/O, no state of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numba import njit

F = TypeVar("F", bound=Callable[..., Any])
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


def _jit(fn: F) -> F:
    """numba.njit with an on-disk cache, typed for mypy."""
    return cast(F, njit(cache=True, nogil=True)(fn))


@_jit
def expect(
    level: F64, pk_level: F64, prof_col: F64, union_level: F64, x: F64, pk: F64, up: B,
    profile_min: float, share: float, heavy_packets: float, heavy_ratio: float,
) -> tuple[F64, F64, F64, F64, F64, F64, F64, B, F64]:  # fmt: skip
    """Season, mu, pk_mu, observed (healthy), expected (healthy), frac, union expected,
    heavy-packet surge flag and sensors seeing sources, per key."""
    k, s = level.shape
    mu, pk_mu = np.empty((k, s)), np.empty((k, s))
    season, obs, e_up = np.empty(k), np.zeros(k), np.zeros(k)
    frac, g_exp, seen = np.empty(k), np.empty(k), np.zeros(k)
    surge = np.zeros(k, dtype=np.bool_)
    for i in range(k):
        total = 0.0
        for j in range(s):
            total += level[i, j]
        f = prof_col[i] if total >= profile_min else 1.0
        e_all = 0.0
        for j in range(s):
            m = level[i, j] * f
            mu[i, j] = m
            pm = pk_level[i, j] * f
            pk_mu[i, j] = pm
            e_all += m
            if up[j]:
                obs[i] += x[i, j]
                e_up[i] += m
                if x[i, j] > 0:
                    seen[i] += 1.0
                if pk[i, j] >= heavy_packets and pk[i, j] >= heavy_ratio * (pm + 1.0):
                    surge[i] = True
        season[i] = f
        frac[i] = e_up[i] / max(e_all, 1e-12) if e_all > 0 else share
        g_exp[i] = union_level[i] * f * frac[i]
    return season, mu, pk_mu, obs, e_up, frac, g_exp, surge, seen


@_jit
def run_sensor(run: F64, x: F64, mu: F64, up: B, active: B, reset: B) -> None:
    """In place: add each healthy sensor's excess to active runs; zero ended or reset runs."""
    k, s = run.shape
    for i in range(k):
        if not active[i] or reset[i]:
            for j in range(s):
                run[i, j] = 0.0
            continue
        for j in range(s):
            if up[j]:
                d = x[i, j] - mu[i, j]
                if d > 0:
                    run[i, j] += d


@_jit
def _ewma(c: float, v: float, f: float, r: float, winsor: bool) -> float:
    if v == 0.0 and f > 0.0:
        return c - r * c
    t = v / f
    if winsor and t > c + 2.0:
        t = min(t, c + 3.0 * np.sqrt(c) + 2.0)
    return c + r * (t - c)


@_jit
def learn(
    level: F64, pk_level: F64, x: F64, pk: F64, season: F64, rate: F64, winsor: B, up: B
) -> F64:
    """In place: winsorised EWMA of both levels on healthy sensors; returns the new healthy
    level sum per key (the base of the hour-of-day profile)."""
    k, s = level.shape
    base = np.zeros(k)
    for i in range(k):
        f = season[i]
        for j in range(s):
            r = rate[j]
            if r != 0.0:
                level[i, j] = _ewma(level[i, j], x[i, j], f, r, winsor[j])
                pk_level[i, j] = _ewma(pk_level[i, j], pk[i, j], f, r, winsor[j])
            if up[j]:
                base[i] += level[i, j]
    return base


@_jit
def scatter(
    rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64], a: F64, b: F64, k: int, s: int
) -> tuple[F64, F64]:
    """Two dense (k, s) arrays with a and b added at (rows, cols)."""
    out_a, out_b = np.zeros((k, s)), np.zeros((k, s))
    for n in range(rows.size):
        out_a[rows[n], cols[n]] += a[n]
        out_b[rows[n], cols[n]] += b[n]
    return out_a, out_b
