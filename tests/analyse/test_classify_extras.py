"""Research-scanner networks, per-source profiles and the reference detectors."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from isdas.analyse import references
from isdas.analyse.profile import horizontal_threshold, profile
from isdas.analyse.research import parse_networks, research_mask
from isdas.errors import InputError, IsdasError
from isdas.models import parse_addr


def cols(addrs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [parse_addr(a) for a in addrs]
    return (np.array([p[0] for p in pairs], np.uint64), np.array([p[1] for p in pairs], np.uint64))


def test_research_list_tags_only_listed_sources() -> None:
    nets = parse_networks("# scanners\n198.51.100.0/24 ExampleScan\n2001:db8:5::/48\n\n")
    assert [n.name for n in nets] == ["ExampleScan", "2001:db8:5::/48"]
    hi, lo = cols(["198.51.100.7", "198.51.101.1", "2001:db8:5::9", "2001:db8:6::1", "::1"])
    assert research_mask(hi, lo, nets).tolist() == [True, False, True, False, False]


def test_research_list_bad_line_is_an_input_error() -> None:
    with pytest.raises(InputError, match="line 2"):
        parse_networks("10.0.0.0/8\nnot-a-cidr name\n")


@given(st.text(max_size=200))
def test_research_parser_never_raises_anything_else(text: str) -> None:
    with contextlib.suppress(IsdasError):
        parse_networks(text)


def test_profile_separates_focused_all_port_and_horizontal() -> None:
    src = np.array([1] * 200 + [2] * 300 + [3] * 3, dtype=np.uint64)
    dst = np.concatenate([np.arange(200), np.zeros(300), np.zeros(3)]).astype(np.uint64)
    port = np.concatenate([np.full(200, 23), np.arange(300), [80, 81, 82]]).astype(np.int64)
    prof = profile(src, dst, port, monitored=4096)
    assert prof.ports.tolist() == [1, 300, 3]
    assert prof.targets.tolist() == [200, 1, 1]
    assert prof.focused.tolist() == [True, False, True]
    assert prof.all_port.tolist() == [False, True, False]
    assert prof.horizontal.tolist() == [True, False, False]
    assert horizontal_threshold(2**24) == 100 and horizontal_threshold(256) == 10


def test_reference_detectors_fire_on_a_spike_and_calibrate() -> None:
    rng = np.random.default_rng(0)
    src = rng.poisson(20, (40, 50)).astype(float)
    src[30, 7] = 200
    dst = src * 3
    ds = references.dshield_scores(src, dst)
    gn = references.greynoise_scores(src)
    assert ds[30].argmax() == 7 and gn[30].argmax() == 7
    thr = references.calibrate_daily(ds, slice(7, 28), 3.0, 1.0)
    hits = references.alarms(ds, thr, 28)
    assert (7, 30) in [(k, d) for k, d, _ in hits]
