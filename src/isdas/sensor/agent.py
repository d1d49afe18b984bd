"""The sensor agent: capture (live or --watch) -> batches -> spool, and a shipping thread.

Stage: sensor. Wires the parts together and runs until `stop` is set; must not decode
packets itself or touch the store. Library code: raises IsdasError, never exits.
"""

from __future__ import annotations

import logging
import os
import pwd
import random
import threading
import time
from pathlib import Path

from isdas.sensor.batcher import Batcher, warm_up
from isdas.sensor.config import SensorConfig
from isdas.sensor.counters import Counters
from isdas.sensor.ship import Outcome, Shipper, backoff_delay
from isdas.sensor.spool import Spool
from isdas.sensor.state import CounterState

log = logging.getLogger(__name__)


class ShipLoop:
    """Ships spooled batches oldest first and posts heartbeats, in its own thread."""

    def __init__(self, config: SensorConfig, spool: Spool, state: CounterState) -> None:
        self.config, self.spool, self.state = config, spool, state
        self.counters = state.counters
        self.shipper = Shipper(config, self.counters)
        self.rng = random.Random()
        self.attempt = 0
        self.next_beat = 0.0

    def _gauges(self) -> None:
        files, size, _events = self.spool.size()
        self.counters.set(spool_files=files, spool_bytes=size)

    def _beat(self) -> None:
        if time.monotonic() >= self.next_beat:
            self._gauges()
            self.state.save()
            self.shipper.heartbeat()
            self.next_beat = time.monotonic() + self.config.heartbeat_seconds

    def step(self, stop: threading.Event) -> None:
        """One pass over the spool: ship until it is empty or a retry is needed."""
        self._beat()
        entries = self.spool.pending()
        if not entries:
            stop.wait(0.2)
            return
        for entry in entries:
            if stop.is_set():
                return
            outcome = self.shipper.ship(entry)
            if outcome is Outcome.RETRY:
                self.attempt += 1
                cfg = self.config
                stop.wait(backoff_delay(self.attempt, cfg.retry_base_s, cfg.retry_cap_s, self.rng))
                return
            self.attempt = 0
            if outcome is Outcome.ACK:
                self.spool.ack(entry)
                self.counters.add(shipped=entry.events)
            else:
                self.spool.reject(entry)
                self.counters.add(rejected=entry.events)
            self.state.save()
            self._beat()
        self._gauges()

    def run(self, stop: threading.Event) -> None:
        """Ship until `stop` is set; one last heartbeat on the way out."""
        try:
            while not stop.is_set():
                self.step(stop)
            self._gauges()
            self.shipper.heartbeat()
        finally:
            self.shipper.close()


def _start_shipping(loop: ShipLoop, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=loop.run, args=(stop,), name="isdas-ship", daemon=True)
    thread.start()
    return thread


def open_spool(config: SensorConfig, counters: Counters) -> tuple[Spool, CounterState]:
    """The spool of this sensor (created if needed), and the counters saved with it."""
    config.spool_dir.mkdir(parents=True, exist_ok=True)
    spool = Spool(config.spool_dir, config.spool_cap_bytes)
    state = CounterState(spool, counters)
    state.load()
    return spool, state


def hand_over(spool: Spool, user: str) -> None:
    """Give the spool directories to `user` when root will drop privileges to it."""
    if not user or os.geteuid() != 0:
        return
    entry = pwd.getpwnam(user)
    for path in (spool.root, spool.rejected, *spool.root.iterdir()):
        os.chown(path, entry.pw_uid, entry.pw_gid)


def run_live(config: SensorConfig, stop: threading.Event, counters: Counters) -> None:
    """Capture on `config.interface` until `stop`; spool batches; ship them meanwhile."""
    from isdas.sensor.live import LiveCapture, drop_privileges

    capture = LiveCapture(config.interface, config.bpf)
    warm_up(capture.linktype)
    spool, state = open_spool(config, counters)
    hand_over(spool, config.user)
    loop = ShipLoop(config, spool, state)  # TLS context and CA loaded while still root
    drop_privileges(config.user)
    batcher = Batcher(spool, state, capture.linktype, config.batch_events, config.batch_seconds)
    shipping = _start_shipping(loop, stop)
    log.info("capturing on %s (filter %r)", config.interface, config.bpf)
    try:
        while not stop.is_set():
            for frames in capture.read(0.2):
                batcher.add(frames)
            if batcher.due():
                batcher.flush()
            counters.add(kernel_drops=capture.poll_drops())
    finally:
        batcher.flush()
        capture.close()
        stop.set()
        shipping.join(timeout=10)
        state.save()


def run_watch(
    config: SensorConfig, directory: Path, stop: threading.Event, counters: Counters
) -> None:
    """Spool every closed rotation of `directory` until `stop`; ship them meanwhile."""
    from isdas.sensor.watch import Watcher, watch_directory

    spool, state = open_spool(config, counters)
    watcher = Watcher(watch_directory(directory), spool, state, config.batch_events)
    shipping = _start_shipping(ShipLoop(config, spool, state), stop)
    try:
        while not stop.is_set():
            if not watcher.poll(config.watch_idle_seconds):
                stop.wait(min(1.0, config.batch_seconds))
    finally:
        stop.set()
        shipping.join(timeout=10)
        state.save()
