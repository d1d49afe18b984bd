"""Publish stage: HTML pages (alert, index, report) from the package's Jinja2 templates.

Autoescaping is on: alert text is analyst input. Pure rendering; no file writes.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2

from isdas.publish.document import Alert


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment over isdas/publish/templates."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("isdas.publish", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """Render one template."""
    return environment().get_template(template).render(**context)


def page(alert: Alert, home: str = "../index.html") -> str:
    """The alert's HTML page."""
    date = (alert.published or alert.created).strftime("%Y-%m-%d")
    return render("alert.html.j2", a=alert, date=date, home=home)
