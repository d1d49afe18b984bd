"""Untrusted bodies: the wire decoder raises nothing but ValidationError (hypothesis)."""

from __future__ import annotations

import contextlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from isdas.errors import ValidationError
from isdas.sensor import wire
from isdas.serve.collector import parse_heartbeat

VALID = wire.encode({k: np.zeros(3, dtype=v.dtype) for k, v in wire.empty_batch().items()})


@given(st.binary(max_size=2000))
@settings(max_examples=200, deadline=None)
def test_random_bytes(body: bytes) -> None:
    with contextlib.suppress(ValidationError):
        wire.decode(body, max_events=1000)


@given(st.integers(0, len(VALID) - 1), st.integers(0, 255), st.integers(1, len(VALID)))
@settings(max_examples=300, deadline=None)
def test_mutated_valid_stream(pos: int, value: int, cut: int) -> None:
    body = bytearray(VALID[:cut])
    if pos < len(body):
        body[pos] = value
    try:
        decoded = wire.decode(bytes(body), max_events=1000)
    except ValidationError:
        return
    assert decoded.events <= 1000


@given(st.binary(max_size=300))
def test_heartbeat_bodies(body: bytes) -> None:
    with contextlib.suppress(ValidationError):
        assert isinstance(parse_heartbeat(body), dict)
