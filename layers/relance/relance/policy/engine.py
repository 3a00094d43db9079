"""The policy engine: which step (if any) an invoice gets today. Pure, deterministic, no I/O.

Rules (DESIGN.md "Policy semantics"):

* Stops first (status other than ``open``, time-barred debt (law/limitation.py: nothing may go out once
  the last day to act has passed), nothing left to pay, balance below ``min_balance``), then pauses
  (dispute, manual, active promise, payment plan on schedule).
* The candidate is the first step after the last one sent; steps before it that never went out are passed.
* A step's date is ``next_business_day(max(due + at, last_sent + min_gap_days))``.
* When that date has come, its ``when`` is evaluated with today's facts: false skips it (it neither blocks
  the next step nor counts for the gap), true makes it due today. A pre-due step (negative offset) whose
  invoice is already overdue is skipped the same way: its wording announces a due date still to come.
  At most one step per invoice per day, so
  after an outage the ladder resumes one step at a time, gap included.
* Nothing is due on a day that is not a business day: the step waits for the next one.

Hot path: the business-day-adjusted offset dates are cached per (policy, due date); conditions are only
evaluated for a candidate whose date has come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from relance.law.limitation import last_day
from relance.policy.model import Policy, Step
from relance.policy.state import CustomerContext, InvoiceState

__all__ = ["CustomerContext", "Decision", "DueStep", "InvoiceState", "evaluate"]

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DueStep:
    step: Step               # the policy step
    date: date               # the run date it is due on
    partner: str | None      # for escalate steps: the route chosen (first matching `when`)


@dataclass(frozen=True, slots=True)
class Decision:
    due: tuple[DueStep, ...]        # at most ONE step per invoice per day
    next_action: date | None        # next evaluation date if the due step (if any) is sent today; None = done
    paused: str | None = None       # "dispute" | "promise" | "payment_plan" | "manual" | None
    stopped: str | None = None      # status or "paid" | "below_min_balance" | "ladder_finished" | None


_FINISHED = Decision((), None, stopped="ladder_finished")
_PAID = Decision((), None, stopped="paid")
_BELOW_MIN = Decision((), None, stopped="below_min_balance")
_DISPUTE = Decision((), None, paused="dispute")
_MANUAL = Decision((), None, paused="manual")
_STOPPED: dict[str, Decision] = {}


@lru_cache(maxsize=65536)
def offset_dates(policy: Policy, due: date) -> tuple[date, ...]:
    """Per step: ``due + at`` moved to a business day (Policy hashes by identity, so this is cheap)."""
    nbd = policy.business.next_business_day
    return tuple(nbd(due + timedelta(days=step.at_days)) for step in policy.steps)


def _gap(policy: Policy) -> timedelta:
    """Days from one send to the next: ``min_gap_days``, and never two steps on one day even with 0."""
    return timedelta(days=max(policy.min_gap_days, 1))


def _stopped(status: str) -> Decision:
    decision = _STOPPED.get(status)
    if decision is None:
        decision = _STOPPED.setdefault(status, Decision((), None, stopped=status))
    return decision


def _start(policy: Policy, sent: tuple[tuple[str, date], ...]) -> int:
    """Index of the first step after the last one sent (steps unknown to the policy are ignored)."""
    index = policy.index
    last = index.get(sent[-1][0])
    if last is not None:
        return last + 1
    known = [index[step_id] for step_id, _ in sent if step_id in index]
    return max(known) + 1 if known else 0


def _pause(state: InvoiceState, today: date, policy: Policy) -> Decision | None:
    if state.disputed:
        return _DISPUTE
    if state.manual_pause:
        return _MANUAL
    reason: str | None = None
    end: date | None = None
    if state.promise_until is not None and state.promise_until >= today:
        reason, end = "promise", state.promise_until
    if state.plan_paused_until is not None and state.plan_paused_until >= today \
            and (end is None or state.plan_paused_until > end):
        reason, end = "payment_plan", state.plan_paused_until
    if end is None:
        return None
    return Decision((), policy.business.next_business_day(end + _ONE_DAY), paused=reason)


def evaluate(policy: Policy, state: InvoiceState, ctx: CustomerContext, today: date) -> Decision:
    """What to do today for one invoice, and when to look at it again."""
    if state.status != "open":
        return _stopped(state.status)
    balance = state.balance
    if balance <= 0:
        if state.accessories_due > 0 and policy.penalties_after_principal == "claim" and ctx.kind != "b2c" \
                and all(step_id != "penalty_statement" for step_id, _ in state.sent):
            # One « décompte des pénalités » once the principal is paid (C. civ. 1343-1), then done.
            if not policy.business.is_business_day(today):
                return Decision((), policy.business.next_business_day(today))
            return Decision((DueStep(policy.statement_step, today, None),), None)
        return _PAID
    if ctx.kind in ("b2b", "b2c", "public") and today > last_day(ctx.kind, state.due, state.delivered):
        # Due "today" so that the dispatcher, not a silent index, closes it: stopped with its reason, a task.
        return Decision((), today, stopped="time_barred")
    if balance < policy.min_balance:
        return _BELOW_MIN
    if state.disputed or state.manual_pause or state.promise_until is not None \
            or state.plan_paused_until is not None:
        paused = _pause(state, today, policy)
        if paused is not None:
            return paused

    steps = policy.steps
    count = len(steps)
    dates = offset_dates(policy, state.due)
    business = policy.business
    sent = state.sent
    if sent:
        index = _start(policy, sent)
        floor: date | None = business.next_business_day(sent[-1][1] + _gap(policy))
    else:
        index, floor = 0, None

    while index < count:
        when = dates[index]
        if floor is not None and floor > when:
            when = floor
        if when > today:
            return Decision((), when)
        if not business.is_business_day(today):
            return Decision((), business.next_business_day(today))
        step = steps[index]
        overdue_days = (today - state.due).days
        if (step.at_days < 0 and overdue_days > 0) or (step.when and not step.applies(balance, ctx, overdue_days)):
            # Skipped: a pre-due courtesy step makes no sense once the invoice is overdue (late import,
            # long outage), and a false condition passes the step. Neither blocks the next step nor counts
            # for the gap.
            index += 1
            continue
        partner = None
        if step.action == "escalate":
            partner = step.route_for(ctx, balance, (today - state.due).days)
        due = (DueStep(step, today, partner),)
        following = index + 1
        if following >= count:
            return Decision(due, None)
        after = business.next_business_day(today + _gap(policy))
        return Decision(due, max(after, dates[following]))
    return _FINISHED
