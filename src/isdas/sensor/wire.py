"""The sensor -> collector wire format: one Arrow IPC stream of capture columns per batch.

Stage: sensor (shared with the collector in serve/). Pure encoding and validation of bytes;
must not touch the network, the spool or the store.

A batch is an Arrow IPC *stream* (compressed with zstd, or lz4 as a fallback) whose schema is
exactly `WIRE_SCHEMA`: the columns of a capture `PacketBatch` (`ts_us` is microseconds since
the epoch, UTC). Every parse failure of untrusted bytes raises `ValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from isdas.errors import ValidationError

PacketBatch = dict[str, np.ndarray]

WIRE_VERSION = "1"
WIRE_SCHEMA = pa.schema(
    [
        pa.field("ts_us", pa.int64(), nullable=False),
        pa.field("ipver", pa.uint8(), nullable=False),
        pa.field("src_hi", pa.uint64(), nullable=False),
        pa.field("src_lo", pa.uint64(), nullable=False),
        pa.field("dst_hi", pa.uint64(), nullable=False),
        pa.field("dst_lo", pa.uint64(), nullable=False),
        pa.field("proto", pa.uint8(), nullable=False),
        pa.field("sport", pa.uint16(), nullable=False),
        pa.field("dport", pa.uint16(), nullable=False),
        pa.field("icmp_type", pa.uint8(), nullable=False),
        pa.field("icmp_code", pa.uint8(), nullable=False),
        pa.field("tcp_flags", pa.uint8(), nullable=False),
        pa.field("ttl", pa.uint8(), nullable=False),
        pa.field("ip_id", pa.uint32(), nullable=False),
        pa.field("tcp_seq", pa.uint32(), nullable=False),
        pa.field("tcp_win", pa.uint16(), nullable=False),
        pa.field("length", pa.uint32(), nullable=False),
        pa.field("frag", pa.uint8(), nullable=False),
    ],
    metadata={"isdas.wire": WIRE_VERSION},
)
WIRE_COLUMNS: tuple[str, ...] = tuple(WIRE_SCHEMA.names)
CONTENT_TYPE = "application/vnd.apache.arrow.stream"


@dataclass(frozen=True)
class Decoded:
    """A validated batch: its columns and the time range of its events (µs, UTC)."""

    batch: PacketBatch
    events: int
    min_ts_us: int
    max_ts_us: int


def _codec() -> str:
    return "zstd" if pa.Codec.is_available("zstd") else "lz4"


def empty_batch() -> PacketBatch:
    """A batch with no events and the right dtypes."""
    return {f.name: np.empty(0, dtype=f.type.to_pandas_dtype()) for f in WIRE_SCHEMA}


def to_table(batch: Mapping[str, np.ndarray]) -> pa.Table:
    """Columns of a PacketBatch as a table in `WIRE_SCHEMA` (extra keys are ignored)."""
    arrays = [pa.array(np.asarray(batch[f.name]), type=f.type) for f in WIRE_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=WIRE_SCHEMA)


def encode(batch: Mapping[str, np.ndarray]) -> bytes:
    """One compressed Arrow IPC stream holding `batch`."""
    table = to_table(batch)
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=_codec())
    with pa.ipc.new_stream(sink, WIRE_SCHEMA, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _read_table(body: bytes) -> pa.Table:
    try:
        reader = pa.ipc.open_stream(pa.BufferReader(body))
        table = reader.read_all()
        table.validate(full=True)
        return table
    except (pa.ArrowException, ValueError, OSError, TypeError) as exc:
        raise ValidationError(f"body is not an Arrow IPC stream: {exc}") from exc


def _check_schema(schema: pa.Schema) -> None:
    got = [(f.name, str(f.type)) for f in schema]
    want = [(f.name, str(f.type)) for f in WIRE_SCHEMA]
    if got != want:
        raise ValidationError(f"batch schema differs from wire schema v{WIRE_VERSION}: {got}")


def decode(body: bytes, *, max_events: int) -> Decoded:
    """Parse and validate a body; raises ValidationError on anything unacceptable."""
    table = _read_table(body)
    _check_schema(table.schema)
    if table.num_rows > max_events:
        raise ValidationError(f"batch has {table.num_rows} events, limit {max_events}")
    if table.num_rows and any(col.null_count for col in table.columns):
        raise ValidationError("batch has null values")
    batch: PacketBatch = {name: table.column(name).to_numpy() for name in WIRE_COLUMNS}
    ts = batch["ts_us"]
    lo = int(ts.min()) if len(ts) else 0
    hi = int(ts.max()) if len(ts) else 0
    return Decoded(batch=batch, events=table.num_rows, min_ts_us=lo, max_ts_us=hi)
