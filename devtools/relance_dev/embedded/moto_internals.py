"""The moto internals the embedded AWS reaches past moto's public API for, each checked before use.

Two places do:

* :meth:`EmbeddedAws.in_process_lambdas` replaces ``LambdaSimpleBackend.invoke`` (moto's no-Docker Lambda,
  which echoes the payload) so that ``lambda.invoke`` and Step Functions ``lambda:invoke`` tasks run the
  template's real handlers; every other function keeps moto's own answer
  (tests/integration/test_embedded_deploy.py proves it equal to plain moto).
* :mod:`relance_dev.embedded.shared` reads and clears moto's backend stores (table items, bucket keys,
  queue messages, sent mail and SMS, executions) to empty the shared deployment between tests.

Both are tied to the moto pinned in pyproject.toml (:data:`PINNED_MOTO`). :func:`check_lambda_invoke` runs
before the patch applies and :func:`check_version` before the stores are read: a moto that differs, or a
target that moved or changed its signature, raises :class:`PatchError` naming what, never a silent
fallback. (The season simulator's speed-ups are checked the same way: relance_dev.simulate.fastmoto.)
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import inspect
from collections.abc import Iterator

PINNED_MOTO = "5.2.5"
"""The moto these internals were written and proven against (pyproject.toml pins the same; a test checks)."""

LAMBDA_INVOKE_PARAMS = ["self", "function_name", "qualifier", "body", "headers", "response_headers"]


class PatchError(RuntimeError):
    """A moto internal the embedded AWS relies on is not what it was written for: fix the code or the pin."""


@functools.cache
def installed_moto() -> str:
    """The installed moto's version (read once: it cannot change in a running process)."""
    return importlib.metadata.version("moto")


def check_version(what: str) -> None:
    """Raise :class:`PatchError` unless the installed moto is the pinned one."""
    installed = installed_moto()
    if installed != PINNED_MOTO:
        raise PatchError(f"{what} cannot apply: moto {installed} is installed, not {PINNED_MOTO} (pyproject.toml)")


@contextlib.contextmanager
def reading_stores(what: str) -> Iterator[None]:
    """Turn an ``AttributeError`` from a moto store that moved into a :class:`PatchError` naming it."""
    try:
        yield
    except AttributeError as exc:
        raise PatchError(f"{what} cannot read moto's backends: {exc} (written for moto {PINNED_MOTO})") from exc


def check_lambda_invoke() -> None:
    """Raise :class:`PatchError` unless ``LambdaSimpleBackend.invoke`` can be replaced as written."""
    what = "the in-process Lambda patch (moto.awslambda_simple.models.LambdaSimpleBackend.invoke)"
    check_version(what)
    try:
        from moto.awslambda_simple.models import LambdaSimpleBackend
    except ImportError as exc:
        raise PatchError(f"{what} cannot apply: {exc}") from exc
    invoke = LambdaSimpleBackend.__dict__.get("invoke")
    if not callable(invoke):
        raise PatchError(f"{what} cannot apply: LambdaSimpleBackend defines no invoke of its own")
    params = list(inspect.signature(invoke).parameters)
    if params != LAMBDA_INVOKE_PARAMS:
        raise PatchError(f"{what} cannot apply: invoke takes {params}, not {LAMBDA_INVOKE_PARAMS}")
    get_function = getattr(LambdaSimpleBackend, "get_function", None)
    if get_function is None or list(inspect.signature(get_function).parameters)[:3] != [
        "self", "function_name_or_arn", "qualifier"
    ]:
        raise PatchError(f"{what} cannot apply: LambdaSimpleBackend.get_function changed")
