"""Shipping spooled batches and heartbeats to the collector over HTTP(S).

Stage: sensor. Must not delete spool files itself (the agent does so only after an ACK)
and must not decode packets.

Outcomes: 200 -> ACK (delete); 413/422 -> REJECT (keep apart: retrying cannot help);
401/403 (token problems an operator can fix), 429, 5xx and network errors -> RETRY with
exponential backoff and jitter.
"""

from __future__ import annotations

import encodings.idna  # noqa: F401  (host names; loaded before privileges are dropped)
import enum
import logging
import random
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from isdas.sensor.config import SensorConfig
from isdas.sensor.counters import Counters
from isdas.sensor.spool import SpoolEntry
from isdas.sensor.wire import CONTENT_TYPE

log = logging.getLogger(__name__)

VERSION = "1"


class Outcome(enum.Enum):
    """What to do with a batch after one shipping attempt."""

    ACK = "ack"
    RETRY = "retry"
    REJECT = "reject"


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: in [d/2, d], d = min(cap, base * 2**attempt)."""
    ceiling = min(cap, base * (2.0 ** min(attempt, 32)))
    return ceiling / 2 + rng.uniform(0.0, ceiling / 2)


def outcome_of(status: int) -> Outcome:
    """Map an HTTP status of the ingest endpoint to an outcome."""
    if status == 200:
        return Outcome.ACK
    if status in (413, 422):
        return Outcome.REJECT
    return Outcome.RETRY


def clock_offset(date_header: str | None, sent: float, received: float) -> float | None:
    """Collector clock minus sensor clock (seconds, ±0.5 s from the Date header's resolution)."""
    if not date_header:
        return None
    try:
        server = parsedate_to_datetime(date_header).astimezone(UTC).timestamp()
    except (TypeError, ValueError):
        return None
    return server + 0.5 - (sent + received) / 2


class Shipper:
    """An HTTP client bound to one collector and one token."""

    def __init__(self, config: SensorConfig, counters: Counters) -> None:
        verify: str | bool = config.tls_ca or True
        self.counters = counters
        self.client = httpx.Client(
            base_url=config.collector.rstrip("/"),
            headers={"Authorization": f"Bearer {config.token}"},
            verify=verify,
            timeout=httpx.Timeout(60.0, connect=5.0),
        )

    def _post(self, path: str, **kwargs: object) -> httpx.Response | None:
        sent = time.time()
        try:
            response = self.client.post(path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.counters.set(last_error=f"{type(exc).__name__}: {exc}"[:300])
            return None
        offset = clock_offset(response.headers.get("date"), sent, time.time())
        if offset is not None:
            self.counters.set(clock_offset_s=round(offset, 3))
        return response

    def ship(self, entry: SpoolEntry) -> Outcome:
        """POST one spooled batch; the outcome says whether to delete, keep or set it apart."""
        data = Path(entry.path).read_bytes()
        headers = {"X-Batch-Id": entry.batch_id, "Content-Type": CONTENT_TYPE}
        response = self._post("/api/v1/ingest", content=data, headers=headers)
        if response is None:
            return Outcome.RETRY
        outcome = outcome_of(response.status_code)
        if outcome is not Outcome.ACK:
            error = f"ingest {entry.batch_id}: HTTP {response.status_code} {response.text[:200]}"
            self.counters.set(last_error=error)
            log.warning("%s", error)
        return outcome

    def heartbeat(self) -> bool:
        """POST the counters; True when the collector accepted them."""
        beat = self.counters.snapshot()
        beat["sensor_time"] = datetime.now(UTC).isoformat()
        beat["version"] = VERSION
        response = self._post("/api/v1/heartbeat", json=beat)
        return response is not None and response.status_code == 200

    def close(self) -> None:
        self.client.close()
