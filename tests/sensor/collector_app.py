"""Run the collector routes alone under uvicorn on 127.0.0.1 (test helper process).

Usage: python collector_app.py HOME PORT [noop]. Limits come from ISDAS_COLLECTOR_* variables;
`noop` replaces ingest_batch by a function that stores nothing (benchmark of the accept path).
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from isdas.serve.collector import routes
from isdas.settings import Settings

if __name__ == "__main__":
    noop = len(sys.argv) > 3 and sys.argv[3] == "noop"
    ingest = (lambda *_: None) if noop else None
    app = Starlette(routes=routes(Settings(home=Path(sys.argv[1])), ingest=ingest))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
