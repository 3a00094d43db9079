"""The policy engine, by hand: dates, gaps, conditions, stops, pauses, catch-up after an outage."""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from relance.policy import CustomerContext, InvoiceState, Policy, evaluate, load_policy
from relance.policy.engine import Decision

ROOT = Path(__file__).resolve().parents[2]
DUE = date(2026, 4, 16)   # a Thursday
CTX = CustomerContext(kind="b2b", case_balance=Decimal("1000.00"), overdue_invoices=1)


@pytest.fixture(scope="module")
def standard() -> Policy:
    return load_policy(ROOT / "policies" / "standard.yaml", check_templates=False)


def state(balance: str = "1000.00", *sent: tuple[str, date], **kw: object) -> InvoiceState:
    return InvoiceState("F1", DUE, Decimal(balance), sent=tuple(sent), **kw)


def due_ids(decision: Decision) -> list[str]:
    return [d.step.id for d in decision.due]


def test_nothing_before_the_first_offset(standard: Policy) -> None:
    decision = evaluate(standard, state(), CTX, date(2026, 4, 1))
    assert decision == Decision((), date(2026, 4, 9))


def test_first_step_on_its_day(standard: Policy) -> None:
    decision = evaluate(standard, state(), CTX, date(2026, 4, 9))
    assert due_ids(decision) == ["courtesy"]
    assert decision.due[0].date == date(2026, 4, 9)
    assert decision.due[0].partner is None
    assert decision.next_action == DUE            # the `due` step's own date is later than the gap


def test_gap_and_offset(standard: Policy) -> None:
    decision = evaluate(standard, state("1000.00", ("courtesy", date(2026, 4, 9))), CTX, DUE)
    assert due_ids(decision) == ["due"]
    assert decision.next_action == date(2026, 4, 23)


def test_holiday_and_weekend_move_the_date(standard: Policy) -> None:
    # firm: due+15d = Friday 1 May (holiday) -> Monday 4 May.
    sent = [("courtesy", date(2026, 4, 9)), ("due", DUE), ("call", date(2026, 4, 23))]
    assert evaluate(standard, state("1000.00", *sent), CTX, date(2026, 4, 24)).next_action == date(2026, 5, 4)
    assert due_ids(evaluate(standard, state("1000.00", *sent), CTX, date(2026, 5, 1))) == []
    assert due_ids(evaluate(standard, state("1000.00", *sent), CTX, date(2026, 5, 4))) == ["firm"]


def test_gap_pushes_the_next_step(standard: Policy) -> None:
    # `call` sent late on 28 April, gap 10 days: `firm` (4 May) waits until 8 May, a holiday -> Monday 11 May.
    gapped = dataclasses.replace(standard, min_gap_days=10)
    sent = [("courtesy", date(2026, 4, 9)), ("due", DUE), ("call", date(2026, 4, 28))]
    decision = evaluate(gapped, state("1000.00", *sent), CTX, date(2026, 5, 4))
    assert decision == Decision((), date(2026, 5, 11))


def test_skipped_step_does_not_block_the_next(standard: Policy) -> None:
    sent = [("courtesy", date(2026, 4, 9)), ("due", DUE), ("call", date(2026, 4, 23)),
            ("firm", date(2026, 5, 4))]
    small = state("40.00", *sent)
    # formal_notice (18 May) needs >= 50.00: skipped; final_notice is on its own date (26 May).
    assert evaluate(standard, small, CTX, date(2026, 5, 18)) == Decision((), date(2026, 5, 26))
    assert due_ids(evaluate(standard, small, CTX, date(2026, 5, 26))) == ["final_notice"]
    # The same day when the next step's date has already come (late run): it goes out at once.
    assert due_ids(evaluate(standard, small, CTX, date(2026, 5, 27))) == ["final_notice"]
    # With enough balance, formal_notice goes out.
    assert due_ids(evaluate(standard, state("50.00", *sent), CTX, date(2026, 5, 18))) == ["formal_notice"]


def test_conditions_are_evaluated_on_the_day_not_before(standard: Policy) -> None:
    sent = [("courtesy", date(2026, 4, 9)), ("due", DUE), ("call", date(2026, 4, 23)),
            ("firm", date(2026, 5, 4))]
    # Before formal_notice's date the next action is its date, whatever the balance.
    assert evaluate(standard, state("40.00", *sent), CTX, date(2026, 5, 5)).next_action == date(2026, 5, 18)


def test_catch_up_after_an_outage_is_one_step_at_a_time(standard: Policy) -> None:
    today = date(2026, 5, 20)
    decision = evaluate(standard, state(), CTX, today)
    # The pre-due courtesy is skipped once overdue (its wording announces a due date still to come).
    assert due_ids(decision) == ["due"]
    assert decision.next_action == date(2026, 5, 26)       # 25 May = Whit Monday
    decision = evaluate(standard, state("1000.00", ("due", today)), CTX, date(2026, 5, 26))
    assert due_ids(decision) == ["call"]


def test_escalation_route(standard: Policy) -> None:
    sent = [(s.id, date(2026, 1, 1)) for s in standard.steps[:-1]]
    today = date(2026, 6, 5)
    small = evaluate(standard, state("1000.00", *sent), CTX, today)
    assert due_ids(small) == ["handoff"]
    assert small.due[0].partner == "commissaire_de_justice"
    assert small.next_action is None                      # last step: nothing more after it
    big_case = dataclasses.replace(CTX, case_balance=Decimal("5000.01"))
    big = evaluate(standard, state("1000.00", *sent), big_case, today)
    assert big.due[0].partner == "collection_agency"
    assert big.due[0].step.approval is True
    assert standard.route_for(CTX, Decimal("1")) == "commissaire_de_justice"


def test_ladder_finished(standard: Policy) -> None:
    sent = [(s.id, date(2026, 1, 1)) for s in standard.steps]
    assert evaluate(standard, state("1000.00", *sent), CTX, date(2026, 7, 1)) == \
        Decision((), None, stopped="ladder_finished")


@pytest.mark.parametrize("status", ["paid", "written_off", "handed_off", "escalation_declined", "cancelled"])
def test_stop_statuses(standard: Policy, status: str) -> None:
    assert evaluate(standard, state(status=status), CTX, DUE) == Decision((), None, stopped=status)


def test_paid_and_below_min_balance(standard: Policy) -> None:
    assert evaluate(standard, state("0.00"), CTX, DUE) == Decision((), None, stopped="paid")
    assert evaluate(standard, state("-5.00"), CTX, DUE) == Decision((), None, stopped="paid")
    assert evaluate(standard, state("9.99"), CTX, DUE) == Decision((), None, stopped="below_min_balance")
    assert due_ids(evaluate(standard, state("10.00"), CTX, DUE)) == ["courtesy"]


def test_pauses(standard: Policy) -> None:
    today = date(2026, 4, 20)
    assert evaluate(standard, state(disputed=True), CTX, today) == Decision((), None, paused="dispute")
    assert evaluate(standard, state(manual_pause=True), CTX, today) == Decision((), None, paused="manual")
    promise = evaluate(standard, state(promise_until=date(2026, 4, 30)), CTX, today)
    assert promise == Decision((), date(2026, 5, 4), paused="promise")   # 1 May holiday, weekend
    assert evaluate(standard, state(promise_until=today), CTX, today).paused == "promise"
    # The day after the promise the ladder resumes.
    resumed = evaluate(standard, state(promise_until=date(2026, 4, 19)), CTX, today)
    assert resumed.paused is None and due_ids(resumed) == ["due"]
    plan = evaluate(standard, state(plan_paused_until=date(2026, 5, 10), promise_until=date(2026, 4, 25)),
                    CTX, today)
    assert plan == Decision((), date(2026, 5, 11), paused="payment_plan")
    # A stop wins over a pause.
    assert evaluate(standard, state(status="paid", disputed=True), CTX, today).stopped == "paid"


def test_nothing_due_on_a_weekend_even_when_late(standard: Policy) -> None:
    saturday = date(2026, 4, 11)
    assert evaluate(standard, state(), CTX, saturday) == Decision((), date(2026, 4, 13))


def test_steps_unknown_to_the_policy_are_ignored(standard: Policy) -> None:
    sent = [("call", date(2026, 4, 23)), ("renamed_step", date(2026, 5, 4))]
    decision = evaluate(standard, state("1000.00", *sent), CTX, date(2026, 5, 11))
    assert due_ids(decision) == ["firm"]             # after `call`, gap counted from the last send


def test_steps_before_the_last_sent_are_passed(standard: Policy) -> None:
    # Imported with `firm` already sent by hand: courtesy/due/call never go out.
    decision = evaluate(standard, state("1000.00", ("firm", date(2026, 5, 4))), CTX, date(2026, 5, 18))
    assert due_ids(decision) == ["formal_notice"]


def test_days_overdue_conditions() -> None:
    from relance.policy import load_policy_text

    policy = load_policy_text(
        "name: t\nsteps:\n"
        "  - {id: courtesy, at: due-7d, channels: [email], when: {days_overdue_lte: -1}}\n"
        "  - {id: late, at: due+1d, channels: [email], when: {days_overdue_gte: 3}}\n",
        "t.yaml", check_templates=False)
    assert due_ids(evaluate(policy, state(), CTX, date(2026, 4, 9))) == ["courtesy"]
    # Imported late: the courtesy is skipped, `late` needs 3 days overdue.
    assert evaluate(policy, state(), CTX, date(2026, 4, 17)) == Decision((), None, stopped="ladder_finished")
    assert due_ids(evaluate(policy, state(), CTX, date(2026, 4, 20))) == ["late"]


def test_speed(standard: Policy) -> None:
    states = [state("1000.00", *[(s.id, date(2026, 4, 9)) for s in standard.steps[:k]]) for k in range(7)]
    days = [date(2026, 4, 1 + k) for k in range(28)]
    n = 0
    start = time.perf_counter()
    for day in days:
        for st in states:
            for _ in range(100):
                evaluate(standard, st, CTX, day)
                n += 1
    rate = n / (time.perf_counter() - start)
    assert rate > 30_000, f"{rate:.0f} evaluations/s"
