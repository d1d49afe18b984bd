"""Capture stage: drive the numba walkers over a chunked stream and yield packet batches.

One file at a time: sniff the format, then alternate "walk the buffer" and "refill the buffer".
A truncated or corrupt record ends the file quietly: everything before it was yielded and
`stats.truncated_at`/`stats.error` say where and why. Must not touch the store or print.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np

from isdas.capture import pcap, pcapng
from isdas.capture.batch import BATCH_ROWS, PacketBatch, ReadStats, new_columns, to_batch
from isdas.capture.decode import LINKTYPES
from isdas.capture.stream import ByteStream, open_stream
from isdas.errors import CaptureError

log = logging.getLogger(__name__)
Meta = np.ndarray[tuple[int], np.dtype[np.int64]]


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


def _capacity(stream: ByteStream, pos: int, min_record: int) -> int:
    return max(1, min(BATCH_ROWS, (stream.n - pos) // min_record + 1))


def _account(meta: Meta, stats: ReadStats, stream: ByteStream) -> int:
    """Fold a walker call's counters into stats; returns the new position."""
    stats.frames += int(meta[2])
    stats.skipped += int(meta[3])
    stats.packets += int(meta[1])
    stats.bytes_read = stream.base + int(meta[0])
    return int(meta[0])


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
    hdr, pos, meta = pcap.header_array(head), 24, np.zeros(6, dtype=np.int64)
    while True:
        cols = new_columns(_capacity(stream, pos, head.rec_len))
        status = pcap.walk_pcap(stream.buf, stream.n, pos, hdr, cols, len(cols[0]), meta)
        pos = _account(meta, stats, stream)
        if meta[1] > 0:
            yield to_batch(cols, int(meta[1]))
        if status == pcap.CORRUPT:
            limit = head.caplen_limit
            _stop(stats, stream, pos, f"record claims {meta[4]} captured bytes (limit {limit})")
            return
        if status == pcap.NEED:
            if stream.eof:
                _end(stats, stream, pos)
                return
            stream.refill(pos, int(meta[4]))
            pos = 0


def _note_linktype(stats: ReadStats, linktype: int) -> None:
    stats.linktypes.add(linktype)
    if linktype not in LINKTYPES:
        log.warning("link type %d is not decoded; its frames are counted as skipped", linktype)


def _pcapng_batches(stream: ByteStream, stats: ReadStats) -> Iterator[PacketBatch]:
    section, pos, meta = pcapng.Section(), 0, np.zeros(6, dtype=np.int64)
    while True:
        cols = new_columns(_capacity(stream, pos, 12))
        status = pcapng.walk_ng(
            stream.buf, stream.n, pos, section.swap, section.ifs, cols, len(cols[0]), meta
        )
        pos = _account(meta, stats, stream)
        if meta[1] > 0:
            yield to_batch(cols, int(meta[1]))
        reason = ""
        if status == pcap.SPECIAL:
            status, pos, reason = _special(stream, pos, section, stats, meta)
        if status == pcap.CORRUPT:
            _stop(stats, stream, pos, reason or pcapng.REASONS.get(int(meta[4]), "bad block"))
            return
        if status == pcap.NEED:
            if stream.eof:
                _end(stats, stream, pos)
                return
            stream.refill(pos, int(meta[4]))
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
        meta[4] = blen
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
