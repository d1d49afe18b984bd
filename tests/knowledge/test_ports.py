"""The knowledge base: service names, curated threats, KEV join, countermeasures, refresh."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from isdas.errors import InputError
from isdas.knowledge import files, iana, kev, ports, update
from isdas.knowledge.threats import parse_threats
from isdas.settings import Settings

REQUIRED = [
    23,
    2323,
    445,
    5168,
    3628,
    3389,
    1433,
    7547,
    37215,
    52869,
    8291,
    5555,
    6379,
    9200,
    2375,
    22,
    80,
    8080,
    443,
    1723,
    3306,
    5432,
    5900,
    27017,
    8443,
    8888,
    81,
    21,
    25,
    111,
    135,
    139,
    502,
    1883,
    5038,
    10000,
    60001,
]
REQUIRED_UDP = [11211, 1900, 123, 161, 5060, 53, 389]


def _threats() -> list[object]:
    path = files.shipped_dir() / files.THREATS_FILE
    return list(parse_threats(path.read_text(encoding="utf-8")))


def test_service_names_come_from_the_registry() -> None:
    assert ports.service_name("tcp", 5168) == "scte30"
    assert ports.service_name(6, 2323) == "3d-nfsd"
    assert ports.service_name("udp", 53) == "domain"
    assert ports.service_name("tcp", 445) == "microsoft-ds"


def test_unregistered_port_has_no_name() -> None:
    known = ports.services()
    free = next(p for p in range(49152, 65536) if ("tcp", p) not in known)
    assert ports.service_name("tcp", free) is None


def test_every_commonly_scanned_port_has_a_sourced_threat() -> None:
    for port in REQUIRED:
        info = ports.port_info("tcp", port)
        assert info.threats, f"tcp/{port} has no threat"
    for port in REQUIRED_UDP:
        assert ports.port_info("udp", port).threats, f"udp/{port} has no threat"
    covered = {p for t in _threats() for p in t.ports}  # type: ignore[attr-defined]
    assert len(covered) >= 40


def test_threat_entries_are_complete_and_sourced() -> None:
    for t in _threats():
        assert t.references and all(r.startswith("http") for r in t.references), t.id  # type: ignore[attr-defined]
        assert t.first_seen is not None, t.id  # type: ignore[attr-defined]
        assert t.products and t.countermeasures, t.id  # type: ignore[attr-defined]
        assert all(re.fullmatch(r"CVE-\d{4}-\d{4,}", c) for c in t.cves), t.id  # type: ignore[attr-defined]


def test_smb_lists_ms08_067_and_ms17_010() -> None:
    info = ports.port_info("tcp", 445)
    assert {"CVE-2008-4250", "CVE-2017-0144"} <= set(info.cves)
    assert any(k.cve == "CVE-2017-0144" for k in info.kev)
    dates = [k.date_added for k in info.kev]
    assert dates == sorted(dates, reverse=True)


def test_countermeasures_cover_patch_inbound_and_outbound() -> None:
    texts = ports.port_info("tcp", 5168).countermeasures
    assert "vendor" in texts[0] and "5168" in texts[0]
    assert "Block inbound" in texts[1]
    assert "outbound" in texts[2] and "secondary infection" in texts[2]
    assert any("ServerProtect" in t for t in texts[3:])


def test_port_without_threats_still_gets_general_advice() -> None:
    info = ports.port_info("tcp", 4)
    assert info.threats == () and len(info.countermeasures) == 3


IANA_SAMPLE = """Service Name,Port Number,Transport Protocol,Description,Assignee
,0,tcp,Reserved,
alpha,7,tcp,Alpha   service,
alpha,7,udp,Alpha service,
beta,7,tcp,Second name for 7,
gamma,100-102,tcp,Gamma range,
sc,9,sctp,Not TCP or UDP,
,200,tcp,Unassigned,
bad,70000,tcp,Out of range,
"""


def test_parse_iana_keeps_primary_names_and_expands_ranges() -> None:
    table = {(s.proto, s.port): s for s in iana.parse_iana(IANA_SAMPLE.splitlines())}
    assert table[("tcp", 7)].name == "alpha" and table[("tcp", 7)].description == "Alpha service"
    assert [table[("tcp", p)].name for p in (100, 101, 102)] == ["gamma"] * 3
    assert ("tcp", 0) not in table and ("sctp", 9) not in table and ("tcp", 200) not in table
    assert ("tcp", 70000) not in table


def test_parse_iana_rejects_other_csv() -> None:
    with pytest.raises(InputError):
        iana.parse_iana(["a,b\n", "1,2\n"])


def test_user_copy_overrides_shipped_table(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    source = tmp_path / "iana.csv"
    source.write_text(IANA_SAMPLE.replace("gamma", "mine"), encoding="utf-8")
    result = update.update_iana(settings, source)
    assert result.paths == (tmp_path / "home" / "knowledge" / files.SERVICES_FILE,)
    ports._FAST.clear()
    assert ports.service_name("tcp", 101, settings) == "mine"
    assert ports.service_name("tcp", 5168, settings) is None
    assert ports.service_name("tcp", 5168) == "scte30"


def _catalog(tmp_path: Path) -> Path:
    rows = [
        {
            "cveID": "CVE-2099-0001",
            "vendorProject": "MikroTik",
            "product": "RouterOS",
            "vulnerabilityName": "Newer",
            "dateAdded": "2099-01-02",
            "knownRansomwareCampaignUse": "Known",
        },
        {
            "cveID": "CVE-2098-0001",
            "vendorProject": "mikrotik",
            "product": "RouterOS v7",
            "vulnerabilityName": "Older",
            "dateAdded": "2098-01-02",
        },
        {
            "cveID": "CVE-2099-0002",
            "vendorProject": "Other",
            "product": "RouterOS",
            "vulnerabilityName": "Unrelated",
            "dateAdded": "2099-01-03",
        },
    ]
    path = tmp_path / "kev.json"
    path.write_text(json.dumps({"catalogVersion": "t1", "vulnerabilities": rows}), "utf-8")
    return path


def test_kev_refresh_joins_by_vendor_and_product(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    result = update.update_kev(settings, _catalog(tmp_path))
    assert result.rows == 2
    info = ports.port_info("tcp", 8291, settings)
    assert [k.cve for k in info.kev] == ["CVE-2099-0001", "CVE-2098-0001"]
    assert info.kev[0].ransomware and not info.kev[1].ransomware
    version, _ = kev.decode_subset(result.paths[0].read_bytes())
    assert version == "t1"


def test_kev_rejects_non_catalog(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        kev.parse_catalog(b'{"nope": 1}')


@pytest.mark.shared
def test_shipped_table_matches_the_reference_registry(shared_dir: Path) -> None:
    derived = iana.read_iana(shared_dir / "data" / "iana-service-names-port-numbers.csv")
    shipped = iana.decode_table((files.shipped_dir() / files.SERVICES_FILE).read_bytes())
    assert {(s.proto, s.port): s for s in derived} == shipped
    assert len(shipped) > 10_000


@pytest.mark.shared
def test_shipped_kev_subset_matches_the_reference_catalog(shared_dir: Path, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    source = shared_dir / "data" / "cisa-kev" / "known_exploited_vulnerabilities.json"
    result = update.update_kev(settings, source)
    shipped = (files.shipped_dir() / files.KEV_FILE).read_bytes()
    assert gzip.decompress(result.paths[0].read_bytes()) == gzip.decompress(shipped)
