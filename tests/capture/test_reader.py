"""read_capture: pcap variants, pcapng blocks/interfaces/sections, gzip, chunking, bad input."""

from __future__ import annotations

import gzip
import random
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from isdas.capture import COLUMN_NAMES, COLUMNS, PacketBatch, ReadStats, decode_frames, read_capture
from isdas.errors import CaptureError
from tests.capture import build as pk
from tests.capture.build import generated


def read_all(path: Path, chunk_bytes: int = 32 << 20) -> tuple[PacketBatch, ReadStats]:
    reader = read_capture(path, chunk_bytes=chunk_bytes)
    batches = list(reader)
    cat = {
        k: np.concatenate([b[k] for b in batches]) if batches else np.zeros(0)
        for k in (batches[0] if batches else {"ts_us": 0})
    }
    return cat, reader.stats


def write(tmp_path: Path, data: bytes, name: str = "cap") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nanos", [False, True])
def test_classic_pcap_byte_orders_and_resolutions(tmp_path: Path, order: str, nanos: bool) -> None:
    recs = pk.syn_frames(50)
    if nanos:
        recs = [(ts * 1000 + 999, f) for ts, f in recs]
    recs.insert(3, (recs[3][0], pk.MAC + b"\x08\x06" + b"\x00" * 28))  # ARP
    cols, stats = read_all(write(tmp_path, pk.pcap(recs, order=order, nanos=nanos)))
    want = [ts // 1000 if nanos else ts for ts, _ in recs]
    del want[3]
    assert cols["ts_us"].tolist() == want
    assert cols["dport"].tolist() == [1 + (i * 7) % 65535 for i in range(50)]
    assert (stats.frames, stats.packets, stats.skipped) == (51, 50, 1)
    assert stats.truncated_at is None
    assert stats.error is None
    assert stats.linktypes == {1}
    assert stats.bytes_read == (tmp_path / "cap").stat().st_size


def test_out_of_order_timestamps_are_kept(tmp_path: Path) -> None:
    recs = [
        (ts, f)
        for (ts, _), (_, f) in zip(reversed(pk.syn_frames(5)), pk.syn_frames(5), strict=True)
    ]
    cols, _ = read_all(write(tmp_path, pk.pcap(recs)))
    assert cols["ts_us"].tolist() == [ts for ts, _ in recs]


@pytest.mark.parametrize("chunk", [64, 100, 1000, 4096])
def test_small_chunks_give_the_same_packets(tmp_path: Path, chunk: int) -> None:
    data = pk.pcap(pk.syn_frames(300))
    big, _ = read_all(write(tmp_path, data))
    small, stats = read_all(tmp_path / "cap", chunk_bytes=chunk)
    assert stats.packets == 300
    for k, v in big.items():
        assert small[k].tolist() == v.tolist(), k


def test_pcapng_interfaces_resolutions_sections_and_blocks(tmp_path: Path) -> None:
    syn = pk.ipv4(pk.tcp(1, 80))
    data = b"".join(
        [
            pk.shb(">"),
            pk.idb(1, ">"),  # default µs
            pk.idb(101, ">", tsresol=9),  # ns
            pk.idb(113, ">", tsresol=0x80 | 10, tsoffset=100),  # 2^-10 s, +100 s
            pk.epb(0, 1_000_001, pk.ether(syn), ">"),
            pk.other_block(">"),
            pk.epb(1, 2_000_000_123_456, syn, ">"),
            pk.epb(2, 3 * 1024 + 512, pk.sll(syn), ">"),
            pk.opb(1, 5_000_000_000, syn, ">"),
            pk.spb(pk.ether(syn), ">"),  # SPB: interface 0, no timestamp (previous one kept)
            pk.epb(7, 1, syn, ">"),  # unknown interface: skipped
            pk.shb("<"),
            pk.idb(228, "<", tsresol=3),  # ms
            pk.epb(0, 42, syn, "<"),
            pk.epb(0, 43, pk.MAC + b"\x08\x06", "<"),  # not IP on a raw v4 link
        ]
    )
    cols, stats = read_all(write(tmp_path, data))
    assert cols["ts_us"].tolist() == [
        1_000_001,
        2_000_000_123,
        103_500_000,
        5_000_000,
        5_000_000,
        42_000,
    ]
    assert cols["dport"].tolist() == [80] * 6
    assert (stats.frames, stats.packets, stats.skipped) == (8, 6, 2)
    assert stats.linktypes == {1, 101, 113, 228}
    assert stats.error is None


def test_pcapng_binary_resolution_high_exponent(tmp_path: Path) -> None:
    ts = (1_700_000_000 << 32) | (1 << 31)  # 2^-32 s units: .5 s
    data = pk.shb() + pk.idb(101, tsresol=0x80 | 32) + pk.epb(0, ts, pk.ipv4(pk.tcp()))
    cols, _ = read_all(write(tmp_path, data))
    assert cols["ts_us"].tolist() == [1_700_000_000_500_000]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_gzip_detected_by_magic_not_name(tmp_path: Path, fmt: str) -> None:
    recs = pk.syn_frames(20)
    raw = (
        pk.pcap(recs)
        if fmt == "pcap"
        else pk.shb() + pk.idb(1) + b"".join(pk.epb(0, t, f) for t, f in recs)
    )
    cols, stats = read_all(write(tmp_path, gzip.compress(raw), "no-suffix"))
    assert cols["ts_us"].tolist() == [t for t, _ in recs]
    assert stats.bytes_read == len(raw)


def test_truncated_gzip_reports_decompressed_offset(tmp_path: Path) -> None:
    raw = pk.pcap(pk.syn_frames(2000))
    packed = gzip.compress(raw)
    reader = read_capture(write(tmp_path, packed[: len(packed) // 2], "x.pcap.gz"))
    got = sum(len(b["ts_us"]) for b in reader)
    assert 0 < got < 2000
    assert reader.stats.truncated_at is not None
    assert "decompressed" in (reader.stats.error or "")


def test_truncation_at_every_offset_yields_complete_records(tmp_path: Path) -> None:
    recs = [*pk.syn_frames(3), (9, pk.ether(pk.ipv6(pk.udp(), 17), 0x86DD))]
    data = pk.pcap(recs)
    ends, pos = [], 24
    for _, f in recs:
        pos += 16 + len(f)
        ends.append(pos)
    for cut in range(len(data) + 1):
        path = write(tmp_path, data[:cut])
        if cut < 4:
            with pytest.raises(CaptureError):
                read_capture(path)
            continue
        reader = read_capture(path, chunk_bytes=64)
        n = sum(len(b["ts_us"]) for b in reader)
        complete = sum(1 for e in ends if e <= cut)
        assert n == complete, cut
        boundary = cut in (24, *ends)
        assert (reader.stats.truncated_at is None) == boundary, cut
        if not boundary:
            start = max([24, *[e for e in ends if e <= cut]]) if cut >= 24 else 0
            assert reader.stats.truncated_at == start


def test_pcapng_truncation_at_every_offset(tmp_path: Path) -> None:
    blocks = [pk.shb(), pk.idb(1), *[pk.epb(0, t, f) for t, f in pk.syn_frames(3)]]
    data = b"".join(blocks)
    ends = np.cumsum([len(b) for b in blocks]).tolist()
    for cut in range(4, len(data) + 1):
        reader = read_capture(write(tmp_path, data[:cut]), chunk_bytes=50)
        n = sum(len(b["ts_us"]) for b in reader)
        assert n == sum(1 for e in ends[2:] if e <= cut), cut
        assert (reader.stats.truncated_at is None) == (cut in ends), cut


def test_huge_caplen_is_rejected_without_allocating(tmp_path: Path) -> None:
    good = pk.pcap(pk.syn_frames(2))
    bad = good + b"\x00" * 8 + (2**31).to_bytes(4, "little") + b"\x00" * 4 + b"junk"
    reader = read_capture(write(tmp_path, bad))
    assert sum(len(b["ts_us"]) for b in reader) == 2
    assert reader.stats.truncated_at == len(good)
    assert "limit" in (reader.stats.error or "")


@pytest.mark.parametrize(
    "tail",
    [
        (6).to_bytes(4, "little") + (13).to_bytes(4, "little") + b"\x00" * 8,  # not a multiple of 4
        (6).to_bytes(4, "little") + (2**30).to_bytes(4, "little") + b"\x00" * 8,  # huge
        pk.epb(0, 1, b"abcd")[:-4] + b"\x00\x00\x00\x00",  # trailing length mismatch
        pk.idb(1)[:8] + b"\x00" * 8 + pk.idb(1)[:4],  # IDB whose trailer disagrees
    ],
)
def test_corrupt_pcapng_block_stops_reading(tmp_path: Path, tail: bytes) -> None:
    head = pk.shb() + pk.idb(1) + pk.epb(0, 5, pk.ether(pk.ipv4(pk.tcp())))
    reader = read_capture(write(tmp_path, head + tail + pk.epb(0, 6, pk.ether(pk.ipv4(pk.tcp())))))
    assert sum(len(b["ts_us"]) for b in reader) == 1
    assert reader.stats.truncated_at == len(head)
    assert reader.stats.error


@pytest.mark.parametrize("data", [b"", b"hello world, not a capture", b"\x1f\x8bnot gzip at all"])
def test_garbage_raises_capture_error_naming_the_file(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data, "garbage.bin")
    with pytest.raises(CaptureError, match=r"garbage\.bin"):
        read_capture(path)


def test_missing_file_is_a_capture_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="nope"):
        read_capture(tmp_path / "nope")


def test_unknown_linktype_counts_frames_as_skipped(tmp_path: Path) -> None:
    reader = read_capture(write(tmp_path, pk.pcap(pk.syn_frames(3), linktype=147)))
    assert list(reader) == []
    assert (reader.stats.frames, reader.stats.skipped, reader.stats.linktypes) == (3, 3, {147})


def test_claimed_length_never_drives_allocation(tmp_path: Path) -> None:
    head = pk.pcap([], snaplen=2**31)  # the header allows huge records
    record = (0).to_bytes(8, "little") + (50 << 20).to_bytes(4, "little") * 2 + b"x" * 100
    path = write(tmp_path, head + record)
    tracemalloc.start()
    try:
        reader = read_capture(path, chunk_bytes=4096)
        assert list(reader) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reader.stats.truncated_at == 24
    assert peak < 1 << 20


def test_kuznetzov_modified_pcap(tmp_path: Path) -> None:
    recs = pk.syn_frames(3)
    out = [struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 1)]
    for ts, f in recs:
        out.append(struct.pack("<IIIIIHBB", ts // 10**6, ts % 10**6, len(f), len(f), 1, 2, 3, 0))
        out.append(f)
    cols, stats = read_all(write(tmp_path, b"".join(out)))
    assert cols["ts_us"].tolist() == [ts for ts, _ in recs]
    assert stats.packets == 3


def test_decode_frames_matches_the_file_reader(tmp_path: Path) -> None:
    rng = random.Random(11)
    recs = generated(rng, 400)
    cols, _ = read_all(write(tmp_path, pk.pcap(recs)))
    live = decode_frames([f for _, f in recs], 1, np.array([t for t, _ in recs], dtype=np.int64))
    for name in COLUMN_NAMES:
        assert live[name].tolist() == cols[name].tolist(), name
        assert live[name].dtype == cols[name].dtype


def test_batches_follow_the_contract_columns(tmp_path: Path) -> None:
    reader = read_capture(write(tmp_path, pk.pcap(pk.syn_frames(5))))
    (batch,) = list(reader)
    assert [(k, v.dtype) for k, v in batch.items()] == [(k, np.dtype(t)) for k, t in COLUMNS]
    assert all(v.flags.c_contiguous and len(v) == 5 for v in batch.values())


def test_interface_flood_is_bounded(tmp_path: Path) -> None:
    idb = pk.idb(1)
    data = pk.shb() + idb * 65537 + pk.epb(0, 1, pk.ether(pk.ipv4(pk.tcp())))
    reader = read_capture(write(tmp_path, data))
    assert list(reader) == []
    assert "interfaces" in (reader.stats.error or "")
    assert reader.stats.truncated_at == len(pk.shb()) + 65536 * len(idb)
