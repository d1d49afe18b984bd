"""Knowledge stage: offline source-country lookup (country of registration, RIR data via iptocc).

Looks up each distinct address once per call (sort + diff, never np.unique), never per packet.
Unknown, private and reserved addresses get "ZZ". Must not do network I/O.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from iptocc import country_code

from isdas.models import UNKNOWN_COUNTRY, format_addr

U64 = npt.NDArray[np.uint64]


def _v4_text(values: npt.NDArray[np.uint64]) -> list[str]:
    return [f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}" for v in values.tolist()]


def _texts(hi: U64, lo: U64) -> list[str]:
    is_v4 = (hi == 0) & ((lo >> np.uint64(32)) == np.uint64(0xFFFF))
    if bool(is_v4.all()):
        return _v4_text(lo & np.uint64(0xFFFF_FFFF))
    return [format_addr(h, l_) for h, l_ in zip(hi.tolist(), lo.tolist(), strict=True)]


def lookup_distinct(hi: U64, lo: U64) -> list[str]:
    """Country code per address, for addresses already distinct (no de-duplication)."""
    if len(hi) == 0:
        return []
    codes = country_code(_texts(hi, lo))
    return [c if c else UNKNOWN_COUNTRY for c in codes]


def country_index(hi: U64, lo: U64) -> tuple[npt.NDArray[np.int32], list[str]]:
    """Dictionary-encoded countries: (index per address, code per distinct address).

    One lookup per distinct address; `codes[index[i]]` is the country of address i.
    """
    n = len(hi)
    if n == 0:
        return np.zeros(0, dtype=np.int32), []
    order = np.lexsort((lo, hi))
    shi, slo = hi[order], lo[order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    first[1:] = (shi[1:] != shi[:-1]) | (slo[1:] != slo[:-1])
    codes = lookup_distinct(shi[first], slo[first])
    index = np.empty(n, dtype=np.int32)
    index[order] = np.cumsum(first, dtype=np.int64) - 1
    return index, codes


def countries(hi: U64, lo: U64) -> npt.NDArray[np.object_]:
    """Country code (str) per address; one lookup per distinct address."""
    index, codes = country_index(hi, lo)
    return np.array(codes, dtype=object)[index] if len(index) else np.empty(0, dtype=object)
