"""What the engine is told about an invoice and its customer on the day it evaluates them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class InvoiceState:
    """One open (or not) invoice as the store knows it on the run date."""

    invoice_id: str
    due: date
    balance: Decimal
    sent: tuple[tuple[str, date], ...] = ()   # steps sent (step_id, date), in order; flagged claims count
    status: str = "open"                       # relance.models.InvoiceStatus value; not "open" = stop
    disputed: bool = False
    promise_until: date | None = None          # active promise: paused through this date, resumes after
    plan_paused_until: date | None = None      # payment plan on schedule: paused through this date
    manual_pause: bool = False
    delivered: date | None = None              # delivery / completion: starts the consumer limitation (L218-2)
    accessories_due: Decimal = Decimal("0")    # interest + 40 € left once the principal is paid (1343-1)


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """The customer side of a decision (read by ``customer_kind``, ``case_balance_lte``...)."""

    kind: str                 # b2b | b2c | public
    segment: str | None = None
    # what is owed on the invoices of the case: open, overdue, neither disputed nor paused (for a hand-off,
    # only the invoices handed off together; see relance.policy.grouping.route_case)
    case_balance: Decimal = Decimal("0")
    overdue_invoices: int = 0
