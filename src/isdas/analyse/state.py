"""Analyse stage: the detector's parameters and its O(1)-per-(key, sensor) state.

The state is plain numpy arrays that grow when new keys or sensors appear (a new key starts at
zero, exactly the state a key with only zero counts would have reached), so an hourly
incremental run and one batch run go through identical states. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Params:
    """Tunables of the default detector (research/detection.md section 6)."""

    alpha: float = 1 / 168  # baseline EWMA (one-week memory)
    beta_profile: float = 0.05  # hour-of-day profile EWMA
    profile_min: float = 2.0  # use the profile only when the expected global count is >= this
    warmup_hours: int = 168
    calibration_hours: int = 168
    s_star: float = 7.0  # burst threshold, -log10 p
    h_star: float = 40.0  # CUSUM threshold
    floor_burst: float = 8.0  # distinct sources above expected for a burst alarm
    floor_run: float = 10.0  # peak distinct excess over a CUSUM run
    run_excess_min: float = 15.0
    sustained_excess: float = 40.0  # union run excess (source-hours) that stands in for the peak
    quiet_reset: int = 12
    cusum_cap: float = 200.0
    local_share: float = 0.8
    cm_score: float = 4.0
    cm_excess: float = 3.0
    cm_fraction: float = 0.02
    cm_min_keys: int = 20
    health_down: float = 0.3
    health_alpha: float = 0.02
    recovery_hours: int = 2
    episode_close: int = 24
    heavy_packets: float = 500.0
    heavy_ratio: float = 10.0
    recon_max_sources: float = 5.0
    recon_dormant: float = (
        0.5 / 24
    )  # expected distinct sources per hour below which a port is dormant
    sensor_warmup: int = 24  # healthy hours before a sensor joins the tests (it learns meanwhile)
    union_material: float = 20.0  # sources/h from which a sensor's presence shapes the union
    union_settle: int = 6  # hours the union tests pause after the set of material sensors changes
    sweep_quiet: float = 0.1  # expected sources/h under which a port counts as quiet for sweeps
    sweep_min: float = 100.0  # quiet ports touched in one hour that can make a port sweep
    sweep_sd: float = 6.0  # ... and how far above their usual count (standard deviations)
    shift_min: float = 5.0  # union CUSUM design shift: max(1, min(0.3 m, max(shift_min, k sd)))
    shift_sd: float = 1.5


@dataclass
class State:
    """Everything the detector carries from one hour to the next."""

    keys: list[int] = field(default_factory=list)
    sensors: list[str] = field(default_factory=list)
    level: F64 = field(default_factory=lambda: np.zeros((0, 0)))  # (K,S) deseasonalised sources
    pk_level: F64 = field(default_factory=lambda: np.zeros((0, 0)))  # (K,S) packets
    profile: F64 = field(default_factory=lambda: np.ones((0, 24)))  # (K,24) hour-of-day factor
    var: F64 = field(default_factory=lambda: np.zeros(0))  # (K,) global residual variance
    union_level: F64 = field(default_factory=lambda: np.zeros(0))  # (K,) distinct over sensors
    cusum: F64 = field(default_factory=lambda: np.zeros(0))
    quiet: F64 = field(default_factory=lambda: np.zeros(0))
    run_excess: F64 = field(default_factory=lambda: np.zeros(0))
    run_peak: F64 = field(default_factory=lambda: np.zeros(0))  # peak distinct excess in the run
    run_start: F64 = field(default_factory=lambda: np.zeros(0))  # hour index, -1 when no run
    run_sensor: F64 = field(default_factory=lambda: np.zeros((0, 0)))  # (K,S) excess in the run
    union_var: F64 = field(default_factory=lambda: np.zeros(0))  # (K,) union residual variance
    ucusum: F64 = field(default_factory=lambda: np.zeros(0))  # (K,) CUSUM on the union
    u_excess: F64 = field(default_factory=lambda: np.zeros(0))  # union excess over its run
    u_peak: F64 = field(default_factory=lambda: np.zeros(0))
    u_quiet: F64 = field(default_factory=lambda: np.zeros(0))
    u_start: F64 = field(default_factory=lambda: np.zeros(0))  # hour index, -1 when no run
    health: F64 = field(default_factory=lambda: np.zeros(0))  # (S,) health baseline
    health_n: F64 = field(default_factory=lambda: np.zeros(0))  # (S,) healthy hours seen
    down_since: F64 = field(default_factory=lambda: np.zeros(0))  # (S,) hours down, <0 = recovering
    shaping: F64 = field(default_factory=lambda: np.zeros(0))  # (S,) 1 = material and up last hour
    union_hold: int = 0  # hours left before the union tests resume after a sensor-set change
    hours: int = 0  # hours processed
    seen: int = 0  # keys met in the frames so far (rows past it were grown ahead, still zero)
    last_hour: int = -1
    sweep_level: float = 0.0  # dormant ports touched per hour: EWMA and residual variance
    sweep_var: float = 0.0
    s_star: float = 0.0  # calibrated thresholds (0 = not yet calibrated)
    h_star: float = 0.0

    def key_index(self) -> dict[int, int]:
        """Key code -> row (cached; `grow` keeps it current)."""
        cached: dict[int, int] | None = self.__dict__.get("_kidx")
        if cached is None or len(cached) != len(self.keys):
            cached = {k: i for i, k in enumerate(self.keys)}
            self.__dict__["_kidx"] = cached
        return cached

    def onset(self, i: int) -> int:
        """Start hour of the earliest open CUSUM run of row `i` (-1 when none)."""
        starts = [v for v in (self.run_start[i], self.u_start[i]) if v >= 0]
        return int(min(starts)) if starts else -1

    def sensor_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.sensors)}


KEY_ARRAYS = (
    "var", "union_level", "cusum", "quiet", "run_excess", "run_peak",
    "union_var", "ucusum", "u_excess", "u_peak", "u_quiet",
)  # fmt: skip
KS_ARRAYS = ("level", "pk_level", "run_sensor")
S_ARRAYS = ("health", "health_n", "down_since", "shaping")


def _new_keys(state: State, keys: I64 | list[int]) -> list[int]:
    """Keys not in the state yet, in order of first appearance."""
    arr = np.asarray(keys, dtype=np.int64)
    if arr.size == 0:
        return []
    known: I64 | None = state.__dict__.get("_karr")
    if known is None or known.size != len(state.keys):
        known = np.sort(np.asarray(state.keys, dtype=np.int64))
        state.__dict__["_karr"] = known
    pos = np.minimum(np.searchsorted(known, arr), max(known.size - 1, 0))
    fresh = arr if known.size == 0 else arr[known[pos] != arr]
    if fresh.size == 0:
        return []
    _, first = np.unique(fresh, return_index=True)
    return [int(k) for k in fresh[np.sort(first)]]


def grow(state: State, keys: I64 | list[int], sensors: list[str]) -> None:
    """Append unseen keys and sensors (zero state; profile 1; run_start -1)."""
    known_s = set(state.sensors)
    new_keys = _new_keys(state, keys)
    new_sensors = [s for s in dict.fromkeys(sensors) if s not in known_s]
    if not new_keys and not new_sensors:
        return
    nk, ns = len(new_keys), len(new_sensors)
    for name in KEY_ARRAYS:
        setattr(state, name, np.concatenate([getattr(state, name), np.zeros(nk)]))
    state.run_start = np.concatenate([state.run_start, np.full(nk, -1.0)])
    state.u_start = np.concatenate([state.u_start, np.full(nk, -1.0)])
    state.profile = np.concatenate([state.profile, np.ones((nk, 24))])
    for name in KS_ARRAYS:
        old = getattr(state, name)
        new = np.zeros((old.shape[0] + nk, old.shape[1] + ns))
        new[: old.shape[0], : old.shape[1]] = old
        setattr(state, name, new)
    for name in S_ARRAYS:
        setattr(state, name, np.concatenate([getattr(state, name), np.zeros(ns)]))
    index = state.key_index()
    for k in new_keys:
        index[k] = len(state.keys)
        state.keys.append(k)
    state.sensors.extend(new_sensors)


def to_arrays(state: State) -> dict[str, npt.NDArray[np.generic]]:
    """The state as named arrays (for saving with numpy.savez)."""
    out: dict[str, npt.NDArray[np.generic]] = {}
    for f in fields(state):
        value = getattr(state, f.name)
        if f.name == "sensors":
            out[f.name] = np.asarray(value, dtype=np.str_)
        else:
            out[f.name] = np.asarray(value)
    return out


def from_arrays(arrays: dict[str, npt.NDArray[np.generic]]) -> State:
    """Inverse of to_arrays."""
    state = State()
    for f in fields(state):
        value = arrays[f.name]
        if f.name == "keys":
            state.keys = [int(v) for v in value]
        elif f.name == "sensors":
            state.sensors = [str(v) for v in value]
        elif f.name in ("hours", "last_hour", "union_hold", "seen"):
            setattr(state, f.name, int(value))
        elif f.name in ("s_star", "h_star", "sweep_level", "sweep_var"):
            setattr(state, f.name, float(value))
        else:
            setattr(state, f.name, np.asarray(value, dtype=np.float64))
    return state
