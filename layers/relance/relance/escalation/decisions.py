"""Invoices waiting for the team's decision (« à décider »).

A refused hand-off or an expired approval leaves its invoices open and owed, paused « à décider »
(:meth:`relance.ledger.Ledger.await_decision`). The weekly digest and ``relance invoice list --status
to_decide`` must find them without reading every invoice, as they have no next action: the store keeps a
pointer per such invoice (:class:`relance.adapters.aws.pointers.CasePointers`). A pointer whose invoice no
longer waits (resumed, written off, paid) is stale and is dropped by the reader that finds it; the
invoice's own ``to_decide`` field is the truth.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def mark(store: Any, invoice_id: str, customer_id: str, reason: str, since: dt.date) -> None:
    store.mark_to_decide(invoice_id, customer_id, reason, since)


def pointers(store: Any) -> list[dict[str, str]]:
    return list(store.to_decide_pointers())


def drop(store: Any, invoice_id: str) -> None:
    store.drop_to_decide(invoice_id)


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
