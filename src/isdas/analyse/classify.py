"""Analyse stage: per-packet classification applied at ingest.

Pure functions over column arrays: no I/O, no clock. Decides the traffic class (scan,
backscatter, other) and the fingerprint tags of every packet.

- Scans: TCP SYN without ACK, UDP, ICMP/ICMPv6 echo request.
- Backscatter: TCP SYN-ACK or RST, ICMP errors and echo replies: answers to spoofed packets.
- Fingerprints: Mirai (TCP seq == destination IPv4), ZMap (IPv4 id 54321),
  Masscan (IPv4 id == (dst ^ dport ^ seq) & 0xffff).
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


def classify(batch: Columns) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint32]]:
    """The class (Cls codes) and tag bits (Tag) of every packet in `batch`."""
    return traffic_class(batch), fingerprint_tags(batch)


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
