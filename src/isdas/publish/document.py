"""Publish stage: the alert document (a frozen value) and its JSON form.

An alert has an id, title, status, dates, the four JPCERT sections and the structured figures
observed, plus its revision history. Must not do I/O; storing is isdas.store.alerts' job.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from isdas.errors import InputError

STATUSES = ("draft", "published", "withdrawn")


@dataclass(frozen=True)
class Revision:
    """One entry of the revision history."""

    number: int
    at: datetime
    note: str


@dataclass(frozen=True)
class Share:
    """A sensor or country in the observed situation."""

    name: str
    value: float  # sources observed (sensor) or share of excess (country)
    expected: float = 0.0
    sources: int = 0


@dataclass(frozen=True)
class Observed:
    """The figures behind section II."""

    since: datetime
    until: datetime
    onset: datetime | None = None
    sources: float = 0.0
    expected_sources: float = 0.0
    packets: float = 0.0
    expected_packets: float = 0.0
    sensors: tuple[Share, ...] = ()
    countries: tuple[Share, ...] = ()
    fingerprints: tuple[str, ...] = ()
    shape: str = "unknown"
    doubling_hours: float | None = None
    kind: str = ""


@dataclass(frozen=True)
class Vuln:
    """A vulnerability listed with the alert (curated or from CISA KEV)."""

    cve: str
    name: str
    date_added: str = ""  # KEV dateAdded, ISO date, "" when curated only
    url: str = ""


@dataclass(frozen=True)
class Alert:
    """An alert document, as of its current revision."""

    id: str
    title: str
    status: str
    proto: str
    port: int
    created: datetime
    updated: datetime
    overview: str
    situation: str
    solution: tuple[str, ...]
    references: tuple[str, ...]
    observed: Observed
    published: datetime | None = None
    withdrawn: datetime | None = None
    detection_id: str | None = None
    service: str | None = None
    vulns: tuple[Vuln, ...] = ()
    revisions: tuple[Revision, ...] = ()
    graphs: tuple[str, ...] = field(default=())  # file names relative to the alert's page

    @property
    def key(self) -> str:
        return f"{self.proto}/{self.port}"

    @property
    def revision(self) -> int:
        return self.revisions[-1].number if self.revisions else 0


def with_revision(alert: Alert, at: datetime, note: str, number: int) -> Alert:
    """The alert with one more history entry and its updated time."""
    entry = Revision(number, at, note)
    return replace(alert, updated=at, revisions=(*alert.revisions, entry))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot encode {type(value).__name__}")


def to_dict(alert: Alert) -> dict[str, Any]:
    """A JSON-ready dict (datetimes as ISO-8601 UTC strings)."""
    result: dict[str, Any] = json.loads(to_json(alert))
    return result


def to_json(alert: Alert, *, indent: int | None = None) -> str:
    """The JSON text of an alert (stable key order)."""
    return json.dumps(asdict(alert), default=_encode, indent=indent, ensure_ascii=False)


def _time(value: Any) -> datetime:
    out = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return out if out.tzinfo else out.replace(tzinfo=UTC)


def _opt_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def _observed(raw: dict[str, Any]) -> Observed:
    return Observed(
        **{
            **raw,
            "since": _time(raw["since"]),
            "until": _time(raw["until"]),
            "onset": _opt_time(raw.get("onset")),
            "sensors": tuple(Share(**s) for s in raw.get("sensors", ())),
            "countries": tuple(Share(**s) for s in raw.get("countries", ())),
            "fingerprints": tuple(raw.get("fingerprints", ())),
        }
    )


def from_dict(raw: dict[str, Any]) -> Alert:
    """Rebuild an alert from `to_dict` output; raises InputError on a malformed document."""
    try:
        return Alert(
            **{
                **raw,
                "created": _time(raw["created"]),
                "updated": _time(raw["updated"]),
                "published": _opt_time(raw.get("published")),
                "withdrawn": _opt_time(raw.get("withdrawn")),
                "solution": tuple(raw.get("solution", ())),
                "references": tuple(raw.get("references", ())),
                "observed": _observed(raw["observed"]),
                "vulns": tuple(Vuln(**v) for v in raw.get("vulns", ())),
                "revisions": tuple(
                    Revision(r["number"], _time(r["at"]), r["note"]) for r in raw["revisions"]
                ),
                "graphs": tuple(raw.get("graphs", ())),
            }
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"malformed alert document: {exc}") from exc


def from_json(text: str) -> Alert:
    """Parse the JSON text of an alert."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise InputError(f"alert document is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InputError("alert document must be a JSON object")
    return from_dict(raw)
