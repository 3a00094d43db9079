"""The partner's outcome: reported once (by the partner or the team, through the REST API), then recorded.

:func:`report_outcome` resumes the state machine waiting in ``WaitForOutcome``; the machine's
``RecordOutcome`` task then calls :func:`record_outcome`, which books what was recovered as payments.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from relance.errors import NotFoundError, RelanceError, ValidationError
from relance.ledger import invoice_due
from relance.money import ZERO, cents

Outcome = Literal["recovered", "partly_recovered", "failed"]
OUTCOMES: tuple[str, ...] = ("recovered", "partly_recovered", "failed")


class OutcomeNotExpected(RelanceError):
    """The case is not waiting for an outcome (not handed off yet, or already reported): HTTP 409."""


def _amount(value: Decimal | str | int | float | None, outcome: str, where: str) -> Decimal:
    if value is None or value == "":
        if outcome == "failed":
            return ZERO
        raise ValidationError("an amount is required for a recovered or partly recovered case", where)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(f"{value!r} is not an amount", where) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(f"{value!r} is not a positive amount with at most 2 decimals", where)
    if outcome != "failed" and amount == 0:
        raise ValidationError("a recovered amount must be positive", where)
    return amount


def report_outcome(case_id: str, outcome: str, amount: Decimal | str | None, date: dt.date | str,
                   *, services: Any = None) -> dict[str, Any]:
    """Report what the partner achieved on a handed-off case; resumes the case's state machine.

    ``outcome``: ``recovered`` | ``partly_recovered`` | ``failed``; ``amount``: what was recovered (EUR,
    required unless failed); ``date``: when the funds were credited (ISO date or date). Raises
    NotFoundError (unknown case), ValidationError (bad input) or OutcomeNotExpected (not handed off
    yet, or reported already). Returns ``{"case_id", "outcome", "amount", "date"}``.
    """
    from relance.escalation.services import Services

    where = f"case {case_id}"
    if outcome not in OUTCOMES:
        raise ValidationError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}", f"{where} field 'outcome'")
    value = _amount(amount, outcome, f"{where} field 'amount'")
    try:
        day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
    except ValueError:
        raise ValidationError(f"{date!r} is not an ISO date", f"{where} field 'date'") from None
    services = services or Services.from_env()
    case = services.store.get_case(case_id)
    if case is None:
        raise NotFoundError(f"case {case_id} does not exist")
    token = case.get("outcome_token")
    if not token or case.get("status") != "with_partner":
        raise OutcomeNotExpected(f"the case is {case.get('status', 'unknown')}; no outcome is expected", where)
    result = {"outcome": outcome, "amount": str(cents(value)), "date": day.isoformat()}
    if not services.store.update_case(case_id, {"status": "outcome_reported", "outcome": json.dumps(result)},
                                      expect={"status": "with_partner"}):
        raise OutcomeNotExpected("an outcome was already reported", where)
    try:
        if not services.workflow.succeed(token, result):
            raise OutcomeNotExpected("the escalation no longer waits for an outcome (it timed out)", where)
    except Exception:
        services.store.update_case(case_id, {"status": "with_partner"}, expect={"status": "outcome_reported"})
        raise
    return {"case_id": case_id, **result}


def record_outcome(services: Any, case: Mapping[str, Any]) -> dict[str, Any]:
    """Book the recovered amount as payments, oldest invoice first; history events on every invoice."""
    result = case.get("outcome") or {}
    outcome = str(result.get("outcome"))
    day = dt.date.fromisoformat(str(result["date"]))
    remaining = Decimal(str(result.get("amount") or "0"))
    case_id = str(case["case_id"])
    case_item = services.store.get_case(case_id) or {}
    partner = case_item.get("partner_name") or case.get("partner")
    records = sorted(services.records(case["invoices"]), key=lambda r: (invoice_due(r), r.invoice_id))
    payments = []
    for record in records:
        if remaining <= 0:
            break
        if record.status not in ("open", "handed_off") or record.balance <= 0:
            continue
        paid = min(remaining, record.balance)
        services.ledger.record_payment(record.invoice_id, paid, day, reference=f"{partner} - dossier {case_id}"[:100])
        payments.append({"invoice": record.invoice_id, "amount": str(cents(paid))})
        remaining -= paid
    details = {"case_id": case_id, "outcome": outcome, "amount": str(result.get("amount", "0")),
               "partner": str(partner)}
    if remaining > 0:
        details["beyond_principal"] = str(cents(remaining))   # penalties, indemnities recovered on top
    services.note(case["invoices"], day, "handoff_outcome", details)
    services.store.update_case(case_id, {"status": "closed", "closed_on": day.isoformat()})
    return {"outcome": outcome, "payments": payments, "beyond_principal": str(cents(max(remaining, ZERO)))}
