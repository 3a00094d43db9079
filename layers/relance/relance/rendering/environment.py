"""The jinja2 environment: one per templates folder, built once and kept (compiled templates are cached).

Templates live in ``<templates_dir>/<language>/<template>.<part>.j2``. Autoescape is on for the HTML
email (``.html.j2``) and for the letter markup (``.letter.j2``), off for subjects, text, SMS and tasks.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relance import paths
from relance.errors import RelanceError
from relance.rendering import formatting

if TYPE_CHECKING:   # jinja2 is imported with the first Templates: a handler that renders nothing never loads it
    from jinja2.runtime import Context

AUTOESCAPED = (".html.j2", ".letter.j2")


def _lang(context: Context) -> str:
    value = context.get("language")
    return value if isinstance(value, str) else "fr"


def _eur(context: Context, value: Decimal | int | str) -> str:
    return formatting.eur(value, _lang(context))


def _date_long(context: Context, value: dt.date) -> str:
    return formatting.date_long(value, _lang(context))


def _date_short(context: Context, value: dt.date) -> str:
    return formatting.date_short(value, _lang(context))


def _rate(context: Context, value: Decimal | None) -> str:
    return formatting.rate(value, _lang(context))


def _number(context: Context, value: Decimal | int) -> str:
    return formatting.number(value, _lang(context))


def _autoescape(name: str | None) -> bool:
    return bool(name and name.endswith(AUTOESCAPED))


class Templates:
    """A templates folder: its jinja2 environment and the set of template names it holds."""

    def __init__(self, root: Path) -> None:
        import jinja2

        self.root = root
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(root), encoding="utf-8"),
            undefined=jinja2.StrictUndefined,
            autoescape=_autoescape,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=2000,
        )
        with_context = jinja2.pass_context     # the filters read the template's ``language``
        self.env.filters.update(
            eur=with_context(_eur), date_long=with_context(_date_long), date_short=with_context(_date_short),
            rate=with_context(_rate), number=with_context(_number),
            iban=formatting.iban, address_lines=formatting.address_lines, one_line=formatting.one_line,
        )
        self.names = frozenset(self.env.list_templates(extensions=["j2"]))

    def has(self, name: str) -> bool:
        return name in self.names

    def resolve(self, language: str, template: str, part: str) -> str | None:
        """The name of ``template.part.j2`` for ``language``, falling back to French; None if absent."""
        for lang in (language, "fr"):
            name = f"{lang}/{template}.{part}.j2"
            if name in self.names:
                return name
        return None

    def render(self, name: str, variables: dict[str, Any]) -> str:
        """Render one template; a template error becomes a RelanceError naming the file and line."""
        import jinja2

        try:
            return self.env.get_template(name).render(variables)
        except jinja2.TemplateSyntaxError as exc:
            raise RelanceError(f"template syntax error: {exc.message}",
                               f"{self.root / (exc.name or name)}:{exc.lineno}") from exc
        except jinja2.UndefinedError as exc:
            raise RelanceError(f"template uses an undefined value: {exc.message}",
                               str(self.root / name)) from exc


@lru_cache(maxsize=8)
def _templates_for(root: str) -> Templates:
    return Templates(Path(root))


def templates(root: Path | None = None) -> Templates:
    """The (cached) templates of ``root``, by default ``relance.paths.templates_dir()``."""
    folder = root if root is not None else paths.templates_dir()
    return _templates_for(str(folder))


def clear_cache() -> None:
    """Forget the environments (tests that write templates on the fly, development reloads)."""
    _templates_for.cache_clear()
