"""Test helper: a veth pair whose far end lives in a network namespace the test creates.

The sensor captures on the near end (root namespace, no address, IPv6 off so the link makes no
noise); frames are injected from the namespace with an AF_PACKET socket. Nothing is routed:
the addresses used are documentation prefixes on a private link.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sensor import procs


@dataclass(frozen=True)
class Link:
    ns: str
    near: str
    far: str


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _sysctl(ns: str | None, key: str) -> None:
    prefix = ["ip", "netns", "exec", ns] if ns else []
    subprocess.run([*prefix, "sysctl", "-qw", key], check=True, capture_output=True)


@contextmanager
def veth_namespace() -> Iterator[Link]:
    """Create namespace + veth pair; removed on exit. Skips unless root with `ip`."""
    if os.geteuid() != 0 or not Path("/usr/sbin/ip").exists():
        pytest.skip("network namespace tests need root and iproute2")
    tag = f"{os.getpid() % 100000}"
    link = Link(f"isdas-t{tag}", f"isv{tag}a", f"isv{tag}b")
    _ip("netns", "add", link.ns)
    try:
        _ip("link", "add", link.near, "type", "veth", "peer", "name", link.far)
        _ip("link", "set", link.far, "netns", link.ns)
        _sysctl(None, f"net.ipv6.conf.{link.near}.disable_ipv6=1")
        _sysctl(link.ns, f"net.ipv6.conf.{link.far}.disable_ipv6=1")
        _ip("link", "set", link.near, "up")
        _ip("netns", "exec", link.ns, "ip", "link", "set", link.far, "up")
        yield link
    finally:
        subprocess.run(["ip", "link", "del", link.near], capture_output=True)
        _ip("netns", "del", link.ns)


SENDER = """
import socket, sys
from tests.pcapbuild import Pkt, frame
n, iface = int(sys.argv[1]), sys.argv[2]
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
for i in range(n):
    v6 = i % 5 == 0
    src = f"2001:db8:1::{i % 300 + 1:x}" if v6 else f"203.0.113.{i % 250 + 1}"
    dst = "2001:db8:ffff::7" if v6 else "192.0.2.7"
    proto = ("tcp", "udp", "icmp")[i % 3]
    sock.send(frame(Pkt(ts=0.0, src=src, dst=dst, proto=proto, sport=1024 + i % 50000,
                        dport=i % 65536 if proto != "icmp" else 8)))
print(n)
"""


def send_frames(link: Link, count: int) -> None:
    """Inject `count` distinct frames (IPv4 and IPv6; TCP, UDP, ICMP) from the namespace."""
    cmd = ["ip", "netns", "exec", link.ns, sys.executable, "-c", SENDER, str(count), link.far]
    subprocess.run(cmd, check=True, env=procs.env(), capture_output=True, timeout=60)
