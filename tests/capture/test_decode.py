"""Frame decoding per link type and header variant (isdas.capture.decode_frames)."""

from __future__ import annotations

import numpy as np
import pytest

from isdas.capture import PacketBatch, decode_frames
from isdas.errors import CaptureError
from isdas.models import format_addr
from tests.capture import build as pk


def one(frame: bytes, linktype: int = 1) -> dict[str, int]:
    batch = decode_frames([frame], linktype, np.array([123], dtype=np.int64))
    assert len(batch["ts_us"]) == 1
    return {k: int(v[0]) for k, v in batch.items()}


def rows(batch: PacketBatch) -> int:
    return len(batch["ts_us"])


SYN = pk.ipv4(pk.tcp(40000, 445, seq=99, flags=2, win=1024), ttl=51, ip_id=777)


def assert_syn(r: dict[str, int]) -> None:
    assert r["ipver"] == 4
    assert format_addr(r["src_hi"], r["src_lo"]) == "192.0.2.1"
    assert format_addr(r["dst_hi"], r["dst_lo"]) == "198.18.0.9"
    assert (r["proto"], r["sport"], r["dport"], r["tcp_flags"]) == (6, 40000, 445, 2)
    assert (r["tcp_seq"], r["tcp_win"], r["ttl"], r["ip_id"]) == (99, 1024, 51, 777)
    assert (r["length"], r["frag"], r["ts_us"]) == (40, 0, 123)


@pytest.mark.parametrize(
    ("frame", "linktype"),
    [
        (pk.ether(SYN), 1),
        (pk.ether(SYN, vlans=(0x8100,)), 1),
        (pk.ether(SYN, vlans=(0x88A8, 0x8100)), 1),
        (pk.ether(SYN, vlans=(0x9100, 0x88A8, 0x8100)), 1),
        (pk.sll(SYN), 113),
        (pk.sll2(SYN), 276),
        (SYN, 101),
        (SYN, 12),
        (SYN, 14),
        (SYN, 228),
        (pk.null(SYN, 2, "<"), 0),
        (pk.null(SYN, 2, ">"), 0),
        (pk.null(SYN, 2, ">"), 108),
        (pk.null(SYN, 2, "<"), 108),
        (pk.ether(SYN + b"\x00" * 6), 1),  # Ethernet padding is not part of the datagram
    ],
    ids=lambda v: str(v) if isinstance(v, int) else f"{len(v)}B",
)
def test_ipv4_syn_on_every_link_type(frame: bytes, linktype: int) -> None:
    assert_syn(one(frame, linktype))


def test_sll_and_sll2_with_a_vlan_tag() -> None:
    tagged = b"\x00\x64\x08\x00" + SYN
    assert_syn(one(pk.sll(tagged, 0x8100), 113))
    assert_syn(one(pk.sll2(tagged, 0x8100), 276))


@pytest.mark.parametrize("family", [10, 24, 28, 30])
@pytest.mark.parametrize("order", ["<", ">"])
def test_null_loopback_ipv6_families(family: int, order: str) -> None:
    r = one(pk.null(pk.ipv6(pk.udp(1, 2), 17), family, order), 0)
    assert (r["ipver"], r["proto"], r["sport"], r["dport"]) == (6, 17, 1, 2)


def test_ipv4_options_are_skipped_by_ihl() -> None:
    ip = pk.ipv4(pk.udp(1111, 2222), 17, options=b"\x94\x04\x00\x00" + b"\x01" * 8)
    r = one(pk.ether(ip))
    assert (r["sport"], r["dport"], r["length"]) == (1111, 2222, 20 + 12 + 12)


def test_ipv4_fragments() -> None:
    first = one(pk.ether(pk.ipv4(pk.udp(7, 8), 17, frag=0x2000)))
    later = one(pk.ether(pk.ipv4(b"\x11\x11\x22\x22zzzz", 17, frag=0x2000 | 185)))
    last = one(pk.ether(pk.ipv4(b"\x11\x11\x22\x22zzzz", 6, frag=3)))
    assert (first["frag"], first["sport"], first["dport"]) == (1, 7, 8)
    assert (later["frag"], later["sport"], later["dport"], later["proto"]) == (2, 0, 0, 17)
    assert (last["frag"], last["sport"], last["tcp_flags"], last["tcp_seq"]) == (2, 0, 0, 0)


def test_icmp_and_icmpv6_type_code() -> None:
    r4 = one(pk.ether(pk.ipv4(pk.icmp(3, 13), 1)))
    r6 = one(pk.ether(pk.ipv6(pk.icmp(128, 0), 58), 0x86DD))
    assert (r4["proto"], r4["icmp_type"], r4["icmp_code"], r4["sport"], r4["dport"]) == (
        1,
        3,
        13,
        0,
        0,
    )
    assert (r6["proto"], r6["icmp_type"], r6["icmp_code"], r6["dport"]) == (58, 128, 0, 0)


def test_ipv6_extension_headers_are_walked() -> None:
    ext = (
        pk.ext_opts(43, 1) + pk.ext_opts(51) + pk.ext_ah(44) + pk.ext_frag(60, 0, True, 0xABCDEF01)
    )
    ext += pk.ext_opts(6)  # hop-by-hop, routing, AH, fragment, destination options
    r = one(pk.ether(pk.ipv6(pk.tcp(1, 22, seq=5, flags=0x12), 0, ext=ext), 0x86DD))
    assert (r["proto"], r["sport"], r["dport"], r["tcp_flags"], r["tcp_seq"]) == (6, 1, 22, 0x12, 5)
    assert (r["frag"], r["ip_id"], r["ttl"]) == (1, 0xABCDEF01, 55)
    assert format_addr(r["src_hi"], r["src_lo"]) == "2001:db8::1"
    assert format_addr(r["dst_hi"], r["dst_lo"]) == "2001:db8:1234::9"
    assert r["length"] == 40 + len(ext) + 20


def test_ipv6_later_fragment_has_no_ports() -> None:
    r = one(
        pk.ether(pk.ipv6(b"\x00\x01\x00\x02rest", 44, ext=pk.ext_frag(17, 100, False, 9)), 0x86DD)
    )
    assert (r["frag"], r["proto"], r["sport"], r["dport"], r["ip_id"]) == (2, 17, 0, 0, 9)


def test_snaplen_truncation_keeps_present_fields() -> None:
    frame = pk.ether(SYN)
    r = one(frame[: 14 + 20 + 6])  # ports present, seq half there
    assert (r["sport"], r["dport"], r["tcp_seq"], r["tcp_flags"], r["tcp_win"]) == (
        40000,
        445,
        0,
        0,
        0,
    )
    r = one(frame[: 14 + 20 + 14])
    assert (r["tcp_seq"], r["tcp_flags"], r["tcp_win"]) == (99, 2, 0)
    assert rows(decode_frames([frame[:33]], 1, np.zeros(1, dtype=np.int64))) == 0


@pytest.mark.parametrize(
    ("frame", "linktype"),
    [
        (pk.MAC + b"\x08\x06" + b"\x00" * 28, 1),  # ARP
        (pk.ether(pk.ipv6(pk.tcp()), 0x0800), 1),  # ethertype and version disagree
        (pk.ipv6(pk.tcp()), 228),
        (pk.null(SYN, 7), 0),
        (b"", 1),
        (b"\x45" + b"\x00" * 10, 101),
        (pk.ipv4(pk.tcp())[:1].replace(b"\x45", b"\x43") + pk.ipv4(pk.tcp())[1:], 101),  # IHL 12 B
    ],
    ids=["arp", "ethertype-version", "v6-on-raw4", "null-family-7", "empty", "short-v4", "ihl-12"],
)
def test_non_ip_and_malformed_frames_are_dropped(frame: bytes, linktype: int) -> None:
    assert rows(decode_frames([frame], linktype, np.zeros(1, dtype=np.int64))) == 0


def test_decode_frames_mixes_and_keeps_order() -> None:
    frames = [pk.ether(SYN), pk.MAC + b"\x08\x06", pk.ether(pk.ipv4(pk.udp(), 17)), b"x"]
    batch = decode_frames(frames, 1, np.array([4, 3, 2, 1], dtype=np.int64))
    assert batch["ts_us"].tolist() == [4, 2]
    assert batch["proto"].tolist() == [6, 17]
    assert decode_frames([], 1, np.zeros(0, dtype=np.int64))["ts_us"].dtype == np.int64


def test_decode_frames_rejects_bad_arguments() -> None:
    with pytest.raises(CaptureError):
        decode_frames([b""], 147, np.zeros(1, dtype=np.int64))
    with pytest.raises(CaptureError):
        decode_frames([b"", b""], 1, np.zeros(1, dtype=np.int64))
