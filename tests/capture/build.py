"""Test helper: build frames, pcap and pcapng files byte by byte (struct only, no isdas code)."""

from __future__ import annotations

import ipaddress
import random
import struct

MAC = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb"


def tcp(
    sport: int = 40000, dport: int = 445, seq: int = 7, flags: int = 2, win: int = 1024
) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, win, 0, 0)


def udp(sport: int = 5353, dport: int = 53, payload: bytes = b"abcd") -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(itype: int = 8, code: int = 0) -> bytes:
    return struct.pack("!BBHI", itype, code, 0, 0x01020304)


def ipv4(
    l4: bytes,
    proto: int = 6,
    src: str = "192.0.2.1",
    dst: str = "198.18.0.9",
    *,
    ttl: int = 64,
    ip_id: int = 54321,
    options: bytes = b"",
    frag: int = 0,
    total: int | None = None,
) -> bytes:
    """IPv4 header (+ options, padded to 4 bytes) and payload; frag = flags|offset field."""
    options += b"\x00" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    length = total if total is not None else 4 * ihl + len(l4)
    s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, length, ip_id, frag, ttl, proto, 0, s, d)
    return head + options + l4


def ipv6(
    l4: bytes,
    nh: int = 6,
    src: str = "2001:db8::1",
    dst: str = "2001:db8:1234::9",
    *,
    hlim: int = 55,
    ext: bytes = b"",
) -> bytes:
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    return struct.pack("!IHBB16s16s", 6 << 28, len(ext) + len(l4), nh, hlim, s, d) + ext + l4


def ext_opts(nh: int, units: int = 0) -> bytes:
    """Hop-by-hop / destination options / routing header of (units+1)*8 bytes."""
    return bytes([nh, units]) + b"\x01" * (6 + 8 * units)


def ext_frag(nh: int, offset: int, more: bool, ident: int) -> bytes:
    return struct.pack("!BBHI", nh, 0, (offset << 3) | int(more), ident)


def ext_ah(nh: int, words: int = 4) -> bytes:
    """Authentication header of (words+2)*4 bytes."""
    return bytes([nh, words]) + b"\x00" * (2 + 4 * (words + 2) - 4)


def ether(ip: bytes, etype: int = 0x0800, vlans: tuple[int, ...] = ()) -> bytes:
    tags = b"".join(struct.pack("!HH", tpid, 100 + i) for i, tpid in enumerate(vlans))
    return MAC + tags + struct.pack("!H", etype) + ip


def sll(ip: bytes, etype: int = 0x0800) -> bytes:
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x01" * 8, etype) + ip


def sll2(ip: bytes, etype: int = 0x0800) -> bytes:
    return struct.pack("!HHIHBB8s", etype, 0, 2, 1, 0, 6, b"\x01" * 8) + ip


def null(ip: bytes, family: int = 2, order: str = "<") -> bytes:
    return struct.pack(order + "I", family) + ip


def pcap(
    records: list[tuple[int, bytes]],
    linktype: int = 1,
    *,
    order: str = "<",
    nanos: bool = False,
    snaplen: int = 65535,
    orig: int | None = None,
) -> bytes:
    """A classic pcap; record timestamps are in µs (or ns when nanos)."""
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    unit = 1_000_000_000 if nanos else 1_000_000
    for ts, data in records:
        length = orig if orig is not None else len(data)
        out.append(struct.pack(order + "IIII", ts // unit, ts % unit, len(data), length) + data)
    return b"".join(out)


def _block(btype: int, body: bytes, order: str) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(order + "II", btype, n) + body + struct.pack(order + "I", n)


def shb(order: str = "<") -> bytes:
    return _block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)


def idb(linktype: int, order: str = "<", tsresol: int | None = None, tsoffset: int = 0) -> bytes:
    body = struct.pack(order + "HHI", linktype, 0, 0)
    if tsresol is not None:
        body += struct.pack(order + "HH", 9, 1) + bytes([tsresol, 0, 0, 0])
    if tsoffset:
        body += struct.pack(order + "HHq", 14, 8, tsoffset)
    if tsresol is not None or tsoffset:
        body += struct.pack(order + "HH", 0, 0)
    return _block(1, body, order)


def epb(iface: int, ts: int, data: bytes, order: str = "<") -> bytes:
    """Enhanced packet block; ts in the interface's units."""
    head = struct.pack(order + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    return _block(6, head + data, order)


def opb(iface: int, ts: int, data: bytes, order: str = "<") -> bytes:
    head = struct.pack(order + "HHIIII", iface, 0, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data))
    return _block(2, head + data, order)


def spb(data: bytes, order: str = "<") -> bytes:
    return _block(3, struct.pack(order + "I", len(data)) + data, order)


def other_block(order: str = "<") -> bytes:
    """An interface statistics block (type 5), which readers skip."""
    return _block(5, struct.pack(order + "IIII", 0, 0, 0, 0), order)


def syn_frames(n: int) -> list[tuple[int, bytes]]:
    """n Ethernet IPv4 SYN frames with varied fields, timestamps in µs."""
    out = []
    for i in range(n):
        l4 = tcp(1024 + i, 1 + (i * 7) % 65535, seq=i * 101, flags=2, win=512 + i)
        ip = ipv4(l4, src=f"203.0.{i % 250}.{i % 200 + 1}", ip_id=i % 65536, ttl=30 + i % 200)
        out.append((1_700_000_000_000_000 + i * 1000, ether(ip)))
    return out


def random_ip(rng: random.Random) -> bytes:
    kind = rng.randrange(9)
    src4 = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
    src6 = f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}"
    seq, sport, dport = rng.getrandbits(32), rng.randrange(65536), rng.randrange(65536)
    seg = tcp(
        sport, dport, seq=seq, flags=rng.choice([2, 0x12, 4, 0x14, 0x29]), win=rng.randrange(65536)
    )
    opts = b"\x01" * rng.choice([0, 4, 8, 40])
    ttl, ident = rng.randrange(256), rng.randrange(65536)
    if kind <= 2:
        return ipv4(seg, 6, src4, ttl=ttl, ip_id=ident, options=opts)
    if kind == 3:
        return ipv4(udp(sport, dport, b"x" * rng.randrange(30)), 17, src4, ttl=ttl)
    if kind == 4:
        return ipv4(icmp(rng.choice([0, 3, 8, 11]), rng.randrange(16)), 1, src4, ttl=ttl)
    if kind == 5:
        frag = rng.choice([0x2000, 0x2000 | rng.randrange(1, 8000), rng.randrange(1, 8000)])
        return ipv4(seg, 6, src4, frag=frag, ip_id=ident)
    if kind == 6:
        return ipv6(seg, 6, src6, hlim=ttl)
    if kind == 7:
        return ipv6(icmp(rng.choice([1, 128, 135]), 0), 58, src6)
    ext = ext_opts(44, rng.randrange(3)) + ext_frag(17, rng.choice([0, 0, 9]), True, seq)
    return ipv6(udp(sport, dport), 0, src6, ext=ext)


def generated(rng: random.Random, n: int) -> list[tuple[int, bytes]]:
    out = []
    for i in range(n):
        ip = random_ip(rng)
        etype = 0x0800 if ip[0] >> 4 == 4 else 0x86DD
        vlans = rng.choice([(), (), (0x8100,), (0x88A8, 0x8100)])
        frame = ether(ip, etype, vlans) if i % 17 else MAC + b"\x08\x06" + b"\x00" * 28
        out.append((1_600_000_000_000_000 + rng.randrange(10**12), frame))
    return out
