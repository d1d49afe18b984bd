"""The unlabelled background: port popularity, seasonality, returning and one-off scanners,
research scanners and stray backscatter, as session tables for one day.

Stage: simulate. Decides *what* scans happen (sessions); traffic/headers turn them into
packets. Must not write files or know about labelled events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from isdas.simulate.pools import BACKGROUND_MIX, RESEARCH_MIX, Pools, draw_sources, mix32
from isdas.simulate.pools import mix_weights as _mixw
from isdas.simulate.scenario import Scenario
from isdas.simulate.traffic import (
    FP_MASSCAN,
    FP_MIRAI,
    FP_ZMAP,
    RST,
    RSTACK,
    SYNACK,
    US,
    Cols,
    concat,
    sessions,
)

F64 = npt.NDArray[np.float64]
# (proto, port, share of background sources): the head of the port-popularity distribution
HEAD: tuple[tuple[int, int, float], ...] = (
    (6, 23, 0.12), (6, 445, 0.08), (6, 22, 0.06), (6, 80, 0.05), (6, 3389, 0.04),
    (6, 8080, 0.03), (6, 443, 0.025), (6, 2323, 0.02), (1, 8, 0.02), (6, 5555, 0.012),
    (6, 1433, 0.012), (6, 81, 0.01), (6, 8443, 0.01), (6, 21, 0.01), (6, 25, 0.008),
    (6, 3306, 0.008), (6, 5900, 0.008), (6, 6379, 0.006), (6, 37215, 0.006), (6, 52869, 0.005),
    (6, 8888, 0.005), (6, 7547, 0.005), (6, 9200, 0.004), (17, 53, 0.012), (17, 123, 0.01),
    (17, 5060, 0.01), (17, 161, 0.008), (17, 1900, 0.008), (17, 137, 0.005), (17, 11211, 0.004),
    (17, 19, 0.003), (17, 500, 0.003),
)  # fmt: skip
MIRAI_PORTS = (23, 2323, 37215, 52869, 5555, 7547, 81)
HOUR = 3600 * US


@dataclass(frozen=True)
class PortModel:
    """Per-key background parameters, fixed for a run."""

    proto: npt.NDArray[np.uint8]
    port: npt.NDArray[np.uint16]
    rate: F64  # sources/h seen by the whole sensor set, before seasonality
    amp: F64  # diurnal amplitude
    phase: F64  # hour of the diurnal peak
    drift: F64  # log-drift per week
    placement: F64  # (keys, sensors) log-normal placement factor


def port_model(sc: Scenario, seed: int) -> PortModel:
    """Head ports with fixed shares plus a heavy-tailed tail of random TCP/UDP ports."""
    bg, rng = sc.background, np.random.default_rng([seed, 1])
    head = {(p, q) for p, q, _ in HEAD}
    cand = rng.permutation(np.arange(1, 65536))[: bg.tail_ports * 2]
    tcp = rng.random(len(cand)) < 0.75
    tail = [(6 if t else 17, int(c)) for t, c in zip(tcp, cand, strict=True)]
    tail = [k for k in tail if k not in head][: bg.tail_ports]
    stratum = rng.random(len(tail))
    lg = np.where(stratum < 0.95, rng.normal(-1.3, 0.6, len(tail)), rng.normal(0.5, 0.6, len(tail)))
    tail_rate = 10.0**lg
    head_share = sum(s for _, _, s in HEAD)
    tail_rate *= bg.sources_per_hour * (1 - head_share) / max(tail_rate.sum(), 1e-9)
    head_rate = np.array([s * bg.sources_per_hour for *_, s in HEAD])
    rate = np.concatenate([head_rate, np.minimum(tail_rate, head_rate.min() / 2)])
    keys = [(p, q) for p, q, _ in HEAD] + tail
    n, s = len(keys), len(sc.sensors)
    return PortModel(
        np.array([k[0] for k in keys], np.uint8), np.array([k[1] for k in keys], np.uint16),
        rate, rng.uniform(0, 0.5, n), rng.uniform(0, 24, n), rng.normal(0, bg.drift_per_week, n),
        np.exp(rng.normal(0, bg.placement_sigma, (n, s))),
    )  # fmt: skip


def hourly_rates(
    pm: PortModel, sc: Scenario, day0: datetime, hours: int, rng: np.random.Generator
) -> F64:
    """Expected sources per (key, hour): diurnal, weekly, drift and gamma overdispersion."""
    h = np.arange(hours)
    hod = (day0.hour + h) % 24
    weeks = ((day0 - sc.start).total_seconds() / 3600 + h) / 168
    diurnal = 1 + pm.amp[:, None] * np.sin(2 * np.pi * (hod[None, :] - pm.phase[:, None] + 6) / 24)
    weekend = 0.9 if day0.weekday() >= 5 else 1.0
    drift = np.exp(pm.drift[:, None] * weeks[None, :])
    k = sc.background.overdispersion_shape
    gamma = rng.gamma(k, 1 / k, (len(pm.rate), hours))
    rates: F64 = pm.rate[:, None] * diurnal * weekend * drift * gamma
    return rates


def _persistent(
    key: npt.NDArray[np.int64], rate: F64, day: int, seed: int, u: F64
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Hash of a returning scanner of the key's pool, and whether it is alive on `day`."""
    pool = np.maximum(2, np.ceil(rate * 6)).astype(np.int64)
    member = (u * pool).astype(np.uint64)
    h = mix32((key.astype(np.uint64) << np.uint64(24)) ^ member ^ np.uint64(seed << 44))
    birth = (h % np.uint64(60)).astype(np.int64) - 20
    life = 1 + ((h >> np.uint64(8)) % np.uint64(10)).astype(np.int64)
    return h, (birth <= day) & (day < birth + life)


def _hash_sources(h: npt.NDArray[np.uint64], pools: Pools, weights: F64) -> npt.NDArray[np.uint32]:
    """A deterministic source address (and so country) per hash value."""
    cum = np.cumsum(weights)
    u = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    cc = np.minimum(np.searchsorted(cum, u * cum[-1]), len(cum) - 1)
    pick = ((h & np.uint64(0xFFFFFFFF)) % pools.sizes[cc].astype(np.uint64)).astype(np.int64)
    low = ((h >> np.uint64(40)) % np.uint64(254) + np.uint64(1)).astype(np.uint32)
    out: npt.NDArray[np.uint32] = (
        pools.flat[pools.starts[cc] + pick] & np.uint32(0xFFFFFF00)
    ) | low
    return out


def scan_sessions(
    pm: PortModel,
    sc: Scenario,
    pools: Pools,
    seed: int,
    day0: datetime,
    hours: int,
    rng: np.random.Generator,
) -> tuple[Cols, F64]:
    """Background scanning sessions for one day and their per-sensor weight rows."""
    counts = rng.poisson(hourly_rates(pm, sc, day0, hours, rng))
    key, hour = np.nonzero(counts)
    key, hour = np.repeat(key, counts[key, hour]), np.repeat(hour, counts[key, hour])
    n, bg = len(key), sc.background
    src = draw_sources(rng, pools, _mixw(pools, BACKGROUND_MIX), n)
    day = (day0 - sc.start).days
    h, alive = _persistent(key, pm.rate[key], day, seed, rng.random(n))
    persist = alive & (rng.random(n) < bg.persistent_share)
    src = np.where(persist, _hash_sources(h, pools, _mixw(pools, BACKGROUND_MIX)), src)
    mirai_key = np.isin(pm.port[key], MIRAI_PORTS) & (pm.proto[key] == 6)
    fp_hash = (mix32(src.astype(np.uint64)) % np.uint64(1000)).astype(np.float64) / 1000
    fp = np.where(mirai_key & (fp_hash < bg.mirai_share), FP_MIRAI, 0)
    v6 = (rng.random(n) < bg.ipv6_share) & (pm.proto[key] != 1)
    m = np.minimum(np.exp(rng.normal(0.0, 1.2, n)), 300.0)
    t0 = int(day0.timestamp()) * US + hour * HOUR + rng.integers(0, HOUR, n)
    sess = sessions(
        n, t0=t0, dur=(rng.random(n) ** 2 * HOUR).astype(np.int64), proto=pm.proto[key],
        dport=pm.port[key], src=src, ipver=np.where(v6, 6, 4), n=1 + rng.poisson(m),
        fp=np.where(v6, 0, fp),
    )  # fmt: skip
    return sess, sensor_weights(sc)[None, :] * pm.placement[key]


def sensor_weights(sc: Scenario) -> F64:
    """How likely a probe lands on each sensor: addresses ** size_exponent."""
    sizes = np.array([s.addresses for s in sc.sensors], np.float64)
    w: F64 = sizes**sc.background.size_exponent
    return w


def research_scanners(
    sc: Scenario, pools: Pools, seed: int
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """The fixed research scanners of a run: addresses and fingerprints (ZMap / Masscan)."""
    rng = np.random.default_rng([seed, 2])
    n = sc.background.research_scanners
    addrs = draw_sources(rng, pools, _mixw(pools, RESEARCH_MIX), n)
    return addrs, np.where(np.arange(n) % 2 == 0, FP_ZMAP, FP_MASSCAN).astype(np.uint8)


def research_sessions(
    pm: PortModel,
    sc: Scenario,
    pools: Pools,
    seed: int,
    day0: datetime,
    hours: int,
    rng: np.random.Generator,
) -> Cols:
    """Daily sweeps by research scanners: each picks ports and covers every sensor once."""
    addrs, fps = research_scanners(sc, pools, seed)
    bg, parts = sc.background, []
    share = pm.rate / pm.rate.sum()
    for a, fp in zip(addrs, fps, strict=True):
        keys = rng.choice(len(share), size=bg.research_ports_per_day, replace=False, p=share)
        for k in keys:
            if pm.proto[k] != 6:
                continue
            start = int(day0.timestamp()) * US + int(rng.integers(0, hours)) * HOUR
            sizes = np.array([s.addresses for s in sc.sensors])
            parts.append(sessions(
                len(sizes), t0=start, dur=HOUR, dport=pm.port[k], src=a, fp=fp, origin=-2,
                sensor=np.arange(len(sizes)), n=rng.binomial(sizes, bg.research_coverage),
            ))  # fmt: skip
    return concat(parts) if parts else sessions(0)


def backscatter_sessions(
    sc: Scenario, pools: Pools, day0: datetime, hours: int, rng: np.random.Generator
) -> Cols:
    """Replies (SYN-ACK / RST) of DoS victims to randomly spoofed sources, some of them ours."""
    n = int(rng.poisson(sc.background.backscatter_per_day * hours / 24))
    src = draw_sources(rng, pools, _mixw(pools, BACKGROUND_MIX), n)
    return sessions(
        n, t0=int(day0.timestamp()) * US + rng.integers(0, hours * HOUR, n),
        dur=rng.integers(600, 3 * 3600, n) * US, src=src, origin=-3,
        sport=rng.choice([80, 443, 53, 22, 25, 3389], n), allport=True,
        flags=rng.choice([SYNACK, SYNACK, RST, RSTACK], n), rank0=rng.integers(0, 65535, n),
        n=1 + rng.poisson(np.exp(rng.normal(4.0, 1.0, n))),
    )  # fmt: skip
