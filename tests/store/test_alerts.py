"""Alert documents in the catalog: ids, revisions that are never lost, status changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from isdas.errors import InputError, NotFound
from isdas.publish import manage
from isdas.publish.edit import Edit
from isdas.settings import Settings
from isdas.store import alerts as store
from tests.publish.sample import DRAFTED, detection


def test_ids_count_up_per_year_with_the_prefix(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", alert_prefix="TEST")
    first = manage.draft_detection(settings, detection(ident="a"), at=DRAFTED)
    second = manage.draft_detection(settings, detection(ident="b"), at=DRAFTED)
    later = manage.draft_detection(settings, detection(ident="c"), at=DRAFTED + timedelta(days=365))
    assert (first.id, second.id, later.id) == (
        "TEST-AT-2007-0001",
        "TEST-AT-2007-0002",
        "TEST-AT-2008-0001",
    )
    assert next(r["alert_id"] for r in store.list_rows(settings)) == "TEST-AT-2008-0001"


def test_publish_and_withdraw_are_revisions(settings: Settings) -> None:
    alert = manage.draft_detection(settings, detection(), at=DRAFTED)
    published = manage.publish(settings, alert.id, at=DRAFTED + timedelta(hours=1))
    assert published.status == "published" and published.published is not None
    with pytest.raises(InputError):
        manage.publish(settings, alert.id)
    withdrawn = manage.withdraw(settings, alert.id, at=DRAFTED + timedelta(hours=2))
    notes = [r.note for r in withdrawn.revisions]
    assert notes == ["First version", "Published", "Withdrawn"]
    assert [a.status for a in manage.history(settings, alert.id)] == [
        "draft",
        "published",
        "withdrawn",
    ]
    assert store.list_rows(settings, "withdrawn")[0]["revision"] == 3


def test_unknown_alert_is_not_found(settings: Settings) -> None:
    with pytest.raises(NotFound):
        manage.get(settings, "ISDAS-AT-2000-0001")
    with pytest.raises(NotFound):
        manage.edit(settings, "ISDAS-AT-2000-0001", Edit(title="x"))


def test_empty_edit_is_refused(settings: Settings) -> None:
    alert = manage.draft_detection(settings, detection(), at=DRAFTED)
    with pytest.raises(InputError):
        manage.edit(settings, alert.id, Edit(title=alert.title))


def test_draft_from_detections_skips_already_drafted(settings: Settings) -> None:
    dets = [detection(ident="x"), detection(port=445, ident="y")]
    assert len(manage.draft_from_detections(settings, dets)) == 2
    assert manage.draft_from_detections(settings, dets) == []


edits = st.lists(
    st.tuples(
        st.sampled_from(["title", "overview", "situation", "solution", "reference"]),
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
            min_size=1,
            max_size=30,
        ).filter(str.strip),
    ),
    min_size=1,
    max_size=6,
)


def _edit(field: str, text: str, i: int) -> Edit:
    value = f"{text} #{i}"
    if field == "solution":
        return Edit(solution=(value,), note=f"edit {i}")
    if field == "reference":
        return Edit(add_references=(f"https://example.org/{i}",), note=f"edit {i}")
    return Edit(**{field: value}, note=f"edit {i}")  # type: ignore[arg-type]


@hsettings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=edits)
def test_editing_never_loses_earlier_revisions(
    tmp_path_factory: pytest.TempPathFactory, changes: list[tuple[str, str]]
) -> None:
    settings = Settings(home=tmp_path_factory.mktemp("h"))
    alert = manage.draft_detection(settings, detection(), at=DRAFTED)
    seen = [manage.get(settings, alert.id)]
    for i, (field, text) in enumerate(changes):
        seen.append(manage.edit(settings, alert.id, _edit(field, text, i)))
    history = manage.history(settings, alert.id)
    assert [replace(a, revisions=()) for a in history] == [replace(a, revisions=()) for a in seen]
    assert [a.revision for a in history] == list(range(1, len(changes) + 2))
    assert history[-1].revisions[:-1] == history[-2].revisions
