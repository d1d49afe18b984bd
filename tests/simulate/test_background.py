"""Statistical properties of the unlabelled background: the diurnal cycle of each busy key and
the source-country mix, checked with the offline lookup the ingest uses (iptocc)."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import iptocc
import numpy as np
import pytest

from isdas.simulate.background import PortModel, port_model
from isdas.simulate.engine import day_packets
from isdas.simulate.events import resolve
from isdas.simulate.pools import BACKGROUND_MIX, build_pools
from isdas.simulate.scenario import Scenario, scenario_from_dict
from isdas.simulate.traffic import US, Cols, concat

SEED = 3
RAW: dict[str, Any] = {
    "scenario": {"name": "bg", "start": "2026-03-02T00:00:00Z", "days": 4},
    "background": {"sources_per_hour": 1500.0, "tail_ports": 200, "floods_per_week": 0.0,
                   "backscatter_per_day": 0.0, "research_scanners": 0, "ipv6_share": 0.0},
    "sensors": [{"id": "a", "size": 20}, {"id": "b", "size": 24}],
}  # fmt: skip


@pytest.fixture(scope="module")
def background() -> tuple[Scenario, PortModel, Cols]:
    sc = resolve(scenario_from_dict(RAW, "bg"), SEED)
    pm, pools = port_model(sc, SEED), build_pools(SEED)
    days = [sc.start + timedelta(days=d) for d in range(4)]
    return sc, pm, concat([day_packets(sc, pm, pools, SEED, d, 24) for d in days])


def _sources_per_hour(pk: Cols, proto: int, port: int, t0: int) -> np.ndarray:
    """Distinct sources per hour on one key (what the ingest metrics count)."""
    m = (pk["proto"] == proto) & (pk["dport"] == port)
    hour = (pk["ts"][m] - t0) // (3600 * US)
    pairs = np.unique(pk["src"][m].astype(np.int64) * 1000 + hour)
    return np.bincount((pairs % 1000).astype(np.int64), minlength=96)[:96].astype(np.float64)


def test_diurnal_cycle_matches_each_keys_model(
    background: tuple[Scenario, PortModel, Cols],
) -> None:
    """Fit 1 + a sin(2 pi (h - phi + 6) / 24) to each busy key's hourly sources: the fitted
    amplitude and peak hour recover the model's (a, phi) of that key."""
    sc, pm, pk = background
    t0 = int(sc.start.timestamp()) * US
    checked = 0
    for k in np.nonzero((pm.rate > 50) & (pm.amp > 0.2))[0]:
        y = _sources_per_hour(pk, int(pm.proto[k]), int(pm.port[k]), t0)
        hod = np.arange(96) % 24
        x = np.column_stack(
            [np.ones(96), np.sin(2 * np.pi * hod / 24), np.cos(2 * np.pi * hod / 24)]
        )
        c0, s, c = np.linalg.lstsq(x, y, rcond=None)[0]
        amp, peak = np.hypot(s, c) / c0, (np.degrees(np.arctan2(s, c)) / 15) % 24
        assert amp == pytest.approx(pm.amp[k], abs=0.08)
        # sin(w(h - phi + 6)) peaks at h = phi; the fitted phase of s sin + c cos peaks at atan2
        assert min(abs(peak - pm.phase[k]), 24 - abs(peak - pm.phase[k])) < 1.5
        checked += 1
    assert checked >= 3


def test_flat_keys_have_no_cycle(background: tuple[Scenario, PortModel, Cols]) -> None:
    sc, pm, pk = background
    t0 = int(sc.start.timestamp()) * US
    k = int(np.argmin(np.where(pm.rate > 50, pm.amp, 9.0)))
    assert pm.amp[k] < 0.1
    y = _sources_per_hour(pk, int(pm.proto[k]), int(pm.port[k]), t0)
    by_hod = y.reshape(4, 24).mean(axis=0)
    assert by_hod.max() / by_hod.min() < 1.6  # noise only: the busiest hour is no outlier


def _dotted(a: np.ndarray) -> list[str]:
    return [socket.inet_ntoa(int(x).to_bytes(4, "big")) for x in a]


def test_country_mix_of_background_sources(background: tuple[Scenario, PortModel, Cols]) -> None:
    _, _, pk = background
    src = np.unique(pk["src"][(pk["ipver"] == 4) & (pk["origin"] == -1)])
    sample = np.random.default_rng(0).choice(src, size=min(len(src), 20000), replace=False)
    cc = np.asarray([c or "" for c in iptocc.country_code(_dotted(sample))])
    assert len(sample) > 10000
    for country, share in BACKGROUND_MIX.items():
        if country != "*":
            assert np.mean(cc == country) == pytest.approx(share, abs=0.015), country
    assert np.mean(cc == "") < 0.01  # drawn from public, allocated space
