"""Speed-ups of moto for long simulated seasons; same results, less work.

moto hot spots, the first two of which make a season's cost grow with the square of the table:

* ``TransactWriteItems`` deep-copies the *whole table* before every transaction to be able to roll back.
  :func:`journaled_transactions` keeps moto's code and rollback, but snapshots only the items the
  transaction touches (the whole-table copy becomes a no-op; a failed transaction restores those items).
* ``Query`` reads ``Table.all_items()``, which lists *and sorts* every item of the table, even for a query
  on one partition key. :func:`partition_queries` gives moto's own ``query`` only the candidate items:
  the partition's items for a table query; for an index query, the items whose index hash key has the
  queried value, compared as plain values (moto re-checks and sorts the index results itself). Those
  are grouped by hash value in one pass over the table and reused until the next write, so the daily
  run's consecutive shard queries cost one pass, not one each.

* Every DynamoDB answer goes through moto's generic response serializer, which walks the botocore output
  shape for each attribute of each item: about half of a GetItem's cost. :func:`plain_json_responses`
  dumps the data-plane answers (items, keys, consumed capacity) straight to JSON, which is what the
  serializer produces for them; an answer holding bytes or timestamps, and every error, still goes through
  moto's serializer. ``RELANCE_FASTMOTO_CHECK=1`` runs both, answers with the serializer's body and
  records any difference in :data:`MISMATCHES` (a test runs a season that way and expects none).

* Step Functions parses the ASL definition with ANTLR on every ``StartExecution`` (about 50 ms for ours).
  :func:`parsed_definitions_once` keeps the parse tree per definition text and still builds fresh
  evaluation components from it for each execution (the tree is only read; the components hold state).
* Each ``UpdateItem`` (and each update in a transaction) parses its update expression twice.
  :func:`parsed_update_expressions_once` keeps the syntax tree per expression text: moto only reads it
  and validates a deep copy, into which it puts the values.
* Every request asks ``inspect.getmembers`` for the names of its handler class's methods;
  :func:`cached_method_names` remembers them per class.

* On the client side, every request is signed with SigV4 and rebuilds its User-Agent from a dozen
  sanitized components: about half of botocore's own time per call. moto verifies no signature and takes
  the region from the endpoint's host name, so :func:`light_client_requests` leaves ordinary requests
  unsigned (S3, which reads an unsigned request as anonymous, and presigned URLs are still signed) and
  builds a client's User-Agent once per feature set.

:func:`faster_moto` applies them all, scoped to a ``with`` block (the simulator's); nothing changes outside it.

Each patch replaces a private moto or botocore internal, so each is tied to the exact versions pinned in
pyproject.toml (:data:`PINNED`) and checked before it applies (:func:`check_patches`): a version that
differs, a target that moved or changed its signature raises :class:`PatchError` naming the patch, never a
silent fallback. tests/scenario/test_fastmoto.py proves a season logs the same with and without them.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.metadata
import inspect
import json
import os
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

PINNED = {"moto": "5.2.5", "botocore": "1.44.8", "boto3": "1.44.5"}
"""The versions the patches were written and proven against (pyproject.toml pins the same; a test checks)."""


class PatchError(RuntimeError):
    """A speed-up cannot apply to the installed moto/botocore: fix the patch or the pin, never skip it."""


def _require(patch: str, condition: bool, what: str) -> None:
    if not condition:
        raise PatchError(f"fastmoto patch {patch!r} cannot apply: {what} "
                         f"(written for {', '.join(f'{k}=={v}' for k, v in PINNED.items())})")


def _params(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def _check_versions(patch: str, *dists: str) -> None:
    for dist in dists:
        installed = importlib.metadata.version(dist)
        _require(patch, installed == PINNED[dist], f"{dist} {installed} is installed, not {PINNED[dist]}")


def _check_update_expressions() -> None:
    name = "parsed_update_expressions_once"
    _check_versions(name, "moto")
    from moto.dynamodb.parsing import expressions
    parser = getattr(expressions, "UpdateExpressionParser", None)
    _require(name, parser is not None and isinstance(parser.__dict__.get("make"), classmethod),
             "moto.dynamodb.parsing.expressions.UpdateExpressionParser.make is not a classmethod")


def _check_client_requests() -> None:
    name = "light_client_requests"
    _check_versions(name, "botocore", "boto3")
    from botocore import context, signers, useragent
    _require(name, callable(getattr(context, "get_context", None)), "botocore.context.get_context is gone")
    _require(name, _params(signers.RequestSigner.sign) == ["self", "operation_name", "request", "region_name",
                                                           "signing_type", "expires_in", "signing_name"],
             "botocore RequestSigner.sign has another signature")
    _require(name, "self._signing_name" in inspect.getsource(signers.RequestSigner.__init__),
             "RequestSigner no longer keeps _signing_name")
    _require(name, _params(useragent.UserAgentString.to_string) == ["self"]
             and "_client_features" in inspect.getsource(useragent.UserAgentString),
             "botocore UserAgentString.to_string/_client_features changed")


def _check_definitions() -> None:
    name = "parsed_definitions_once"
    _check_versions(name, "moto")
    from moto.stepfunctions.parser.asl.parse import asl_parser, preprocessor
    parse = asl_parser.AmazonStateLanguageParser.__dict__.get("parse")
    _require(name, isinstance(parse, staticmethod), "AmazonStateLanguageParser.parse is not a staticmethod")
    _require(name, hasattr(preprocessor, "Preprocessor"), "moto's ASL Preprocessor is gone")
    tiny = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
    parsed = parse.__func__(tiny)  # type: ignore[union-attr]
    _require(name, isinstance(parsed, tuple) and len(parsed) == 2, "parse no longer returns (program, tree)")


def _check_method_names() -> None:
    name = "cached_method_names"
    _check_versions(name, "moto")
    from moto.core import responses
    _require(name, callable(getattr(responses, "method_names_from_class", None)),
             "moto.core.responses.method_names_from_class is gone")


def _check_plain_json() -> None:
    name = "plain_json_responses"
    _check_versions(name, "moto")
    from moto.dynamodb.responses import DynamoResult
    _require(name, _params(DynamoResult.execute_result) == ["self", "context"],
             "moto DynamoResult.execute_result has another signature")


def _check_partition_queries() -> None:
    name = "partition_queries"
    _check_versions(name, "moto")
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    params = _params(Table.query)
    _require(name, params[:2] == ["self", "hash_key"] and params[8:9] == ["index_name"],
             f"Table.query's 7th positional argument after hash_key is not index_name ({params})")
    _require(name, "hash_key_conditions" in params, "Table.query has no hash_key_conditions")
    _require(name, callable(getattr(Table, "all_items", None)), "Table.all_items is gone")
    _require(name, "transact_write_items" in DynamoDBBackend.__dict__ and "put_item" in DynamoDBBackend.__dict__,
             "DynamoDBBackend's write methods moved")


def _check_transactions() -> None:
    name = "journaled_transactions"
    _check_versions(name, "moto")
    from moto.dynamodb import models as ddb_models
    _require(name, getattr(ddb_models, "copy", None) is copy, "moto.dynamodb.models no longer imports copy")
    source = inspect.getsource(ddb_models.DynamoDBBackend.transact_write_items)
    _require(name, "copy.deepcopy(" in source,
             "DynamoDBBackend.transact_write_items no longer snapshots tables with copy.deepcopy")


PATCH_CHECKS: dict[str, Callable[[], None]] = {
    "journaled_transactions": _check_transactions,
    "partition_queries": _check_partition_queries,
    "plain_json_responses": _check_plain_json,
    "parsed_definitions_once": _check_definitions,
    "cached_method_names": _check_method_names,
    "light_client_requests": _check_client_requests,
    "parsed_update_expressions_once": _check_update_expressions,
}


def _check(name: str) -> None:
    try:
        PATCH_CHECKS[name]()
    except ImportError as exc:
        raise PatchError(f"fastmoto patch {name!r} cannot apply: {exc}") from exc


def check_patches() -> None:
    """Raise :class:`PatchError` naming the first speed-up that cannot apply to what is installed."""
    for name in PATCH_CHECKS:
        _check(name)


@contextlib.contextmanager
def faster_moto() -> Iterator[None]:
    """All the speed-ups for the block, each checked before it applies (:func:`check_patches`)."""
    with journaled_transactions(), partition_queries(), plain_json_responses(), parsed_definitions_once(), \
            cached_method_names(), light_client_requests(), parsed_update_expressions_once():
        yield


@contextlib.contextmanager
def parsed_update_expressions_once() -> Iterator[None]:
    """Patch moto's ``UpdateExpressionParser.make`` with a cache by expression text."""
    _check("parsed_update_expressions_once")
    from moto.dynamodb.parsing import expressions

    parser: Any = getattr(expressions, "UpdateExpressionParser")   # noqa: B009 (not in moto's type stubs)
    make: Any = functools.cache(parser.__dict__["make"].__func__)   # a syntax error raises, is not kept
    with mock.patch.object(parser, "make", classmethod(make)):
        yield


@contextlib.contextmanager
def light_client_requests() -> Iterator[None]:
    """Patch botocore: no SigV4 on ordinary requests to the embedded AWS, a memoized User-Agent string."""
    _check("light_client_requests")
    from botocore.context import get_context
    from botocore.signers import RequestSigner
    from botocore.useragent import UserAgentString

    original_sign = RequestSigner.sign
    original_to_string = UserAgentString.to_string
    strings: weakref.WeakKeyDictionary[Any, dict[frozenset[str], str]] = weakref.WeakKeyDictionary()

    def sign(self: Any, operation_name: str, request: Any, region_name: str | None = None,
             signing_type: str = "standard", expires_in: int | None = None,
             signing_name: str | None = None) -> None:
        # S3 treats an unsigned request as anonymous (the private bucket refuses it): S3 stays signed.
        if signing_type != "standard" or self._signing_name == "s3":
            original_sign(self, operation_name, request, region_name, signing_type, expires_in, signing_name)

    def to_string(self: Any) -> str:
        context = get_context()
        features = frozenset((self._client_features or set()) | (context.features if context else set()))
        known = strings.setdefault(self, {})
        text = known.get(features)
        if text is None:
            text = known[features] = original_to_string(self)
        return text

    with mock.patch.object(RequestSigner, "sign", sign), mock.patch.object(UserAgentString, "to_string", to_string):
        yield


@contextlib.contextmanager
def parsed_definitions_once() -> Iterator[None]:
    """Patch moto's ASL parser to parse each distinct definition once (the components are rebuilt each time)."""
    _check("parsed_definitions_once")
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    original = AmazonStateLanguageParser.__dict__["parse"].__func__

    @functools.cache
    def tree_of(definition: str) -> Any:
        return original(definition)[1]            # an invalid definition raises and is not kept

    def parse(definition: str) -> tuple[Any, Any]:
        tree = tree_of(definition)
        return Preprocessor().visit(tree), tree

    with mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse)):
        yield


@contextlib.contextmanager
def cached_method_names() -> Iterator[None]:
    """Patch moto's per-request ``method_names_from_class`` with a per-class cache."""
    _check("cached_method_names")
    from moto.core import responses

    names = functools.cache(responses.method_names_from_class)

    def method_names_from_class(clazz: object) -> list[str]:
        return list(names(clazz))         # a copy, as moto's own function returns a new list each time

    with mock.patch.object(responses, "method_names_from_class", method_names_from_class):
        yield


# Operations whose answers hold only items, keys and counts (no blobs in our table, no timestamps).
_DATA_PLANE = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                         "BatchWriteItem", "TransactWriteItems", "TransactGetItems"})


MISMATCHES: list[str] = []
"""Check mode: ``operation: serializer body != fast body`` for every answer the fast path got wrong."""


@contextlib.contextmanager
def plain_json_responses() -> Iterator[None]:
    """Patch moto's ``DynamoResult`` so data-plane answers skip the shape-walking serializer."""
    _check("plain_json_responses")
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result
    check = os.environ.get("RELANCE_FASTMOTO_CHECK") == "1"

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        if operation.name not in _DATA_PLANE or operation.service_model.protocol != "json":
            return original(self, context)
        try:
            body = json.dumps(_without_none(self.result))
        except TypeError:           # bytes (B, BS) or datetimes: the serializer knows how to encode them
            return original(self, context)
        if check:
            answer = original(self, context)
            if json.loads(answer[2]) != json.loads(body):
                MISMATCHES.append(f"{operation.name}: {answer[2]!r} != {body}")
            return answer
        version = operation.service_model.metadata.get("jsonVersion", "1.0")
        return 200, {"Content-Type": f"application/x-amz-json-{version}"}, body

    with mock.patch.object(DynamoResult, "execute_result", execute_result):
        yield


def _without_none(value: Any) -> Any:
    """The serializer leaves out members whose value is None; so does the fast path."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


@contextlib.contextmanager
def partition_queries() -> Iterator[None]:
    """Patch moto's ``Table.query`` to look only at candidate items instead of the sorted whole table."""
    _check("partition_queries")
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items
    local = threading.local()
    writes = [0]          # bumped by every write: index groups built before it are stale
    groups: dict[tuple[int, str, str], tuple[int, dict[Any, list[Any]]]] = {}
    write_methods = {name: getattr(DynamoDBBackend, name) for name in
                     ("put_item", "update_item", "delete_item", "transact_write_items", "execute_statement",
                      "execute_transaction", "batch_execute_statement", "delete_table")
                     if name in DynamoDBBackend.__dict__}

    def counted(method: Any) -> Any:
        def write(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            finally:
                writes[0] += 1
        return write

    def index_candidates(table: Any, index_name: str, name: str, expected: Any) -> list[Any]:
        key = (id(table), index_name, name)
        built = groups.get(key)
        if built is None or built[0] != writes[0]:
            generation = writes[0]          # read before the pass: a write during it makes the groups stale
            by_value: dict[Any, list[Any]] = {}
            for part in table.items.values():
                for item in part.values():
                    if (v := item.attrs.get(name)) is not None:
                        by_value.setdefault(v.value, []).append(item)
            built = groups[key] = (generation, by_value)
        return built[1].get(expected, [])

    def all_items(self: Any) -> Any:
        subset = getattr(local, "subset", None)
        if subset is not None and subset[0] is self:
            return subset[1]
        return original_all_items(self)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if not self.range_key_attr:
            return original_query(self, hash_key, *args, **kwargs)
        if index_name:
            # Only items carrying the queried index keys: compare raw values, not DynamoType objects.
            wanted = [(name, value.value) for name, value in (kwargs.get("hash_key_conditions") or [])]
            if len(wanted) == 1 and isinstance(wanted[0][1], str | int | float):
                candidates = index_candidates(self, index_name, *wanted[0])
            else:
                candidates = [item for part in self.items.values() for item in part.values()
                              if all((v := item.attrs.get(name)) is not None and v.value == expected
                                     for name, expected in wanted)]
        elif hash_key is not None:
            part = self.items.get(hash_key)
            candidates = sorted(part.values(), key=lambda item: item.range_key) if part else []
        else:
            return original_query(self, hash_key, *args, **kwargs)
        previous = getattr(local, "subset", None)
        local.subset = (self, candidates)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            local.subset = previous

    with contextlib.ExitStack() as patches:
        patches.enter_context(mock.patch.object(Table, "all_items", all_items))
        patches.enter_context(mock.patch.object(Table, "query", query))
        for name, method in write_methods.items():
            patches.enter_context(mock.patch.object(DynamoDBBackend, name, counted(method)))
        yield


@contextlib.contextmanager
def journaled_transactions() -> Iterator[None]:
    """Patch moto's DynamoDB ``transact_write_items`` with an item-level rollback journal for the block."""
    _check("journaled_transactions")
    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    backend_cls = ddb_models.DynamoDBBackend
    original = backend_cls.transact_write_items
    real_copy = ddb_models.copy

    def _deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    shim = types.SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)

    def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]] | None:
        journal: list[tuple[Any, Any, Any, Any]] = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = {a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a} \
                if op_type == "Put" else op["Key"]
            hk = DynamoType(key[table.hash_key_attr])
            rk = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.items.get(hk, {}).get(rk) if rk is not None else table.items.get(hk)
            journal.append((table, hk, rk, copy.deepcopy(current)))
        return journal

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            journal = _snapshot(self, transact_items)
        except (KeyError, TypeError, AttributeError, StopIteration):
            journal = None        # malformed request: let moto validate it the slow way
        if journal is None:
            return original(self, transact_items)
        ddb_models.copy = shim  # type: ignore[assignment]
        try:
            return original(self, transact_items)
        except Exception:
            for table, hk, rk, old in reversed(journal):
                if rk is None:
                    if old is None:
                        table.items.pop(hk, None)
                    else:
                        table.items[hk] = old
                elif old is None:
                    table.items.get(hk, {}).pop(rk, None)
                else:
                    table.items.setdefault(hk, {})[rk] = old
            raise
        finally:
            ddb_models.copy = real_copy

    backend_cls.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        backend_cls.transact_write_items = original  # type: ignore[method-assign]
