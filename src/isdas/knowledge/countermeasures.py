"""Knowledge stage: countermeasure texts for an alert's Solution section.

General advice for any scanned port, then each threat's specifics. Pure text; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from isdas.knowledge.threats import Threat


def general(proto: str, port: int, products: Sequence[str] = ()) -> tuple[str, ...]:
    """The three standing countermeasures for increased scanning of `proto/port`."""
    label = f"{proto.upper()} port {port}"
    what = ", ".join(products) if products else f"services listening on {label}"
    return (
        f"Apply the vendor's security updates to {what}, and check that hosts exposing "
        f"{label} are not compromised.",
        f"Block inbound access to {label} at the perimeter (firewall or router) unless a "
        "service must be reachable from the Internet, and then allow only known peers.",
        f"Restrict outbound traffic to {label} from your network, to prevent secondary "
        "infection of others by compromised hosts and to find infected hosts in the logs.",
    )


def for_threats(proto: str, port: int, threats: Sequence[Threat]) -> tuple[str, ...]:
    """General advice followed by each threat's own countermeasures, without duplicates."""
    products = tuple(p for t in threats for p in t.products)[:3]
    texts = list(general(proto, port, products))
    for threat in threats:
        for text in threat.countermeasures:
            if text not in texts:
                texts.append(text)
    return tuple(texts)
