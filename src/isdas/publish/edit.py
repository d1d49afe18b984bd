"""Publish stage: edits to an alert (CLI options or an edited Markdown file) as pure functions.

The Markdown form has TOML front matter between `+++` lines (title, references, note) and the
sections as `## I. Overview`, `## II. Situation observed`, `## III. Solution` (bullet list).
Must not do I/O: the caller reads the file and stores the revision.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace

from isdas.errors import InputError
from isdas.publish.document import Alert

SECTIONS = {
    "I. Overview": "overview",
    "II. Situation observed": "situation",
    "III. Solution": "solution",
}
_HEADING = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)
_BULLET = re.compile(r"^\s*[-*] +", re.MULTILINE)


@dataclass(frozen=True)
class Edit:
    """A change to an alert; None means unchanged."""

    title: str | None = None
    overview: str | None = None
    situation: str | None = None
    solution: tuple[str, ...] | None = None
    add_references: tuple[str, ...] = ()
    references: tuple[str, ...] | None = None  # replaces the list (file edits)
    note: str = ""

    def changed(self, alert: Alert) -> bool:
        return apply(alert, self) != alert


def _clean(text: str | None) -> str | None:
    return None if text is None else text.strip()


def apply(alert: Alert, edit: Edit) -> Alert:
    """The alert with the edit's fields replaced (revision history untouched)."""
    refs = edit.references if edit.references is not None else alert.references
    refs = tuple(dict.fromkeys((*refs, *edit.add_references)))
    return replace(
        alert,
        title=_clean(edit.title) or alert.title,
        overview=_clean(edit.overview) or alert.overview,
        situation=_clean(edit.situation) or alert.situation,
        solution=edit.solution if edit.solution else alert.solution,
        references=refs,
    )


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def to_markdown(alert: Alert) -> str:
    """The editable Markdown form of an alert."""
    refs = ",\n".join(f"  {_toml_string(r)}" for r in alert.references)
    bullets = "\n".join(f"- {s}" for s in alert.solution)
    return (
        f"+++\n# {alert.id} revision {alert.revision}; edit, then: isdas alert edit "
        f"{alert.id} --file THIS\ntitle = {_toml_string(alert.title)}\n"
        f'note = ""\nreferences = [\n{refs}\n]\n+++\n\n'
        f"## I. Overview\n\n{alert.overview}\n\n"
        f"## II. Situation observed\n\n{alert.situation}\n\n"
        f"## III. Solution\n\n{bullets}\n"
    )


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    if not text.startswith("+++"):
        return {}, text
    head, sep, body = text[3:].partition("\n+++")
    if not sep:
        raise InputError("front matter starts with +++ but never ends")
    try:
        return tomllib.loads(head), body
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"front matter is not valid TOML: {exc}") from exc


def _sections(body: str) -> dict[str, str]:
    found: dict[str, str] = {}
    marks = list(_HEADING.finditer(body))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        name = SECTIONS.get(mark.group(1))
        if name is not None:
            found[name] = body[mark.end() : end].strip()
    return found


def _bullets(text: str) -> tuple[str, ...]:
    items = [" ".join(p.split()) for p in _BULLET.split(text)]
    return tuple(i for i in items if i)


def _str_list(value: object, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{name} must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def parse_markdown(text: str) -> Edit:
    """An Edit from the Markdown form; raises InputError on malformed input."""
    meta, body = _front_matter(text)
    sections = _sections(body)
    title, note = meta.get("title"), meta.get("note", "")
    if (title is not None and not isinstance(title, str)) or not isinstance(note, str):
        raise InputError("title and note must be strings")
    solution = _bullets(sections["solution"]) if "solution" in sections else None
    return Edit(
        title=title,
        overview=sections.get("overview"),
        situation=sections.get("situation"),
        solution=solution or None,
        references=_str_list(meta.get("references"), "references"),
        note=note,
    )
