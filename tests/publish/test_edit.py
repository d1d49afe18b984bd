"""The Markdown edit form: round trip, and untrusted text never raises anything but InputError."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from isdas.errors import InputError
from isdas.publish.edit import Edit, apply, parse_markdown, to_markdown
from tests.publish.sample import fixed_alert


def test_markdown_round_trip_changes_nothing() -> None:
    alert = fixed_alert()
    change = parse_markdown(to_markdown(alert))
    assert apply(alert, change) == alert


def test_edited_markdown_changes_sections_and_references() -> None:
    alert = fixed_alert()
    text = to_markdown(alert).replace('title = "Increased', 'title = "Sharply increased')
    text = text.replace('note = ""', 'note = "Corrected typographic error"')
    text = text.replace("references = [\n", 'references = [\n  "https://example.org/x",\n')
    text = text.replace("## III. Solution\n\n", "## III. Solution\n\n- Patch now.\n")
    change = parse_markdown(text)
    new = apply(alert, change)
    assert new.title.startswith("Sharply") and change.note == "Corrected typographic error"
    assert new.references[0] == "https://example.org/x" and new.solution[0] == "Patch now."


def test_add_reference_keeps_existing_ones() -> None:
    alert = fixed_alert()
    new = apply(alert, Edit(add_references=("https://example.org/y",)))
    assert new.references == (*alert.references, "https://example.org/y")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_parse_markdown_never_raises_other_errors(text: str) -> None:
    for candidate in (text, "+++\n" + text, "+++\n" + text + "\n+++\n## III. Solution\n" + text):
        with contextlib.suppress(InputError):
            parse_markdown(candidate)
