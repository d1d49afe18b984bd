"""Analyse stage: one hourly step of the default detector over every key at once.

Seasonal per-(key, sensor) baseline, sensor-health gating, NB tail test (fast), quasi-Poisson
CUSUM (slow), absolute floors on distinct sources, common-mode guard, heavy-scanner and
dormant-port reconnaissance signals. Pure: the state and the hour's frame come in, the
updated state and an `HourView` of the signals go out. No I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from isdas.analyse import kernels
from isdas.analyse.frames import HourFrame
from isdas.analyse.state import Params, State, grow
from isdas.analyse.stats import cusum_increment, design_shift, nb_tail_score

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class HourView:
    """What the detector saw and decided in one hour (arrays over the state's keys)."""

    hour: int
    x: F64  # (K,S) observed distinct sources per sensor
    mu: F64  # (K,S) expected
    pk: F64  # (K,S) observed packets
    pk_mu: F64  # (K,S) expected packets
    up: B  # (S,) healthy sensors
    observed: F64  # (K,) sum over healthy sensors
    expected: F64
    distinct: F64  # (K,) distinct sources over all sensors
    distinct_expected: F64
    score: F64  # (K,) burst score (0 where floors fail)
    cusum: F64
    burst_floor: B  # burst floors met (before the score threshold)
    slow_floor: B  # CUSUM run floors met (before the CUSUM threshold)
    burst: B
    slow: B
    heavy: B
    recon: B
    common_mode: bool
    cm_keys: B
    warm: bool
    s_star: float
    h_star: float


def _rows(state: State, codes: I64) -> I64:
    """Rows of the state for key codes (all known: `grow` ran first)."""
    order, ordered = _sorted_keys(state)
    return np.asarray(order[np.searchsorted(ordered, codes)], dtype=np.int64)


def _sorted_keys(state: State) -> tuple[I64, I64]:
    cached: tuple[I64, I64] | None = state.__dict__.get("_ksorted")
    if cached is None or cached[0].size != len(state.keys):
        keys = np.asarray(state.keys, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        cached = (order, keys[order])
        state.__dict__["_ksorted"] = cached
    return cached


def dense(state: State, frame: HourFrame) -> tuple[F64, F64, F64]:
    """(x, packets, distinct) of the frame as dense arrays over the state's keys and sensors;
    also advances `state.seen` past the frame's rows."""
    sidx = state.sensor_index()
    shape = (len(state.keys), len(state.sensors))
    ki = _rows(state, frame.keys)
    si = np.array([sidx[s] for s in frame.sensors], dtype=np.int64)
    x, pk = kernels.scatter(ki, si, frame.sources, frame.packets, shape[0], shape[1])
    g = np.zeros(shape[0])
    top = int(ki.max()) + 1 if ki.size else 0
    if frame.union_keys.size:
        ui = _rows(state, frame.union_keys)
        np.add.at(g, ui, frame.union_sources)
        top = max(top, int(ui.max()) + 1)
    state.seen = max(state.seen, top)
    return x, pk, g


def health_gate(state: State, frame: HourFrame, p: Params) -> B:
    """Healthy-sensor mask; updates health baselines and outage/recovery counters in place.

    `down_since` > 0 counts hours down, < 0 counts down the recovery hours still excluded.
    """
    h = np.array([frame.health.get(s, 0.0) for s in state.sensors])
    down = (h <= 0) | ((state.health_n >= 24) & (h < p.health_down * state.health))
    ds = state.down_since
    ds = np.where(
        down, np.maximum(ds, 0) + 1, np.where(ds > 0, -p.recovery_hours, np.minimum(ds + 1, 0))
    )
    state.down_since = ds
    rate = np.maximum(p.health_alpha, 1.0 / (state.health_n + 1))
    state.health = np.where(down, state.health, state.health + rate * (h - state.health))
    state.health_n = state.health_n + ~down
    return np.asarray(ds == 0, dtype=np.bool_)


def seasonal(state: State, hod: int, p: Params) -> F64:
    """Per-key hour-of-day factor (1 where the key is too sparse for a profile)."""
    total = state.level.sum(axis=1)
    return np.where(total >= p.profile_min, state.profile[:, hod], 1.0)


def thresholds(state: State, p: Params) -> tuple[float, float]:
    """The thresholds in force: calibrated ones once they exist, else the parameters'."""
    return (state.s_star or p.s_star, state.h_star or p.h_star)


def union_gate(state: State, up: B, p: Params) -> bool:
    """Whether the union tests (distinct sources over all sensors) may run this hour.

    The union counts every sensor with data, so its baseline holds for one set of sensors
    only: when a material sensor (>= `union_material` sources/h) goes down, recovers or joins,
    the union tests pause for `union_settle` hours while the union baseline re-learns.
    """
    now = ((state.health >= p.union_material) & up).astype(np.float64)
    if now.shape != state.shaping.shape or bool(np.any(now != state.shaping)):
        state.union_hold = p.union_settle
    elif state.union_hold > 0:
        state.union_hold -= 1
    state.shaping = now
    return state.union_hold == 0


def step(state: State, frame: HourFrame, p: Params) -> HourView:
    """Advance the state by one hour; return what was seen and which tests fired."""
    grow(state, np.concatenate([frame.keys, frame.union_keys]), list(frame.sensors))
    grow(state, np.zeros(0, dtype=np.int64), sorted(frame.health))
    x, pk, g = dense(state, frame)
    healthy = health_gate(state, frame, p)
    union_ok = union_gate(state, healthy, p)
    # a sensor that joins after the start learns for `sensor_warmup` hours before it is tested
    settled = (state.health_n >= p.sensor_warmup) | (state.hours < p.sensor_warmup)
    up = healthy & settled
    hod = frame.hour % 24
    share = float(up.mean()) if up.size else 0.0
    season, mu, pk_mu, obs, e_up, frac, g_exp, surge, seen = kernels.expect(
        state.level, state.pk_level, np.ascontiguousarray(state.profile[:, hod]),
        state.union_level, x, pk, up, p.profile_min, share, p.heavy_packets, p.heavy_ratio,
    )  # fmt: skip
    exp = np.maximum(e_up, 0.01)
    var = np.maximum(state.var, exp)
    warm = state.hours >= p.warmup_hours and bool(up.any())
    s_star, h_star = thresholds(state, p)
    score, burst, cm_keys, common = _burst(obs, exp, var, g, g_exp, warm, state.seen, p)
    swept = _sweep(state, g, g_exp, warm, p)
    if swept is not None:  # a port sweep is one multi-port event, not thousands of port rises
        common, cm_keys = True, cm_keys | swept
    gate = np.full(obs.shape, warm and not common)
    u_exp = np.maximum(g_exp, 0.01)
    u_var = np.maximum(state.union_var, u_exp)
    u_floor = gate & union_ok & (g - g_exp >= p.floor_burst) & (obs - exp >= p.floor_burst)
    score = np.maximum(np.where(burst, score, 0.0), _union_score(g, u_exp, u_var, u_floor))
    inc = cusum_increment(obs, exp, var)
    if warm and not common:  # no CUSUM run while the baseline is still being learnt
        _update_run(state, frame.hour, obs, exp, g - g_exp, (x, mu, up), inc, p)
        if union_ok:
            shift = design_shift(u_exp, u_var, p.shift_min, p.shift_sd)
            _update_union_run(
                state, frame.hour, g, u_exp, cusum_increment(g, u_exp, u_var, shift), p
            )
    slow_floor = gate & (state.run_excess >= p.run_excess_min) & (state.run_peak >= p.floor_run)
    slow = slow_floor & (state.cusum >= h_star)
    # union run floors: a peak of >= floor_run new sources, or a slow rise that has already
    # brought >= sustained_excess extra source-hours (slow worms never show a big hour)
    u_big = (state.u_peak >= p.floor_run) | (state.u_excess >= p.sustained_excess)
    u_slow_floor = gate & union_ok & (state.u_excess >= p.run_excess_min) & u_big
    slow |= u_slow_floor & (state.ucusum >= h_star)
    burst_floor = (burst & gate) | u_floor
    burst_alarm = burst_floor & (score >= s_star)
    heavy = np.full(obs.shape, warm) & surge & (g - g_exp < 3)
    recon = gate & _recon(seen, g, g_exp, up, p) & ~burst_alarm
    if not common:
        _learn(state, x, pk, (g, g_exp), season, frac, healthy, obs, exp, hod, p)
    state.hours += 1
    state.last_hour = frame.hour
    return HourView(
        frame.hour, x, mu, pk, pk_mu, up, obs, exp, g, g_exp, score,
        np.maximum(state.cusum, state.ucusum), burst_floor, slow_floor | u_slow_floor,
        burst_alarm, slow, heavy & ~burst_alarm & ~slow, recon, common, cm_keys, warm,
        s_star, h_star,
    )  # fmt: skip


def _sweep(state: State, g: F64, g_exp: F64, warm: bool, p: Params) -> B | None:
    """Quiet ports touched this hour when they are far more than usual (a sweep of many
    ports, even by one or two sources), else None; learns the usual count otherwise."""
    hit = (g >= 1) & (g_exp < p.sweep_quiet)
    n = float(hit.sum())
    level, var = state.sweep_level, max(state.sweep_var, state.sweep_level)
    if warm and n >= max(p.sweep_min, level + p.sweep_sd * np.sqrt(var) + 10):
        return np.asarray(hit, dtype=np.bool_)
    rate = max(p.alpha, 1.0 / (state.hours + 1))
    state.sweep_var += rate * ((n - level) ** 2 - state.sweep_var)
    state.sweep_level += rate * (n - level)
    return None


def _union_score(g: F64, u_exp: F64, u_var: F64, where: B) -> F64:
    """NB tail score of the union count where its floors hold (0 elsewhere)."""
    out = np.zeros(g.shape)
    if where.any():
        out[where] = nb_tail_score(g[where], u_exp[where], u_var[where])
    return out


def _burst(
    obs: F64, exp: F64, var: F64, g: F64, g_exp: F64, warm: bool, seen: int, p: Params
) -> tuple[F64, B, B, bool]:
    """Burst scores (only where worth computing), burst-floor mask, common-mode keys and flag
    (`seen`: keys met so far, which scales the common-mode threshold)."""
    score = np.zeros(obs.shape)
    cand = (obs - exp >= p.cm_excess) & (obs >= 2 * exp)
    if cand.any():
        score[cand] = nb_tail_score(obs[cand], exp[cand], var[cand])
    floors = (obs - exp >= p.floor_burst) & (obs >= 2 * exp) & (g - g_exp >= p.floor_burst)
    cm_keys = np.full(obs.shape, warm) & cand & (score >= p.cm_score)
    common = bool(cm_keys.sum() >= max(p.cm_min_keys, p.cm_fraction * seen))
    return score, np.full(obs.shape, warm) & floors, cm_keys, common


RUN_SUM = ("cusum", "run_start", "run_excess", "run_peak", "quiet")
RUN_UNION = ("ucusum", "u_start", "u_excess", "u_peak", "u_quiet")


def _advance_run(
    state: State, names: tuple[str, str, str, str, str], hour: int, inc: F64,
    steps: tuple[F64, F64], quiet: B, p: Params,
) -> tuple[B, B]:  # fmt: skip
    """One hour of a CUSUM and its run statistics, held in the state arrays `names`
    (cusum, start, excess, peak, quiet hours): `steps` are this hour's excess and peak
    candidates; `quiet` marks hours that count towards a reset. Returns (active, reset)."""
    cname, sname, ename, pname, qname = names
    before = getattr(state, cname)
    c = np.minimum(np.maximum(0.0, before + inc), p.cusum_cap)
    started = (before <= 0) & (c > 0)
    start = np.where(started, float(hour), np.where(c > 0, getattr(state, sname), -1.0))
    active = c > 0
    excess = np.where(active, getattr(state, ename) + steps[0], 0.0)
    peak = np.where(active, np.maximum(getattr(state, pname), steps[1]), 0.0)
    quiet_hours = np.where(quiet & active, getattr(state, qname) + 1, 0.0)
    reset = quiet_hours >= p.quiet_reset
    for arr in (c, excess, peak, quiet_hours):
        arr[reset] = 0.0
    start[reset] = -1.0
    for name, arr in zip(names, (c, start, excess, peak, quiet_hours), strict=True):
        setattr(state, name, arr)
    return active, reset


def _update_run(
    state: State,
    hour: int,
    obs: F64,
    exp: F64,
    dx: F64,
    cells: tuple[F64, F64, B],
    inc: F64,
    p: Params,
) -> None:
    """CUSUM and the run statistics (start, excess, peak distinct excess, per-sensor excess)."""
    quiet = obs - exp <= np.sqrt(exp) + 1
    active, reset = _advance_run(state, RUN_SUM, hour, inc, (obs - exp, dx), quiet, p)
    kernels.run_sensor(state.run_sensor, cells[0], cells[1], cells[2], active, reset)


def _update_union_run(state: State, hour: int, g: F64, u_exp: F64, inc: F64, p: Params) -> None:
    """The union CUSUM and its run statistics (start, excess, peak excess, quiet hours)."""
    dx = g - u_exp
    _advance_run(state, RUN_UNION, hour, inc, (dx, dx), dx <= np.sqrt(u_exp) + 1, p)


def _recon(seen: F64, g: F64, g_exp: F64, up: B, p: Params) -> B:
    """A few sources covering most healthy sensors on a dormant port (horizontal scans)."""
    n_up = max(int(up.sum()), 1)
    dormant = g_exp < p.recon_dormant
    few = (g >= 1) & (g <= p.recon_max_sources)
    return np.asarray(dormant & few & (seen >= max(2, 0.5 * n_up)), dtype=np.bool_)


def _learn(
    state: State, x: F64, pk: F64, union: tuple[F64, F64], season: F64, frac: F64, up: B,
    obs: F64, exp: F64, hod: int, p: Params,
) -> None:  # fmt: skip
    """Winsorised EWMA updates of levels, variances and profile on healthy sensors."""
    rate = np.where(up, np.maximum(p.alpha, 1.0 / np.maximum(state.health_n, 1.0)), 0.0)
    base = kernels.learn(state.level, state.pk_level, x, pk, season, rate, state.health_n > 24, up)
    g_rate = max(p.alpha, 1.0 / max(state.hours - 0.0, 1.0))
    res2 = (obs - exp) ** 2
    if state.hours > 24:
        res2 = np.minimum(res2, (5 * np.sqrt(state.var) + 3) ** 2)
    state.var = np.where(
        state.cusum < p.h_star / 2, state.var + g_rate * (res2 - state.var), state.var
    )
    _learn_union(state, union, season, frac, g_rate, p)
    _learn_profile(state, obs, hod, base, p)


def _learn_union(
    state: State, union: tuple[F64, F64], season: F64, frac: F64, rate: float, p: Params
) -> None:
    """Union level (scaled to the healthy sensors' share) and, outside sensor-set changes,
    the union residual variance."""
    g, g_exp = union
    settling = state.union_hold > 0
    ok = frac >= 0.5
    ug = g / season / np.maximum(frac, 1e-9)
    if state.hours > 24:
        ug = np.minimum(ug, state.union_level + 3 * np.sqrt(state.union_level) + 2)
    state.union_level = np.where(
        ok, state.union_level + rate * (ug - state.union_level), state.union_level
    )
    if settling:
        return
    res2 = (g - g_exp) ** 2
    if state.hours > 24:
        res2 = np.minimum(res2, (5 * np.sqrt(state.union_var) + 3) ** 2)
    # a rise under way must not teach the variance that it is noise (it would hide itself)
    ok &= state.ucusum < p.h_star / 2
    state.union_var = np.where(
        ok, state.union_var + rate * (res2 - state.union_var), state.union_var
    )


def _learn_profile(state: State, obs: F64, hod: int, base: F64, p: Params) -> None:
    """Multiplicative hour-of-day profile, renormalised to mean 1 at the last hour of the day."""
    busy = base >= p.profile_min
    ratio = np.clip(obs / np.maximum(base, 1e-9), 0.0, 5.0)
    col = state.profile[:, hod]
    state.profile[:, hod] = np.where(busy, col + p.beta_profile * (ratio - col), col)
    if hod == 23:
        state.profile /= np.maximum(state.profile.mean(axis=1, keepdims=True), 1e-9)
