"""Oracle: isdas and dpkt (an independent reader) agree on every field of every IP packet."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import dpkt
import numpy as np
import pytest

from isdas.capture import COLUMN_NAMES, read_capture
from isdas.models import V4_MAPPED
from tests.capture import build as pk
from tests.capture.build import generated, random_ip

Row = tuple[int, ...]


def _net(linktype: int, buf: bytes) -> Any:
    if linktype == 1:
        return dpkt.ethernet.Ethernet(buf).data
    if linktype == 113:
        return dpkt.sll.SLL(buf).data
    if linktype in (101, 12, 14):
        return dpkt.ip.IP(buf) if buf[0] >> 4 == 4 else dpkt.ip6.IP6(buf)
    raise AssertionError(f"oracle has no link type {linktype}")


def _addr(raw: bytes) -> tuple[int, int]:
    v = int.from_bytes(raw, "big") | (V4_MAPPED if len(raw) == 4 else 0)
    return v >> 64, v & (2**64 - 1)


def _transport(l4: Any, later: bool) -> tuple[int, ...]:
    """sport, dport, icmp_type, icmp_code, tcp_flags, tcp_seq, tcp_win."""
    if later:
        return (0,) * 7
    if isinstance(l4, dpkt.tcp.TCP):
        return l4.sport, l4.dport, 0, 0, l4.flags, l4.seq, l4.win
    if isinstance(l4, dpkt.udp.UDP):
        return l4.sport, l4.dport, 0, 0, 0, 0, 0
    if isinstance(l4, dpkt.icmp.ICMP | dpkt.icmp6.ICMP6):
        return 0, 0, l4.type, l4.code, 0, 0, 0
    return (0,) * 7


def dpkt_row(ts_us: int, linktype: int, buf: bytes) -> Row | None:
    """The isdas columns of one frame computed from dpkt's objects; None if not IP."""
    ip = _net(linktype, buf)
    if isinstance(ip, dpkt.ip.IP):
        later = ip.offset > 0
        frag = 2 if later else int(ip.mf)
        net = (4, *_addr(ip.src), *_addr(ip.dst), ip.p)
        tail = (ip.ttl, ip.id, ip.len, frag)
    elif isinstance(ip, dpkt.ip6.IP6):
        fh = [h for h in ip.all_extension_headers if isinstance(h, dpkt.ip6.IP6FragmentHeader)]
        later = bool(fh) and fh[0].frag_off > 0
        frag = 2 if later else int(bool(fh) and fh[0].m_flag)
        net = (6, *_addr(ip.src), *_addr(ip.dst), ip.p)
        tail = (ip.hlim, fh[0].id if fh else 0, ip.plen + 40, frag)
    else:
        return None
    sp, dp, it, ic, fl, seq, win = _transport(ip.data, later)
    return (ts_us, *net, sp, dp, it, ic, fl, tail[0], tail[1], seq, win, tail[2], tail[3])


def dpkt_rows(path: Path) -> list[Row]:
    with path.open("rb") as f:
        head = f.read(4)
        f.seek(0)
        if head == b"\n\r\r\n":
            reader: Any = dpkt.pcapng.Reader(f)
        else:
            reader = dpkt.pcap.Reader(f)
        link = reader.datalink()
        rows = [dpkt_row(round(ts * 1e6), link, buf) for ts, buf in reader]
    return [r for r in rows if r is not None]


def isdas_rows(path: Path) -> list[Row]:
    batches = list(read_capture(path, chunk_bytes=4096))
    if not batches:
        return []
    cols = [np.concatenate([b[k] for b in batches]).tolist() for k in COLUMN_NAMES]
    return [tuple(int(v) for v in row) for row in zip(*cols, strict=True)]


def compare(path: Path) -> int:
    theirs, ours = dpkt_rows(path), isdas_rows(path)
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        diff = {n: (x, y) for n, x, y in zip(COLUMN_NAMES, a, b, strict=True) if x != y}
        # dpkt's float timestamps may be off by one µs
        if set(diff) == {"ts_us"} and abs(a[0] - b[0]) <= 1:
            continue
        assert not diff, f"packet {i}: isdas vs dpkt {diff}"
    return len(ours)


@pytest.mark.parametrize("order", ["<", ">"])
def test_generated_pcap_matches_dpkt(tmp_path: Path, order: str) -> None:
    path = tmp_path / "gen.pcap"
    path.write_bytes(pk.pcap(generated(random.Random(order), 3000), order=order))
    assert compare(path) > 2500


def test_generated_raw_and_sll_match_dpkt(tmp_path: Path) -> None:
    rng = random.Random(3)
    ips = [random_ip(rng) for _ in range(500)]
    (tmp_path / "raw.pcap").write_bytes(pk.pcap([(i, ip) for i, ip in enumerate(ips)], 101))
    assert compare(tmp_path / "raw.pcap") == 500
    frames = [(i, pk.sll(ip, 0x0800 if ip[0] >> 4 == 4 else 0x86DD)) for i, ip in enumerate(ips)]
    (tmp_path / "sll.pcap").write_bytes(pk.pcap(frames, 113))
    assert compare(tmp_path / "sll.pcap") == 500


def test_generated_pcapng_matches_dpkt(tmp_path: Path) -> None:
    recs = generated(random.Random(5), 1000)
    path = tmp_path / "gen.pcapng"
    path.write_bytes(pk.shb() + pk.idb(1) + b"".join(pk.epb(0, t, f) for t, f in recs))
    assert compare(path) > 900


REAL = sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "pcaps").glob("*.pcap*"))


@pytest.mark.shared
@pytest.mark.parametrize("name", [p.name for p in REAL] or ["(absent)"])
def test_real_captures_match_dpkt(shared_dir: Path, name: str) -> None:
    path = shared_dir / "data" / "pcaps" / name
    if not path.exists():
        pytest.skip("reference pcaps absent")
    assert compare(path) > 0
