"""Sensor parts without processes: spool durability and cap, saved counters, backoff, outcomes,
config."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from isdas.errors import InputError
from isdas.sensor.batcher import spool_batch
from isdas.sensor.config import from_mapping, load_config
from isdas.sensor.counters import CUMULATIVE, Counters
from isdas.sensor.ship import Outcome, backoff_delay, clock_offset, outcome_of
from isdas.sensor.spool import Spool
from isdas.sensor.state import STATE_FILE, CounterState, read_state
from isdas.sensor.wire import empty_batch


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


def start(root: Path, cap: int = 1 << 20) -> CounterState:
    """What the agent does at start: open the spool and load the saved counters."""
    state = CounterState(Spool(root, cap), Counters())
    state.load()
    return state


def batch(events: int) -> dict[str, np.ndarray]:
    """A decoded batch of `events` zero rows."""
    return {name: np.zeros(events, dtype=col.dtype) for name, col in empty_batch().items()}


def test_counters_survive_a_clean_restart(tmp_path: Path) -> None:
    state = start(tmp_path)
    assert read_state(tmp_path)["restarts"] == 0
    since = state.counters.counting_since
    state.counters.add(received=12, parsed=10, kernel_drops=2)
    spool_batch(state.spool, state, batch(10))
    entry = state.spool.pending()[0]
    state.spool.ack(entry)
    state.counters.add(shipped=10)
    state.save()
    again = start(tmp_path)
    snap = again.counters.snapshot()
    assert {k: snap[k] for k in CUMULATIVE} == {
        "received": 12, "kernel_drops": 2, "parsed": 10, "spooled": 10, "shipped": 10,
        "spool_dropped": 0, "rejected": 0,
    }  # fmt: skip
    assert (snap["restarts"], snap["counting_since"]) == (1, since)


def test_counters_after_a_crash_are_reconciled_with_the_spool(tmp_path: Path) -> None:
    state = start(tmp_path)
    spool_batch(state.spool, state, batch(5))  # counted and saved
    shipped = state.spool.pending()[0]
    state.spool.put(b"x" * 10, 7)  # spooled, then killed before the checkpoint
    state.spool.ack(shipped)  # acknowledged, then killed before the checkpoint
    snap = start(tmp_path).counters.snapshot()
    assert (snap["spooled"], snap["shipped"]) == (12, 5)
    assert start(tmp_path).counters.spooled == 12  # counted once, not at every start


def test_cap_drops_are_counted_and_kept(tmp_path: Path) -> None:
    state = start(tmp_path, cap=1)
    for _ in range(3):
        spool_batch(state.spool, state, batch(4))
    assert (state.counters.spooled, state.counters.spool_dropped) == (12, 8)
    assert start(tmp_path, cap=1).counters.spool_dropped == 8


def test_unreadable_counters_start_afresh(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / STATE_FILE).write_text("{not json")
    state = start(tmp_path)
    assert state.counters.received == 0 and "unreadable" in caplog.text
    assert read_state(tmp_path)["version"] == 1


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
