"""Reports for people: the figures (aging, amounts owed) and the weekly digest mailed to the team.

Figures are computed in :mod:`relance.reporting.figures`; pages and mails are rendered from the Jinja
templates of ``relance/reporting/templates/`` (shipped in the layer with the package), never assembled
with f-strings. The season report of ``relance simulate`` (development package) reuses the figures and
the stylesheet.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def environment() -> Any:
    """The reports' Jinja environment: HTML templates (``*.html.j2``) autoescaped, the others plain text."""
    import jinja2

    from relance.reporting.figures import money

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                             autoescape=lambda name: (name or "").endswith(".html.j2"))
    env.filters["money"] = money
    return env


def render(name: str, **context: Any) -> str:
    return str(environment().get_template(name).render(**context))


def stylesheet() -> str:
    """The CSS both the digest and the season report inline (offline pages: no external asset)."""
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")
