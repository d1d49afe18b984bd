"""Store stage: daily distinct sources and targets per key from the lake (reference detectors).

One DuckDB aggregation over the registered lake parts (scan class, TCP and UDP). Read-only.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from isdas.settings import Settings
from isdas.store.catalog import connect

F64 = npt.NDArray[np.float64]

DAILY_SQL = """
SELECT (epoch(ts)::BIGINT // 86400) AS d, (proto::BIGINT << 16) | dport::BIGINT AS k,
       count(DISTINCT (src_hi, src_lo))::DOUBLE AS s, count(DISTINCT (dst_hi, dst_lo))::DOUBLE AS t
FROM read_parquet($files)
WHERE cls = 1 AND proto IN (6, 17)
GROUP BY d, k
"""


def daily_counts(settings: Settings) -> tuple[int, list[int], F64, F64]:
    """(first day index, key codes, sources (D,K), targets (D,K)) over the whole lake."""
    with connect(settings, read_only=True) as con:
        paths = [r[0] for r in con.execute("SELECT path FROM parts ORDER BY path").fetchall()]
        files = [str(settings.lake / p) for p in paths if (settings.lake / p).exists()]
        if not files:
            return 0, [], np.zeros((0, 0)), np.zeros((0, 0))
        res = con.execute(DAILY_SQL, {"files": files}).fetchnumpy()
    d, k = np.asarray(res["d"], dtype=np.int64), np.asarray(res["k"], dtype=np.int64)
    keys, ki = np.unique(k, return_inverse=True)
    first = int(d.min())
    shape = (int(d.max()) - first + 1, keys.size)
    src, dst = np.zeros(shape), np.zeros(shape)
    src[d - first, ki] = res["s"]
    dst[d - first, ki] = res["t"]
    return first, [int(v) for v in keys], src, dst
