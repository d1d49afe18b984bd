"""The default detector on synthetic hourly matrices: rises found, nuisances not."""

from __future__ import annotations

import numpy as np

from isdas.analyse.explain import Enrichment, build
from isdas.analyse.pipeline import Detector, feed
from isdas.analyse.state import Params
from isdas.models import Detection
from tests.analyse.synth import START, World, step_event, world

ONSET = 24 * 16


def run(w: World, p: Params | None = None) -> list[Detection]:
    det = Detector()
    feed(det, w.frames(), p or Params())
    eps = det.tracker.take_closed() + list(det.tracker.open.values())
    return [build(e, Enrichment()) for e in eps]


def on_key(dets: list[Detection], w: World, i: int) -> list[Detection]:
    port = int(w.keys[i]) & 0xFFFF
    return [d for d in dets if d.port == port]


def test_quiet_world_raises_no_global_alarm() -> None:
    dets = run(world(seed=3))
    assert [d for d in dets if d.kind == "global"] == []


def test_step_of_20_sources_is_found_fast_with_onset() -> None:
    w = world(seed=4)
    step_event(w, 300, ONSET, 20)
    found = on_key(run(w), w, 300)
    assert [d.kind for d in found] == ["global"]
    d = found[0]
    assert (d.detected_at - d.start).total_seconds() <= 2 * 3600
    assert abs(int(d.start.timestamp() // 3600) - (START + ONSET)) <= 1
    assert d.excess_sources >= 10
    assert "TCP port" in d.explanation
    assert "sources/h" in d.explanation


def test_step_on_one_sensor_is_local() -> None:
    w = world(seed=5)
    step_event(w, 200, ONSET, 50, sensors=[5])
    found = on_key(run(w), w, 200)
    assert found
    assert {d.kind for d in found} == {"local"}


def test_short_small_rise_below_floors_is_not_a_global_alarm() -> None:
    w = world(seed=6)
    step_event(w, 250, ONSET, 4, hours=8)  # peak excess 4 < 10, 32 source-hours < 40
    assert [d for d in on_key(run(w), w, 250) if d.kind == "global"] == []


def test_slow_sustained_rise_is_found_by_its_accumulated_excess() -> None:
    # +4 sources/h never reaches the peak floor of 10, but a day of it is 96 extra
    # source-hours: the union run's sustained-excess floor lets the CUSUM alarm.
    w = world(seed=6)
    step_event(w, 250, ONSET, 4)
    found = [d for d in on_key(run(w), w, 250) if d.kind == "global"]
    assert found
    assert (found[0].detected_at - found[0].start).total_seconds() <= 24 * 3600
    w2 = world(seed=6)
    step_event(w2, 250, ONSET, 4)
    without = on_key(run(w2, Params(sustained_excess=1e9)), w2, 250)
    assert [d for d in without if d.kind == "global"] == []


def test_sensor_outage_and_recovery_raise_no_alarm() -> None:
    w = world(seed=7)
    for t in range(ONSET, ONSET + 48):
        w.down[t] = {0}
    dets = run(w)
    assert [d for d in dets if d.kind in ("global", "local")] == []


def test_all_port_scanner_is_one_multiport_detection() -> None:
    w = world(seed=8)

    def everywhere(t: int, x: np.ndarray) -> None:
        if ONSET <= t < ONSET + 12:
            x += 4.0 / x.shape[1]

    w.extra.append(everywhere)
    dets = run(w)
    assert [d.kind for d in dets if d.kind != "recon"] == ["multiport"]
    assert len(dets[0].ports) > 100 if dets[0].kind == "multiport" else True


def test_epidemic_growth_is_labelled_with_doubling_time() -> None:
    w = world(seed=9)

    def worm(t: int, x: np.ndarray) -> None:
        if t >= ONSET:
            a = 400 / (1 + (400 / 0.5 - 1) * np.exp(-(t - ONSET) * np.log(2) / 3.0))
            x[120] += a / x.shape[1]

    w.extra.append(worm)
    found = on_key(run(w), w, 120)
    assert found
    assert found[0].kind == "global"
    assert found[0].shape == "epidemic"
    assert found[0].doubling_hours is not None
    assert 1.0 < found[0].doubling_hours < 8.0


def test_two_source_port_sweep_is_one_multiport_detection() -> None:
    # Two sources sweep every port over 6 hours: each port sees at most 2 sources once,
    # far below any per-port floor, but thousands of dormant ports light up at once.
    w = world(n_keys=3000, seed=9)
    order = np.random.default_rng(9).permutation(3000)

    def sweep(t: int, x: np.ndarray) -> None:
        if ONSET <= t < ONSET + 6:
            for i in order[(t - ONSET) * 500 : (t - ONSET + 1) * 500]:
                x[i, i % x.shape[1]] += 2.0

    w.extra.append(sweep)
    dets = [d for d in run(w) if d.kind not in ("recon", "heavy-scanner")]
    assert [d.kind for d in dets] == ["multiport"]
    assert len(dets[0].ports) >= 1000
    quiet = [d for d in run(world(n_keys=3000, seed=9)) if d.kind == "multiport"]
    assert quiet == []
