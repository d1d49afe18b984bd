"""Sensor parts without processes: spool durability and cap, backoff, outcomes, config."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isdas.errors import InputError
from isdas.sensor.config import from_mapping, load_config
from isdas.sensor.ship import Outcome, backoff_delay, clock_offset, outcome_of
from isdas.sensor.spool import Spool


def test_spool_keeps_order_and_deletes_only_on_ack(tmp_path: Path) -> None:
    spool = Spool(tmp_path, cap_bytes=10_000)
    first = spool.put(b"a" * 100, 3)
    second = spool.put(b"b" * 100, 4, "w1234.0")
    assert [e.batch_id for e in spool.pending()] == [first.batch_id, "w1234.0"]
    assert spool.size() == (2, 200, 7)
    spool.ack(first)
    spool.reject(second)
    assert spool.pending() == []
    assert (tmp_path / "rejected" / second.path.name).read_bytes() == b"b" * 100


def test_spool_cap_drops_oldest_and_counts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path, cap_bytes=250)
    for i in range(5):
        spool.put(bytes(100), 10 + i)
    kept = spool.pending()
    assert [e.events for e in kept] == [13, 14]
    assert (spool.dropped_events, spool.dropped_batches) == (10 + 11 + 12, 3)
    assert "SPOOL FULL" in caplog.text


def test_spool_forgets_half_written_batches(tmp_path: Path) -> None:
    (tmp_path / ".tmp-b-1-x-5.arrows").write_bytes(b"partial")
    spool = Spool(tmp_path, cap_bytes=1000)
    assert spool.pending() == []
    assert not (tmp_path / ".tmp-b-1-x-5.arrows").exists()


@given(st.integers(0, 100), st.floats(0.01, 5), st.floats(1, 120))
def test_backoff_grows_within_cap(attempt: int, base: float, cap: float) -> None:
    delay = backoff_delay(attempt, base, cap, random.Random(attempt))
    ceiling = min(cap, base * 2.0**attempt)
    assert ceiling / 2 <= delay <= ceiling


def test_outcomes_and_clock_offset() -> None:
    assert outcome_of(200) is Outcome.ACK
    assert {outcome_of(s) for s in (413, 422)} == {Outcome.REJECT}
    assert {outcome_of(s) for s in (401, 403, 429, 500, 503)} == {Outcome.RETRY}
    offset = clock_offset("Mon, 23 Nov 2026 16:00:10 GMT", 1_795_449_600.0, 1_795_449_600.2)
    assert offset == pytest.approx(10.5 - 0.1)
    assert clock_offset("not a date", 0, 0) is None


def test_config_file_and_errors(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("isdas_secret\n")
    path = tmp_path / "s.toml"
    path.write_text('collector = "http://127.0.0.1:1"\nsensor_id = "a-1"\ntoken_file = "tok"\n')
    config = load_config(path)
    assert (config.token, config.spool_dir, config.batch_seconds) == (
        "isdas_secret", tmp_path / "spool", 10.0,
    )  # fmt: skip
    base = {"collector": "u", "sensor_id": "x", "token": "t"}
    bads = [
        {"sensor_id": "x"},
        {"collector": "u", "sensor_id": "x"},
        {**base, "sensor_id": "bad id"},
        {**base, "nope": 1},
        {**base, "batch_events": "x"},
    ]
    for bad in bads:
        with pytest.raises(InputError):
            from_mapping(bad)
