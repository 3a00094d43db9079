"""Speed-ups of moto for long simulated seasons; same results, less work.

Two moto hot spots make a season's cost grow with the square of the table:

* ``TransactWriteItems`` deep-copies the *whole table* before every transaction to be able to roll back.
  :func:`journaled_transactions` keeps moto's code and rollback, but snapshots only the items the
  transaction touches (the whole-table copy becomes a no-op; a failed transaction restores those items).
* ``Query`` reads ``Table.all_items()``, which lists *and sorts* every item of the table, even for a query
  on one partition key. :func:`partition_queries` gives moto's own ``query`` only the candidate items:
  the partition's items for a table query; for an index query, the items whose index hash key has the
  queried value, compared as plain values (moto re-checks and sorts the index results itself).

:func:`faster_moto` applies both, scoped to a ``with`` block (the simulator's); nothing changes outside it.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import types
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def faster_moto() -> Iterator[None]:
    """Both speed-ups for the block."""
    with journaled_transactions(), partition_queries():
        yield


@contextlib.contextmanager
def partition_queries() -> Iterator[None]:
    """Patch moto's ``Table.query`` to look only at candidate items instead of the sorted whole table."""
    try:
        from moto.dynamodb.models.table import Table
    except ImportError:  # pragma: no cover
        yield
        return

    original_query = Table.query
    original_all_items = Table.all_items
    local = threading.local()

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

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = original_query  # type: ignore[method-assign]
        Table.all_items = original_all_items  # type: ignore[method-assign]


@contextlib.contextmanager
def journaled_transactions() -> Iterator[None]:
    """Patch moto's DynamoDB ``transact_write_items`` with an item-level rollback journal for the block."""
    try:
        from moto.dynamodb import models as ddb_models
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.table import Table
    except ImportError:  # pragma: no cover - moto always comes with the dev extras
        yield
        return

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
