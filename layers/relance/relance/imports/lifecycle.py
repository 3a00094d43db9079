"""E-invoicing lifecycle statuses (CDAR codes 200-213, réforme 2026-2027) as inputs to the dunning.

What each status does (legal-fr.md § 5):

====  ===================  =====================================================================
code  label                effect
====  ===================  =====================================================================
212   Encaissée            records the payment (amount and credit date, partial allowed); ends a 211 wait
211   Paiement transmis    pauses (manual pause with a reason) until the funds arrive (212)
207   En litige            pauses like a dispute
208   Suspendue            pauses like a dispute
210   Refusée              stops the invoice (cancelled) and raises a task for the team
213   Rejetée              stops the invoice (cancelled) and raises a task for the team
200-206, 209               recorded in the history only (205 Approuvée is strong evidence of the debt)
====  ===================  =====================================================================

Any other code is refused. A status sent with a ``reference`` (the id of the status message) is applied
once: a platform delivering it twice does not record the payment twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from relance.errors import ValidationError
from relance.ledger import Ledger
from relance.models import InvoiceStatus
from relance.store import InvoiceRecord

LABELS: dict[str, str] = {
    "200": "Déposée", "201": "Émise par la plateforme", "202": "Reçue par la plateforme",
    "203": "Mise à disposition", "204": "Prise en charge", "205": "Approuvée", "206": "Approuvée partiellement",
    "207": "En litige", "208": "Suspendue", "209": "Complétée", "210": "Refusée", "211": "Paiement transmis",
    "212": "Encaissée", "213": "Rejetée",
}
PAUSING = frozenset({"207", "208"})
STOPPING = frozenset({"210", "213"})
WAIT_FOR_FUNDS = "211"
CASHED = "212"
_WAIT_REASON = "e-invoicing 211 (paiement transmis): waiting for the funds"
# Reasons of the pauses that are not manual pauses (disputes, promises, plans): see Ledger.
_OTHER_PAUSES = ("dispute: ", "promise to pay", "payment plan")

# (subject, message) -> None: raises a task for the team (the SNS task topic in AWS).
Notify = Callable[[str, str], None]


@dataclass(frozen=True)
class LifecycleResult:
    """What a status did to the invoice."""

    code: str
    label: str
    action: str          # payment | paused | resumed | cancelled | noted | duplicate
    record: InvoiceRecord
    task: bool = False


def label_of(code: str) -> str:
    """The French label of a lifecycle code; ValidationError for an unknown one."""
    if code not in LABELS:
        raise ValidationError(f"unknown e-invoicing lifecycle status {code!r} (known: 200 to 213)", "status")
    return LABELS[code]


def apply_status(ledger: Ledger, invoice_id: str, code: str, today: dt.date, *, amount: Decimal | None = None,
                 on: dt.date | None = None, reference: str | None = None, reason: str | None = None,
                 notify: Notify | None = None) -> LifecycleResult:
    """Apply the lifecycle status ``code`` to an invoice through the ledger (see the module table)."""
    code = code.strip()
    label = label_of(code)
    where = f"invoice {invoice_id}"
    if amount is not None and code != CASHED:
        raise ValidationError(f"an amount only goes with status 212 (encaissée), not {code}", "amount")
    record = ledger.invoice(invoice_id)
    tag = f"CDAR-{code}" + (f" {reference}" if reference else "")
    if reference and _already_applied(ledger, invoice_id, tag):
        return LifecycleResult(code, label, "duplicate", record)
    detail = f"e-invoicing {code} ({label.lower()})" + (f": {reason}" if reason else "")

    if code == CASHED:
        if amount is None:
            raise ValidationError("status 212 (encaissée) needs the amount received", "amount")
        paid_on = on or today
        if paid_on > today:
            raise ValidationError(f"credit date {paid_on} is in the future", "date")
        record = ledger.record_payment(invoice_id, amount, paid_on, reference=tag)
        if record.manual_pause and _waiting_for_funds(ledger, invoice_id):
            record = ledger.set_manual_pause(invoice_id, today, False, "e-invoicing 212 (encaissée): funds arrived")
        return LifecycleResult(code, label, "payment", record)

    if on is not None and on > today:
        raise ValidationError(f"date {on} is in the future", "date")
    if code in PAUSING:
        if record.disputed:
            ledger.note(invoice_id, today, "lifecycle", {"status": code, "reference": tag, "note": "already paused"})
            return LifecycleResult(code, label, "paused", record)
        return LifecycleResult(code, label, "paused", ledger.open_dispute(invoice_id, today, f"{detail} [{tag}]"))
    if code == WAIT_FOR_FUNDS:
        if record.status != "open":
            raise ValidationError(f"invoice is {record.status}; status 211 does not apply", where)
        return LifecycleResult(code, label, "paused",
                               ledger.set_manual_pause(invoice_id, today, True, f"{_WAIT_REASON} [{tag}]"))
    if code in STOPPING:
        if record.status == InvoiceStatus.CANCELLED.value:
            return LifecycleResult(code, label, "duplicate", record)
        record = ledger.set_status(invoice_id, today, InvoiceStatus.CANCELLED, f"{detail} [{tag}]")
        if notify is not None:
            notify(f"relance: invoice {invoice_id} {label.lower()} ({code})",
                   f"The e-invoicing platform reports invoice {invoice_id} (customer {record.customer_id}) as "
                   f"{label} ({code}). Reminders have stopped. "
                   + ("Correct the invoice and issue it again." if code == "213"
                      else "Handle it as a dispute or issue a credit note.")
                   + (f" Reason given: {reason}" if reason else ""))
        return LifecycleResult(code, label, "cancelled", record, task=notify is not None)
    ledger.note(invoice_id, today, "lifecycle", {"status": code, "label": label, "reference": tag,
                                                 "reason": reason or ""})
    return LifecycleResult(code, label, "noted", record)


def _already_applied(ledger: Ledger, invoice_id: str, tag: str) -> bool:
    for event in ledger.history(invoice_id):
        details = event["details"]
        if details.get("reference") == tag or details.get("reason", "").endswith(f"[{tag}]"):
            return True
    return False


def _waiting_for_funds(ledger: Ledger, invoice_id: str) -> bool:
    """Whether the manual pause in force is a 211 wait (a pause an operator set is left alone)."""
    waiting = False
    for event in ledger.history(invoice_id):
        reason = event["details"].get("reason", "")
        if event["kind"] == "paused" and reason.startswith(_WAIT_REASON):
            waiting = True
        elif event["kind"] == "paused" and not reason.startswith(_OTHER_PAUSES):
            waiting = False          # an operator paused it by hand after the 211
        elif event["kind"] == "resumed" and reason != "dispute resolved":
            waiting = False
    return waiting
