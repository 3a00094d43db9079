"""Which invoices of one customer go out together today, and where a case is routed. Pure, no I/O.

* One message per customer per day (policy ``one_message_per_day``): the invoices due today at different
  steps go out as one message at the most advanced of their steps, listing each invoice with its own
  stage; each invoice's ladder records its own step, as if it had been sent. Escalations are cases, not
  messages: they stay apart. Off: one message per step, as before.
* Routing by the case: a hand-off's partner is chosen on the case balance, what is owed on the invoices of
  the case (those due for the escalate step together), never on invoices outside it; disputed and paused
  invoices are never in a case (the engine does not make them due).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Generic, TypeVar

from relance.policy.engine import DueStep
from relance.policy.model import Policy, Step
from relance.policy.state import CustomerContext

T = TypeVar("T")


@dataclass(frozen=True)
class Group(Generic[T]):
    """One message (or one case): the step whose template and channels it uses, and its invoices, each
    with its own due step (the step recorded on that invoice's ladder)."""

    step: Step
    members: tuple[tuple[T, DueStep], ...]

    @property
    def mixed(self) -> bool:
        """Whether some invoice is at another step than the message's."""
        return any(due.step.id != self.step.id for _, due in self.members)


def group_due(policy: Policy, due: Sequence[tuple[T, DueStep]]) -> list[Group[T]]:
    """The day's messages and cases for one customer, in the policy's step order."""
    order = policy.index
    by_step: dict[str, list[tuple[T, DueStep]]] = {}
    for item, step in due:
        by_step.setdefault(step.step.id, []).append((item, step))
    # Steps outside the policy's ladder (the statement of penalties left once the principal is paid) come
    # last and always go apart, like escalations.
    steps = sorted(by_step, key=lambda s: order.get(s, len(order)))
    if not policy.one_message_per_day:
        return [Group(by_step[s][0][1].step, tuple(by_step[s])) for s in steps]
    sends = [s for s in steps if s in order and by_step[s][0][1].step.action != "escalate"]
    groups: list[Group[T]] = []
    if sends:
        top = by_step[sends[-1]][0][1].step
        groups.append(Group(top, tuple(m for s in reversed(sends) for m in by_step[s])))
    groups += [Group(by_step[s][0][1].step, tuple(by_step[s])) for s in steps if s not in sends]
    return groups


def route_case(step: Step, ctx: CustomerContext, balances: Sequence[Decimal], days_overdue: int = 0) -> str | None:
    """The partner of an escalate step for a case made of invoices with these ``balances``."""
    total = sum(balances, Decimal("0"))
    return step.route_for(replace(ctx, case_balance=total), total, days_overdue)
