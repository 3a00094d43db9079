"""The records that cross the store's port: an invoice with its dunning state, its sent steps, a claim.

The port itself is :class:`relance.ports.Store`; its DynamoDB implementation (the table's keys, the
transactions, pagination) is :mod:`relance.adapters.aws.dynamodb`. Core modules import the records from
here and type the store through the port; they never see a key or a raw item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class SentStep:
    """A step already sent (or flagged after a crash) for one invoice."""

    step: str
    date: dt.date
    channels: tuple[str, ...] = ()
    flagged: bool = False


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    """An invoice with its dunning state, as stored. ``raw`` keeps the stored fields for re-validation."""

    invoice_id: str
    customer_id: str
    raw: Mapping[str, Any]
    status: str = "open"
    balance: Decimal = Decimal("0")
    sent: tuple[SentStep, ...] = ()
    payments: tuple[tuple[dt.date, Decimal], ...] = ()
    disputed: bool = False
    promise_until: dt.date | None = None
    plan: tuple[tuple[dt.date, Decimal], ...] = ()
    manual_pause: bool = False
    next_action: dt.date | None = None
    send_failures: int = 0
    version: int = 0
    attachment_key: str | None = None
    accessories_due: Decimal = Decimal("0")   # interest + 40 € still owed once the principal is paid (law)
    to_decide: str | None = None   # why the invoice waits for the team's decision (refused/expired hand-off)
    # when the registered formal notice took effect: its receipt, else its posting + delivery days
    # (relance.escalation.letters); the dispatcher dates a consumer's interest from it
    notice_effective: dt.date | None = None



class ConflictError(Exception):
    """Someone else changed the record first (optimistic concurrency); retry from a fresh read.

    ``written`` names the invoices of a grouped write that were recorded before the conflict (their part
    of the group is done: only the others are retried).
    """

    def __init__(self, message: str = "", written: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.written = frozenset(written)


@dataclass(frozen=True, slots=True)
class StateChange:
    """One invoice's part of a grouped write: what :meth:`relance.ports.Store.update_invoice_states` applies."""

    record: InvoiceRecord
    changes: Mapping[str, Any]
    next_action: dt.date | None
    events: Sequence[tuple[dt.date, str, Mapping[str, Any]]] = ()
    settle_claim: tuple[str, str] | None = None      # (step, "sent" | "flagged")
    # An idempotency key written with the change, once: (key digest, what was booked); a second write fails
    payment_key: tuple[str, Mapping[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A stored invoice that could not be decoded: the dispatcher quarantines it with ``reason``."""

    invoice_id: str
    fields: Mapping[str, Any]
    reason: str


@dataclass(frozen=True, slots=True)
class Claim:
    """An invoice-step claimed before its send; ``status`` is ``claimed``, ``sent`` or ``flagged``."""

    status: str = "claimed"
    run_date: str | None = None
    claimed_at: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping-style access, so code written against the former dict keeps reading it."""
        return getattr(self, key, default)


@dataclass
class CustomerBook:
    """What the dispatcher reads for one customer in one consistent query: the profile (stored fields, or
    None), its open invoices (decoded, or BadRecord) and the claims on them by (invoice, step)."""

    profile: dict[str, Any] | None
    invoices: dict[str, InvoiceRecord | BadRecord] = field(default_factory=dict)
    claims: dict[tuple[str, str], Claim] = field(default_factory=dict)


@dataclass
class CustomerItems:
    """Everything stored about one customer, for the GDPR export and erasure (:mod:`relance.gdpr`).

    Items are decoded attribute maps; ``ref`` in each is an opaque handle the store uses to rewrite it.
    """

    customer_id: str
    profile: dict[str, Any] | None
    pointers: list[dict[str, Any]] = field(default_factory=list)
    metas: dict[str, dict[str, Any]] = field(default_factory=dict)          # invoice id -> its state item
    claims: dict[str, list[dict[str, Any]]] = field(default_factory=dict)   # invoice id -> its claims
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)   # invoice id -> its history
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)


# Names that used to live here and now belong to the DynamoDB adapter: still importable from this module
# (tests, the simulator) without the core importing the adapter.
_MOVED = {"Store", "EscalationStore", "due_keys", "shard_of", "events_between", "quarantine_items",
          "invoice_from_item", "HISTORY_RETENTION_DAYS", "ACTIVITY_RETENTION_DAYS", "DUE_INDEX",
          "PENDING_APPROVALS_PK"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from relance.adapters.aws import dynamodb

        return getattr(dynamodb, name)
    raise AttributeError(f"module 'relance.store' has no attribute {name!r}")
