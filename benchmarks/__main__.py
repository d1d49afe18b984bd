"""`python -m benchmarks [NAME...]`: run every benchmarks/bench_*.py (or the named ones).

Each module exposes `main() -> dict`; results are gathered into bench-out/results.json.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _names(argv: list[str]) -> list[str]:
    found = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    return [n for n in found if not argv or n in argv]


def run(argv: list[str]) -> int:
    results: dict[str, object] = {}
    for name in _names(argv):
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{name}")
        results[name] = module.main()
        print(f"== {name} done in {time.perf_counter() - started:.1f} s\n", flush=True)
    out = HERE.parent / "bench-out"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
