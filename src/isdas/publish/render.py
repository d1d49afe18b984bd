"""Publish stage: render an alert as plain text (JPCERT layout), Markdown or JSON.

Pure functions from an Alert to text; HTML is in html.py and STIX in stix.py. No I/O.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from isdas.errors import InputError
from isdas.publish.document import Alert, to_json

RULE = "=" * 70
WIDTH = 70


def _date(alert: Alert) -> str:
    return (alert.published or alert.created).strftime("%Y-%m-%d")


def _para(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent)


def _bullet(text: str, mark: str) -> str:
    pad = " " * (len(mark) + 2)
    return textwrap.fill(text, WIDTH, initial_indent=f"  {mark}", subsequent_indent=pad)


def _vuln_lines(alert: Alert) -> list[str]:
    lines = []
    for v in alert.vulns:
        added = f" (added to CISA KEV {v.date_added})" if v.date_added else ""
        lines.append(_bullet(f"{v.cve}: {v.name}{added}", "- "))
    return lines


def _history(alert: Alert) -> list[str]:
    return [f"{r.at:%Y-%m-%d}  {r.note}" for r in alert.revisions]


def text(alert: Alert) -> str:
    """The plain-text alert in the JPCERT/CC layout."""
    status = "" if alert.status == "published" else f"[{alert.status.upper()}]\n"
    lines = [RULE, alert.id, "isdas", _date(alert), RULE, status + alert.title, ""]
    lines += ["I. Overview", "", _para(alert.overview), ""]
    lines += ["II. Situation observed", "", _para(alert.situation), ""]
    lines += [f"  Graph: {g}" for g in alert.graphs]
    if alert.vulns:
        lines += ["", "  Known vulnerabilities of products on this port:", *_vuln_lines(alert)]
    lines += ["", "III. Solution", ""]
    lines += [_bullet(s, f"{i}. ") for i, s in enumerate(alert.solution, 1)]
    lines += ["", "IV. References", ""]
    lines += [f"  [{i}] {r}" for i, r in enumerate(alert.references, 1)]
    lines += ["", RULE, "Revision history", "", *_history(alert), RULE]
    return "\n".join(lines) + "\n"


def _md_vulns(alert: Alert) -> list[str]:
    rows = ["| CVE | Vulnerability | Added to CISA KEV |", "|---|---|---|"]
    for v in alert.vulns:
        cve = f"[{v.cve}]({v.url})" if v.url else v.cve
        rows.append(f"| {cve} | {v.name.replace('|', '/')} | {v.date_added or '-'} |")
    return rows


def markdown(alert: Alert) -> str:
    """The alert as Markdown."""
    lines = [f"# {alert.title}", "", f"**{alert.id}** · {alert.status} · {_date(alert)}", ""]
    lines += ["## I. Overview", "", alert.overview, "", "## II. Situation observed", ""]
    lines += [f"![{alert.key} graph]({g})" for g in alert.graphs]
    lines += ["", alert.situation, ""] if alert.graphs else [alert.situation, ""]
    if alert.vulns:
        lines += [*_md_vulns(alert), ""]
    lines += ["## III. Solution", "", *[f"- {s}" for s in alert.solution], ""]
    lines += ["## IV. References", "", *[f"{i}. <{r}>" for i, r in enumerate(alert.references, 1)]]
    lines += ["", "## Revision history", "", *[f"- {h}" for h in _history(alert)]]
    return "\n".join(lines) + "\n"


def json_text(alert: Alert) -> str:
    """The alert as indented JSON."""
    return to_json(alert, indent=2) + "\n"


def renderer(fmt: str) -> Callable[[Alert], str]:
    """The renderer for `text|md|html|json|stix`."""
    from isdas.publish import html, stix

    table: dict[str, Callable[[Alert], str]] = {
        "text": text,
        "md": markdown,
        "html": html.page,
        "json": json_text,
        "stix": stix.bundle_json,
    }
    if fmt not in table:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(table)}")
    return table[fmt]
