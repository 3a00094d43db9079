"""The debtor's page season (events/scenarios/debtor.yaml): answers given by following the link of the
latest email, through the real DebtorPageFunction."""

from __future__ import annotations

from collections.abc import Callable

from season_checks import check_all, reminders

from relance_dev.simulate.runner import SeasonResult

Season = Callable[[str], SeasonResult]


def _replies(result: SeasonResult) -> dict[str, dict[str, object]]:
    return {e["customer"]: e for e in result.lines if e["kind"] == "debtor_reply"}


def _sends(result: SeasonResult, customer: str) -> list[tuple[str, str]]:
    return [(e["date"], e["step"]) for e in reminders(result.lines)
            if e["customer"] == customer and e["channel"] == "email"]


def _tasks(result: SeasonResult) -> list[tuple[str, str]]:
    return [(e["date"], e["customer"]) for e in result.lines
            if e["kind"] == "sent" and e.get("step") == "debtor_reply" and e["channel"] == "task"]


def test_every_answer_is_logged_with_its_invoices(season: Season) -> None:
    result = season("debtor")
    check_all(result.lines, result.scenario.policy)
    assert not result.refused
    replies = _replies(result)
    assert {c: (e["date"], e["answer"], e["invoices"]) for c, e in replies.items()} == {
        "C1": ("2026-04-30", "paid", ["F-2026-041"]),
        "C2": ("2026-04-24", "promise", ["F-2026-042"]),
        "C3": ("2026-04-24", "dispute", ["F-2026-043", "F-2026-044"]),
        "C4": ("2026-04-24", "promise", ["F-2026-045"]),
        "C5": ("2026-04-30", "paid", ["F-2026-046"]),
    }


def test_already_paid_holds_the_ladder_for_the_pause_then_it_resumes(season: Season) -> None:
    result = season("debtor")
    pause = result.scenario.policy.paid_pause_days
    assert pause == 7
    sends = _sends(result, "C1")
    # the firm reminder was due on 4 May: nothing from 30 April through 7 May, then it goes out on the
    # next business day (8 May is a public holiday): the bank never showed a payment.
    assert not [d for d, _ in sends if "2026-04-30" <= d <= "2026-05-07"]
    assert ("2026-05-11", "firm") in sends
    paused = [e for e in result.lines if e["kind"] == "paused" and e["customer"] == "C1"]
    assert len(paused) == 1 and "until 2026-05-07" in paused[0]["reason"]
    assert ("2026-04-30", "C1") in _tasks(result)
    # the history says when the ladder took up again, once, with the reminder that went out that day
    resumed = [(e["date"], e["reason"]) for e in result.lines if e["kind"] == "resumed" and e["customer"] == "C1"]
    assert resumed == [("2026-05-11", "pause until 2026-05-07 ended with no payment")]


def test_already_paid_then_the_transfer_arrives_stops_the_ladder(season: Season) -> None:
    result = season("debtor")
    assert ("2026-04-30", "C5") in _tasks(result)
    assert not [d for d, _ in _sends(result, "C5") if d >= "2026-04-30"]
    assert result.invoices["F-2026-046"].status == "paid"
    task = next(e for e in result.lines if e["kind"] == "sent" and e.get("step") == "debtor_reply"
                and e["customer"] == "C5")
    assert task["subject"].startswith("Customer answer")       # an English customer's page and task


def test_a_promise_holds_the_ladder_until_the_date_given(season: Season) -> None:
    result = season("debtor")
    sends = _sends(result, "C2")
    assert not [d for d, _ in sends if "2026-04-24" <= d <= "2026-05-12"]
    assert ("2026-05-13", "firm") in sends
    assert ("2026-04-24", "C2") not in _tasks(result)          # within the limit: no work for the team
    assert [e["date"] for e in result.lines if e["kind"] == "resumed" and e["customer"] == "C2"] == ["2026-05-13"]


def test_a_dispute_holds_the_ladder_and_tells_the_team(season: Season) -> None:
    result = season("debtor")
    assert not [d for d, _ in _sends(result, "C3") if d >= "2026-04-24"]
    assert ("2026-04-24", "C3") in _tasks(result)
    paused = [e for e in result.lines if e["kind"] == "paused" and e["customer"] == "C3"]
    assert paused and "Livraison incomplète" in paused[0]["reason"]


def test_a_promise_beyond_the_limit_is_a_request_and_the_ladder_goes_on(season: Season) -> None:
    result = season("debtor")
    assert ("2026-04-24", "C4") in _tasks(result)
    assert ("2026-05-04", "firm") in _sends(result, "C4")
    assert not [e for e in result.lines if e["kind"] == "paused" and e["customer"] == "C4"]
