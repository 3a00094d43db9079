"""Property tests: a season simulated day by day, each due step fed back as sent.

Whatever happens (outages, payments, disputes, promises, plans, odd policies), the engine never sends two
steps of an invoice on one day, never before a step's offset, never on a weekend or holiday, never closer
than min_gap_days, always in policy order, nothing after a stop, and nothing before the next_action it
announced.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance.policy import CustomerContext, InvoiceState, Policy, evaluate, load_policy, load_policy_text

ROOT = Path(__file__).resolve().parents[2]
STANDARD = load_policy(ROOT / "policies" / "standard.yaml", check_templates=False)
KEY_ACCOUNTS = load_policy(ROOT / "policies" / "key_accounts.yaml", check_templates=False)
DENSE = load_policy_text(
    "name: dense\nmin_gap_days: 0\ncalendar: {country: FR, subdivision: '57'}\nsteps:\n"
    "  - {id: a, at: due-3d, channels: [email]}\n"
    "  - {id: b, at: due-3d, channels: [sms], when: {balance_gte: '100.00'}}\n"
    "  - {id: c, at: due+0d, channels: [email], when: {customer_kind: b2c}}\n"
    "  - {id: d, at: due+1d, channels: [task]}\n"
    "  - {id: e, at: due+2d, action: escalate, approval: none, route: [{partner: collection_agency}]}\n",
    "dense.yaml", check_templates=False)

EVENT_KINDS = ("outage", "pay_part", "pay_all", "dispute", "resolve", "promise", "plan", "pause", "unpause",
               "write_off")


@st.composite
def seasons(draw: st.DrawFn) -> tuple[Policy, InvoiceState, CustomerContext, date, int, dict[int, str]]:
    base = draw(st.sampled_from([STANDARD, KEY_ACCOUNTS, DENSE]))
    policy = dataclasses.replace(base, min_gap_days=draw(st.integers(0, 12)))
    due = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
    cents = draw(st.integers(1, 2_000_000))
    balance = Decimal(cents) / 100
    ctx = CustomerContext(kind=draw(st.sampled_from(["b2b", "b2c", "public"])),
                          segment=draw(st.sampled_from([None, "strategic"])),
                          case_balance=balance * draw(st.integers(1, 5)), overdue_invoices=1)
    start = due + timedelta(days=draw(st.integers(-20, 60)))     # late imports start after the due date
    days = draw(st.integers(30, 160))
    events = draw(st.dictionaries(st.integers(0, days), st.sampled_from(EVENT_KINDS), max_size=12))
    return policy, InvoiceState("F1", due, balance), ctx, start, days, events


def _apply(state: InvoiceState, event: str, today: date) -> InvoiceState:
    replace = dataclasses.replace
    if event == "pay_part":
        return replace(state, balance=(state.balance / 2).quantize(Decimal("0.01")))
    if event == "pay_all":
        return replace(state, balance=Decimal("0.00"), status="paid")
    if event == "write_off":
        return replace(state, status="written_off")
    if event == "dispute":
        return replace(state, disputed=True)
    if event == "resolve":
        return replace(state, disputed=False)
    if event == "promise":
        return replace(state, promise_until=today + timedelta(days=10))
    if event == "plan":
        return replace(state, plan_paused_until=today + timedelta(days=30))
    if event == "pause":
        return replace(state, manual_pause=True)
    if event == "unpause":
        return replace(state, manual_pause=False)
    return state


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seasons())
def test_season_invariants(season: tuple[Policy, InvoiceState, CustomerContext, date, int, dict[int, str]]
                           ) -> None:
    policy, state, ctx, start, days, events = season
    business = policy.business
    stopped_on: date | None = None
    quiet_until: date | None = None     # the engine said nothing happens before this date
    for offset in range(days + 1):
        today = start + timedelta(days=offset)
        event = events.get(offset)
        if event == "outage":
            continue
        if event is not None:
            state = _apply(state, event, today)
            quiet_until = None
            if state.status != "open" and stopped_on is None:
                stopped_on = today
        decision = evaluate(policy, state, ctx, today)
        assert len(decision.due) <= 1
        if quiet_until is not None and today < quiet_until:
            assert not decision.due, f"{decision.due[0].step.id} on {today}, announced {quiet_until}"
        if decision.stopped or decision.paused:
            assert not decision.due
        if stopped_on is not None:
            assert not decision.due and decision.next_action is None
        for due_step in decision.due:
            assert due_step.date == today
            state = dataclasses.replace(state, sent=(*state.sent, (due_step.step.id, today)))
            if due_step.step.action == "escalate":
                assert due_step.partner is not None
            again = evaluate(policy, state, ctx, today)      # the day's run arrives twice
            assert not again.due and again.next_action == decision.next_action
        if decision.next_action is not None:
            assert decision.next_action > today
            assert business.is_business_day(decision.next_action)
        quiet_until = decision.next_action if decision.next_action is not None else date.max

    sent = state.sent
    dates = [d for _, d in sent]
    indexes = [policy.index[step_id] for step_id, _ in sent]
    assert len(set(dates)) == len(dates), "two steps on one day"
    assert indexes == sorted(set(indexes)), "steps out of policy order or repeated"
    for (step_id, day), previous in zip(sent, [None, *dates][:len(dates)], strict=True):
        step = policy.step(step_id)
        assert day >= state.due + timedelta(days=step.at_days), f"{step_id} before its offset"
        assert business.is_business_day(day), f"{step_id} on {day}, not a business day"
        if previous is not None:
            assert (day - previous).days >= policy.min_gap_days, f"{step_id} too close to the previous step"


@settings(max_examples=100, deadline=None)
@given(due=st.dates(date(2024, 1, 1), date(2028, 12, 31)), amount=st.integers(1, 10_000_000))
def test_an_unpaid_invoice_climbs_the_whole_ladder_in_order(due: date, amount: int) -> None:
    """Nothing ever happens: every step whose condition holds goes out, once, in order."""
    balance = Decimal(amount) / 100
    ctx = CustomerContext(kind="b2b", case_balance=balance, overdue_invoices=1)
    state = InvoiceState("F1", due, balance)
    today = due - timedelta(days=10)
    while today < due + timedelta(days=120):
        for due_step in evaluate(STANDARD, state, ctx, today).due:
            state = dataclasses.replace(state, sent=(*state.sent, (due_step.step.id, today)))
        today += timedelta(days=1)
    ids = [step_id for step_id, _ in state.sent]
    if balance < STANDARD.min_balance:
        assert ids == []
    elif balance < Decimal("50.00"):
        assert ids == ["courtesy", "due", "call", "firm", "final_notice", "handoff"]
    else:
        assert ids == ["courtesy", "due", "call", "firm", "formal_notice", "final_notice", "handoff"]
