"""Collector HTTP endpoints: authenticate sensors, validate batches, store them, acknowledge.

Stage: serve (collector part). Must not import duckdb or write the lake itself: tokens and
batch ids go through `isdas.store.tokens`, events through `isdas.ingest.ingest_batch`.

Paths (mount with `routes(settings)`):
- POST /api/v1/ingest     Authorization: Bearer <token>, X-Batch-Id: <id>, body: Arrow IPC
  stream in the wire schema (isdas.sensor.wire). 200 {"ok": true, "batch_id", "events",
  "duplicate"}; 401 unknown/missing token, 403 revoked, 413 body too large, 422 malformed
  (schema, nulls, event count, times more than `max_future_s` ahead or `max_age_s` old),
  429 per-sensor rate limit (Retry-After), 503 store busy. Nothing is stored on any 4xx.
- POST /api/v1/heartbeat  same auth, JSON counters; 200 {"ok": true, "server_time"}.
Errors are JSON {"ok": false, "error": "...", "status": N}.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import importlib
import json
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from isdas.errors import InputError, IsdasError, PayloadTooLarge, StoreError, ValidationError
from isdas.sensor import wire
from isdas.settings import Settings
from isdas.store import tokens, writes
from isdas.store.catalog import connect

if TYPE_CHECKING:
    import duckdb

    from isdas.store.writes import PendingBatch

log = logging.getLogger(__name__)

IngestFn = Callable[[Settings, str, wire.PacketBatch, str], object]
BATCH_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
HEARTBEAT_MAX_BYTES = 64 * 1024
LINGER_S = 0.25  # longest wait for batches still being prepared, to commit them together
FLUSH_SPACING = 3.0  # while batches come in, the pause after a recount is this times its length
IDLE_S = 0.5  # no batch registered for this long: the collector is idle, recount at once


class RateLimitError(IsdasError):
    """A sensor sent more requests than its rate allows."""

    http_status = 429


@dataclass(frozen=True)
class CollectorConfig:
    """Limits of the collector; `from_env` reads ISDAS_COLLECTOR_<FIELD> overrides."""

    max_body_bytes: int = 64 * 1024 * 1024
    max_events: int = 1_000_000
    max_future_s: float = 86_400.0
    max_age_s: float = 400 * 86_400.0
    rate_per_s: float = 50.0
    burst: float = 100.0
    auth_cache_s: float = 2.0
    flush_s: float = 2.0  # seconds between recounts of the metrics of acknowledged batches
    duckdb_threads: int = 1  # while the collector writes: recounts leave the other cores free

    @classmethod
    def from_env(cls) -> CollectorConfig:
        """Defaults, overridden by environment variables such as ISDAS_COLLECTOR_MAX_BODY_BYTES."""
        values: dict[str, Any] = {}
        for name, default in cls().__dict__.items():
            raw = os.environ.get(f"ISDAS_COLLECTOR_{name.upper()}")
            if raw is not None:
                values[name] = type(default)(raw)
        return cls(**values)


def tls_options(cert: str | os.PathLike[str], key: str | os.PathLike[str]) -> dict[str, str]:
    """uvicorn keyword arguments for HTTPS (for `isdas serve --tls-cert --tls-key`)."""
    for path in (cert, key):
        if not Path(path).is_file():
            raise InputError(f"TLS file not found: {path}")
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


@dataclass
class _Buckets:
    """Token buckets per sensor: `rate` requests per second, bursts up to `burst`."""

    rate: float
    burst: float
    state: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, sensor_id: str) -> None:
        now = time.monotonic()
        level, then = self.state.get(sensor_id, (self.burst, now))
        level = min(self.burst, level + (now - then) * self.rate)
        if level < 1.0:
            self.state[sensor_id] = (level, now)
            raise RateLimitError(f"sensor {sensor_id!r} over {self.rate:g} requests/s")
        self.state[sensor_id] = (level - 1.0, now)


@dataclass
class _Auth:
    """Token verification with a short cache (revocation takes effect within `ttl` seconds)."""

    settings: Settings
    ttl: float
    cache: dict[str, tuple[float, str]] = field(default_factory=dict)

    async def sensor(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        hit = self.cache.get(token)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        sensor_id = await run_in_threadpool(tokens.verify, self.settings, token)
        self.cache[token] = (time.monotonic() + self.ttl, sensor_id)
        return sensor_id


def error_response(exc: IsdasError) -> JSONResponse:
    """The JSON error body every collector endpoint uses."""
    status = exc.http_status
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    body = {"ok": False, "error": str(exc), "status": status}
    return JSONResponse(body, status_code=status, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it exceeds `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {declared} bytes over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_times(decoded: wire.Decoded, config: CollectorConfig, now_us: int) -> None:
    """Reject batches holding events too far in the future or absurdly old."""
    if not decoded.events:
        return
    if decoded.max_ts_us > now_us + int(config.max_future_s * 1e6):
        raise ValidationError("batch holds events more than max_future_s in the future")
    if decoded.min_ts_us < now_us - int(config.max_age_s * 1e6):
        raise ValidationError("batch holds events older than max_age_s")


def default_ingest() -> IngestFn:
    """The lead's `isdas.ingest.ingest_batch` (imported late: it pulls heavy modules)."""
    module = importlib.import_module("isdas.ingest")
    fn: IngestFn = module.ingest_batch
    return fn


def _guard(
    handler: Callable[[Request], Awaitable[JSONResponse]],
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def wrapped(request: Request) -> JSONResponse:
        try:
            return await handler(request)
        except IsdasError as exc:
            if exc.http_status >= 500:
                log.warning("collector %s: %s", request.url.path, exc)
            return error_response(exc)
        except Exception:
            log.exception("collector %s failed", request.url.path)
            return error_response(IsdasError("internal error"))

    return wrapped


def _us_to_dt(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, UTC)


def ingest_id(batch_id: str) -> str:
    """A compact id for the lake's source column (the lake limits source ids to 80 chars)."""
    return "c" + hashlib.sha256(batch_id.encode()).hexdigest()[:16]


def store_batch(
    settings: Settings, ingest: IngestFn, sensor_id: str, batch_id: str, decoded: wire.Decoded
) -> bool:
    """Ingest a validated batch once; True when it had been acknowledged before."""
    if tokens.batch_seen(settings, sensor_id, batch_id):
        return True
    if decoded.events:
        ingest(settings, sensor_id, decoded.batch, ingest_id(batch_id))
    span = (_us_to_dt(decoded.min_ts_us), _us_to_dt(decoded.max_ts_us))
    tokens.record_batch(settings, sensor_id, batch_id, decoded.events, span)
    return False


class Committer:
    """The collector's catalog writers, two threads: one registers every pending batch in one
    transaction (group commit) and acknowledges it; the other recounts the deferred metrics
    once at start (recovery after a crash), then every `flush_s` seconds while batches come
    in, and once at stop. Recounts run beside registrations and never delay an
    acknowledgement (see the append-only marks in store/sql/10_core.sql)."""

    def __init__(self, settings: Settings, flush_s: float, threads: int = 1) -> None:
        self.settings = settings
        self.flush_s = flush_s
        self.threads = threads
        self.known = writes.KnownTargets()  # shared with the threads preparing batches
        self._cond = threading.Condition()
        self._pending: list[tuple[PendingBatch, Future[bool]]] = []
        self._preparing = 0
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._writer_done = False
        self._final_done = False
        self._dirty = True  # marks a killed predecessor may have left
        self._flushed_at = -1e9  # when the last recount ended (monotonic)
        self._took = 0.0  # how long it took
        self._last_commit = -1e9

    def start(self) -> None:
        """Start both threads (idempotent); the flusher first recovers what a crash left."""
        with self._cond:
            if self._threads or self._stopping:
                return
            for name, target in (("writer", self._run_writer), ("flusher", self._run_flusher)):
                thread = threading.Thread(target=target, name=f"isdas-{name}", daemon=True)
                thread.start()
                self._threads.append(thread)
        # an app served without the lifespan still stops them (and recounts) at exit: a daemon
        # thread left inside DuckDB while the interpreter finalizes aborts the process
        atexit.register(self.stop)

    @contextmanager
    def preparing(self) -> Iterator[None]:
        """Around the preparation of a batch that will be submitted: while batches are being
        prepared, the writer waits for them (up to LINGER_S) to commit them in the same group."""
        with self._cond:
            self._preparing += 1
        try:
            yield
        finally:
            with self._cond:
                self._preparing -= 1
                self._cond.notify_all()

    def submit(self, pending: PendingBatch) -> Future[bool]:
        """Queue a prepared batch; the future says True (stored) or False (duplicate)."""
        future: Future[bool] = Future()
        self.start()
        with self._cond:
            if self._stopping:
                raise StoreError("collector is shutting down")
            self._pending.append((pending, future))
            self._cond.notify_all()
        return future

    def stop(self) -> None:
        """Register what is queued, recount the metrics, and end both threads."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join()
        atexit.unregister(self.stop)

    def _wait_for_work(self) -> bool:
        """Block until a batch is queued; False once stopping with nothing left."""
        with self._cond:
            while not (self._pending or self._stopping):
                self._cond.wait()
            if self._pending:
                return True
            self._writer_done = True
            self._cond.notify_all()
            return False

    def _take(self, linger: float) -> list[tuple[PendingBatch, Future[bool]]]:
        """Every queued batch, after waiting up to `linger` s for those being prepared."""
        with self._cond:
            deadline = time.monotonic() + linger
            while self._pending and self._preparing and not self._stopping:
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    break
            taken, self._pending = self._pending, []
            return taken

    def _run_writer(self) -> None:
        while self._wait_for_work():
            taken: list[tuple[PendingBatch, Future[bool]]] = []
            try:
                # the catalog opens while the rest of the group is still being prepared
                with connect(self.settings) as con:
                    con.execute(f"SET threads = {int(self.threads)}")  # process-wide, see flush
                    taken = self._take(LINGER_S)
                    self._commit(con, taken)
            except BaseException as exc:  # opening or closing the catalog failed
                taken = taken or self._take(0.0)
                self._fail(taken, exc)

    def _fail(self, taken: list[tuple[PendingBatch, Future[bool]]], exc: BaseException) -> None:
        writes.abort_batches([p for p, _ in taken])
        for _, future in taken:
            if not future.done():
                future.set_exception(exc)

    def _commit(
        self, con: duckdb.DuckDBPyConnection, taken: list[tuple[PendingBatch, Future[bool]]]
    ) -> None:
        started = time.monotonic()

        def acknowledge(stored: list[bool]) -> None:
            with self._cond:
                self._dirty = True
                self._last_commit = time.monotonic()
                self._cond.notify_all()
            for (_, future), new in zip(taken, stored, strict=True):
                future.set_result(new)

        try:
            batches = [p for p, _ in taken]
            writes.register_batches_on(con, batches, self.known, acknowledge)
            log.debug("%d batches registered in %.3f s", len(taken), time.monotonic() - started)
        except BaseException as exc:
            self._fail(taken, exc)

    def _due_at(self) -> float:
        """When the next recount may start: `flush_s` after the last one, and while batches
        come in not before FLUSH_SPACING times its length (recounts then take at most a
        quarter of the time and leave the CPU to the batches)."""
        busy = self._flushed_at + FLUSH_SPACING * self._took
        idle = self._last_commit + IDLE_S
        return max(self._flushed_at + self.flush_s, min(busy, idle))

    def _due(self) -> bool:
        """Whether to flush now (caller holds the lock); clears the dirty flag if so."""
        final = self._stopping and self._writer_done
        if final and self._final_done:
            return False
        if self._dirty and (final or time.monotonic() >= self._due_at()):
            self._dirty = False
            self._final_done = final
            return True
        return False

    def _run_flusher(self) -> None:
        while True:
            with self._cond:
                while not self._due():
                    if self._stopping and self._writer_done and not self._dirty:
                        return
                    if self._final_done:
                        return  # the final recount failed: the marks wait for the next start
                    wait = self._due_at() - time.monotonic() if self._dirty else None
                    self._cond.wait(None if wait is None else max(wait, 0.01))
            self._flush()

    def _flush(self) -> None:
        started = time.monotonic()
        try:
            hours = writes.flush_metrics(self.settings, threads=self.threads)
            log.debug("metrics of %d hours recounted in %.2f s", hours, time.monotonic() - started)
        except IsdasError as exc:
            log.warning("metrics flush failed (retried in %g s): %s", self.flush_s, exc)
            with self._cond:
                self._dirty = True
        with self._cond:
            self._flushed_at = time.monotonic()
            self._took = self._flushed_at - started


class Collector:
    """The two collector endpoints, bound to one data home."""

    def __init__(
        self, settings: Settings, config: CollectorConfig, ingest: IngestFn | None = None
    ) -> None:
        self.settings = settings
        self.config = config
        self._ingest = ingest  # a replacement of the storing path (tests, accept-path bench)
        self._auth = _Auth(settings, config.auth_cache_s)
        self._buckets = _Buckets(config.rate_per_s, config.burst)
        self._lock = threading.Lock()  # serialises a replacement `ingest`
        self.committer = Committer(settings, config.flush_s, config.duckdb_threads)
        self._acked = _Recent(100_000)

    def _store(self, sensor_id: str, batch_id: str, decoded: wire.Decoded) -> bool:
        with self._lock:
            assert self._ingest is not None
            return store_batch(self.settings, self._ingest, sensor_id, batch_id, decoded)

    def _prepare(
        self, body: bytes, sensor_id: str, batch_id: str
    ) -> tuple[int, PendingBatch | None]:
        """Decode and check a body, then enrich it and write its parts under temporary
        names (threadpool); (events, pending batch or None when known to be a duplicate)."""
        decoded = wire.decode(body, max_events=self.config.max_events)
        check_times(decoded, self.config, time.time_ns() // 1000)
        if (sensor_id, batch_id) in self._acked:
            return decoded.events, None
        ingest = importlib.import_module("isdas.ingest")
        source = f"b-{sensor_id}-{ingest_id(batch_id)}"
        research = ingest.research_networks(self.settings)
        pending: PendingBatch = ingest.prepare_batch(
            self.settings, sensor_id, decoded.batch, source, batch_id, research,
            self.committer.known,
        )  # fmt: skip
        return decoded.events, pending

    async def ingest(self, request: Request) -> JSONResponse:
        sensor_id = await self._auth.sensor(request)
        self._buckets.take(sensor_id)
        batch_id = request.headers.get("x-batch-id", "")
        if not BATCH_ID_RE.match(batch_id):
            raise ValidationError("missing or malformed X-Batch-Id header")
        body = await read_body(request, self.config.max_body_bytes)
        if self._ingest is not None:
            decoded = await run_in_threadpool(wire.decode, body, max_events=self.config.max_events)
            check_times(decoded, self.config, time.time_ns() // 1000)
            duplicate = await run_in_threadpool(self._store, sensor_id, batch_id, decoded)
            events = decoded.events
        else:
            with self.committer.preparing():
                events, pending = await run_in_threadpool(self._prepare, body, sensor_id, batch_id)
                future = self.committer.submit(pending) if pending is not None else None
            duplicate = future is None or not await asyncio.wrap_future(future)
            self._acked.add((sensor_id, batch_id))
        if duplicate:
            log.info("batch %s of %s acknowledged again (retry)", batch_id, sensor_id)
        body_out = {"ok": True, "batch_id": batch_id, "events": events}
        return JSONResponse({**body_out, "duplicate": duplicate})

    async def heartbeat(self, request: Request) -> JSONResponse:
        sensor_id = await self._auth.sensor(request)
        self._buckets.take(sensor_id)
        beat = parse_heartbeat(await read_body(request, HEARTBEAT_MAX_BYTES))
        sent = beat.get("sensor_time")
        sensor_time = _parse_time(sent) if isinstance(sent, str) else None
        await run_in_threadpool(
            tokens.record_heartbeat, self.settings, sensor_id, beat, sensor_time
        )
        self.committer.start()  # recovery flush even before the first batch arrives
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return JSONResponse({"ok": True, "sensor": sensor_id, "server_time": now})

    def routes(self) -> list[BaseRoute]:
        """POST /api/v1/ingest and POST /api/v1/heartbeat bound to this collector."""
        return [
            Route("/api/v1/ingest", _guard(self.ingest), methods=["POST"]),
            Route("/api/v1/heartbeat", _guard(self.heartbeat), methods=["POST"]),
        ]

    @asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """Start the committer with the server (recovering a crash's dirty marks at once) and
        stop it with the server (registering what is queued, flushing the metrics)."""
        self.committer.start()
        try:
            yield
        finally:
            await run_in_threadpool(self.committer.stop)


@dataclass
class _Recent:
    """A bounded set of recently acknowledged (sensor, batch id): retries skip the work."""

    size: int
    items: OrderedDict[tuple[str, str], None] = field(default_factory=OrderedDict)

    def __contains__(self, key: object) -> bool:
        return key in self.items

    def add(self, key: tuple[str, str]) -> None:
        self.items[key] = None
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_heartbeat(body: bytes) -> dict[str, Any]:
    """A heartbeat body: a JSON object; ValidationError otherwise."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"heartbeat is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValidationError("heartbeat must be a JSON object")
    return value


def routes(
    settings: Settings, config: CollectorConfig | None = None, ingest: IngestFn | None = None
) -> list[BaseRoute]:
    """The collector routes: POST /api/v1/ingest and POST /api/v1/heartbeat.

    Their committer thread starts with the first request; serve a `Collector`'s `routes()`
    with its `lifespan` to start it (and recover) at startup and flush at shutdown.
    """
    return Collector(settings, config or CollectorConfig.from_env(), ingest).routes()
