"""Analyse stage: the count-model tests of the default detector (vectorised over keys).

Negative-binomial tail score (fast test) and the quasi-Poisson CUSUM increment (slow test).
Pure numpy/scipy: no I/O, no state.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import betainc, gammaincc

F64 = npt.NDArray[np.float64]

MIN_EXPECTED = 0.01
MAX_SCORE = 300.0


def nb_size(mean: F64, var: F64) -> F64:
    """NB size r from mean and variance (variance floored at the mean), clipped to [0.5, 1e4]."""
    excess = np.maximum(np.maximum(var, mean) - mean, 1e-6)
    return np.asarray(np.clip(mean * mean / excess, 0.5, 1e4), dtype=np.float64)


def nb_tail_score(observed: F64, mean: F64, var: F64) -> F64:
    """-log10 P(Y >= observed) for Y ~ NB(mean, var); 0 where observed <= 0.

    Uses P(Y >= x) = I_{1-p}(x, r) with p = r / (r + mean), and the Poisson limit
    Q(x, mean) for very large r, where the beta form loses precision.
    """
    mean = np.maximum(mean, MIN_EXPECTED)
    r = nb_size(mean, var)
    x = np.maximum(observed, 0.0)
    q = np.where(x > 0, betainc(np.maximum(x, 1e-9), r, mean / (r + mean)), 1.0)
    poisson = 1.0 - gammaincc(np.maximum(x, 1e-9), mean)
    q = np.where(r >= 1e4, poisson, q)
    with np.errstate(divide="ignore"):
        score = -np.log10(np.maximum(q, 1e-300))
    return np.asarray(np.clip(np.where(x > 0, score, 0.0), 0.0, MAX_SCORE), dtype=np.float64)


def cusum_increment(observed: F64, mean: F64, var: F64, shift: F64 | None = None) -> F64:
    """Quasi-Poisson LLR of mean -> mean + shift, scaled by min(1, mean/var).

    The default shift, max(0.3 mean, 1), suits sparse keys; on busy keys a relative shift is
    too coarse (a +30 sources/h rise on a 200/h port is only +15 %), so callers may design
    for an absolute one (see `design_shift`).
    """
    mean = np.maximum(mean, MIN_EXPECTED)
    delta = np.maximum(0.3 * mean, 1.0) if shift is None else np.maximum(shift, 1e-3)
    alt = mean + delta
    llr = observed * np.log(alt / mean) - (alt - mean)
    scale = np.minimum(1.0, mean / np.maximum(var, mean))
    return np.asarray(llr * scale, dtype=np.float64)


def design_shift(mean: F64, var: F64, floor: float, k_sd: float) -> F64:
    """CUSUM design shift max(1, min(0.3 mean, max(floor, k sd))): relative on sparse keys,
    about `k_sd` standard deviations (at least `floor` sources) on busy ones."""
    sd = np.sqrt(np.maximum(var, mean))
    wanted = np.minimum(0.3 * mean, np.maximum(floor, k_sd * sd))
    return np.asarray(np.maximum(wanted, 1.0), dtype=np.float64)
