"""Prometheus exposition: request latency (measured here) plus catalog counters read on scrape.

Stage: serve. Keeps in-process counters only; the catalog figures (ingest totals, sensor
counters, detection latency) are passed in by the caller. Must not open the catalog itself.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class LatencyRecorder:
    """Histogram of request durations per (route, status class)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sum: dict[tuple[str, str], float] = defaultdict(float)
        self._n: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Record one request."""
        label = (route, f"{status // 100}xx")
        with self._lock:
            counts = self._counts[label]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            self._sum[label] += seconds
            self._n[label] += 1

    def lines(self) -> list[str]:
        """Exposition lines of the histogram."""
        name = "isdas_http_request_duration_seconds"
        out = [f"# HELP {name} HTTP request latency.", f"# TYPE {name} histogram"]
        with self._lock:
            for (route, status), counts in sorted(self._counts.items()):
                labels = f'route="{_esc(route)}",status="{status}"'
                for bound, count in zip(BUCKETS, counts, strict=True):
                    out.append(f'{name}_bucket{{{labels},le="{bound}"}} {count}')
                n = self._n[(route, status)]
                total = self._sum[(route, status)]
                out.append(f'{name}_bucket{{{labels},le="+Inf"}} {n}')
                out.append(f"{name}_sum{{{labels}}} {total:.6f}")
                out.append(f"{name}_count{{{labels}}} {n}")
        return out


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class TimingMiddleware:
    """Measures every HTTP request into a LatencyRecorder."""

    def __init__(self, app: ASGIApp, recorder: LatencyRecorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self.recorder.observe(_route_of(scope), status, time.perf_counter() - start)


def gauge(
    name: str, help_text: str, samples: Iterable[tuple[Mapping[str, str], float]]
) -> list[str]:
    """Exposition lines of one gauge with labelled samples."""
    out = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        text = ",".join(f'{k}="{_esc(v)}"' for k, v in labels.items())
        out.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")
    return out


def catalog_lines(
    totals: Mapping[str, Any], sensors: Iterable[Mapping[str, Any]], latencies: list[float]
) -> list[str]:
    """Gauges of ingest totals, per-sensor counters and detection latency."""
    latest = totals.get("latest_hour")
    out = gauge("isdas_ingested_files", "Capture files ingested.", [({}, totals.get("files") or 0)])
    out += gauge(
        "isdas_ingested_events", "Events stored in the lake.", [({}, totals.get("events") or 0)]
    )
    out += gauge("isdas_lake_parts", "Parquet parts in the lake.", [({}, totals.get("parts") or 0)])
    out += gauge(
        "isdas_latest_hour_timestamp_seconds",
        "Newest hour with metrics.",
        [({}, latest.timestamp() if isinstance(latest, datetime) else 0)],
    )
    rows = list(sensors)
    out += gauge(
        "isdas_sensor_packets",
        "Packets counted per sensor.",
        [({"sensor": str(s["sensor"])}, s.get("packets") or 0) for s in rows],
    )
    out += gauge(
        "isdas_sensor_packets_24h",
        "Packets per sensor over the last 24 h of data.",
        [({"sensor": str(s["sensor"])}, s.get("packets_24h") or 0) for s in rows],
    )
    out += gauge(
        "isdas_sensor_up",
        "1 when the sensor sent data within 2 h of the newest hour.",
        [({"sensor": str(s["sensor"])}, 1 if s.get("up") else 0) for s in rows],
    )
    out += gauge(
        "isdas_sensor_last_seen_timestamp_seconds",
        "Last hour with traffic per sensor.",
        [({"sensor": str(s["sensor"])}, _ts(s.get("last_hour"))) for s in rows],
    )
    return out + _latency_lines(latencies)


def _ts(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0


def _latency_lines(latencies: list[float]) -> list[str]:
    ordered = sorted(latencies)
    quantiles = (
        [
            ({"quantile": str(q)}, ordered[min(len(ordered) - 1, int(q * len(ordered)))])
            for q in (0.5, 0.9)
        ]
        if ordered
        else []
    )
    out = gauge("isdas_detection_latency_hours", "Hours from onset to detection.", quantiles)
    out.append(f"isdas_detections {len(ordered)}")
    return out
