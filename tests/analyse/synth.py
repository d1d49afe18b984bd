"""Synthetic hourly metrics for detector tests: Poisson-gamma background plus injections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from isdas.analyse.frames import HourFrame

START = 490_000  # an hour index (2025-11-23), a multiple of 24


@dataclass
class World:
    """Rates per (key, sensor) and per-hour injections; `frames()` draws the counts."""

    keys: np.ndarray
    rates: np.ndarray  # (K,S) sources/h per sensor
    hours: int
    seed: int = 1
    sensors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.sensors:
            self.sensors = tuple(f"s{i:02d}" for i in range(self.rates.shape[1]))
        self.extra: list[Callable[[int, np.ndarray], None]] = []
        self.down: dict[int, set[int]] = {}

    def frames(self) -> list[HourFrame]:
        rng = np.random.default_rng(self.seed)
        out = []
        for t in range(self.hours):
            diurnal = 1 + 0.3 * np.sin(2 * np.pi * (t % 24) / 24)
            lam = self.rates * diurnal * rng.gamma(50, 1 / 50, self.rates.shape)
            x = rng.poisson(lam).astype(float)
            for add in self.extra:
                add(t, x)
            for s in self.down.get(t, set()):
                x[:, s] = 0
            out.append(self._frame(t, x))
        return out

    def _frame(self, t: int, x: np.ndarray) -> HourFrame:
        ki, si = np.nonzero(x)
        union = x.sum(axis=1)  # sources are distinct across sensors in this world
        uk = np.nonzero(union)[0]
        health = {
            s: float(x[:, j].sum() + 50)
            for j, s in enumerate(self.sensors)
            if j not in self.down.get(t, set())
        }
        return HourFrame(
            START + t, self.keys[ki].astype(np.int64), tuple(self.sensors[j] for j in si),
            x[ki, si], x[ki, si] * 2, self.keys[uk].astype(np.int64), union[uk], health,
        )  # fmt: skip


def world(n_keys: int = 400, n_sensors: int = 8, hours: int = 24 * 21, seed: int = 1) -> World:
    """Heavy-tailed key rates (median ~0.05/h over all sensors), sensors of different sizes."""
    rng = np.random.default_rng(seed)
    total = 10 ** rng.normal(-1.3, 0.6, n_keys)
    total[: n_keys // 20] = 10 ** rng.normal(0.7, 0.4, n_keys // 20)
    size = np.linspace(2.0, 1.0, n_sensors)
    share = size / size.sum()
    keys = np.array([(6 << 16) | (1000 + i) for i in range(n_keys)])
    return World(keys, total[:, None] * share[None, :], hours, seed)


def step_event(
    w: World, key_i: int, onset: int, add: float, sensors: list[int] | None = None,
    hours: int | None = None,
):  # fmt: skip
    """Add `add` sources/h on a key from `onset` on (for `hours`, or to the end), spread over
    `sensors` (all by default)."""
    idx = sensors if sensors is not None else list(range(w.rates.shape[1]))
    end = onset + hours if hours is not None else None

    def inject(t: int, x: np.ndarray) -> None:
        if t >= onset and (end is None or t < end):
            x[key_i, idx] += add / len(idx)

    w.extra.append(inject)
