"""Errors that reach a user: each one names the file, line or record it is about."""

from __future__ import annotations


class RelanceError(Exception):
    """Base of every error relance reports to a person (CLI exit 2, API 4xx, quarantine reason).

    ``where`` names what is wrong (``policies/x.yaml:12``, ``invoice F-001``, ``customer C1 field email``);
    ``str(error)`` is the one-line message shown to the user.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def first_problem(exc: Exception, whole: str = "value") -> str:
    """The first problem a pydantic ``ValidationError`` lists, as ``field.path: message`` (``whole`` when the
    problem is the value itself); any other error's own text. Duck-typed: the core does not import pydantic
    for it."""
    errors = getattr(exc, "errors", None)
    found = errors() if callable(errors) else []
    if not found:
        return str(exc)
    first = found[0]
    return f"{'.'.join(map(str, first.get('loc', ()))) or whole}: {first.get('msg', 'invalid')}"


class ValidationError(RelanceError):
    """A record (invoice, customer, payment, event...) is malformed."""


class PolicyError(RelanceError):
    """A policy file is invalid. ``errors`` holds every ``FILE:LINE: message`` found."""

    def __init__(self, message: str, where: str | None = None, errors: list[str] | None = None) -> None:
        super().__init__(message, where)
        self.errors = errors or [str(self)]


class RateMissingError(RelanceError):
    """The rate table has no rate for a semester that a computation needs."""


class NotFoundError(RelanceError):
    """A record that was asked for does not exist."""
