"""Invoices waiting for the team's decision (« à décider »): a small partition of pointers.

A refused hand-off or an expired approval leaves its invoices open and owed, paused « à décider »
(:meth:`relance.ledger.Ledger.await_decision`). The weekly digest and ``relance invoice list --status
to_decide`` must find them without reading every invoice, as they have no next action: each gets a pointer
``pk = DECIDE``, ``sk = <invoice id>``. A pointer whose invoice no longer waits (resumed, written off,
paid) is stale and is dropped by the reader that finds it; the invoice's own ``to_decide`` field is the
truth.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

PARTITION = "DECIDE"


def mark(store: Any, invoice_id: str, customer_id: str, reason: str, since: dt.date) -> None:
    """Point at an invoice that now waits for a decision (idempotent: a retry rewrites the same item)."""
    store.client.put_item(TableName=store.table, Item={
        "pk": {"S": PARTITION}, "sk": {"S": invoice_id}, "customer": {"S": customer_id},
        "reason": {"S": reason[:500] or "decision"}, "since": {"S": since.isoformat()}})


def pointers(store: Any) -> list[dict[str, str]]:
    """Every pointer: ``invoice``, ``customer``, ``reason``, ``since`` (one query on one partition)."""
    found: list[dict[str, str]] = []
    kwargs: dict[str, Any] = {"TableName": store.table, "KeyConditionExpression": "pk = :p",
                              "ExpressionAttributeValues": {":p": {"S": PARTITION}}}
    while True:
        page = store.client.query(**kwargs)
        for item in page.get("Items", []):
            found.append({"invoice": item["sk"]["S"], "customer": item.get("customer", {}).get("S", ""),
                          "reason": item.get("reason", {}).get("S", ""), "since": item.get("since", {}).get("S", "")})
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def drop(store: Any, invoice_id: str) -> None:
    with contextlib.suppress(Exception):   # a stale pointer left behind costs one read later, nothing more
        store.client.delete_item(TableName=store.table, Key={"pk": {"S": PARTITION}, "sk": {"S": invoice_id}})


def waiting(store: Any, get_invoice: Any) -> list[tuple[dict[str, str], Any]]:
    """The pointers whose invoice still waits for a decision, with the invoice record; stale ones dropped."""
    result = []
    for pointer in pointers(store):
        record = get_invoice(pointer["invoice"])
        if record is None or record.status != "open" or not record.to_decide:
            drop(store, pointer["invoice"])
            continue
        result.append((pointer, record))
    return result
