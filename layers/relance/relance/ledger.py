"""What happens to an invoice between two runs: imports, payments, disputes, promises, plans, decisions.

Every change goes through ``Ledger``, which reads the invoice, applies the change, recomputes the next
action with the policy engine and writes both atomically with a history event (optimistic concurrency,
retried on conflict). The REST API, the CSV import, the operators' CLI, the escalation and the simulator
all use these same functions, so a payment stops the ladder the same way whatever its way in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from relance.errors import NotFoundError, RelanceError, ValidationError
from relance.models import Customer, Invoice, InvoiceStatus, parse_record
from relance.money import ZERO, cents
from relance.policy import CustomerContext, InvoiceState, Policy, evaluate
from relance.ports import Store
from relance.store import ConflictError, InvoiceRecord

_RETRIES = 5
# The reason of the ``paused`` event of an invoice waiting for the team's decision (reports read it).
TO_DECIDE_PREFIX = "à décider : "


@dataclass(frozen=True)
class PaymentKey:
    """An idempotency key for a payment: ``digest`` names it (sha256 of the client's key), ``fingerprint``
    is the sha256 of the request it came with (a key reused with another request is refused)."""

    digest: str
    fingerprint: str


class DuplicatePayment(RelanceError):
    """The idempotency key was already used on this invoice; ``booked`` is what it booked then."""

    def __init__(self, booked: Mapping[str, Any], same_request: bool) -> None:
        super().__init__("this idempotency key was already used")
        self.booked = dict(booked)
        self.same_request = same_request


def invoice_due(record: InvoiceRecord) -> dt.date:
    return dt.date.fromisoformat(str(record.raw["due"]))


def invoice_amount(record: InvoiceRecord) -> Decimal:
    return Decimal(str(record.raw["amount"]))


def plan_paused_until(record: InvoiceRecord, today: dt.date) -> dt.date | None:
    """The payment plan keeps the ladder paused through its next instalment while it is on schedule.

    The instalments cover the balance owed when the plan was set, so what was paid since is
    ``sum(instalments) - balance``; the plan is on schedule when that covers every instalment due before
    today. A missed instalment returns None: the ladder resumes with its next step.
    """
    if not record.plan:
        return None
    paid_since = sum((a for _, a in record.plan), ZERO) - record.balance
    owed_so_far = sum((a for d, a in record.plan if d < today), ZERO)
    if paid_since < owed_so_far:
        return None
    upcoming = [d for d, _ in record.plan if d >= today]
    return min(upcoming) if upcoming else None


def engine_state(record: InvoiceRecord, today: dt.date) -> InvoiceState:
    return InvoiceState(
        invoice_id=record.invoice_id,
        due=invoice_due(record),
        balance=record.balance,
        sent=tuple((s.step, s.date) for s in record.sent),
        status=record.status,
        disputed=record.disputed,
        promise_until=record.promise_until,
        plan_paused_until=plan_paused_until(record, today),
        manual_pause=record.manual_pause,
        delivered=_delivered(record),
        accessories_due=record.accessories_due,
    )


def _delivered(record: InvoiceRecord) -> dt.date | None:
    """Delivery / completion date of the invoice (starts the consumer limitation period), if recorded."""
    value = record.raw.get("delivered")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def customer_context(customer: Customer, records: Sequence[InvoiceRecord], today: dt.date) -> CustomerContext:
    """What the policy's customer-level conditions see: balance and count of the open overdue invoices that
    are chased (a disputed or paused invoice is not part of any case)."""
    overdue = [r for r in records if r.status == "open" and r.balance > 0 and invoice_due(r) < today
               and not _paused(r, today)]
    return CustomerContext(kind=customer.kind, segment=customer.segment,
                           case_balance=sum((r.balance for r in overdue), ZERO),
                           overdue_invoices=len(overdue))


def _paused(record: InvoiceRecord, today: dt.date) -> bool:
    return bool(record.disputed or record.manual_pause or record.to_decide
                or (record.promise_until and record.promise_until >= today)
                or plan_paused_until(record, today) is not None)


def next_action(policy: Policy, record: InvoiceRecord, ctx: CustomerContext, today: dt.date) -> dt.date | None:
    """When the daily run should look at this invoice again (today if a step is due now)."""
    decision = evaluate(policy, engine_state(record, today), ctx, today)
    return today if decision.due else decision.next_action


@dataclass
class Ledger:
    """Applies changes to invoices through the store, keeping each next action right."""

    store: Store
    policies: Mapping[str, Policy]
    default_policy: str = "standard"

    # ---- reading ---------------------------------------------------------------------------------
    def customer(self, customer_id: str) -> Customer:
        raw = self.store.get_customer_raw(customer_id)
        if raw is None:
            raise NotFoundError(f"customer {customer_id} does not exist")
        return parse_record(Customer, raw, f"customer {customer_id}")

    def policy_for(self, customer: Customer) -> Policy:
        name = customer.policy or self.default_policy
        if name not in self.policies:
            raise ValidationError(f"policy {name!r} is not deployed (known: {', '.join(sorted(self.policies))})",
                                  f"customer {customer.id} field 'policy'")
        return self.policies[name]

    def invoice(self, invoice_id: str) -> InvoiceRecord:
        record = self.store.get_invoice(invoice_id)
        if record is None:
            raise NotFoundError(f"invoice {invoice_id} does not exist")
        return record

    # ---- creating --------------------------------------------------------------------------------
    def upsert_customer(self, data: Mapping[str, Any]) -> Customer:
        customer = parse_record(Customer, dict(data), f"customer {data.get('id', '?')}")
        self.policy_for(customer)
        self.store.put_customer(customer.model_dump(mode="json", exclude_none=True))
        return customer

    def create_invoice(self, data: Mapping[str, Any], today: dt.date,
                       attachment_key: str | None = None) -> tuple[Invoice, bool]:
        """Validate and store a new invoice with its first next action. Returns (invoice, created)."""
        invoice = parse_record(Invoice, dict(data), f"invoice {data.get('id', '?')}")
        fields, first = self._new_invoice(invoice, self.customer(invoice.customer), today)
        created = self.store.create_invoice(fields, first, today, attachment_key)
        return invoice, created

    def _new_invoice(self, invoice: Invoice, customer: Customer, today: dt.date
                     ) -> tuple[dict[str, Any], dt.date | None]:
        """The stored fields of a new, validated invoice and its first next action (None unless open)."""
        policy = self.policy_for(customer)      # a customer's unknown policy is refused, whatever the status
        fields = invoice.model_dump(mode="json", exclude_none=True)
        fields["balance"] = str(invoice.outstanding)
        if invoice.status is not InvoiceStatus.OPEN:
            return fields, None
        record = InvoiceRecord(invoice_id=invoice.id, customer_id=invoice.customer, raw=fields,
                               status=invoice.status.value, balance=invoice.outstanding)
        ctx = CustomerContext(kind=customer.kind, segment=customer.segment, case_balance=invoice.outstanding,
                              overdue_invoices=1 if invoice.due < today else 0)
        return fields, next_action(policy, record, ctx, today)

    def create_invoices(self, batch: Sequence[tuple[Invoice, Customer]], today: dt.date) -> list[str]:
        """Store new, validated invoices of known customers in batches (imports); returns the ids that
        existed already (created by someone else between the check and the write)."""
        rows: list[tuple[Mapping[str, Any], dt.date | None]] = []
        for invoice, customer in batch:
            rows.append(self._new_invoice(invoice, customer, today))
        return self.store.create_invoices(rows, today)

    # ---- changing --------------------------------------------------------------------------------
    def _change(self, invoice_id: str, today: dt.date,
                mutate: Callable[[InvoiceRecord], tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]],
                extra: Callable[[InvoiceRecord], tuple[str, dict[str, Any]] | None] | None = None) -> InvoiceRecord:
        """Read, mutate, recompute the next action and write; retried when someone wrote in between.

        ``extra(record)`` gives more transaction items written with the change (an idempotency key).
        """
        for _ in range(_RETRIES):
            record = self.invoice(invoice_id)
            changes, events = mutate(record)
            updated = _apply(record, changes)
            customer = self.customer(record.customer_id)
            ctx = CustomerContext(kind=customer.kind, segment=customer.segment, case_balance=updated.balance,
                                  overdue_invoices=1 if invoice_due(updated) < today else 0)
            nxt = next_action(self.policy_for(customer), updated, ctx, today) if updated.status == "open" else None
            try:
                self.store.update_invoice_state(record, changes=changes, next_action=nxt,
                                                events=[(today, kind, details) for kind, details in events],
                                                payment_key=extra(record) if extra else None)
            except ConflictError:
                continue
            return _apply(updated, {"next_action": nxt})
        raise RelanceError(f"invoice {invoice_id} kept changing under us; try again")

    def record_payment(self, invoice_id: str, amount: Decimal, paid_on: dt.date,
                       reference: str | None = None, idempotency: PaymentKey | None = None) -> InvoiceRecord:
        """A payment, possibly partial. An overpayment is kept as a credit and reported, never lost.

        With ``idempotency``, the key is written in the same transaction as the payment (a conditional
        put): a retry finds it and raises :class:`DuplicatePayment` with what was booked, never books twice.
        """
        if amount <= 0:
            raise ValidationError("a payment must be positive", f"invoice {invoice_id} field 'amount'")

        def extra(record: InvoiceRecord) -> tuple[str, dict[str, Any]] | None:
            if idempotency is None:
                return None
            applied = min(amount, record.balance)
            return idempotency.digest, {
                "fingerprint": idempotency.fingerprint, "date": paid_on.isoformat(),
                "applied": str(cents(applied)), "credit": str(cents(amount - applied))}

        def mutate(record: InvoiceRecord) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
            if idempotency is not None:
                booked = self.store.get_payment_key(invoice_id, idempotency.digest)
                if booked is not None:
                    raise DuplicatePayment(booked, booked.get("fingerprint") == idempotency.fingerprint)
            if record.status not in ("open", "handed_off"):
                raise ValidationError(f"invoice is {record.status}; a payment cannot be recorded on it",
                                      f"invoice {invoice_id}")
            remaining = record.balance - amount
            changes: dict[str, Any] = {"payments": (*record.payments, (paid_on, cents(amount))),
                                       "balance": max(remaining, ZERO)}
            events: list[tuple[str, dict[str, Any]]] = [("payment", {
                "amount": str(cents(amount)), "balance": str(cents(max(remaining, ZERO))),
                "reference": reference or ""})]
            if remaining <= 0:
                self._principal_paid(record, changes, events, paid_on)
            if remaining < 0:
                changes["credit"] = -remaining
                events.append(("overpayment", {"credit": str(cents(-remaining))}))
            return changes, events

        return self._change(invoice_id, paid_on, mutate, extra)

    def _principal_paid(self, record: InvoiceRecord, changes: dict[str, Any],
                        events: list[tuple[str, dict[str, Any]]], paid_on: dt.date) -> None:
        """The principal is paid: claim the interest and the 40 € left (one « décompte des pénalités »)
        or close the invoice saying what was waived, as the policy says (``penalties_after_principal``)."""
        from relance.law.penalties import accessories_after_principal

        customer = self.customer(record.customer_id)
        due = invoice_due(record)
        notice = next((s.date for s in record.sent if not s.flagged and "letter" in s.channels), None)
        left = accessories_after_principal(invoice_amount(record), due, customer.kind, changes["payments"],
                                           record.raw.get("contract_rate"), notice)
        if left.known_total <= 0 and left.missing is None:
            changes["status"] = "paid"
            events.append(("stopped", {"reason": "paid"}))
            return
        interest = "unknown (rate missing)" if left.interest is None else f"{cents(left.interest)} EUR"
        what = f"interest {interest}, indemnity {cents(left.indemnity)} EUR"
        if left.principal:
            what += f", principal left by the imputation of earlier payments {cents(left.principal)} EUR"
        claim = self.policy_for(customer).penalties_after_principal == "claim" and customer.kind != "b2c"
        if claim and record.status == "open":
            changes["accessories_due"] = cents(left.known_total)
            events.append(("penalties_remaining", {"reason": f"principal paid; still owed: {what}; one "
                                                             "« décompte des pénalités » will be sent"}))
            return
        changes["status"] = "paid"
        if record.status != "open":   # handed off: the partner's claim covers them
            events.append(("stopped", {"reason": f"paid; still owed, left to the partner's claim: {what}"}))
            return
        basis = "consumer debtor" if customer.kind == "b2c" else "policy setting penalties_after_principal: waive"
        events.append(("stopped", {"reason": f"paid; waived: {what} ({basis})"}))

    def open_dispute(self, invoice_id: str, today: dt.date, reason: str) -> InvoiceRecord:
        return self._change(invoice_id, today, lambda r: (
            {"disputed": True}, [("paused", {"reason": f"dispute: {reason}"[:500]})]))

    def resolve_dispute(self, invoice_id: str, today: dt.date) -> InvoiceRecord:
        return self._change(invoice_id, today, lambda r: (
            {"disputed": False}, [("resumed", {"reason": "dispute resolved"})]))

    def record_promise(self, invoice_id: str, today: dt.date, until: dt.date) -> InvoiceRecord:
        if until < today:
            raise ValidationError(f"promise date {until} is in the past", f"invoice {invoice_id} field 'until'")
        return self._change(invoice_id, today, lambda r: (
            {"promise_until": until}, [("paused", {"reason": f"promise to pay by {until.isoformat()}"})]))

    def await_payment(self, invoice_id: str, today: dt.date, until: dt.date, reason: str) -> InvoiceRecord:
        """The debtor says it is paid: pause through ``until`` while the bank catches up, then resume.

        Uses the promise's pause (``promise_until``, never shortened): when no payment has arrived by then,
        the ladder takes up again by itself with its next step.
        """
        def mutate(record: InvoiceRecord) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
            end = max(until, record.promise_until or until)
            return {"promise_until": end}, [("paused", {"reason": reason[:500]})]

        return self._change(invoice_id, today, mutate)

    def set_payment_plan(self, invoice_id: str, today: dt.date,
                         instalments: Sequence[tuple[dt.date, Decimal]]) -> InvoiceRecord:
        def mutate(record: InvoiceRecord) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
            total = sum((a for _, a in instalments), ZERO)
            if total != record.balance:
                raise ValidationError(f"instalments add up to {total}, the balance is {record.balance}",
                                      f"invoice {invoice_id} field 'instalments'")
            plan = tuple(sorted(instalments))
            return {"plan": plan}, [("paused", {"reason": f"payment plan of {len(plan)} instalments"})]

        return self._change(invoice_id, today, mutate)

    def set_manual_pause(self, invoice_id: str, today: dt.date, paused: bool, reason: str = "") -> InvoiceRecord:
        """Pause or resume by hand; resuming also ends a pending decision (« à décider »)."""
        kind = "paused" if paused else "resumed"

        def mutate(record: InvoiceRecord) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
            changes: dict[str, Any] = {"manual_pause": paused}
            if not paused and record.to_decide:
                changes["to_decide"] = None
            return changes, [(kind, {"reason": reason or "by hand"})]

        return self._change(invoice_id, today, mutate)

    def await_decision(self, invoice_id: str, today: dt.date, reason: str) -> InvoiceRecord:
        """The hand-off was refused or its approval expired: the invoice stays owed and open, paused
        « à décider » until the team writes it off, resumes it or chooses another way."""
        return self._change(invoice_id, today, lambda r: (
            {"manual_pause": True, "to_decide": reason[:500] or "decision"},
            [("paused", {"reason": f"{TO_DECIDE_PREFIX}{reason}"[:500]})]))

    def set_status(self, invoice_id: str, today: dt.date, status: InvoiceStatus, reason: str) -> InvoiceRecord:
        """Stop states: written off, handed off, escalation declined, cancelled (e-invoicing 210/213)."""
        def mutate(record: InvoiceRecord) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
            changes: dict[str, Any] = {"status": status.value}
            if record.to_decide:
                changes.update(to_decide=None, manual_pause=False)
            return changes, [("stopped", {"reason": reason, "status": status.value})]

        return self._change(invoice_id, today, mutate)

    # ---- added for the API, the imports and the operators' CLI ----------------------------------
    def update_customer(self, customer_id: str, changes: Mapping[str, Any]) -> Customer:
        """Change some fields of an existing customer (``None`` removes one); NotFoundError if absent."""
        raw = self.store.get_customer_raw(customer_id)
        if raw is None:
            raise NotFoundError(f"customer {customer_id} does not exist")
        if "id" in changes and changes["id"] != customer_id:
            raise ValidationError("the id of a customer cannot change", f"customer {customer_id} field 'id'")
        merged = {**raw, **changes}
        merged = {k: v for k, v in merged.items() if v is not None}
        return self.upsert_customer(merged)

    def update_invoice(self, invoice_id: str, today: dt.date, changes: Mapping[str, Any]) -> InvoiceRecord:
        """Correct an open invoice (dates, amount, delivery date, contract rate), recomputing its next action.

        A new amount keeps the payments already recorded: the balance becomes ``amount - paid``; an amount
        below what was paid is refused. Writes an ``updated`` history event naming the fields changed.
        """
        from dataclasses import replace

        unknown = sorted(set(changes) - UPDATABLE_INVOICE_FIELDS)
        if unknown:
            raise ValidationError(f"field {unknown[0]!r} cannot be changed by an update",
                                  f"invoice {invoice_id} field '{unknown[0]}'")
        for _ in range(_RETRIES):
            record = self.invoice(invoice_id)
            if record.status != "open":
                raise ValidationError(f"invoice is {record.status}; it can no longer be changed",
                                      f"invoice {invoice_id}")
            merged = {**record.raw, **changes}
            merged = {k: v for k, v in merged.items() if v is not None}
            merged.pop("balance", None)
            invoice = parse_record(Invoice, merged, f"invoice {invoice_id}")
            paid = paid_total(record)
            if invoice.amount < paid:
                raise ValidationError(f"amount {invoice.amount} is less than the {cents(paid)} already paid",
                                      f"invoice {invoice_id} field 'amount'")
            balance = cents(invoice.amount - paid)
            fields = invoice.model_dump(mode="json", exclude_none=True)
            fields["balance"] = str(balance)
            changed = sorted(k for k in UPDATABLE_INVOICE_FIELDS if fields.get(k) != record.raw.get(k))
            if not changed:
                return record
            state: dict[str, Any] = {"data": fields, "balance": balance}
            events: list[tuple[dt.date, str, dict[str, Any]]] = [
                (today, "updated", {"fields": ",".join(changed),
                                    **{k: str(fields.get(k, "")) for k in changed}})]
            status = record.status
            if balance <= 0:
                status = state["status"] = "paid"
                events.append((today, "stopped", {"reason": "paid"}))
            updated = replace(record, raw=fields, balance=balance, status=status)
            customer = self.customer(record.customer_id)
            ctx = CustomerContext(kind=customer.kind, segment=customer.segment, case_balance=balance,
                                  overdue_invoices=1 if invoice.due < today else 0)
            nxt = next_action(self.policy_for(customer), updated, ctx, today) if status == "open" else None
            try:
                self.store.update_invoice_state(record, changes=state, next_action=nxt, events=events)
            except ConflictError:
                continue
            return replace(updated, next_action=nxt, version=record.version + 1)
        raise RelanceError(f"invoice {invoice_id} kept changing under us; try again")

    def history(self, invoice_id: str) -> list[dict[str, Any]]:
        """The audit history of an invoice, oldest first: ``{"date", "kind", "details"}`` per event."""
        self.invoice(invoice_id)
        return [{"date": str(e.get("date", "")), "kind": str(e.get("kind", "")),
                 "details": {str(k): str(v) for k, v in dict(e.get("details") or {}).items()}}
                for e in self.store.history(invoice_id)]

    def note(self, invoice_id: str, today: dt.date, kind: str, details: Mapping[str, Any]) -> None:
        """Append an event to an invoice's history without changing its state (e.g. e-invoicing 205)."""
        self.invoice(invoice_id)
        self.store.add_event(invoice_id, today, kind, {k: str(v) for k, v in details.items()})


def _apply(record: InvoiceRecord, changes: Mapping[str, Any]) -> InvoiceRecord:
    from dataclasses import replace

    known = {k: v for k, v in changes.items() if k in InvoiceRecord.__dataclass_fields__}
    return replace(record, **known)


# ---- added for the API, the imports and the operators' CLI ("Invoices in, payments in") --------------
# Invoice fields an update may change; the others (id, customer, currency, status, balance) have their
# own ways in (payments, write-off, ...).
UPDATABLE_INVOICE_FIELDS = frozenset({"issued", "due", "amount", "delivered", "contract_rate"})


def paid_total(record: InvoiceRecord) -> Decimal:
    """Sum of the payments recorded on an invoice."""
    return sum((a for _, a in record.payments), ZERO)


def credit_of(record: InvoiceRecord) -> Decimal:
    """What was paid beyond the invoice amount (kept as a credit for the customer, never lost)."""
    return max(paid_total(record) - invoice_amount(record), ZERO)
