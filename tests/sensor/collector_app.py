"""Run the collector routes alone under uvicorn on 127.0.0.1 (test helper process).

Usage: python collector_app.py HOME PORT. Limits come from ISDAS_COLLECTOR_* variables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from isdas.serve.collector import routes
from isdas.settings import Settings

if __name__ == "__main__":
    app = Starlette(routes=routes(Settings(home=Path(sys.argv[1]))))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
