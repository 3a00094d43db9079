"""relance.law.limitation: when the action for payment is time-barred."""

from __future__ import annotations

from datetime import date

import pytest

from relance.errors import RelanceError
from relance.law import limitation_date
from relance.law.limitation import add_years, days_left, is_time_barred


def test_case_11_b2c_two_years_from_completion() -> None:
    when, basis = limitation_date("b2c", date(2026, 1, 15), delivered=date(2025, 12, 20))
    assert when == date(2027, 12, 20)
    assert "L218-2" in basis


def test_b2c_without_delivery_falls_back_to_due_and_says_so() -> None:
    result = limitation_date("b2c", date(2026, 1, 15))
    assert result.date == date(2028, 1, 15)
    assert "no delivery" in result.basis


def test_b2b_five_years_from_due() -> None:
    result = limitation_date("b2b", date(2026, 2, 14))
    assert result.date == date(2031, 2, 14)
    assert "L110-4" in result.basis


def test_public_quadrennial_from_1_january_after_the_year_the_right_arose() -> None:
    # loi 68-1250 art. 1: four years from 1 January 2027 for a right that arose in 2026
    result = limitation_date("public", date(2026, 2, 14))
    assert result.date == date(2030, 12, 31)
    assert "68-1250" in result.basis and "1 January 2027" in result.basis
    # a service done in December 2025, invoice due in January 2026: the right arose in 2025
    assert limitation_date("public", date(2026, 1, 20), delivered=date(2025, 12, 15)).date == date(2029, 12, 31)
    # the last day of the period is still open; the next day is barred
    assert not is_time_barred("public", date(2021, 6, 30), date(2025, 12, 31))
    assert is_time_barred("public", date(2021, 6, 30), date(2026, 1, 1))


def test_29_february() -> None:
    assert add_years(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert limitation_date("b2c", date(2024, 3, 1), delivered=date(2024, 2, 29)).date == date(2026, 2, 28)


def test_unknown_kind() -> None:
    with pytest.raises(RelanceError, match="unknown kind"):
        limitation_date("b2g", date(2026, 1, 1))


def test_issue_15_consumer_debt_barred_in_may_2026() -> None:
    # service completed 12 May 2024, invoice due 11 June 2024: barred after 12 May 2026 (L218-2)
    assert not is_time_barred("b2c", date(2024, 6, 11), date(2026, 5, 12), delivered=date(2024, 5, 12))
    assert is_time_barred("b2c", date(2024, 6, 11), date(2026, 5, 13), delivered=date(2024, 5, 12))
    assert is_time_barred("b2c", date(2024, 6, 11), date(2026, 10, 1), delivered=date(2024, 5, 12))
    # the same invoice to a business is still within its five years
    assert not is_time_barred("b2b", date(2024, 6, 11), date(2026, 10, 1))


def test_2021_business_debt_still_within_five_years_in_december_2026() -> None:
    assert not is_time_barred("b2b", date(2021, 12, 31), date(2026, 12, 4))
    assert is_time_barred("b2b", date(2021, 12, 3), date(2026, 12, 4))
    assert days_left("b2b", date(2021, 12, 31), date(2026, 12, 4)) == 27


# --- the engine stops a time-barred invoice before any send (issue 15) ---------------------------------
def _standard():  # type: ignore[no-untyped-def]
    from pathlib import Path

    from relance.policy import load_policy

    return load_policy(Path(__file__).resolve().parents[2] / "policies" / "standard.yaml")


def test_engine_sends_nothing_on_a_time_barred_consumer_debt() -> None:
    from decimal import Decimal

    from relance.policy import CustomerContext, InvoiceState, evaluate

    policy = _standard()
    barred = InvoiceState("F1", date(2024, 6, 11), Decimal("800.00"), sent=(("courtesy", date(2024, 6, 4)),),
                          delivered=date(2024, 5, 12))
    consumer = CustomerContext(kind="b2c")
    decision = evaluate(policy, barred, consumer, date(2026, 10, 5))
    assert decision.due == () and decision.stopped == "time_barred" and decision.next_action == date(2026, 10, 5)
    # the day before the limit passes the ladder still runs
    assert evaluate(policy, barred, consumer, date(2026, 5, 12)).stopped is None
    # a business debtor on the same dates is within its five years
    assert evaluate(policy, barred, CustomerContext(kind="b2b"), date(2026, 10, 5)).stopped is None


def test_engine_public_buyer_quadrennial() -> None:
    from decimal import Decimal

    from relance.policy import CustomerContext, InvoiceState, evaluate

    invoice = InvoiceState("P1", date(2021, 3, 31), Decimal("5000.00"))
    public = CustomerContext(kind="public")
    assert evaluate(_standard(), invoice, public, date(2026, 1, 5)).stopped == "time_barred"
    assert evaluate(_standard(), invoice, CustomerContext(kind="b2b"), date(2026, 1, 5)).stopped is None


def test_near_warnings_for_the_approval_email_and_the_case_file() -> None:
    from relance.law.limitation import near_warnings

    on = date(2026, 10, 20)
    warnings = near_warnings("b2c", [("F1", date(2025, 1, 15), date(2024, 12, 10)),   # limit 10/12/2026: 51 days
                                     ("F2", date(2025, 6, 30), None),                  # limit 30/06/2027: far
                                     ("F3", date(2024, 9, 1), date(2024, 8, 1))], on)   # barred since 02/08/2026
    assert len(warnings) == 2
    assert warnings[0].startswith("Facture F1") and "10/12/2026" in warnings[0] and "51 jours" in warnings[0]
    assert warnings[1].startswith("Facture F3") and "dernier jour pour agir était le 01/08/2026" in warnings[1]
    assert near_warnings("b2b", [("F4", date(2021, 12, 1), None)], date(2026, 10, 2)) == [
        "Facture F4 : prescription acquise après le 01/12/2026 (dans 60 jours) ; seule une demande en justice "
        "l'interrompt, pas une lettre."]


def test_engine_offers_one_penalty_statement_when_the_policy_claims() -> None:
    from dataclasses import replace
    from decimal import Decimal

    from relance.policy import CustomerContext, InvoiceState, evaluate

    policy = _standard()                                  # penalties_after_principal: claim
    paid = InvoiceState("F1", date(2026, 2, 14), Decimal("0"), sent=(("firm", date(2026, 3, 2)),),
                        accessories_due=Decimal("161.83"))
    business = CustomerContext(kind="b2b")
    decision = evaluate(policy, paid, business, date(2026, 4, 16))           # a Thursday
    assert [d.step.id for d in decision.due] == ["penalty_statement"] and decision.next_action is None
    assert decision.due[0].step.template == "penalty_statement"
    assert evaluate(policy, paid, business, date(2026, 4, 18)).due == ()    # Saturday: waits for Monday
    sent = replace(paid, sent=(*paid.sent, ("penalty_statement", date(2026, 4, 16))))
    assert evaluate(policy, sent, business, date(2026, 4, 20)).stopped == "paid"   # only once
    assert evaluate(policy, paid, CustomerContext(kind="b2c"), date(2026, 4, 16)).stopped == "paid"
    assert [d.step.id for d in evaluate(policy, paid, CustomerContext(kind="public"), date(2026, 4, 16)).due] == [
        "penalty_statement"]
    from pathlib import Path

    from relance.policy import load_policy

    gentle = load_policy(Path(__file__).resolve().parents[2] / "policies" / "key_accounts.yaml")   # waive
    assert evaluate(gentle, paid, business, date(2026, 4, 16)).stopped == "paid"
    nothing = replace(paid, accessories_due=Decimal("0"))
    assert evaluate(policy, nothing, business, date(2026, 4, 16)).stopped == "paid"
