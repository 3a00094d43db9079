"""Registries of named policy elements (conditions, actions), in the style of Cloud Custodian filters.

An element is a class registered under the name users write in YAML::

    @conditions.register("balance_gte")
    class BalanceGte(Condition):
        '''Invoice balance is at least the amount. ```yaml ... ```'''

Its docstring is the user documentation (README vocabulary, JSON-schema description); its ``schema`` is the
JSON-schema fragment of its value.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> element class. ``kind`` names the family in error messages ("unknown condition 'x'")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def decorate(cls: type[T]) -> type[T]:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            cls.name = name  # type: ignore[attr-defined]
            self._items[name] = cls
            return cls
        return decorate

    def get(self, name: str) -> type[T] | None:
        return self._items.get(name)

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[tuple[str, type[T]]]:
        return iter(sorted(self._items.items()))


def summary(cls: Any) -> str:
    """First paragraph of a docstring, on one line."""
    doc = inspect.getdoc(cls) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def yaml_example(cls: Any) -> str:
    """The ```yaml fenced example of a docstring, or ''."""
    doc = inspect.getdoc(cls) or ""
    start = doc.find("```yaml")
    if start < 0:
        return ""
    end = doc.find("```", start + 7)
    return doc[start + 7:end].strip("\n")
