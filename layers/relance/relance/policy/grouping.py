"""Which invoices of one customer go out together today, and where a case is routed. Pure, no I/O.

* Routing by the case: a hand-off's partner is chosen on the case balance, what is owed on the invoices of
  the case (those due for the escalate step together), never on invoices outside it; disputed and paused
  invoices are never in a case (the engine does not make them due).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from relance.policy.model import Step
from relance.policy.state import CustomerContext


def route_case(step: Step, ctx: CustomerContext, balances: Sequence[Decimal], days_overdue: int = 0) -> str | None:
    """The partner of an escalate step for a case made of invoices with these ``balances``."""
    total = sum(balances, Decimal("0"))
    return step.route_for(replace(ctx, case_balance=total), total, days_overdue)
