"""Analyse stage: per-packet classification applied at ingest.

Pure functions over column arrays: no I/O, no clock. Decides the traffic class (scan,
backscatter, other) and the fingerprint tags of every packet.

- Scans: TCP SYN without ACK, UDP, ICMP/ICMPv6 echo request.
- Backscatter: TCP SYN-ACK or RST, ICMP errors and echo replies: answers to spoofed packets.
- Fingerprints: Mirai (TCP seq == destination IPv4), ZMap (IPv4 id 54321),
  Masscan (IPv4 id == (dst ^ dport ^ seq) & 0xffff).
- Randomly spoofed floods: one destination and port receiving >= FLOOD_PER_MINUTE distinct
  sources within a minute, almost all of which (>= FLOOD_EXCLUSIVE) send to no other
  destination in the batch, are class `other` with Tag.SPOOFED_FLOOD: never scans of their
  port. Scanners sweep many addresses; spoofed flood sources appear once, at one target.
  Limits: decided within one ingest batch (a capture file or a collector batch), so a flood
  split into batches of a few seconds each goes unnoticed; on a one-address sensor every
  source is "exclusive", so only the per-minute rate separates a flood from a worm there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from isdas.models import Cls, Frag, Tag

Columns = Mapping[str, npt.NDArray[Any]]

SYN, RST, ACK = 0x02, 0x04, 0x10
ICMP_BACKSCATTER_V4 = (0, 3, 4, 5, 11, 12, 14, 16, 18)  # replies and errors
ICMP_BACKSCATTER_V6 = (1, 2, 3, 4, 129)


FLOOD_PER_MINUTE = 30
FLOOD_EXCLUSIVE = 0.95
_BUCKETS = 1 << 20
_MIX = np.uint64(0x9E3779B97F4A7C15)


def classify(batch: Columns) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint32]]:
    """The class (Cls codes) and tag bits (Tag) of every packet in `batch`."""
    cls, tags = traffic_class(batch), fingerprint_tags(batch)
    flood = flood_mask(batch, cls == Cls.SCAN)
    cls[flood] = Cls.OTHER
    tags[flood] |= np.uint32(Tag.SPOOFED_FLOOD)
    return cls, tags


def mix64(*cols: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """One 64-bit mix of several integer columns (collisions only merge groups, rarely)."""
    out = np.zeros(cols[0].shape, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for c in cols:
            out = (out ^ c.astype(np.uint64)) * _MIX
            out ^= out >> np.uint64(29)
    return out


def flood_mask(batch: Columns, scan: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Scan packets that belong to a randomly spoofed flood (see the module notes)."""
    out = np.zeros(scan.shape, dtype=np.bool_)
    rows = np.flatnonzero(scan)
    if rows.size < FLOOD_PER_MINUTE:
        return out
    minute = batch["ts_us"][rows] // 60_000_000
    dst = mix64(batch["dst_hi"][rows], batch["dst_lo"][rows])
    group = mix64(dst, batch["proto"][rows], batch["dport"][rows], minute)
    # cheap superset first: packets per hashed bucket
    bucket = (group % np.uint64(_BUCKETS)).astype(np.int64)
    busy = np.bincount(bucket, minlength=_BUCKETS)[bucket] >= FLOOD_PER_MINUTE
    if not busy.any():
        return out
    src = mix64(batch["src_hi"][rows], batch["src_lo"][rows])
    g, s = group[busy], src[busy]
    pairs = np.unique(np.stack([g, s], axis=1), axis=0)
    groups, counts = np.unique(pairs[:, 0], return_counts=True)
    flooded = groups[counts >= FLOOD_PER_MINUTE]
    for fg in flooded:
        members = np.unique(pairs[pairs[:, 0] == fg, 1])
        in_group = group == fg
        target = dst[in_group][0]
        seen = np.isin(src, members)
        elsewhere = np.unique(src[seen & (dst != target)])
        if 1.0 - elsewhere.size / members.size >= FLOOD_EXCLUSIVE:
            out[rows[in_group & ~np.isin(src, elsewhere)]] = True
    return out


def traffic_class(batch: Columns) -> npt.NDArray[np.uint8]:
    """Cls code per packet."""
    proto = batch["proto"]
    flags = batch["tcp_flags"]
    icmp_type = batch["icmp_type"]
    whole = batch["frag"] != Frag.LATER
    tcp = (proto == 6) & whole
    icmp4 = (proto == 1) & whole
    icmp6 = (proto == 58) & whole
    scan = (tcp & ((flags & (SYN | ACK)) == SYN) & ((flags & RST) == 0)) | ((proto == 17) & whole)
    scan |= (icmp4 & (icmp_type == 8)) | (icmp6 & (icmp_type == 128))
    back = tcp & (((flags & (SYN | ACK)) == (SYN | ACK)) | ((flags & RST) != 0))
    back |= icmp4 & np.isin(icmp_type, ICMP_BACKSCATTER_V4)
    back |= icmp6 & np.isin(icmp_type, ICMP_BACKSCATTER_V6)
    out = np.full(proto.shape, Cls.OTHER, dtype=np.uint8)
    out[back] = Cls.BACKSCATTER
    out[scan] = Cls.SCAN
    return out


def fingerprint_tags(batch: Columns) -> npt.NDArray[np.uint32]:
    """Tag bits per packet from header fingerprints (IPv4 TCP SYN probes only)."""
    v4 = batch["ipver"] == 4
    syn = (batch["proto"] == 6) & ((batch["tcp_flags"] & (SYN | ACK)) == SYN) & v4
    dst = (batch["dst_lo"] & np.uint64(0xFFFF_FFFF)).astype(np.uint32)
    seq = batch["tcp_seq"].astype(np.uint32)
    ip_id = batch["ip_id"].astype(np.uint32)
    dport = batch["dport"].astype(np.uint32)
    tags = np.zeros(v4.shape, dtype=np.uint32)
    tags[syn & (seq == dst)] |= np.uint32(Tag.MIRAI)
    tags[v4 & (ip_id == 54321)] |= np.uint32(Tag.ZMAP)
    masscan = ((dst ^ dport ^ seq) & np.uint32(0xFFFF)) == ip_id
    tags[syn & masscan & (ip_id != 54321)] |= np.uint32(Tag.MASSCAN)
    return tags
