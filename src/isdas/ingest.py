"""Ingest orchestration: capture -> enrich (country, class, tags) -> lake parts -> catalog.

Used by `isdas ingest` (files) and the collector (sensor batches). Each source (a file's sha256
or a batch id) is stored at most once; its parts are written atomically, then registered with
the sensor's metrics in one catalog transaction; all-sensor metrics are recounted at the end.
Library code: reports what happened, never prints.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from isdas.analyse.classify import classify
from isdas.analyse.research import Network, parse_networks, research_mask
from isdas.errors import CaptureError, InputError
from isdas.knowledge.country import country_index, lookup_distinct
from isdas.models import EVENT_SCHEMA, Tag
from isdas.settings import Settings
from isdas.store import writes
from isdas.store.lake import PartWriter, check_sensor_id, table_hours

Progress = Callable[[int], None]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PacketBatch = Mapping[str, npt.NDArray[Any]]
CAPTURE_COLUMNS = tuple(
    c for c in EVENT_SCHEMA.names if c not in ("sensor", "country", "cls", "tags")
)


@dataclass(frozen=True)
class FileReport:
    """The outcome of ingesting one file: ingested, partial, already or failed."""

    path: str
    status: str
    packets: int = 0
    skipped: int = 0
    error: str | None = None
    digest: str = ""


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one `ingest_paths` call."""

    files: tuple[FileReport, ...]
    seconds: float
    hours_flushed: int = 0
    bytes_read: int = 0

    @property
    def packets(self) -> int:
        return sum(f.packets for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)

    @property
    def errors(self) -> list[str]:
        return [f"{f.path}: {f.error}" for f in self.files if f.error]

    @property
    def rate(self) -> float:
        return self.packets / self.seconds if self.seconds > 0 else 0.0

    @property
    def outcome(self) -> str:
        """`ok`, `partial` (some input bad, rest stored) or `failed` (nothing usable)."""
        statuses = {f.status for f in self.files}
        if statuses <= {"ingested", "already"}:
            return "ok"
        if statuses & {"ingested", "partial", "already"}:
            return "partial"
        return "failed"


@dataclass(frozen=True)
class BatchResult:
    """The outcome of storing one collector batch."""

    batch_id: str
    status: str  # "stored" or "duplicate"
    rows: int
    hours: list[datetime] = field(default_factory=list)


def research_networks(settings: Settings) -> tuple[Network, ...]:
    """The operator's research-scanner networks (empty when the list file is absent)."""
    path = settings.research_networks
    if not path.is_file():
        return ()
    return parse_networks(path.read_text(encoding="utf-8"))


def enrich(batch: PacketBatch, sensor_id: str, research: tuple[Network, ...] = ()) -> pa.Table:
    """A capture batch as an EVENT_SCHEMA table, with country, class and tags derived;
    sources in `research` networks are tagged Tag.RESEARCH."""
    n = len(batch["ts_us"])
    cls, tags = classify(batch)
    if research:
        tags[research_mask(batch["src_hi"], batch["src_lo"], research)] |= np.uint32(Tag.RESEARCH)
    cidx, codes = source_countries(batch["src_hi"], batch["src_lo"])
    arrays: dict[str, pa.Array] = {}
    for name in EVENT_SCHEMA.names:
        if name == "ts":
            arrays[name] = pa.array(batch["ts_us"], pa.int64()).cast(EVENT_SCHEMA.field("ts").type)
        elif name == "sensor":
            zeros = np.zeros(n, dtype=np.int32)
            arrays[name] = pa.DictionaryArray.from_arrays(zeros, [sensor_id]).cast(pa.string())
        elif name == "country":
            dictionary = pa.array(codes or ["ZZ"], pa.string())
            arrays[name] = pa.DictionaryArray.from_arrays(cidx, dictionary).cast(pa.string())
        elif name == "cls":
            arrays[name] = pa.array(cls, pa.uint8())
        elif name == "tags":
            arrays[name] = pa.array(tags, pa.uint32())
        else:
            arrays[name] = pa.array(batch[name], EVENT_SCHEMA.field(name).type)
    return pa.Table.from_pydict(arrays, schema=EVENT_SCHEMA)


class _V4Countries:
    """Countries of IPv4(-mapped) addresses already looked up in this process: sorted
    addresses and their codes, replaced whole (so threads may read while one adds), emptied
    past `limit` entries. Saves formatting and looking up the sources that recur."""

    def __init__(self, limit: int = 1 << 20) -> None:
        self.limit = limit
        self.table: tuple[npt.NDArray[np.uint64], npt.NDArray[np.object_]] = (
            np.empty(0, np.uint64),
            np.empty(0, object),
        )

    def codes(self, uniq: npt.NDArray[np.uint64]) -> list[str]:
        """Country code of each address of `uniq` (sorted, distinct)."""
        keys, values = self.table
        pos = np.minimum(np.searchsorted(keys, uniq), max(len(keys) - 1, 0))
        hit = keys[pos] == uniq if len(keys) else np.zeros(len(uniq), bool)
        out = np.empty(len(uniq), object)
        out[hit] = values[pos[hit]]
        missing = uniq[~hit]
        if len(missing):
            found = np.array(lookup_distinct(np.zeros(len(missing), np.uint64), missing), object)
            out[~hit] = found
            self._add(keys, values, missing, found)
        return list(out)

    def _add(
        self,
        keys: npt.NDArray[np.uint64],
        values: npt.NDArray[np.object_],
        new: npt.NDArray[np.uint64],
        found: npt.NDArray[np.object_],
    ) -> None:
        if len(keys) + len(new) > self.limit:
            keys, values = keys[:0], values[:0]
        merged = np.concatenate((keys, new))
        order = np.argsort(merged, kind="stable")
        self.table = (merged[order], np.concatenate((values, found))[order])


_V4_COUNTRIES = _V4Countries()


def source_countries(
    hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]
) -> tuple[npt.NDArray[np.int32], list[str]]:
    """Dictionary-encoded source countries (`knowledge.country.country_index`), with a fast
    path for all-IPv4 batches: a plain sort of one column instead of a two-key lexsort, and
    the countries of recurring sources taken from a process-wide table."""
    if len(lo) == 0 or hi.any():
        return country_index(hi, lo)
    uniq = _sorted_distinct(lo)
    return np.searchsorted(uniq, lo).astype(np.int32), _V4_COUNTRIES.codes(uniq)


def _sorted_distinct(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Sorted distinct values (sort + diff: faster than np.unique's hashing here)."""
    s = np.sort(values)
    keep = np.empty(len(s), dtype=bool)
    keep[:1] = True
    keep[1:] = s[1:] != s[:-1]
    return s[keep]


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(4 << 20):
            h.update(chunk)
    return h.hexdigest()


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest: files as given, directories as their tcpdump rotations in time order."""
    from isdas.capture.rotation import rotation_files

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(Path(f) for f in rotation_files(str(p)))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"no such file or directory: {p}")
    return out


def ingest_paths(
    settings: Settings,
    sensor_id: str,
    paths: Sequence[Path],
    *,
    addresses: Sequence[str] | None = None,
    progress: Progress | None = None,
    flush: bool = True,
) -> IngestReport:
    """Ingest capture files (or rotation directories) recorded by `sensor_id`.

    With `flush=False` the all-sensor metrics of the touched hours stay dirty until a later
    `store.writes.flush_metrics` (one recount after ingesting many sensors).
    """
    check_sensor_id(sensor_id)
    if addresses:
        writes.cidr_count(addresses)  # validate before reading anything
    started = time.perf_counter()
    job = _Job(settings, sensor_id, addresses, progress, research_networks(settings), flush)
    reports = [_ingest_file(job, p) for p in expand_paths(paths)]
    if addresses and not any(r.status in ("ingested", "partial") for r in reports):
        writes.set_cidrs(settings, sensor_id, addresses)
    flushed = writes.flush_metrics(settings) if flush else 0
    return IngestReport(tuple(reports), time.perf_counter() - started, flushed)


@dataclass(frozen=True)
class _Job:
    """What every file of one `ingest_paths` call shares."""

    settings: Settings
    sensor_id: str
    cidrs: Sequence[str] | None
    progress: Progress | None
    research: tuple[Network, ...]
    flush: bool

    def advance(self, nbytes: int) -> None:
        if self.progress is not None:
            self.progress(nbytes)


def _ingest_file(job: _Job, path: Path) -> FileReport:
    digest = file_digest(path)
    if writes.is_registered(job.settings, digest):
        job.advance(path.stat().st_size)
        return FileReport(str(path), "already", digest=digest)
    try:
        return _read_and_store(job, path, digest)
    except CaptureError as exc:
        return FileReport(str(path), "failed", error=str(exc), digest=digest)


def _read_and_store(job: _Job, path: Path, digest: str) -> FileReport:
    from isdas.capture import read_capture

    reader = read_capture(path)
    size = path.stat().st_size
    writer = PartWriter(job.settings.lake, job.sensor_id, digest)
    hours: set[int] = set()
    seen = 0
    try:
        for batch in reader:
            table = enrich(batch, job.sensor_id, job.research)
            writer.write(table)
            hours.update(table_hours(table))
            # bytes_read counts decompressed bytes for .gz: never run past the file size
            step = min(reader.stats.bytes_read, size) - seen
            job.advance(step)
            seen += step
        parts = writer.commit()
        job.advance(size - seen)
    except BaseException:
        writer.abort()
        raise
    stats = reader.stats
    rows = sum(p.rows for p in parts)
    meta = writes.SourceMeta(
        digest, str(path), job.sensor_id, size, rows, stats.skipped, stats.error
    )
    writes.register(job.settings, meta, parts, _hour_datetimes(hours), job.cidrs, flush=job.flush)
    status = "partial" if stats.truncated_at is not None or stats.error else "ingested"
    return FileReport(str(path), status, meta.packets, stats.skipped, stats.error, digest)


def _hour_datetimes(hours: Iterable[int]) -> list[datetime]:
    return [datetime.fromtimestamp(h / 1e6, tz=UTC) for h in sorted(hours)]


def ingest_batch(
    settings: Settings, sensor_id: str, data: pa.Table | PacketBatch, batch_id: str
) -> BatchResult:
    """Store one sensor batch (capture columns or a full EVENT_SCHEMA table), once per id,
    with its metrics recounted before returning."""
    source = f"b-{check_sensor_id(sensor_id)}-{batch_id}"
    table = data if isinstance(data, pa.Table) and "cls" in data.column_names else None
    if table is None:
        table = enrich(_columns(data), sensor_id, research_networks(settings))
    if writes.is_registered(settings, source):
        return BatchResult(batch_id, "duplicate", 0)
    pending = write_batch(settings, sensor_id, table, source, None)
    if not writes.register_batches(settings, [pending])[0]:
        return BatchResult(batch_id, "duplicate", 0)
    writes.flush_metrics(settings)
    hours = [datetime.fromtimestamp(h * 3600, tz=UTC) for h in pending.hours]
    return BatchResult(batch_id, "stored", table.num_rows, hours)


def prepare_batch(
    settings: Settings,
    sensor_id: str,
    batch: PacketBatch,
    source: str,
    batch_id: str,
    research: tuple[Network, ...] = (),
    known: writes.KnownTargets | None = None,
) -> writes.PendingBatch:
    """Enrich a validated collector batch and write its parts under temporary names (the
    CPU-heavy half of storing it, safe to run in parallel); `writes.register_batches`
    publishes and registers it. Destinations in `known` are left out of its targets."""
    table = enrich(batch, check_sensor_id(sensor_id), research)
    pending = write_batch(settings, sensor_id, table, source, batch_id)
    if known is not None:
        pending.targets = known.unknown(sensor_id, pending.targets)
    return pending


def write_batch(
    settings: Settings, sensor_id: str, table: pa.Table, source: str, batch_id: str | None
) -> writes.PendingBatch:
    """Write `table` (EVENT_SCHEMA columns) as sealed temporary parts of `source`."""
    writer = PartWriter(settings.lake, sensor_id, source)
    try:
        writer.write(table.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA))
        writer.seal()
    except BaseException:
        writer.abort()
        raise
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    span = (_us_dt(int(ts.min())), _us_dt(int(ts.max()))) if len(ts) else None
    hours = [h // 3_600_000_000 for h in table_hours(table)]
    targets = distinct_pairs(table.column("dst_hi").to_numpy(), table.column("dst_lo").to_numpy())
    return writes.PendingBatch(
        sensor_id, batch_id, source, writer, table.num_rows, span, hours, targets
    )


def _us_dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def distinct_pairs(hi: npt.NDArray[np.uint64], lo: npt.NDArray[np.uint64]) -> pa.Table:
    """Distinct (hi, lo) address pairs as a table (dst_hi, dst_lo); sort + diff."""
    if len(hi) == 0:
        return pa.table({"dst_hi": pa.array([], pa.uint64()), "dst_lo": pa.array([], pa.uint64())})
    if not hi.any():
        uniq = _sorted_distinct(lo)
        return pa.table({"dst_hi": np.zeros(len(uniq), np.uint64), "dst_lo": uniq})
    order = np.lexsort((lo, hi))
    shi, slo = hi[order], lo[order]
    keep = np.empty(len(shi), dtype=bool)
    keep[0] = True
    keep[1:] = (shi[1:] != shi[:-1]) | (slo[1:] != slo[:-1])
    return pa.table({"dst_hi": shi[keep], "dst_lo": slo[keep]})


def _columns(data: pa.Table | PacketBatch) -> PacketBatch:
    if isinstance(data, pa.Table):
        missing = [c for c in ("ts_us", *CAPTURE_COLUMNS[1:]) if c not in data.column_names]
        if missing:
            raise InputError(f"batch lacks columns: {', '.join(missing)}")
        return {c: data.column(c).to_numpy() for c in ("ts_us", *CAPTURE_COLUMNS[1:])}
    return data
