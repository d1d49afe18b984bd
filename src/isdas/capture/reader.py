"""Capture stage: drive the numba walkers over a chunked stream and yield packet batches.

One file at a time: sniff the format, then repeat: walk the buffer (list frames), decode the
listed frames into a batch, refill the buffer.
A truncated or corrupt record ends the file quietly: everything before it was yielded and
`stats.truncated_at`/`stats.error` say where and why. Must not touch the store or print.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np

from isdas.capture import pcap, pcapng
from isdas.capture.batch import BATCH_ROWS, PacketBatch, ReadStats, new_columns, to_batch
from isdas.capture.decode import LINKTYPES, decode_many
from isdas.capture.stream import ByteStream, open_stream
from isdas.errors import CaptureError

log = logging.getLogger(__name__)
Meta = np.ndarray[tuple[int], np.dtype[np.int64]]
Frames = np.ndarray[tuple[int, int], np.dtype[np.int64]]


def sniff(path: str) -> str:
    """'pcap' or 'pcapng' from the first bytes (after gunzip); CaptureError otherwise."""
    with open_stream(path, 4096) as s:
        head = bytes(s.buf[: min(s.n, 8)])
        if s.error is not None and s.n < 4:
            raise CaptureError(f"not a readable gzip file ({s.error})", path=path)
    if pcap.is_pcap(head):
        return "pcap"
    if pcapng.is_pcapng(head):
        return "pcapng"
    if not head:
        raise CaptureError("empty file, not a capture", path=path)
    raise CaptureError(f"not a pcap or pcapng capture (starts with {head.hex()})", path=path)


def read_file(
    path: str, chunk_bytes: int, stats: ReadStats, *, probe: bool = False
) -> Iterator[PacketBatch]:
    """Every IP packet of one capture file, in file order, updating `stats` as it goes.

    probe: read the first chunk only (to learn the first timestamp of a rotation file).
    """
    kind = sniff(path)
    with open_stream(path, chunk_bytes) as stream:
        if probe:  # the walkers then stop where the first chunk ends
            stream.probe = stream.eof = True
        if kind == "pcap":
            yield from _pcap_batches(stream, stats)
        else:
            yield from _pcapng_batches(stream, stats)


def _frame_table(stream: ByteStream, min_record: int) -> Frames:
    """Reused per file: offset, caplen, linktype, ts_us of up to BATCH_ROWS frames."""
    return np.empty((4, max(1, min(BATCH_ROWS, stream.n // min_record + 1))), dtype=np.int64)


def _decode(stream: ByteStream, fr: Frames, meta: Meta, stats: ReadStats) -> PacketBatch | None:
    """Decode the frames a walker call listed; fold the counts into stats."""
    k = int(meta[1])
    stats.frames += k
    stats.bytes_read = stream.base + int(meta[0])
    if k == 0:
        return None
    cols = new_columns(k)
    rows = int(decode_many(stream.buf, fr[0, :k], fr[1, :k], fr[2, :k], fr[3, :k], cols))
    stats.packets += rows
    stats.skipped += k - rows
    return to_batch(cols, rows) if rows else None


def _stop(stats: ReadStats, stream: ByteStream, pos: int, what: str) -> None:
    stats.truncated_at = stream.base + pos
    stats.error = f"{stream.path}: {what} at {stream.where(pos)}"
    log.warning("%s", stats.error)


def _end(stats: ReadStats, stream: ByteStream, pos: int) -> None:
    """End of stream: fine at a record boundary, else a truncation."""
    stats.bytes_read = stream.base + pos
    if stream.probe:
        return
    if stream.error is not None:
        _stop(stats, stream, pos, stream.error + "; stopped")
    elif pos < stream.n:
        _stop(stats, stream, pos, "file ends inside a record")


def _pcap_batches(stream: ByteStream, stats: ReadStats) -> Iterator[PacketBatch]:
    if stream.n < 24:
        _stop(stats, stream, 0, "file ends inside the pcap header")
        return
    head = pcap.parse_header(bytes(stream.buf[:24]))
    _note_linktype(stats, head.linktype)
    hdr, pos, meta = pcap.header_array(head), 24, np.zeros(4, dtype=np.int64)
    fr = _frame_table(stream, head.rec_len)
    while True:
        status = pcap.walk_pcap(stream.buf, stream.n, pos, hdr, fr, meta)
        pos = int(meta[0])
        batch = _decode(stream, fr, meta, stats)
        if batch is not None:
            yield batch
        if status == pcap.CORRUPT:
            limit = head.caplen_limit
            _stop(stats, stream, pos, f"record claims {meta[2]} captured bytes (limit {limit})")
            return
        if status == pcap.NEED:
            if stream.eof:
                _end(stats, stream, pos)
                return
            stream.refill(pos, int(meta[2]))
            pos = 0


def _note_linktype(stats: ReadStats, linktype: int) -> None:
    stats.linktypes.add(linktype)
    if linktype not in LINKTYPES:
        log.warning("link type %d is not decoded; its frames are counted as skipped", linktype)


def _pcapng_batches(stream: ByteStream, stats: ReadStats) -> Iterator[PacketBatch]:
    section, pos, meta = pcapng.Section(), 0, np.zeros(4, dtype=np.int64)
    fr = _frame_table(stream, 12)
    while True:
        status = pcapng.walk_ng(stream.buf, stream.n, pos, section.swap, section.ifs, fr, meta)
        pos = int(meta[0])
        batch = _decode(stream, fr, meta, stats)
        if batch is not None:
            yield batch
        reason = ""
        if status == pcap.SPECIAL:
            status, pos, reason = _special(stream, pos, section, stats, meta)
        if status == pcap.CORRUPT:
            _stop(stats, stream, pos, reason or pcapng.REASONS.get(int(meta[2]), "bad block"))
            return
        if status == pcap.NEED:
            if stream.eof:
                _end(stats, stream, pos)
                return
            stream.refill(pos, int(meta[2]))
            pos = 0


def _special(
    stream: ByteStream, pos: int, section: pcapng.Section, stats: ReadStats, meta: Meta
) -> tuple[int, int, str]:
    """Handle the SHB or IDB at pos: (status, new pos, reason). FULL means 'walk on'."""
    b = stream.buf
    btype = int.from_bytes(bytes(b[pos : pos + 4]), "little")
    swap = section.swap
    if btype == pcapng.SHB:
        swap = bytes(b[pos + 8 : pos + 12]) == b"\x1a\x2b\x3c\x4d"
    blen = int.from_bytes(bytes(b[pos + 4 : pos + 8]), "big" if swap else "little")
    minimum = 28 if btype == pcapng.SHB else 20
    if blen < minimum or blen % 4 or blen > pcap.MAX_RECORD:
        return pcap.CORRUPT, pos, pcapng.REASONS[1]
    if pos + blen > stream.n:
        meta[2] = blen
        return pcap.NEED, pos, ""
    block = bytes(b[pos : pos + blen])
    if int.from_bytes(block[-4:], "big" if swap else "little") != blen:
        return pcap.CORRUPT, pos, pcapng.REASONS[2]
    try:
        if btype == pcapng.SHB:
            section.start(block)
        else:
            _note_linktype(stats, section.add_interface(block))
    except ValueError as exc:
        return pcap.CORRUPT, pos, str(exc)
    return pcap.FULL, pos + blen, ""
