"""The dates an invoice left unpaid would get: the engine run day by day, each due step fed back as sent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from relance.policy.engine import evaluate
from relance.policy.model import Policy
from relance.policy.state import CustomerContext, InvoiceState


def timeline(policy: Policy, due: date, amount: Decimal = Decimal("1000.00"), kind: str = "b2b",
             segment: str | None = None) -> list[dict[str, Any]]:
    """One entry per step the invoice would get, in order. Conditions see balance = case balance = amount
    and one overdue invoice."""
    ctx = CustomerContext(kind=kind, segment=segment, case_balance=amount, overdue_invoices=1)
    state = InvoiceState(invoice_id="timeline", due=due, balance=amount)
    today: date | None = due + timedelta(days=min((s.at_days for s in policy.steps), default=0))
    out: list[dict[str, Any]] = []
    for _ in range(10 * len(policy.steps) + 10):   # each turn sends a step or moves to a later day
        if today is None:
            break
        decision = evaluate(policy, state, ctx, today)
        if decision.stopped == "time_barred":
            break
        for due_step in decision.due:
            step = due_step.step
            entry: dict[str, Any] = {"step": step.id, "date": due_step.date.isoformat()}
            if step.action == "escalate":
                entry.update(action="escalate", partner=due_step.partner)
            else:
                entry["channels"] = list(step.channels)
            out.append(entry)
            state = InvoiceState(invoice_id=state.invoice_id, due=due, balance=amount,
                                 sent=(*state.sent, (step.id, due_step.date)))
        if decision.next_action is not None and decision.next_action <= today:
            today += timedelta(days=1)   # pragma: no cover - the engine always moves forward
        else:
            today = decision.next_action
    return out
