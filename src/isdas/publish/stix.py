"""Publish stage: an alert as a STIX 2.1 bundle (report, observed-data, vulnerabilities, indicator).

Objects are built and validated by the `stix2` library; ids are deterministic (UUIDv5 of the
alert id and revision), so the same revision always yields the same bundle. No I/O.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import stix2

from isdas.publish.document import Alert

NAMESPACE = uuid.UUID("6f1e7c52-3d8a-5b0e-9c41-2a7d3f0b8e15")
IDENTITY_ID = "identity--" + str(uuid.uuid5(NAMESPACE, "isdas"))


def _id(kind: str, alert: Alert, part: str = "") -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{alert.id}/{alert.revision}/{kind}/{part}')}"


def _identity(at: datetime) -> stix2.Identity:
    return stix2.Identity(
        id=IDENTITY_ID, name="isdas", identity_class="system", created=at, modified=at
    )


def _vulns(alert: Alert) -> list[stix2.Vulnerability]:
    return [
        stix2.Vulnerability(
            id=_id("vulnerability", alert, v.cve),
            name=v.cve,
            description=v.name,
            created=alert.created,
            modified=alert.updated,
            created_by_ref=IDENTITY_ID,
            external_references=[{"source_name": "cve", "external_id": v.cve}],
        )
        for v in alert.vulns
    ]


def _traffic(
    alert: Alert,
) -> tuple[stix2.NetworkTraffic, stix2.ObservedData, stix2.IPv4Address]:
    traffic = stix2.NetworkTraffic(
        id=_id("network-traffic", alert),
        protocols=[alert.proto],
        dst_port=alert.port,
        dst_ref=_id("ipv4-addr", alert),
    )
    target = stix2.IPv4Address(id=_id("ipv4-addr", alert), value="0.0.0.0/0")
    observed = stix2.ObservedData(
        id=_id("observed-data", alert),
        created_by_ref=IDENTITY_ID,
        created=alert.created,
        modified=alert.updated,
        first_observed=alert.observed.since,
        last_observed=max(alert.observed.until, alert.observed.since),
        number_observed=max(1, round(alert.observed.sources)),
        object_refs=[traffic.id, target.id],
    )
    return traffic, observed, target


def _indicator(alert: Alert) -> stix2.Indicator:
    pattern = (
        f"[network-traffic:dst_port = {alert.port} AND "
        f"network-traffic:protocols[*] = '{alert.proto}']"
    )
    return stix2.Indicator(
        id=_id("indicator", alert),
        name=alert.title,
        description="Scanning of this port; inbound traffic to it is likely hostile.",
        pattern=pattern,
        pattern_type="stix",
        valid_from=alert.observed.onset or alert.observed.since,
        created=alert.created,
        modified=alert.updated,
        created_by_ref=IDENTITY_ID,
        indicator_types=["anomalous-activity"],
    )


def bundle(alert: Alert) -> stix2.Bundle:
    """The STIX 2.1 bundle of an alert."""
    traffic, observed, target = _traffic(alert)
    vulns, indicator = _vulns(alert), _indicator(alert)
    refs = [{"source_name": "reference", "url": r} for r in alert.references]
    report = stix2.Report(
        id=_id("report", alert),
        name=f"{alert.id}: {alert.title}",
        description=alert.overview,
        published=alert.published or alert.updated,
        report_types=["threat-report"],
        created=alert.created,
        modified=alert.updated,
        created_by_ref=IDENTITY_ID,
        object_refs=[observed.id, indicator.id, *(v.id for v in vulns)],
        external_references=[{"source_name": "isdas", "external_id": alert.id}, *refs],
        revoked=alert.status == "withdrawn",
    )
    objects = [_identity(alert.created), report, observed, traffic, target, indicator, *vulns]
    return stix2.Bundle(objects=objects, id=_id("bundle", alert), allow_custom=False)


def bundle_json(alert: Alert) -> str:
    """The bundle serialised (indented, stable)."""
    return str(bundle(alert).serialize(pretty=True)) + "\n"
