"""Ports: what the core needs from the outside world, as small ``typing.Protocol`` classes.

The core (policy, law, calendar, ledger, dispatch, escalation logic, imports, rendering, reporting) is
typed against these and never imports boto3: the AWS implementations live in
:mod:`relance.adapters.aws` and :mod:`relance.wiring` builds them for a handler. Records that cross a
port are domain objects (:mod:`relance.store`, :mod:`relance.models`), or plain mappings of stored
fields, never a DynamoDB item with its keys.

A new port goes here; its AWS implementation in ``relance/adapters/aws/``; its construction in
``relance/wiring.py`` (see :mod:`relance.adapters`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from relance.store import BadRecord, Claim, CustomerBook, CustomerItems, InvoiceRecord, SentStep, StateChange

Event = tuple[dt.date, str, Mapping[str, Any]]


class Refused(Exception):
    """A provider refused a request for good (bad address, rejected content): ``code`` is its reason."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class Store(Protocol):
    """Customers, invoices with their dunning state, claims, history and quarantine."""

    # customers
    def put_customer(self, customer: Mapping[str, Any]) -> None: ...
    def get_customer_raw(self, customer_id: str) -> dict[str, Any] | None: ...
    def set_customer_fields(self, customer_id: str, **fields: Any) -> None: ...
    def customer_collection(self, customer_id: str) -> tuple[dict[str, Any] | None, list[str]]: ...
    def customer_book(self, customer_id: str) -> CustomerBook:
        """The profile, the open invoices and their claims, in one consistent read."""

    # invoices
    def create_invoice(self, invoice: Mapping[str, Any], next_action: dt.date | None,
                       event_date: dt.date, attachment_key: str | None = None) -> bool: ...
    def get_invoice(self, invoice_id: str) -> InvoiceRecord | None: ...
    def all_invoices(self) -> Iterator[InvoiceRecord]: ...          # operators' listings (a scan)
    def all_customers(self) -> Iterator[dict[str, Any]]: ...
    # imports in batches (issue 14.7): reads 100 at a time, writes 25 (profiles) or 33 invoices a transaction
    def get_customers_raw(self, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...
    def put_customers(self, customers: Sequence[Mapping[str, Any]]) -> None: ...
    def create_invoices(self, invoices: Sequence[tuple[Mapping[str, Any], dt.date | None]],
                        event_date: dt.date) -> list[str]: ...
    def get_invoice_items(self, invoice_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...
    # a payment's idempotency key (issue 14.5): what was booked under it, if anything
    def get_payment_key(self, invoice_id: str, key_digest: str) -> dict[str, Any] | None: ...
    # « à décider » pointers and open cases (relance.escalation.decisions, relance.escalation.open_cases)
    def mark_to_decide(self, invoice_id: str, customer_id: str, reason: str, since: dt.date) -> None: ...
    def to_decide_pointers(self) -> list[dict[str, str]]: ...
    def drop_to_decide(self, invoice_id: str) -> None: ...
    def case_pointer(self, customer_id: str, partner: str) -> tuple[str, str | None] | None: ...
    def remember_case(self, customer_id: str, partner: str, case_id: str) -> None: ...
    def get_invoices(self, invoice_ids: Sequence[str]) -> dict[str, InvoiceRecord | BadRecord]: ...
    def update_invoice_state(self, record: InvoiceRecord, *, changes: Mapping[str, Any],
                             next_action: dt.date | None, events: Sequence[Event] = (),
                             settle_claim: tuple[str, str] | None = None,
                             payment_key: tuple[str, Mapping[str, Any]] | None = None) -> None: ...
    def update_invoice_states(self, group: Sequence[StateChange], token: str | None = None) -> None:
        """Several invoices' changes at once (atomic per 100 items; ConflictError names what was written)."""

    # claims (the exactly-once protocol, see relance.dispatch)
    def claim(self, invoice_id: str, step: str, run_date: dt.date) -> Claim | None: ...
    def claim_all(self, customer_id: str, invoice_ids: Sequence[str], step: str,
                  run_date: dt.date, *, link_id: str | None = None) -> dict[str, Claim | None]:
        """Claim a step for several invoices in one call: None where claimed now, else the existing claim."""
    def release_claim(self, invoice_id: str, step: str) -> None: ...

    # history
    def add_event(self, invoice_id: str, when: dt.date, kind: str, details: Mapping[str, Any]) -> None: ...
    def history(self, invoice_id: str) -> list[dict[str, Any]]: ...
    def active_invoices(self, first: dt.date, last: dt.date) -> set[tuple[str, str]]: ...

    # quarantine and the due index
    def quarantine(self, kind: str, record_id: str, reason: str, when: dt.date,
                   record: Mapping[str, Any] | None = None) -> bool: ...
    def take_out_of_due_index(self, invoice_id: str) -> None: ...
    def due_entries(self, run_date: dt.date) -> Iterator[tuple[str, str]]: ...
    def due_work(self, run_date: dt.date) -> Iterator[tuple[str, str, str]]: ...

    # personal data (GDPR)
    def customer_items(self, customer_id: str) -> CustomerItems: ...
    def replace_profile(self, profile: Mapping[str, Any], fields: Mapping[str, Any], erased_on: dt.date) -> None: ...
    def set_event_details(self, event: Mapping[str, Any], details: Mapping[str, Any]) -> None: ...
    def empty_quarantine(self, item: Mapping[str, Any], reason: str) -> None: ...


class EscalationStore(Store, Protocol):
    """The store with the escalation's records: cases and approval requests."""

    def put_case(self, case_id: str, fields: Mapping[str, Any]) -> None: ...
    def get_case(self, case_id: str) -> dict[str, Any] | None: ...
    def update_case(self, case_id: str, fields: Mapping[str, Any], *, expect: Mapping[str, Any] | None = None,
                    absent: Sequence[str] = ()) -> bool: ...
    def put_approval(self, approval_id: str, fields: Mapping[str, Any], expires: dt.date) -> None: ...
    def get_approval(self, approval_id: str) -> dict[str, Any] | None: ...
    def pending_approvals(self) -> list[dict[str, Any]]: ...
    def refresh_approval_token(self, approval_id: str, token: str) -> bool: ...
    def mark_reminded(self, approval_id: str, when: dt.date, expires: dt.date) -> bool: ...
    def unmark_reminded(self, approval_id: str, expires: dt.date, retry_on: dt.date | None = None) -> None: ...
    def index_pending_approval(self, pointer: Mapping[str, Any]) -> None: ...
    def decide_approval(self, approval_id: str, status: str, details: Mapping[str, Any],
                        expected: str = "pending") -> bool: ...


class Workflow(Protocol):
    """The escalation's state machine (Step Functions)."""

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        """Start an execution named ``name`` (a no-op if it exists); returns its id (ARN)."""

    def succeed(self, token: str, output: Mapping[str, Any]) -> bool:
        """Resume a waiting task; False when the task no longer waits (timed out, unknown)."""

    def fail(self, token: str, error: str, cause: Mapping[str, Any]) -> bool:
        """Fail a waiting task; False when the task no longer waits."""


class Files(Protocol):
    """The letters bucket (S3): letters, case files, imports and their reports."""

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str] | None = None) -> None: ...
    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key."""
    def size(self, key: str) -> int: ...
    def delete(self, key: str) -> None: ...


class Queue(Protocol):
    """The dispatch queue (SQS)."""

    def send_all(self, bodies: Sequence[str]) -> int:
        """Send every body (batched, failed entries retried); returns how many were sent."""


class Mailer(Protocol):
    """Raw MIME email (SES v2). Raises :class:`Refused` when the provider refuses the message for good."""

    def send_raw(self, *, sender: str, to: str, reply_to: str, mime: bytes, tags: Mapping[str, str],
                 configuration_set: str | None = None) -> str: ...

    def send_simple(self, *, sender: str, to: str, subject: str, text: str, html: str,
                    configuration_set: str | None = None) -> str: ...


class Sms(Protocol):
    """Transactional SMS (SNS). Raises :class:`Refused` for an invalid or opted-out number."""

    def send_sms(self, phone: str, text: str, sender_id: str) -> str: ...


class Topic(Protocol):
    """A notification topic (SNS): the team's tasks, the API's notifications."""

    def publish(self, subject: str, message: str, attributes: Mapping[str, str] | None = None) -> str: ...


class Secrets(Protocol):
    """Secrets and parameters (Secrets Manager through Powertools parameters, cached with ``max_age``)."""

    def secret(self, name: str) -> str: ...


__all__ = ["BadRecord", "Claim", "CustomerBook", "CustomerItems", "EscalationStore", "Event", "Files", "InvoiceRecord",
           "Mailer", "Queue", "Refused", "Secrets", "SentStep", "Sms", "StateChange", "Store", "Topic", "Workflow"]
