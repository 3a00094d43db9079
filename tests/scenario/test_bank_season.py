"""The bank season (events/scenarios/bank.yaml): a camt.053 statement dropped twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from season_checks import check_all, customer_sends, reminders

from relance_dev.simulate.runner import SeasonResult, run_season
from relance_dev.simulate.scenario import parse_scenario

Season = Callable[[str], SeasonResult]
REPO = Path(__file__).resolve().parents[2]
PAID_IN_FULL = {"F-2026-031", "F-2026-033", "F-2026-034", "F-2026-036"}


def test_statement_dropped_twice_books_each_payment_once(season: Season) -> None:
    result = season("bank")
    check_all(result.lines, result.scenario.policy)
    payments = sorted((e["date"], e["invoices"][0], e["amount"], e["source"]) for e in result.lines
                      if e["kind"] == "payment")
    assert payments == [("2026-05-04", "F-2026-031", "1800.00", "bank"),     # full, reference in the text
                        ("2026-05-04", "F-2026-032", "1000.00", "bank"),     # partial
                        ("2026-05-04", "F-2026-033", "600.00", "bank"),      # one transfer for two invoices
                        ("2026-05-04", "F-2026-034", "850.50", "bank"),
                        ("2026-05-04", "F-2026-036", "990.00", "bank")]      # RF creditor reference
    assert all(len(e["invoices"]) == 1 and e["reason"] for e in result.lines if e["kind"] == "payment")
    facts = result.invoices
    assert {i for i in PAID_IN_FULL if facts[i].status == "paid"} == PAID_IN_FULL
    assert facts["F-2026-032"].balance == 1400 and facts["F-2026-032"].status == "open"


def test_nothing_more_is_sent_to_those_who_paid(season: Season) -> None:
    result = season("bank")
    stopped = {i for e in result.lines if e["kind"] == "stopped" and e["reason"].startswith("paid")
               for i in e["invoices"]}
    assert stopped == PAID_IN_FULL
    # no reminder after the payment (a late payer gets at most the one statement of the 40 € and interest)
    late = [e for e in reminders(result.lines) if e["date"] >= "2026-05-04" and set(e["invoices"]) & stopped]
    assert late == []
    assert [e for e in customer_sends(result.lines) if e["date"] > "2026-05-04" and "F-2026-032" in e["invoices"]]
    assert [e for e in customer_sends(result.lines) if e["date"] > "2026-05-04" and "F-2026-035" in e["invoices"]]


def test_the_unknown_transfer_goes_to_the_team_once_unbooked(season: Season) -> None:
    result = season("bank")
    (unmatched,) = [e for e in result.lines if e["kind"] == "payment_unmatched"]
    assert unmatched["amount"] == "777.00" and unmatched["date"] == "2026-05-04"
    assert "payeur inconnu" in unmatched["reason"]
    tasks = [e for e in result.lines if e["kind"] == "sent" and e.get("step") == "bank_unmatched"]
    assert [(e["date"], e["channel"]) for e in tasks] == [("2026-05-04", "task")]
    assert not [e for e in result.lines if e["kind"] == "payment" and e["amount"] == "777.00"]
    assert dt.date(2026, 5, 5) in result.scenario.days and not result.refused


@pytest.mark.parametrize("statement", ["releve.ofx", "releve.txt"])
def test_ofx_and_cfonb_statements_give_the_same_payments(season: Season, statement: str,
                                                         tmp_path: Path) -> None:
    text = (REPO / "events" / "scenarios" / "bank.yaml").read_text(encoding="utf-8")
    scenario = parse_scenario(text.replace("releve.xml", statement), "bank.yaml", REPO)
    other = run_season(scenario, tmp_path)

    def booked(result: SeasonResult) -> list[tuple[str, ...]]:
        return sorted((e["date"], e["kind"], *e["invoices"], e.get("amount", "")) for e in result.lines
                      if e["kind"] in ("payment", "payment_unmatched", "stopped"))

    assert booked(other) == booked(season("bank"))
