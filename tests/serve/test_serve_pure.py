"""Pure parts of the serve stage: shaping, parameter validation (hypothesis), cache, feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isdas.errors import InputError, NotFound
from isdas.serve import params, shape
from isdas.serve.cache import VersionedCache
from isdas.serve.security import make_session, valid_session

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def hours(*offsets: int) -> list[datetime]:
    return [T0 + timedelta(hours=h) for h in offsets]


def test_gaps_cover_missing_runs_and_the_tail() -> None:
    found = shape.gaps(hours(0, 1, 4, 5), T0, T0 + timedelta(hours=8))
    assert [(g["start"], g["hours"]) for g in found] == [(hours(2)[0], 2), (hours(6)[0], 2)]
    assert shape.gaps(hours(0, 1, 2), T0, T0 + timedelta(hours=3)) == []


def test_fill_series_zero_fills_and_averages_per_hour() -> None:
    starts = shape.buckets(T0, T0 + timedelta(hours=18), 6)
    rows = [{"t": starts[1], "sources": 60, "packets": 12}]
    cols = shape.fill_series(rows, starts, 6, ("sources", "packets"))
    assert cols["sources"] == [0, 10.0, 0] and cols["packets"] == [0, 2.0, 0]
    assert cols["t"][1] - cols["t"][0] == 6 * 3600


def test_region_series_keeps_top_countries_and_sums_the_rest() -> None:
    starts = shape.buckets(T0, T0 + timedelta(hours=2), 1)
    rows = [
        {"t": starts[0], "country": c, "packets": n}
        for c, n in [("CN", 50), ("US", 40), ("RU", 30), ("DE", 20), ("NL", 10), ("BR", 5),
                     ("IN", 4)]
    ]  # fmt: skip
    found = shape.region_series(rows, starts, top=5)
    assert found["countries"] == ["CN", "US", "RU", "DE", "NL", "others"]
    assert found["values"]["others"] == [9, 0] and found["totals"]["others"] == 9


def test_floor_hours_aligns_days_to_utc_midnight() -> None:
    assert shape.floor_hours(T0 + timedelta(hours=13, minutes=5), 24) == T0
    assert shape.floor_hours(T0 + timedelta(hours=13), 6) == T0 + timedelta(hours=12)


@given(st.text(max_size=30))
def test_integer_parameter_accepts_or_says_why(raw: str) -> None:
    try:
        value = params.integer({"limit": raw}, "limit", 10, 1, 1000)
    except InputError as exc:
        message = str(exc)
        value = None
    assert (value is None and "limit" in message) or (value is not None and 1 <= value <= 1000)


@given(st.text(max_size=40))
def test_time_parameter_never_raises_anything_else(raw: str) -> None:
    try:
        value = params.timestamp(raw, "since")
    except InputError as exc:
        message = str(exc)
        value = None
    assert (value is None and "since" in message) or (value is not None and value.tzinfo)


def test_time_range_rules() -> None:
    rng = params.time_range({}, T0, timedelta(days=7))
    assert rng.until == T0 + timedelta(hours=1) and rng.until - rng.since == timedelta(days=7)
    with pytest.raises(InputError, match="before"):
        params.time_range({"since": "2026-03-02", "until": "2026-03-01"}, T0, timedelta(days=1))
    with pytest.raises(NotFound):
        params.proto("sctp")


def test_cache_invalidates_when_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "catalog.duckdb"
    path.write_bytes(b"one")
    cache = VersionedCache(path)
    calls: list[int] = []
    assert cache.get("k", lambda: calls.append(1) or 1) == 1
    assert cache.get("k", lambda: calls.append(2) or 2) == 1
    path.write_bytes(b"two two")
    assert cache.get("k", lambda: calls.append(3) or 3) == 3
    assert calls == [1, 3]


def test_session_cookie_is_signed_and_expires() -> None:
    value = make_session("tok", now=1000.0)
    assert valid_session("tok", value, now=1001.0)
    assert not valid_session("other", value, now=1001.0)
    assert not valid_session("tok", value, now=1000.0 + 13 * 3600)
    assert not valid_session("tok", value.replace(".", ".0"), now=1001.0)


def test_integer_parameter_refuses_what_int_would_choke_on() -> None:
    # found by hypothesis in a clean-clone run: "0\x1f" passed the digit check, then int() raised
    # (strip() removes \x1f, int() does not): now the stripped text is what is checked and parsed
    with pytest.raises(InputError, match="limit must be between 1 and 1000, not 0"):
        params.integer({"limit": "0\x1f"}, "limit", 10, 1, 1000)
    for raw in ("²", "1_0", "+-3", "\x1f"):
        with pytest.raises(InputError, match="limit must be an integer"):
            params.integer({"limit": raw}, "limit", 10, 1, 1000)
    assert params.integer({"limit": " 7 "}, "limit", 10, 1, 1000) == 7
