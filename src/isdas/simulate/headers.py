"""Probes to packets: retransmissions and the header fields a sensor would capture.

Stage: simulate. Pure columnar numpy. TTL = initial TTL (64/128/255) minus hops, windows and
SYN option lengths per source OS class, retransmissions at the OS's RTO schedule, and the tool
fingerprints (Mirai: seq = dst; ZMap: IP id 54321; Masscan: IP id = (dst ^ dport ^ seq) & 0xffff).
Packets without a fingerprint are nudged so none matches one by chance. Must not do I/O.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from isdas.simulate.traffic import (
    FP_MASSCAN,
    FP_MIRAI,
    FP_NONE,
    FP_ZMAP,
    OS_OPTS,
    OS_TTL,
    RETX_S,
    RST,
    SYN,
    SYNACK,
    UDP_PAYLOAD,
    US,
    ZMAP_IP_ID,
    Cols,
    _rank,
    source_profile,
    take,
)

U16 = npt.NDArray[np.uint16]


def masscan_id(dst: npt.NDArray[np.uint32], dport: U16, seq: npt.NDArray[np.uint32]) -> U16:
    """Masscan's IPv4 id: the low 16 bits of (dst ^ dport ^ seq), all as unsigned integers."""
    return ((dst ^ dport.astype(np.uint32) ^ seq) & np.uint32(0xFFFF)).astype(np.uint16)


def _tries(
    probes: Cols, osc: npt.NDArray[np.int64], tries: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    stack = (probes["proto"] == 6) & (probes["flags"] == SYN) & (probes["fp"] == FP_NONE)
    return np.where(stack & (osc < 2), tries, 1)


def _ttl(p: Cols, prof: Cols) -> npt.NDArray[np.uint8]:
    init = OS_TTL[prof["os"]]
    init = np.where(p["fp"] == FP_MIRAI, 64, init)
    init = np.where((p["fp"] == FP_ZMAP) | (p["fp"] == FP_MASSCAN), 255, init)
    return (init - prof["hops"]).astype(np.uint8)


def _l4x(p: Cols, prof: Cols) -> npt.NDArray[np.uint8]:
    """Option bytes (TCP), payload bytes (UDP) or echo payload bytes (ICMP)."""
    tcp = np.where(p["flags"] == SYN, OS_OPTS[prof["os"]], np.where(p["flags"] == SYNACK, 4, 0))
    tcp = np.where(p["fp"] != FP_NONE, 0, tcp)
    table = np.zeros(65536, np.int64)
    for port, size in UDP_PAYLOAD.items():
        table[port] = size
    known = table[p["dport"]]
    udp = np.where(known > 0, known, prof["udp"])
    icmp = np.where(prof["os"] < 2, 56, 0)
    proto = p["proto"]
    return np.where(proto == 6, tcp, np.where(proto == 17, udp, icmp)).astype(np.uint8)


def _window(rng: np.random.Generator, p: Cols, prof: Cols) -> U16:
    win = prof["win"].copy()
    fp = p["fp"]
    win = np.where(fp == FP_MIRAI, rng.integers(1, 65536, len(fp)), win)
    win = np.where(fp == FP_ZMAP, 65535, np.where(fp == FP_MASSCAN, 1024, win))
    return np.where(p["flags"] & RST, 0, win).astype(np.uint16)


def _ids(rng: np.random.Generator, p: Cols) -> U16:
    """IP ids: fingerprinted ones exact, the rest random and nudged off every fingerprint."""
    ipid = rng.integers(0, 65536, len(p["fp"])).astype(np.uint16)
    mass = masscan_id(p["dst"], p["dport"], p["seq"])
    v4tcp = (p["ipver"] == 4) & (p["proto"] == 6)
    for _ in range(3):
        clash = v4tcp & (p["fp"] != FP_MASSCAN) & (ipid == mass)
        clash |= (p["ipver"] == 4) & (p["fp"] != FP_ZMAP) & (ipid == ZMAP_IP_ID)
        ipid = np.where(clash, ipid + np.uint16(1), ipid).astype(np.uint16)
    ipid = np.where(p["fp"] == FP_ZMAP, ZMAP_IP_ID, ipid)
    return np.where(p["fp"] == FP_MASSCAN, mass, ipid).astype(np.uint16)


def expand_packets(rng: np.random.Generator, probes: Cols, seed: int) -> Cols:
    """One row per packet, with all header fields the pcap writer needs."""
    prof = source_profile(probes["src"], seed)
    owner, rank = _rank(_tries(probes, prof["os"], prof["tries"]))
    p = take(probes, owner)
    prof = take(prof, owner)
    jitter = rng.integers(0, 2000, len(owner))
    p["ts"] = p["ts"] + RETX_S[prof["os"], rank] * US + np.where(rank > 0, jitter, 0)
    p["retx"] = rank.astype(np.uint8)
    mirai = (p["fp"] == FP_MIRAI) & (p["ipver"] == 4)
    seq = np.where(mirai, p["dst"], p["seq"])
    p["seq"] = np.where(~mirai & (seq == p["dst"]) & (p["ipver"] == 4), seq ^ 1, seq)
    p["seq"] = p["seq"].astype(np.uint32)
    p["ttl"] = _ttl(p, prof)
    p["l4x"] = _l4x(p, prof)
    p["win"] = _window(rng, p, prof)
    p["ipid"] = _ids(rng, p)
    back = (p["proto"] == 6) & (p["flags"] != SYN)
    p["ack"] = np.where(back, rng.integers(0, 1 << 32, len(owner), dtype=np.uint32), 0)
    p["ack"] = p["ack"].astype(np.uint32)
    return p
