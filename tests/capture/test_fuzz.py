"""Hypothesis: random and mutated bytes never raise anything but CaptureError, never hang."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isdas.capture import LINKTYPES, decode_frames, read_capture
from isdas.errors import CaptureError
from tests.capture import build as pk

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PCAP = pk.pcap(
    [*pk.syn_frames(6), (5, pk.ether(pk.ipv6(pk.udp(), 0, ext=pk.ext_opts(17)), 0x86DD))]
)
PCAPNG = pk.shb() + pk.idb(1, tsresol=9) + b"".join(pk.epb(0, t, f) for t, f in pk.syn_frames(4))
PCAPNG += pk.spb(pk.ether(pk.ipv4(pk.udp(), 17))) + pk.shb(">") + pk.idb(113, ">")


def read(data: bytes, chunk: int) -> None:
    """Read data as a capture file; only CaptureError may escape, stats must be sane."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f"
        path.write_bytes(data)
        try:
            reader = read_capture(path, chunk_bytes=chunk)
            rows = sum(len(b["ts_us"]) for b in reader)
        except CaptureError:
            return
        s = reader.stats
        assert rows == s.packets
        assert s.packets + s.skipped == s.frames
        assert s.bytes_read <= len(data) or data[:2] == b"\x1f\x8b"
        assert (s.truncated_at is None) == (s.error is None)


def mutate(base: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    buf = bytearray(base)
    for pos, val in edits:
        buf[pos % len(buf)] = val
    return bytes(buf[: max(4, cut)])


EDITS = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8)


@FUZZ
@given(EDITS, st.integers(0, len(PCAP)), st.sampled_from([64, 333, 1 << 20]))
def test_mutated_pcap(edits: list[tuple[int, int]], cut: int, chunk: int) -> None:
    read(mutate(PCAP, edits, cut), chunk)


@FUZZ
@given(EDITS, st.integers(0, len(PCAPNG)), st.sampled_from([64, 333, 1 << 20]))
def test_mutated_pcapng(edits: list[tuple[int, int]], cut: int, chunk: int) -> None:
    read(mutate(PCAPNG, edits, cut), chunk)


@FUZZ
@given(st.sampled_from([PCAP[:4], PCAPNG[:12], b"\x4d\x3c\xb2\xa1", b""]), st.binary(max_size=600))
def test_magic_then_random_bytes(head: bytes, tail: bytes) -> None:
    read(head + tail, 128)


@FUZZ
@given(EDITS, st.integers(0, 2000))
def test_mutated_gzip(edits: list[tuple[int, int]], cut: int) -> None:
    read(mutate(gzip.compress(PCAP), edits, cut), 256)


@FUZZ
@given(st.lists(st.binary(max_size=120), max_size=20), st.sampled_from(sorted(LINKTYPES)))
def test_decode_random_frames(frames: list[bytes], linktype: int) -> None:
    batch = decode_frames(frames, linktype, np.arange(len(frames), dtype=np.int64))
    assert len(batch["ts_us"]) <= len(frames)
    assert set(batch["ipver"].tolist()) <= {4, 6}


@FUZZ
@given(
    st.integers(0, 200), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6)
)
def test_decode_mutated_ipv6_frames(cut: int, edits: list[tuple[int, int]]) -> None:
    ext = pk.ext_opts(43) + pk.ext_opts(51) + pk.ext_ah(44) + pk.ext_frag(6, 0, True, 1)
    frame = bytearray(pk.ether(pk.ipv6(pk.tcp(), 0, ext=ext), 0x86DD))
    for pos, val in edits:
        frame[pos % len(frame)] = val
    batch = decode_frames([bytes(frame[:cut])], 1, np.zeros(1, dtype=np.int64))
    assert len(batch["ts_us"]) <= 1
