"""A validated policy: immutable, hashable by identity, ready for the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from relance.calendar import BusinessCalendar, calendar_for
from relance.policy.conditions import Condition
from relance.policy.state import CustomerContext


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """Which days steps may go out on (``calendar:`` in the policy)."""

    country: str = "FR"
    subdivision: str | None = None
    skip_weekends: bool = True
    skip_holidays: bool = True

    @property
    def business(self) -> BusinessCalendar:
        return calendar_for(self.country, self.subdivision, self.skip_weekends, self.skip_holidays)


def _holds(conditions: tuple[Condition, ...], balance: Decimal, ctx: CustomerContext,
           days_overdue: int) -> bool:
    return all(condition.test(balance, ctx, days_overdue) for condition in conditions)


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One ``route`` entry of an escalate step; no ``when`` = catch-all."""

    partner: str
    when: tuple[Condition, ...] = ()

    def matches(self, balance: Decimal, ctx: CustomerContext, days_overdue: int = 0) -> bool:
        return _holds(self.when, balance, ctx, days_overdue)


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of the ladder. ``at_days`` is the offset from the due date (negative before it)."""

    id: str
    at_days: int
    channels: tuple[str, ...] = ()
    template: str | None = None
    action: str = "send"            # "send" | "escalate"
    approval: bool = False          # escalate: a person approves before the handoff
    route: tuple[RouteEntry, ...] = ()
    when: tuple[Condition, ...] = ()
    line: int = field(default=0, compare=False)   # where the step is in its file, for messages

    @property
    def at(self) -> str:
        """The offset as written in a policy (``due``, ``due+15d``, ``due-7d``)."""
        if self.at_days == 0:
            return "due+0d"
        return f"due{self.at_days:+d}d"

    def applies(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        """Whether the step's ``when`` holds (always, without ``when``)."""
        return _holds(self.when, balance, ctx, days_overdue)

    def route_for(self, ctx: CustomerContext, balance: Decimal, days_overdue: int = 0) -> str | None:
        for entry in self.route:
            if _holds(entry.when, balance, ctx, days_overdue):
                return entry.partner
        return None


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A whole escalation policy. Compared and hashed by identity: the engine caches per policy object."""

    name: str
    steps: tuple[Step, ...]
    description: str = ""
    timezone: str = "Europe/Paris"
    min_gap_days: int = 0
    min_balance: Decimal = Decimal("0.00")
    calendar: CalendarSpec = CalendarSpec()
    source: str = ""                # the file it was loaded from ("" when built in code)
    # Interest and the 40 € still owed once the principal is paid (C. civ. 1343-1): "claim" sends one
    # « décompte des pénalités » (business and public debtors), "waive" closes the invoice and records what
    # was waived. Consumers: always waived, and recorded.
    penalties_after_principal: str = "waive"
    # Invoices of one customer due the same day at different steps go out as one message, at the most
    # advanced step (relance.policy.grouping); off: one message per step.
    one_message_per_day: bool = False
    # The debtor's page (relance.debtor): days « déjà payé » pauses the ladder while the bank catches up,
    # and how far ahead a promise may go before it becomes a request to the team.
    paid_pause_days: int = 7
    promise_max_days: int = 30
    index: dict[str, int] = field(init=False, repr=False)
    business: BusinessCalendar = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {step.id: i for i, step in enumerate(self.steps)})
        object.__setattr__(self, "business", self.calendar.business)

    @property
    def statement_step(self) -> Step:
        """The single « décompte des pénalités » message (``penalties_after_principal: claim``)."""
        return PENALTY_STATEMENT

    def step(self, step_id: str) -> Step:
        """The step with this id (KeyError if none)."""
        return self.steps[self.index[step_id]]

    def escalation_step(self) -> Step | None:
        """The first escalate step, if any."""
        return next((s for s in self.steps if s.action == "escalate"), None)

    def route_for(self, ctx: CustomerContext, balance: Decimal, days_overdue: int = 0) -> str | None:
        """Partner of the policy's escalate step for this case (first matching route entry)."""
        step = self.escalation_step()
        return step.route_for(ctx, balance, days_overdue) if step else None

    def offset_date(self, step: Step, due: date) -> date:
        """The step's own date for an invoice due on ``due``: offset applied, moved to a business day."""
        return self.business.next_business_day(due + timedelta(days=step.at_days))


# Sent once, by email (a letter when there is no usable address), when the principal is paid and interest or
# the 40 € indemnity remain and the policy claims them. Not a rung of the ladder: the engine offers it only
# for an invoice whose principal is paid.
PENALTY_STATEMENT = Step(id="penalty_statement", at_days=0, channels=("email",), template="penalty_statement")
PENALTIES_AFTER_PRINCIPAL = ("claim", "waive")
