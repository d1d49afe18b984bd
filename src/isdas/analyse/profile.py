"""Analyse stage: per-source scan profile over a day (port-focused, all-port, horizontal).

From one day's scan packets (source, destination, port): ports and distinct targets per
source. Port-focused sources touch <= 16 ports; all-port scanners >= 100; a horizontal scan
(Durumeric-style) reaches >= max(10, 100 * D / 2**24) targets of a D-address darknet on one
port. Pure numpy: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

FOCUSED_PORTS = 16
ALL_PORT = 100


@dataclass(frozen=True)
class Profile:
    """Per distinct source (sorted by source): ports, max targets on one port, flags."""

    source: U64
    ports: I64
    targets: I64
    focused: npt.NDArray[np.bool_]
    all_port: npt.NDArray[np.bool_]
    horizontal: npt.NDArray[np.bool_]


def horizontal_threshold(monitored: int) -> int:
    """Targets on one port that make a horizontal scan for a darknet of `monitored` addresses."""
    return max(10, int(np.ceil(100 * monitored / 2**24)))


def _distinct_counts(groups: I64, values: I64, n: int) -> I64:
    """Distinct `values` per group id in [0, n)."""
    order = np.lexsort((values, groups))
    g, v = groups[order], values[order]
    new = np.ones(g.size, dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (v[1:] != v[:-1])
    return np.bincount(g[new], minlength=n).astype(np.int64)


def profile(src: U64, dst: U64, port: I64, monitored: int) -> Profile:
    """Profile every source of a day's scan packets (`src`/`dst` as 64-bit address keys)."""
    sources, sid = np.unique(src, return_inverse=True)
    n = sources.size
    ports = _distinct_counts(sid.astype(np.int64), port.astype(np.int64), n)
    pair = sid.astype(np.int64) * 65536 + port.astype(np.int64)
    pairs, pid = np.unique(pair, return_inverse=True)
    per_pair = _distinct_counts(pid.astype(np.int64), dst.astype(np.int64), pairs.size)
    targets = np.zeros(n, dtype=np.int64)
    np.maximum.at(targets, pairs // 65536, per_pair)
    return Profile(
        sources, ports, targets, ports <= FOCUSED_PORTS, ports >= ALL_PORT,
        targets >= horizontal_threshold(monitored),
    )  # fmt: skip
