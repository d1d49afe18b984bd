"""Directories of tcpdump rotations are read in time order."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from isdas.capture import read_capture
from isdas.capture.rotation import natural_key, rotation_files
from isdas.errors import CaptureError
from tests.capture import build as pk

T0 = 1_700_000_000_000_000


def cap(path: Path, start: int, n: int = 3) -> None:
    recs = [(start + i, f) for i, (_, f) in enumerate(pk.syn_frames(n))]
    path.write_bytes(pk.pcap(recs))


def test_numeric_suffixes_sort_naturally(tmp_path: Path) -> None:
    names = ["dump", "dump1", "dump2", "dump10", "dump11"]
    for i, name in enumerate(names):
        cap(tmp_path / name, T0 + i * 1000)
    reader = read_capture(tmp_path)
    assert [Path(p).name for p in reader.files] == names
    ts = [int(t) for b in reader for t in b["ts_us"]]
    assert ts == sorted(ts)
    assert reader.stats.packets == 15


def test_first_timestamp_wins_over_names(tmp_path: Path) -> None:
    cap(tmp_path / "a-late.pcap", T0 + 10_000)
    cap(tmp_path / "b-early.pcap", T0)
    (tmp_path / "c-middle.pcap.gz").write_bytes(
        gzip.compress(pk.pcap([(T0 + 5000, pk.syn_frames(1)[0][1])]))
    )
    (tmp_path / ".hidden").write_bytes(b"ignored")
    assert [Path(p).name for p in rotation_files(str(tmp_path))] == [
        "b-early.pcap",
        "c-middle.pcap.gz",
        "a-late.pcap",
    ]


def test_strftime_names_and_empty_files_fall_back_to_names(tmp_path: Path) -> None:
    for hour in (3, 1, 2):
        cap(tmp_path / f"sensor-20240101-{hour:02d}0000.pcap", T0 + hour)
    (tmp_path / "sensor-20240101-000000.pcap").write_bytes(pk.pcap([]))
    names = [Path(p).name for p in rotation_files(str(tmp_path))]
    assert names == [f"sensor-20240101-0{h}0000.pcap" for h in (1, 2, 3, 0)]


def test_truncated_member_does_not_stop_the_rest(tmp_path: Path) -> None:
    cap(tmp_path / "f", T0)
    cap(tmp_path / "f1", T0 + 100)
    (tmp_path / "f1").write_bytes((tmp_path / "f1").read_bytes()[:-5])
    cap(tmp_path / "f2", T0 + 200)
    reader = read_capture(tmp_path)
    assert sum(len(b["ts_us"]) for b in reader) == 8
    assert reader.stats.error is not None
    assert "f1" in reader.stats.error


def test_garbage_file_or_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no capture files"):
        read_capture(tmp_path)
    cap(tmp_path / "good", T0)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CaptureError, match="notes"):
        read_capture(tmp_path)


def test_natural_key() -> None:
    assert sorted(["x10", "x", "x2", "x1"], key=natural_key) == ["x", "x1", "x2", "x10"]
