"""Publish stage: the alert life cycle (draft, edit, publish, withdraw) over the catalog.

Every change is stored as a new revision through isdas.store.alerts; nothing is overwritten.
Must not render documents or send notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from isdas.errors import InputError
from isdas.knowledge.ports import port_info
from isdas.models import Detection, Key
from isdas.publish import draft
from isdas.publish.document import Alert, from_json, to_json, with_revision
from isdas.publish.edit import Edit, apply
from isdas.settings import Settings
from isdas.store import alerts as store

log = logging.getLogger(__name__)
BASELINE = timedelta(days=7)


def now() -> datetime:
    """The current time, UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def _meta(alert: Alert) -> store.AlertMeta:
    return store.AlertMeta(
        status=alert.status,
        proto=alert.proto,
        port=alert.port,
        title=alert.title,
        detection_id=alert.detection_id,
        at=alert.updated,
        published_at=alert.published,
    )


def save_new(settings: Settings, alert: Alert) -> Alert:
    """Store a drafted alert as revision 1 under a fresh id."""
    alert_id = store.create(
        settings, _meta(alert), alert.revisions[-1].note, lambda i: to_json(replace(alert, id=i))
    )
    return replace(alert, id=alert_id)


def draft_detection(settings: Settings, detection: Detection, at: datetime | None = None) -> Alert:
    """Draft and store the alert for a detection."""
    info = port_info(detection.proto, detection.port, settings)
    return save_new(settings, draft.from_detection(detection, info, at=at or now()))


def draft_from_detections(settings: Settings, detections: Iterable[Detection]) -> list[str]:
    """Draft one alert per detection not yet drafted; the new alert ids."""
    done = {r["detection_id"] for r in store.list_rows(settings)}
    ids = []
    for det in detections:
        if det.id not in done:
            ids.append(draft_detection(settings, det).id)
            done.add(det.id)
    return ids


def draft_port(
    settings: Settings, key: Key, since: datetime, until: datetime | None = None
) -> Alert:
    """Draft and store a hand-written alert for any port, with figures from the metrics."""
    from isdas.store import queries

    end = until or now()
    if end <= since:
        raise InputError("--since must be before --until")
    base = queries.series(settings, key, since=since - BASELINE, until=since)
    window = queries.series(settings, key, since=since, until=end)
    countries = queries.series(settings, key, since=since, until=end, by="country")
    sensors = queries.series(settings, key, since=since, until=end, by="sensor")
    observed = draft.observed_from_rows(since, end, base, window, countries, sensors)
    info = port_info(key.proto, key.port, settings)
    return save_new(settings, draft.build(observed, info, at=now()))


def get(settings: Settings, alert_id: str) -> Alert:
    """The current revision of an alert; raises NotFound."""
    return from_json(store.get_body(settings, alert_id))


def history(settings: Settings, alert_id: str) -> list[Alert]:
    """Every stored revision of an alert, oldest first."""
    return [from_json(r.body) for r in store.revisions(settings, alert_id)]


def list_alerts(settings: Settings, status: str | None = None) -> list[Alert]:
    """Current revisions of all alerts, newest first."""
    return [from_json(b) for b in store.bodies(settings, status)]


def _store_revision(settings: Settings, new: Alert, note: str, at: datetime) -> Alert:
    def render(number: int) -> str:
        return to_json(with_revision(new, at, note, number))

    number = store.append_revision(settings, new.id, _meta(replace(new, updated=at)), note, render)
    return with_revision(new, at, note, number)


def edit(settings: Settings, alert_id: str, change: Edit, at: datetime | None = None) -> Alert:
    """Apply an edit as a new revision; raises InputError when nothing changes or no note."""
    current = get(settings, alert_id)
    new = apply(current, change)
    if new == current:
        raise InputError("the edit changes nothing")
    note = change.note.strip() or "Updated the alert"
    return _store_revision(settings, new, note, at or now())


def _set_status(settings: Settings, alert_id: str, status: str, at: datetime | None) -> Alert:
    current = get(settings, alert_id)
    if current.status == status:
        raise InputError(f"{alert_id} is already {status}")
    stamp = at or now()
    if status == "published":
        new = replace(current, status=status, published=current.published or stamp, withdrawn=None)
        return _store_revision(settings, new, "Published", stamp)
    new = replace(current, status=status, withdrawn=stamp)
    return _store_revision(settings, new, "Withdrawn", stamp)


def publish(settings: Settings, alert_id: str, at: datetime | None = None) -> Alert:
    """Mark an alert published (a new revision)."""
    return _set_status(settings, alert_id, "published", at)


def withdraw(settings: Settings, alert_id: str, at: datetime | None = None) -> Alert:
    """Mark an alert withdrawn (a new revision)."""
    return _set_status(settings, alert_id, "withdrawn", at)
