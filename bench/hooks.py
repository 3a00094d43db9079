"""Counting AWS API calls with botocore event hooks (``before-call`` / ``after-call``).

Clients copy their session's event emitter when they are created, so the counter registers on the boto3
default session and :func:`relance.runtime.reset_clients` is called: every client the handlers create from
then on carries the hooks.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3


@dataclass
class CallCounter:
    """AWS calls seen on hooked clients, by ``service.Operation`` and by phase (``label``)."""

    label: str = "other"
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    query_scanned: int = 0
    query_returned: int = 0
    scan_scanned: int = 0
    scan_returned: int = 0
    seconds: Counter[str] = field(default_factory=Counter)
    units: Counter[tuple[str, str]] = field(default_factory=Counter)   # (label, "wru"|"rru"), estimated
    _started: dict[int, float] = field(default_factory=dict)

    def before(self, model: Any, context: Any = None, **_: Any) -> None:
        op = f"{model.service_model.service_name}.{model.name}"
        self.calls[(self.label, op)] += 1
        if isinstance(context, dict):
            context["bench_started"] = time.perf_counter()

    def params(self, model: Any, params: Any = None, **_: Any) -> None:
        """Estimate the write request units of a DynamoDB write from its parameters."""
        if model.service_model.service_name == "dynamodb" and isinstance(params, dict):
            self.units[(self.label, "wru")] += write_units(model.name, params)

    def after(self, model: Any, parsed: Any = None, context: Any = None, **_: Any) -> None:
        op = f"{model.service_model.service_name}.{model.name}"
        if isinstance(context, dict) and "bench_started" in context:
            self.seconds[op] += time.perf_counter() - context.pop("bench_started")
        if not isinstance(parsed, dict):
            return
        if model.service_model.service_name == "dynamodb":
            self.units[(self.label, "rru")] += read_units(model.name, parsed)
        if op == "dynamodb.Query":
            self.query_scanned += int(parsed.get("ScannedCount", 0))
            self.query_returned += int(parsed.get("Count", 0))
        elif op == "dynamodb.Scan":
            self.scan_scanned += int(parsed.get("ScannedCount", 0))
            self.scan_returned += int(parsed.get("Count", 0))

    def total(self, label: str | None = None) -> int:
        """Calls in phase ``label`` (all phases when None)."""
        return sum(n for (lab, _), n in self.calls.items() if label is None or lab == label)

    def by_operation(self, label: str | None = None) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (lab, op), n in self.calls.items():
            if label is None or lab == label:
                out[op] += n
        return dict(sorted(out.items()))

    @contextlib.contextmanager
    def phase(self, label: str) -> Iterator[None]:
        """Attribute the calls made inside the block to ``label``."""
        saved, self.label = self.label, label
        try:
            yield
        finally:
            self.label = saved

    def reset(self) -> None:
        self.calls.clear()
        self.seconds.clear()
        self.units.clear()
        self.query_scanned = self.query_returned = self.scan_scanned = self.scan_returned = 0


def _kb(value: Any, unit: int) -> int:
    return max(1, math.ceil(len(json.dumps(value, default=str)) / unit))


def _index_writes(item: Any) -> int:
    """A write that sets or moves the due-index keys also writes the GSI (delete + put when it moves)."""
    text = json.dumps(item, default=str)
    return 2 if "due_pk" in text or "due_sk" in text else 0


def write_units(operation: str, params: dict[str, Any]) -> float:
    """Estimated WRU: 1 per KB written (2 in a transaction), plus the due index's own writes."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        body = params.get("Item") or params.get("ExpressionAttributeValues") or params.get("Key") or {}
        return _kb(body, 1024) + _index_writes(params)
    if operation == "TransactWriteItems":
        total = 0
        for entry in params.get("TransactItems", []):
            (_, action), = entry.items()
            body = action.get("Item") or action.get("ExpressionAttributeValues") or action.get("Key") or {}
            total += 2 * _kb(body, 1024) + _index_writes(action)
        return total
    if operation == "BatchWriteItem":
        return sum(_kb(r.get("PutRequest", {}).get("Item", {}), 1024) + _index_writes(r)
                   for reqs in params.get("RequestItems", {}).values() for r in reqs)
    return 0


def read_units(operation: str, parsed: dict[str, Any]) -> float:
    """Estimated RRU from what was returned: 4 KB units (consistent reads; GSI queries are halved)."""
    if operation == "GetItem":
        return _kb(parsed.get("Item", {}), 4096) if parsed.get("Item") else 1
    if operation in ("Query", "Scan"):
        items = parsed.get("Items", [])
        return max(1, math.ceil(len(json.dumps(items, default=str)) / 4096))
    if operation == "BatchGetItem":
        return sum(_kb(i, 4096) for rows in parsed.get("Responses", {}).values() for i in rows)
    return 0


def hook_client(client: Any, counter: CallCounter) -> None:
    """Register the counter on one existing client (e.g. the embedded AWS's own clients)."""
    client.meta.events.register("before-call", counter.before)
    client.meta.events.register("after-call", counter.after)
    client.meta.events.register("before-parameter-build", counter.params)


@contextlib.contextmanager
def counting(counter: CallCounter) -> Iterator[CallCounter]:
    """Hook the boto3 default session (so every client created inside carries the counter)."""
    from relance import runtime

    session = boto3._get_default_session()
    session.events.register("before-call", counter.before, unique_id="bench-before")
    session.events.register("after-call", counter.after, unique_id="bench-after")
    session.events.register("before-parameter-build", counter.params, unique_id="bench-params")
    runtime.reset_clients()
    try:
        yield counter
    finally:
        session.events.unregister("before-call", unique_id="bench-before")
        session.events.unregister("after-call", unique_id="bench-after")
        session.events.unregister("before-parameter-build", unique_id="bench-params")
        runtime.reset_clients()
