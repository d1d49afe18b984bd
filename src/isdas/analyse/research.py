"""Analyse stage: acknowledged research-scanner networks (user-supplied list) as Tag.RESEARCH.

The list is text: one CIDR per line, optionally followed by a name; `#` starts a comment.
isdas ships the mechanism, not a list (docs/detection.md says where lists come from). Pure:
parsing takes text, matching takes address columns.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from isdas.errors import InputError
from isdas.models import V4_MAPPED

U64 = npt.NDArray[np.uint64]
MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Network:
    """One research network as an inclusive 128-bit range (IPv4 mapped)."""

    first: int
    last: int
    name: str


def parse_networks(text: str) -> tuple[Network, ...]:
    """Parse the list; raises InputError naming the bad line."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cidr, _, name = line.partition(" ")
        try:
            net = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError as exc:
            raise InputError(f"research networks line {number}: {exc}") from exc
        base = V4_MAPPED if net.version == 4 else 0
        first = int(net.network_address) | base
        out.append(Network(first, first + net.num_addresses - 1, name.strip() or str(net)))
    return tuple(out)


def research_mask(src_hi: U64, src_lo: U64, networks: tuple[Network, ...]) -> npt.NDArray[np.bool_]:
    """True where the source address lies in any of the networks."""
    hit = np.zeros(src_hi.shape, dtype=bool)
    for net in networks:
        lo_hi, lo_lo = np.uint64(net.first >> 64), np.uint64(net.first & MASK64)
        hi_hi, hi_lo = np.uint64(net.last >> 64), np.uint64(net.last & MASK64)
        above = (src_hi > lo_hi) | ((src_hi == lo_hi) & (src_lo >= lo_lo))
        below = (src_hi < hi_hi) | ((src_hi == hi_hi) & (src_lo <= hi_lo))
        hit |= above & below
    return hit
