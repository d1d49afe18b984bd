"""Live capture on Linux: an AF_PACKET socket with a TPACKET_V3 ring and a kernel BPF filter.

Stage: sensor (capture source). Reads raw frames and kernel counters; must not decode
packets (sensor.decode does), spool or ship.

No libpcap binding is needed: the filter is compiled by `tcpdump -ddd` for the interface and
attached with SO_ATTACH_FILTER before the socket is bound, so no unfiltered packet is ever
queued; the ring hands over whole blocks of frames per wake-up, stamped by the kernel. A block
is copied out of the ring and handed back at once; its frames are indexed with numpy (one
Python step per frame, to follow the tp_next_offset chain) and never become Python objects.
Frames the host itself sends (PACKET_OUTGOING) are ignored: a darknet sensor never answers,
and it must not count its own traffic. The BPF return value truncates frames to `snaplen`.
"""

from __future__ import annotations

import ctypes
import grp
import logging
import mmap
import os
import pwd
import select
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from isdas.errors import InputError
from isdas.sensor.decode import Frames

log = logging.getLogger(__name__)

SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
TPACKET_V3 = 2
SO_ATTACH_FILTER = 26
ETH_P_ALL = 0x0003
TP_STATUS_USER = 1
PACKET_OUTGOING = 4
PKTTYPE_AT = 48 + 10  # TPACKET_ALIGN(sizeof(tpacket3_hdr)) + offsetof(sockaddr_ll, pkttype)
LINKTYPE_BY_ARPHRD = {1: 1, 772: 1, 65534: 101}  # ether, loopback (ether hdr), none -> raw IP


def compile_bpf(interface: str, expr: str, snaplen: int) -> bytes:
    """The classic BPF program for `expr` on `interface`, as packed sock_filter structs."""
    cmd = ["tcpdump", "-i", interface, "-s", str(snaplen), "-ddd", *expr.split()]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise InputError(f"cannot compile BPF filter {expr!r}: {detail.strip()}") from exc
    lines = out.stdout.split("\n")
    count = int(lines[0])
    insns = [tuple(int(x) for x in line.split()) for line in lines[1 : count + 1]]
    return b"".join(struct.pack("HBBI", *insn) for insn in insns)


def attach_filter(sock: socket.socket, program: bytes) -> None:
    """SO_ATTACH_FILTER with a sock_fprog pointing at `program`."""
    buf = ctypes.create_string_buffer(program)
    fprog = struct.pack("HL", len(program) // 8, ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


def linktype_of(interface: str) -> int:
    """The pcap link type of frames read on `interface`."""
    try:
        hatype = int(Path(f"/sys/class/net/{interface}/type").read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"no such network interface: {interface}") from exc
    if hatype not in LINKTYPE_BY_ARPHRD:
        raise InputError(f"unsupported link type {hatype} on {interface}")
    return LINKTYPE_BY_ARPHRD[hatype]


def frame_starts(raw: bytes, count: int, first: int) -> npt.NDArray[np.int64]:
    """Offsets of the `count` tpacket3_hdr of a block, following their tp_next_offset chain."""
    words = memoryview(raw).cast("I")
    starts, pos = [], first
    for _ in range(count):
        if pos < first or pos + 64 > len(raw):
            break  # a chain leaving the block would be a kernel bug: stop, never read past it
        starts.append(pos)
        pos += words[pos >> 2]
    return np.array(starts, dtype=np.int64)


def block_frames(raw: bytes, count: int, first: int) -> Frames:
    """The frames of one TPACKET_V3 block (as copied out of the ring), outgoing ones left out.

    tpacket3_hdr: u32 next_offset, sec, nsec, snaplen, len, status; u16 mac, net (offsets
    from the header); sockaddr_ll follows at 48 with its pkttype byte at 48 + 10.
    """
    buf = np.frombuffer(raw, dtype=np.uint8)
    at = frame_starts(raw, count, first)
    at = at[buf[at + PKTTYPE_AT] != PACKET_OUTGOING]
    words, halves = np.frombuffer(raw, dtype="<u4"), np.frombuffer(raw, dtype="<u2")
    sec, nsec = words[(at >> 2) + 1].astype(np.int64), words[(at >> 2) + 2].astype(np.int64)
    offs = np.minimum(at + halves[(at + 24) >> 1], len(raw))
    lens = np.minimum(words[(at >> 2) + 3].astype(np.int64), len(raw) - offs)
    return Frames(buf, offs, lens, sec * 1_000_000 + nsec // 1000)


def drop_privileges(user: str) -> None:
    """setgroups/setgid/setuid to `user` when running as root (no-op otherwise)."""
    if not user or os.geteuid() != 0:
        return
    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise InputError(f"no such user to drop privileges to: {user}") from exc
    os.setgroups([g.gr_gid for g in grp.getgrall() if user in g.gr_mem])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    log.info("dropped privileges to %s (uid %d)", user, entry.pw_uid)


class LiveCapture:
    """A TPACKET_V3 ring on one interface; `read` returns whole blocks of frames at a time."""

    def __init__(
        self,
        interface: str,
        bpf: str,
        *,
        snaplen: int = 256,
        block_size: int = 1 << 20,
        blocks: int = 16,
        retire_ms: int = 50,
    ) -> None:
        self.linktype = linktype_of(interface)
        self.block_size, self.blocks = block_size, blocks
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # receives nothing yet
        self.sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        attach_filter(self.sock, compile_bpf(interface, bpf, snaplen))
        frames = block_size * blocks // 2048
        req = struct.pack("7I", block_size, blocks, 2048, frames, retire_ms, 0, 0)
        self.sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        self.ring = mmap.mmap(self.sock.fileno(), block_size * blocks, mmap.MAP_SHARED)
        self.sock.bind((interface, ETH_P_ALL))
        self.poller = select.poll()
        self.poller.register(self.sock.fileno(), select.POLLIN | select.POLLERR)
        self.current = 0
        self.kernel_drops = 0

    def _block_ready(self) -> bool:
        status = struct.unpack_from("<I", self.ring, self.current * self.block_size + 8)[0]
        return bool(status & TP_STATUS_USER)

    def _take_block(self) -> Frames:
        """Copy the current block out of the ring, hand it back, and index its frames."""
        base = self.current * self.block_size
        count, first, used = struct.unpack_from("<III", self.ring, base + 12)
        raw = self.ring[base : base + min(self.block_size, (used + 7) & ~7)]
        struct.pack_into("<I", self.ring, base + 8, 0)  # hand the block back to the kernel
        self.current = (self.current + 1) % self.blocks
        return block_frames(raw, count, first)

    def read(self, timeout_s: float) -> Iterator[Frames]:
        """The frames (with kernel µs timestamps) of each block ready within `timeout_s`.

        One block at a time (at most one ring's worth per call), each handed back to the
        kernel before it is yielded: a block (1 MB) is all the capture side holds in memory.
        """
        if not self._block_ready():
            self.poller.poll(int(timeout_s * 1000))
        for _ in range(self.blocks):
            if not self._block_ready():
                return
            yield self._take_block()

    def poll_drops(self) -> int:
        """Kernel drops since the last call (PACKET_STATISTICS resets on read)."""
        raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12)
        _packets, drops, _freeze = struct.unpack("3I", raw)
        self.kernel_drops += drops
        return int(drops)

    def close(self) -> None:
        self.ring.close()
        self.sock.close()
