"""What each REST route does, callable without Lambda: validated bodies in, response models out.

Errors are raised as :class:`ApiError` (status, message, field); the resolver turns them into JSON.
Every change goes through :class:`relance.ledger.Ledger`, like the CSV import and the operators' CLI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from relance.api.models import (
    AmountOnDate,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    DisputeIn,
    EventOut,
    HistoryOut,
    InvoiceIn,
    InvoiceOut,
    InvoicePatch,
    LetterEventIn,
    LifecycleIn,
    LifecycleOut,
    OptionalReasonIn,
    OutcomeIn,
    OutcomeOut,
    PaymentIn,
    PaymentOut,
    PlanIn,
    PromiseIn,
    ReasonIn,
)
from relance.errors import NotFoundError, RelanceError, ValidationError
from relance.imports import lifecycle
from relance.ledger import DuplicatePayment, Ledger, PaymentKey, credit_of, paid_total, plan_paused_until
from relance.models import InvoiceStatus
from relance.money import ZERO, fmt
from relance.store import InvoiceRecord


def payment_key(body: PaymentIn, header: str | None) -> PaymentKey | None:
    """The idempotency key of a payment request: the header, else the client's reference, else none."""
    key = header if header is not None else body.reference
    if key is None or not key.strip():
        return None
    if len(key) > 255 or not key.isprintable() or not key.isascii():
        raise ApiError(400, "Idempotency-Key must be 1 to 255 printable ASCII characters", "Idempotency-Key")
    request = {"amount": str(body.amount), "date": body.date.isoformat() if body.date else None,
               "reference": body.reference}
    return PaymentKey(digest=hashlib.sha256(("header:" if header is not None else "reference:").encode()
                                            + key.encode()).hexdigest()[:40],
                      fingerprint=hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest())


class ApiError(Exception):
    """An error for the client: HTTP status, one-line message, and the field at fault (if one)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


_FIELD = re.compile(r"field '([A-Za-z0-9_.]+)'")


def field_of(exc: RelanceError) -> str | None:
    """The field a domain error names (``invoice A1 field 'amount'`` -> ``amount``)."""
    for text in (exc.where or "", exc.message):
        if match := _FIELD.search(text):
            return match.group(1)
    if exc.where in ("amount", "date", "status", "until", "instalments", "reason"):
        return exc.where
    return None


def to_api_error(exc: RelanceError) -> ApiError:
    """Domain error -> HTTP: not found 404, a malformed value 422, anything else the client can fix 409."""
    if isinstance(exc, NotFoundError):
        return ApiError(404, exc.message, None)
    if isinstance(exc, ValidationError):
        message = exc.message
        field = field_of(exc)
        if field and message.startswith(f"field '{field}': "):
            message = message.removeprefix(f"field '{field}': ")
        return ApiError(422, message, field)
    return ApiError(409, exc.message, None)


def invoice_view(record: InvoiceRecord, today: dt.date | None = None) -> InvoiceOut:
    """The invoice as the API shows it: amounts as decimal strings, why it is paused, what was paid."""
    raw = record.raw
    paused: list[str] = []
    if record.disputed:
        paused.append("dispute")
    if record.to_decide:
        paused.append("to_decide")      # a refused or expired hand-off: still owed, the team decides
    elif record.manual_pause:
        paused.append("manual")
    if record.promise_until and (today is None or record.promise_until >= today):
        paused.append("promise")
    if record.plan and today is not None and plan_paused_until(record, today) is not None:
        paused.append("payment_plan")
    return InvoiceOut(
        id=record.invoice_id, customer=record.customer_id, issued=str(raw["issued"]), due=str(raw["due"]),
        amount=fmt(Decimal(str(raw["amount"]))), currency=str(raw.get("currency", "EUR")),
        status=record.status, balance=fmt(record.balance), paid=fmt(paid_total(record)),
        credit=fmt(credit_of(record)),
        next_action=record.next_action.isoformat() if record.next_action else None,
        paused=paused, disputed=record.disputed,
        promise_until=record.promise_until.isoformat() if record.promise_until else None,
        manual_pause=record.manual_pause,
        plan=[AmountOnDate(date=d.isoformat(), amount=fmt(a)) for d, a in record.plan],
        payments=[AmountOnDate(date=d.isoformat(), amount=fmt(a)) for d, a in record.payments],
        steps_sent=[s.step for s in record.sent], attachment_key=record.attachment_key,
        delivered=str(raw["delivered"]) if raw.get("delivered") else None,
        contract_rate=str(raw["contract_rate"]) if raw.get("contract_rate") is not None else None,
    )


def _customer_view(data: dict[str, Any]) -> CustomerOut:
    return CustomerOut.model_validate({k: v for k, v in data.items() if k in CustomerOut.model_fields})


@dataclass
class ApiService:
    """The REST routes' logic over a Ledger. ``today`` gives the business date (Europe/Paris)."""

    ledger: Ledger
    today: Callable[[], dt.date]
    notify: lifecycle.Notify | None = None

    def _run(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except RelanceError as exc:
            raise to_api_error(exc) from None

    # ---- customers -------------------------------------------------------------------------------
    def create_customer(self, body: CustomerIn) -> CustomerOut:
        if self.ledger.store.get_customer_raw(body.id) is not None:
            raise ApiError(409, f"customer {body.id} already exists; change it with PATCH", "id")
        data = body.model_dump(mode="json", exclude_none=True)
        customer = self._run(lambda: self.ledger.upsert_customer(data))
        return _customer_view(customer.model_dump(mode="json"))

    def get_customer(self, customer_id: str) -> CustomerOut:
        customer = self._run(lambda: self.ledger.customer(customer_id))
        return _customer_view(customer.model_dump(mode="json"))

    def update_customer(self, customer_id: str, body: CustomerPatch) -> CustomerOut:
        changes = body.model_dump(mode="json", exclude_unset=True)
        if not changes:
            raise ApiError(400, "nothing to change: give at least one field", None)
        for required in ("name", "kind", "language", "policy"):
            if required in changes and changes[required] is None:
                raise ApiError(422, "cannot be removed", required)
        customer = self._run(lambda: self.ledger.update_customer(customer_id, changes))
        return _customer_view(customer.model_dump(mode="json"))

    # ---- invoices --------------------------------------------------------------------------------
    def create_invoice(self, body: InvoiceIn) -> InvoiceOut:
        if self.ledger.store.get_invoice(body.id) is not None:
            raise ApiError(409, f"invoice {body.id} already exists", "id")
        data = body.model_dump(mode="json", exclude_none=True)
        today = self.today()
        _, created = self._run(lambda: self.ledger.create_invoice(data, today))
        if not created:
            raise ApiError(409, f"invoice {body.id} already exists", "id")
        return invoice_view(self._run(lambda: self.ledger.invoice(body.id)), today)

    def get_invoice(self, invoice_id: str) -> InvoiceOut:
        return invoice_view(self._run(lambda: self.ledger.invoice(invoice_id)), self.today())

    def update_invoice(self, invoice_id: str, body: InvoicePatch) -> InvoiceOut:
        changes = body.model_dump(mode="json", exclude_unset=True)
        if not changes:
            raise ApiError(400, "nothing to change: give at least one field", None)
        for required in ("issued", "due", "amount"):
            if required in changes and changes[required] is None:
                raise ApiError(422, "cannot be removed", required)
        self._require_open(invoice_id)
        today = self.today()
        return invoice_view(self._run(lambda: self.ledger.update_invoice(invoice_id, today, changes)), today)

    def _require_open(self, invoice_id: str, allowed: tuple[str, ...] = ("open",)) -> InvoiceRecord:
        record: InvoiceRecord = self._run(lambda: self.ledger.invoice(invoice_id))
        if record.status not in allowed:
            raise ApiError(409, f"invoice {invoice_id} is {record.status}", "status")
        return record

    # ---- payments and pauses ---------------------------------------------------------------------
    def add_payment(self, invoice_id: str, body: PaymentIn, idempotency_key: str | None = None) -> PaymentOut:
        """Book a payment once: a retry with the same ``Idempotency-Key`` header (else the same
        ``reference``) replays the first reply; the key with another body is refused (422)."""
        key = payment_key(body, idempotency_key)
        if key is not None:
            booked = self.ledger.store.get_payment_key(invoice_id, key.digest)
            if booked is not None:
                return self._replay(invoice_id, key, booked)
        before = self._require_open(invoice_id, ("open", "handed_off"))
        today = self.today()
        paid_on = body.date or today
        if paid_on > today:
            raise ApiError(422, f"payment date {paid_on} is in the future", "date")
        try:
            record = self._run(lambda: self.ledger.record_payment(invoice_id, body.amount, paid_on, body.reference,
                                                                  idempotency=key))
        except DuplicatePayment as exc:      # a concurrent retry booked it between our read and our write
            assert key is not None
            return self._replay(invoice_id, key, exc.booked)
        credit = max(body.amount - before.balance, ZERO)
        return PaymentOut(invoice=invoice_view(record, today), applied=fmt(body.amount - credit),
                          credit=fmt(credit))

    def _replay(self, invoice_id: str, key: PaymentKey, booked: dict[str, Any]) -> PaymentOut:
        if booked.get("fingerprint") != key.fingerprint:
            raise ApiError(422, "this Idempotency-Key (or payment reference) was already used on this invoice "
                                "for a different payment; nothing booked", "Idempotency-Key")
        record = self.ledger.invoice(invoice_id)
        return PaymentOut(invoice=invoice_view(record, self.today()), applied=str(booked["applied"]),
                          credit=str(booked["credit"]), replayed=True)

    def open_dispute(self, invoice_id: str, body: DisputeIn) -> InvoiceOut:
        before = self._require_open(invoice_id)
        if before.disputed:
            raise ApiError(409, f"invoice {invoice_id} is already disputed", None)
        today = self.today()
        return invoice_view(self._run(lambda: self.ledger.open_dispute(invoice_id, today, body.reason)), today)

    def resolve_dispute(self, invoice_id: str) -> InvoiceOut:
        before = self._run(lambda: self.ledger.invoice(invoice_id))
        if not before.disputed:
            raise ApiError(409, f"invoice {invoice_id} has no open dispute", None)
        today = self.today()
        return invoice_view(self._run(lambda: self.ledger.resolve_dispute(invoice_id, today)), today)

    def add_promise(self, invoice_id: str, body: PromiseIn) -> InvoiceOut:
        self._require_open(invoice_id)
        today = self.today()
        return invoice_view(self._run(lambda: self.ledger.record_promise(invoice_id, today, body.until)), today)

    def set_plan(self, invoice_id: str, body: PlanIn) -> InvoiceOut:
        self._require_open(invoice_id)
        today = self.today()
        dates = [i.date for i in body.instalments]
        if len(set(dates)) != len(dates):
            raise ApiError(422, "two instalments fall on the same date", "instalments")
        if min(dates) < today:
            raise ApiError(422, f"instalment date {min(dates)} is in the past", "instalments")
        instalments = [(i.date, i.amount) for i in body.instalments]
        return invoice_view(self._run(lambda: self.ledger.set_payment_plan(invoice_id, today, instalments)),
                            today)

    def write_off(self, invoice_id: str, body: ReasonIn) -> InvoiceOut:
        self._require_open(invoice_id)
        today = self.today()
        return invoice_view(self._run(lambda: self.ledger.set_status(
            invoice_id, today, InvoiceStatus.WRITTEN_OFF, f"written off: {body.reason}")), today)

    def pause(self, invoice_id: str, body: OptionalReasonIn) -> InvoiceOut:
        self._require_open(invoice_id)
        today = self.today()
        return invoice_view(self._run(lambda: self.ledger.set_manual_pause(
            invoice_id, today, True, body.reason or "paused by hand")), today)

    def resume(self, invoice_id: str) -> InvoiceOut:
        before = self._require_open(invoice_id)
        if not before.manual_pause:
            raise ApiError(409, f"invoice {invoice_id} is not paused by hand"
                           + (" (it is disputed: DELETE its dispute)" if before.disputed else ""), None)
        today = self.today()
        return invoice_view(self._run(lambda: self.ledger.set_manual_pause(
            invoice_id, today, False, "resumed by hand")), today)

    def letter_event(self, invoice_id: str, body: LetterEventIn) -> HistoryOut:
        """Record a registered letter's posting or receipt (``relance letter posted|received``): the law
        counts the formal notice's deadline, and a consumer's interest, from it."""
        from relance.escalation import letters

        kind = "letter_posted" if body.event == "posted" else "letter_received"
        self._run(lambda: self.ledger.invoice(invoice_id))     # 404 for an unknown invoice
        self._run(lambda: letters.record(self.ledger, invoice_id, body.step, kind, body.date,
                                         tracking=body.tracking))
        return self.history(invoice_id)

    def history(self, invoice_id: str) -> HistoryOut:
        events = self._run(lambda: self.ledger.history(invoice_id))
        return HistoryOut(invoice=invoice_id, events=[EventOut.model_validate(e) for e in events])

    def lifecycle(self, invoice_id: str, body: LifecycleIn) -> LifecycleOut:
        today = self.today()
        result = self._run(lambda: lifecycle.apply_status(
            self.ledger, invoice_id, body.status, today, amount=body.amount, on=body.date,
            reference=body.reference, reason=body.reason, notify=self.notify))
        return LifecycleOut(status=result.code, label=result.label, action=result.action,
                            invoice=invoice_view(result.record, today), task=result.task)

    def report_outcome(self, case_id: str, body: OutcomeIn) -> OutcomeOut:
        """Resume the case's hand-off machine with the partner's outcome (409 when none is awaited)."""
        from relance.escalation.outcome import report_outcome

        result = self._run(lambda: report_outcome(case_id, body.outcome, body.amount, body.date or self.today()))
        return OutcomeOut(case_id=case_id, outcome=str(result["outcome"]), amount=str(result["amount"]),
                          date=str(result["date"]))
