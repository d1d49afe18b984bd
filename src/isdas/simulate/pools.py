"""Source address pools per country, built with the same offline lookup the ingest uses.

Stage: simulate. Draws random public IPv4 addresses, asks `iptocc.country_code` for their
country and groups them; sources of a given country are then drawn from its pool with the low
8 bits randomised. Must not write files or touch the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import iptocc
import numpy as np
import numpy.typing as npt

U32 = npt.NDArray[np.uint32]
F64 = npt.NDArray[np.float64]

# Background source-country mix (see docs/simulation.md): top regions of darknet scanning
# sources as TSUBAME/NICTER-style reports list them; "*" is the rest of the world, weighted by
# each country's share of the sampled public address space.
BACKGROUND_MIX: dict[str, float] = {
    "US": 0.20, "CN": 0.16, "NL": 0.05, "RU": 0.05, "DE": 0.04, "BR": 0.04, "IN": 0.04,
    "GB": 0.03, "KR": 0.03, "TW": 0.03, "JP": 0.03, "VN": 0.03, "HK": 0.02, "SG": 0.02,
    "FR": 0.02, "*": 0.21,
}  # fmt: skip
RESEARCH_MIX: dict[str, float] = {"US": 0.6, "NL": 0.2, "DE": 0.2}

# First octets that are never public unicast (RFC 6890) or are our sensor space.
_BOGON_FIRST = {0, 10, 100, 127, 169, 172, 192, 198, 203} | set(range(224, 256))


@dataclass(frozen=True)
class Pools:
    """Per-country arrays of sampled public IPv4 addresses (as u32), and the world weights."""

    countries: tuple[str, ...]
    flat: U32  # addresses sorted by country
    starts: npt.NDArray[np.int64]  # first index of each country in `flat`
    sizes: npt.NDArray[np.int64]
    world_weight: F64  # share of the sampled public space per country

    def index(self, cc: str) -> int:
        return self.countries.index(cc) if cc in self.countries else -1


@lru_cache(maxsize=4)
def build_pools(seed: int, samples: int = 200_000) -> Pools:
    """Sample `samples` random public addresses and group them by country (cached per seed)."""
    rng = np.random.default_rng([seed, 0xC0C0])
    raw = rng.integers(1 << 24, 224 << 24, size=samples, dtype=np.uint32)
    raw = raw[~np.isin(raw >> 24, list(_BOGON_FIRST))]
    dotted = [f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}" for a in raw.tolist()]
    codes = np.array([c or "" for c in iptocc.country_code(dotted)])
    keep = codes != ""
    raw, codes = raw[keep], codes[keep]
    order = np.argsort(codes, kind="stable")
    raw, codes = raw[order], codes[order]
    names, starts, counts = np.unique(codes, return_index=True, return_counts=True)
    weight = counts.astype(np.float64) / counts.sum()
    names_t = tuple(str(n) for n in names)
    return Pools(names_t, raw, starts.astype(np.int64), counts.astype(np.int64), weight)


def mix_weights(pools: Pools, mix: dict[str, float]) -> F64:
    """Per-pool-country probabilities for a {cc: share} mix; "*" spreads over the world."""
    w = np.zeros(len(pools.countries))
    rest = mix.get("*", 0.0)
    for cc, share in mix.items():
        i = pools.index(cc)
        if cc != "*" and i >= 0:
            w[i] += share
        elif cc != "*":
            rest += share
    named = np.array([cc in mix for cc in pools.countries])
    world = np.where(named, 0.0, pools.world_weight)
    if world.sum() > 0:
        w += rest * world / world.sum()
    out: F64 = w / w.sum()
    return out


def draw_sources(rng: np.random.Generator, pools: Pools, weights: F64, n: int) -> U32:
    """`n` source addresses: a country by `weights`, a pool entry, a random low byte."""
    if n == 0:
        return np.zeros(0, np.uint32)
    cc = rng.choice(len(weights), size=n, p=weights)
    pick = (rng.random(n) * pools.sizes[cc]).astype(np.int64)
    base = pools.flat[pools.starts[cc] + pick] & np.uint32(0xFFFFFF00)
    out: U32 = base | rng.integers(1, 255, size=n, dtype=np.uint32)
    return out


def mix32(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64 finaliser: a stable per-value hash (for per-source attributes)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))
