"""The sensor's numpy decoder gives exactly what isdas.capture.decode_frames gives.

Also the TPACKET_V3 block walk (isdas.sensor.live.block_frames) on a block built by hand.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isdas.capture import LINKTYPES as CAPTURE_LINKTYPES
from isdas.capture import decode_frames
from isdas.errors import CaptureError
from isdas.sensor.decode import LINKTYPES, decode, pack
from isdas.sensor.live import PACKET_OUTGOING, block_frames
from isdas.sensor.wire import WIRE_COLUMNS
from tests.capture import build as pk
from tests.capture.test_decode import SYN

V6_EXT = pk.ext_opts(43, 1) + pk.ext_opts(51) + pk.ext_ah(44) + pk.ext_frag(60, 0, True, 7)
V6_EXT += pk.ext_opts(6)
IPS = [
    SYN,
    pk.ipv4(pk.udp(7, 8), 17, frag=0x2000),
    pk.ipv4(b"\x11\x11\x22\x22zzzz", 17, frag=0x2000 | 185),
    pk.ipv4(pk.udp(1111, 2222), 17, options=b"\x94\x04\x00\x00" + b"\x01" * 8),
    pk.ipv4(pk.icmp(3, 13), 1),
    pk.ipv4(pk.tcp(), 6, total=30),
    pk.ipv6(pk.icmp(128, 0), 58),
    pk.ipv6(pk.tcp(1, 22, seq=5, flags=0x12), 0, ext=V6_EXT),
    pk.ipv6(b"\x00\x01\x00\x02rest", 44, ext=pk.ext_frag(17, 100, False, 9)),
    pk.ipv6(pk.udp(), 0, ext=pk.ext_opts(17)),
]


def framed(ip: bytes, linktype: int) -> bytes:
    """`ip` in the link-layer header of `linktype`."""
    v6 = ip[0] >> 4 == 6
    etype = 0x86DD if v6 else 0x0800
    if linktype == 1:
        return pk.ether(ip, etype, vlans=(0x8100,) if len(ip) % 2 else ())
    if linktype == 113:
        return pk.sll(ip, etype)
    if linktype == 276:
        return pk.sll2(ip, etype)
    if linktype in (0, 108):
        return pk.null(ip, 30 if v6 else 2, "<" if len(ip) % 2 else ">")
    return ip


def reference(frames: list[bytes], linktype: int) -> dict[str, np.ndarray]:
    return decode_frames(frames, linktype, np.arange(len(frames), dtype=np.int64) * 7)


def assert_same(frames: list[bytes], linktype: int) -> int:
    """Both decoders agree on every column (values and dtypes); returns the rows."""
    want = reference(frames, linktype)
    got = decode(pack(frames, np.arange(len(frames), dtype=np.int64) * 7), linktype)
    assert list(got) == list(WIRE_COLUMNS)
    for name in WIRE_COLUMNS:
        assert got[name].dtype == want[name].dtype, name
        assert got[name].tolist() == want[name].tolist(), name
    return len(want["ts_us"])


def test_link_types_are_the_capture_ones() -> None:
    assert LINKTYPES == CAPTURE_LINKTYPES


@pytest.mark.parametrize("linktype", sorted(LINKTYPES))
def test_every_header_variant_on_every_link_type(linktype: int) -> None:
    frames = [framed(ip, linktype) for ip in IPS]
    if linktype in (228, 229):
        frames = [ip for ip in IPS if ip[0] >> 4 == (4 if linktype == 228 else 6)]
    assert assert_same(frames, linktype) == len(frames)


def test_vlan_stacks_truncation_and_non_ip() -> None:
    frames = [
        pk.ether(SYN, vlans=(0x9100, 0x88A8, 0x8100)),
        pk.ether(SYN, vlans=(0x8100,) * 8),
        pk.ether(SYN, vlans=(0x8100,) * 9),  # more tags than followed: dropped
        pk.MAC + b"\x08\x06" + b"\x00" * 28,
        pk.ether(pk.ipv6(pk.tcp()), 0x0800),
        b"",
        b"\x45",
    ]
    whole = [pk.ether(ip) for ip in IPS]
    frames += [f[:cut] for f in whole for cut in range(len(f) + 1)]
    assert 0 < assert_same(frames, 1) < len(frames)


def test_empty_and_bad_arguments() -> None:
    assert decode(pack([], []), 1)["ts_us"].dtype == np.int64
    assert len(decode(pack([b""] * 3, [1, 2, 3]), 1)["ts_us"]) == 0
    with pytest.raises(CaptureError):
        decode(pack([b""], [0]), 147)
    with pytest.raises(CaptureError):
        pack([b"", b""], [0])


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EDITS = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6)


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, len(IPS) - 1), EDITS, st.integers(0, 200)), max_size=30),
    st.sampled_from(sorted(LINKTYPES)),
)
def test_mutated_frames_decode_as_the_reference(
    picks: list[tuple[int, list[tuple[int, int]], int]], linktype: int
) -> None:
    frames = []
    for which, edits, cut in picks:
        buf = bytearray(framed(IPS[which], linktype))
        for pos, value in edits:
            buf[pos % len(buf)] = value
        frames.append(bytes(buf[:cut]))
    assert_same(frames, linktype)


@FUZZ
@given(st.lists(st.binary(max_size=120), max_size=20), st.sampled_from(sorted(LINKTYPES)))
def test_random_bytes_decode_as_the_reference(frames: list[bytes], linktype: int) -> None:
    assert_same(frames, linktype)


def tpacket_block(frames: list[tuple[bytes, int, int]], first: int = 48) -> bytes:
    """A TPACKET_V3 block as the kernel fills it: (frame, sec, pkttype) records."""
    body = bytearray(first)
    for i, (data, sec, pkttype) in enumerate(frames):
        mac = 82
        size = (mac + len(data) + 7) & ~7
        nxt = size if i < len(frames) - 1 else 0
        hdr = struct.pack("<IIIIIIHH", nxt, sec, 123_456_789, len(data), len(data), 1, mac, 96)
        ll = struct.pack("<HHiHBB8s", 17, 0, 2, 1, pkttype, 6, b"")
        rec = hdr + bytes(48 - len(hdr)) + ll
        body += (rec + bytes(mac - len(rec)) + data).ljust(size, b"\x00")
    struct.pack_into("<IIIIII", body, 0, 3, 0, 1, len(frames), first, len(body))
    return bytes(body.ljust((len(body) + 7) & ~7, b"\x00"))


def test_block_walk_reads_frames_and_skips_outgoing() -> None:
    a, b, c = pk.ether(SYN), pk.ether(IPS[6], 0x86DD), pk.ether(IPS[1])
    raw = tpacket_block([(a, 10, 0), (b, 11, PACKET_OUTGOING), (c, 12, 3)])
    frames = block_frames(raw, 3, 48)
    assert len(frames) == 2
    got = [bytes(frames.buf[o : o + n]) for o, n in zip(frames.offs, frames.lens, strict=True)]
    assert got == [a, c]
    assert frames.ts_us.tolist() == [10_123_456, 12_123_456]
    assert len(decode(frames, 1)["ts_us"]) == 2


@FUZZ
@given(st.binary(min_size=64, max_size=600), st.integers(0, 40))
def test_block_walk_never_leaves_a_corrupt_block(raw: bytes, count: int) -> None:
    raw = raw[: len(raw) & ~7]
    frames = block_frames(raw, count, 48)
    assert len(frames) <= count
    assert all(o >= 0 and o + n <= len(raw) for o, n in zip(frames.offs, frames.lens, strict=True))
    decode(frames, 1)
