"""relance.law.penalties through the Python API: the worked cases of legal-fr.md and the rules K1-K11."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from relance.errors import RateMissingError, RelanceError
from relance.law import INDEMNITY, PenaltyStatement, compute
from relance.law.penalties import format_rate


def periods(st: PenaltyStatement) -> list[tuple[Any, ...]]:
    return [(p["from"], p["to"], p["days"], p["annual_rate"], p["interest"])
            for p in st.periods]


# --- Worked cases (legal-fr.md, "Cas publics de calcul") ---------------------------------------------------

def test_case_1_b2b_one_semester() -> None:
    st = compute(D("6000.00"), date(2026, 2, 14), date(2026, 4, 16))
    assert st.days_late == 61
    assert st.interest == D("121.83")
    assert st.indemnity == D("40.00")
    assert st.total == D("6161.83")            # arrêté au 16/04/2026 avant paiement
    assert periods(st) == [("2026-02-15", "2026-04-16", 61, "0.1215", "121.83")]
    # errors to detect: base 360 -> 123.53, base HT -> 101.53
    assert st.interest not in (D("123.53"), D("101.53"))


def test_case_1_after_payment_of_the_principal() -> None:
    st = compute(D("6000.00"), date(2026, 2, 14), date(2026, 4, 16),
                 payments=[(date(2026, 4, 16), D("6000"))])
    assert st.interest == D("121.83")
    assert st.total == D("161.83")             # reste dû après paiement du principal
    assert st.paid == D("6000.00")


def test_case_2_straddles_s1_s2_2025() -> None:
    st = compute(D("14400.00"), date(2025, 6, 14), date(2025, 9, 15))
    assert periods(st) == [("2025-06-15", "2025-06-30", 16, "0.1315", "83.01"),
                           ("2025-07-01", "2025-09-15", 77, "0.1215", "369.09")]
    assert st.periods[0].exact.quantize(D("0.0001")) == D("83.0071")
    assert st.periods[1].exact.quantize(D("0.0001")) == D("369.0937")
    assert st.interest == D("452.10")
    assert st.interest + st.indemnity == D("492.10")
    assert st.days_late == 93
    # errors to detect: a single rate over the 93 days
    assert st.interest not in (D("482.48"), D("445.79"))


def test_case_5_contractual_fixed_rate() -> None:
    st = compute(D("1200.00"), date(2026, 2, 9), date(2026, 3, 20), rate=D("0.15"))
    assert st.days_late == 39
    assert st.interest == D("19.23")
    assert st.interest + st.indemnity == D("59.23")
    assert periods(st) == [("2026-02-10", "2026-03-20", 39, "0.1500", "19.23")]
    assert st.warnings == []                   # 15 % >= 7,86 %: the clause is lawful


def test_case_7a_partial_payments_accessories_first() -> None:
    st = compute(D("12000.00"), date(2026, 3, 1), date(2026, 4, 30),
                 payments=[(date(2026, 3, 31), D("4000.00")), (date(2026, 4, 30), D("8000.00"))])
    assert periods(st) == [("2026-03-02", "2026-03-31", 30, "0.1215", "119.84"),
                           ("2026-04-01", "2026-04-30", 30, "0.1215", "81.49")]
    assert st.periods[1].base == D("8159.84")
    assert st.interest == D("201.33")
    assert st.indemnity == D("40.00")
    assert st.paid == D("12000.00")
    assert st.remaining_principal == D("241.33")
    assert st.total == D("241.33")
    # errors to detect: 12 000 over 60 days, a second 40 €, variants (a') and (b)
    assert st.interest != D("239.67")
    assert st.total not in (D("281.33"), D("240.93"), D("239.73"))


def test_case_7a_payments_in_any_order() -> None:
    st = compute(D("12000.00"), date(2026, 3, 1), date(2026, 4, 30),
                 payments=[(date(2026, 4, 30), D("8000.00")), (date(2026, 3, 31), D("4000.00"))])
    assert st.total == D("241.33")


def test_case_7a_principal_keeps_bearing_interest_after_the_last_payment() -> None:
    st = compute(D("12000.00"), date(2026, 3, 1), date(2026, 5, 31),
                 payments=[(date(2026, 3, 31), D("4000.00")), (date(2026, 4, 30), D("8000.00"))])
    # 241.33 × 12,15 % × 31 / 365 = 2.4904...
    assert periods(st)[-1] == ("2026-05-01", "2026-05-31", 31, "0.1215", "2.49")
    assert st.interest == D("203.82")
    assert st.total == D("243.82")


def test_case_8_leap_year_and_semester_switch() -> None:
    st = compute(D("4800.00"), date(2024, 11, 30), date(2025, 1, 31))
    assert periods(st) == [("2024-12-01", "2024-12-31", 31, "0.1425", "58.09"),
                           ("2025-01-01", "2025-01-31", 31, "0.1315", "53.61")]
    assert st.interest == D("111.70")
    assert st.interest + st.indemnity == D("151.70")
    # exact/exact (366) variant is not the convention (K3)
    assert st.interest != D("111.54")
    assert st.interest + st.indemnity != D("151.54")


def test_case_8_default_rate_below_the_contractual_floor_is_no_warning() -> None:
    # S2 2024: 3 × 4,92 = 14,76 % > 14,25 %; without a clause the default still applies (legal-fr.md 1.3)
    st = compute(D("4800.00"), date(2024, 11, 30), date(2025, 1, 31))
    assert st.warnings == []


def test_case_11_b2c_from_the_formal_notice() -> None:
    st = compute(D("1500.00"), date(2026, 1, 15), date(2026, 6, 30), kind="b2c", notice=date(2026, 3, 2))
    assert periods(st) == [("2026-03-03", "2026-06-30", 120, "0.0262", "12.92")]
    assert st.interest == D("12.92")
    assert st.indemnity == D("0.00")
    assert st.total == D("1512.92")
    # errors to detect: the « particuliers » rate, L441-10 applied to a consumer, the reception variant
    assert st.interest not in (D("32.89"), D("82.89"), D("12.71"))
    assert st.total not in (D("1622.89"), D("1582.89"), D("1512.71"))


# --- B2B rules ---------------------------------------------------------------------------------------------

def test_each_day_carries_its_own_semester_rate_over_three_semesters() -> None:
    st = compute(D("1000.00"), date(2024, 12, 31), date(2025, 12, 31))
    assert [(p["from"], p["annual_rate"]) for p in st.periods] == [
        ("2025-01-01", "0.1315"), ("2025-07-01", "0.1215")]
    st = compute(D("1000.00"), date(2024, 1, 1), date(2026, 6, 30))
    assert [p["annual_rate"] for p in st.periods] == ["0.1450", "0.1425", "0.1315", "0.1215", "0.1215"]
    assert sum(p.days for p in st.periods) == st.days_late


def test_one_rounding_per_invoice() -> None:
    st = compute(D("14400.00"), date(2025, 6, 14), date(2025, 9, 15))
    exact = sum((p.exact for p in st.periods), D(0))
    assert st.interest == exact.quantize(D("0.01"))


def test_legal_x3_clause() -> None:
    st = compute(D("10000.00"), date(2025, 6, 30), date(2026, 1, 31), rate="legal-x3")
    assert [p["annual_rate"] for p in st.periods] == ["0.0828", "0.0786"]
    expected = (D("10000") * D("0.0828") * 184 + D("10000") * D("0.0786") * 31) / 365
    assert st.interest == expected.quantize(D("0.01"))
    assert st.warnings == []


def test_contract_rate_below_the_floor_warns_and_still_applies() -> None:
    st = compute(D("6000.00"), date(2026, 2, 14), date(2026, 4, 16), rate=D("0.05"))
    assert len(st.warnings) == 1
    assert st.warnings[0].startswith("clause illicite (L441-10)")
    assert "2026-S1" in st.warnings[0] and "7.86 %" in st.warnings[0]
    assert periods(st)[0][3] == "0.0500"
    assert st.interest == (D("6000") * D("0.05") * 61 / 365).quantize(D("0.01"))


def test_contract_rate_floor_checked_per_semester() -> None:
    # 10 % is below 3 × TIL in 2024-S2 (14,76 %) and 2025-S1 (11,13 %), not in 2025-S2 (8,28 %)
    st = compute(D("1000.00"), date(2024, 11, 30), date(2025, 8, 31), rate=D("0.10"))
    assert len(st.warnings) == 2
    assert "2024-S2" in st.warnings[0] and "2025-S1" in st.warnings[1]


def test_contract_rate_in_a_semester_without_legal_rate_warns_but_computes() -> None:
    st = compute(D("1000.00"), date(2026, 6, 1), date(2026, 7, 31), rate=D("0.15"))
    assert st.interest == (D("1000") * D("0.15") * 60 / 365).quantize(D("0.01"))
    assert any("2026-S2" in w and "cannot check" in w for w in st.warnings)


def test_indemnity_once_per_invoice_even_with_several_payments() -> None:
    st = compute(D("3000.00"), date(2026, 1, 31), date(2026, 5, 31),
                 payments=[(date(2026, 2, 28), D("1000")), (date(2026, 3, 31), D("1000")),
                           (date(2026, 4, 30), D("500"))])
    assert st.indemnity == INDEMNITY == D("40.00")
    assert st.total == st.principal + st.interest + st.indemnity - st.paid


def test_payment_smaller_than_accrued_interest_leaves_the_principal_untouched() -> None:
    st = compute(D("12000.00"), date(2026, 3, 1), date(2026, 4, 30), payments=[(date(2026, 3, 31), D("100"))])
    # 100 < 119.84: all to the interest, nothing to the principal; interest is never capitalised (K1)
    assert st.remaining_principal == D("12000.00")
    assert st.periods[-1].base == D("12000.00")
    assert st.total == D("12000.00") + st.interest + D("40.00") - D("100.00")


# --- B2C ---------------------------------------------------------------------------------------------------

def test_b2c_without_notice_has_no_interest_and_says_so() -> None:
    st = compute(D("1500.00"), date(2026, 1, 15), date(2026, 6, 30), kind="b2c")
    assert st.interest == D("0.00") and st.indemnity == D("0.00")
    assert st.total == D("1500.00")
    assert st.periods == []
    assert any("formal notice" in n and "1231-6" in n for n in st.notes)


def test_b2c_notice_after_the_statement_date() -> None:
    st = compute(D("1500.00"), date(2026, 1, 15), date(2026, 3, 1), kind="b2c", notice=date(2026, 3, 2))
    assert st.interest == D("0.00")


def test_b2c_notice_before_the_due_date_puts_nobody_in_default() -> None:
    st = compute(D("1500.00"), date(2026, 1, 15), date(2026, 3, 1), kind="b2c", notice=date(2026, 1, 10))
    assert st.interest == D("0.00")
    assert any("predates the due date" in n for n in st.notes)


def test_b2c_never_gets_the_40_euros() -> None:
    st = compute(D("500.00"), date(2025, 1, 15), date(2026, 6, 30), kind="b2c", notice=date(2025, 2, 1),
                 payments=[(date(2025, 3, 1), D("100"))])
    assert st.indemnity == D("0.00")
    assert st.total == st.principal + st.interest - st.paid


def test_contract_rate_refused_for_b2c_and_public() -> None:
    for kind in ("b2c", "public"):
        with pytest.raises(RelanceError, match="b2b invoices only"):
            compute(D("1000.00"), date(2026, 1, 15), date(2026, 3, 1), kind=kind, rate=D("0.15"))


# --- Public buyers (R2192-31 CCP) --------------------------------------------------------------------------

def test_public_buyer_rate_frozen_at_the_semester_interest_started() -> None:
    st = compute(D("10000.00"), date(2024, 5, 31), date(2025, 8, 31), kind="public")
    # interest started in 2024-S1: MRO on 1/1/2024 = 4,50 % + 8 = 12,50 %, for every semester after
    assert {p["annual_rate"] for p in st.periods} == {"0.1250"}
    assert len(st.periods) == 4
    assert st.indemnity == D("40.00")
    days = (date(2025, 8, 31) - date(2024, 5, 31)).days
    assert st.interest == (D("10000") * D("0.125") * days / 365).quantize(D("0.01"))


def test_public_buyer_due_on_30_june_starts_in_s2() -> None:
    st = compute(D("10000.00"), date(2024, 6, 30), date(2024, 8, 31), kind="public")
    assert st.periods[0]["annual_rate"] == "0.1225"      # 4,25 % on 1/7/2024 + 8


def test_public_buyer_notice_ignored() -> None:
    st = compute(D("1000.00"), date(2026, 1, 31), date(2026, 3, 31), kind="public", notice=date(2026, 3, 1))
    assert st.periods[0]["from"] == "2026-02-01"
    assert any("ignored" in n for n in st.notes)


# --- Dates around the due date -----------------------------------------------------------------------------

@pytest.mark.parametrize("on", [date(2026, 2, 14), date(2026, 2, 1), date(2025, 12, 1)])
def test_nothing_before_or_on_the_due_date(on: date) -> None:
    st = compute(D("6000.00"), date(2026, 2, 14), on)
    assert st.days_late == 0
    assert st.interest == D("0.00") and st.indemnity == D("0.00")
    assert st.total == D("6000.00")
    assert st.periods == []


def test_nothing_before_due_with_partial_payment() -> None:
    st = compute(D("6000.00"), date(2026, 2, 14), date(2026, 2, 14), payments=[(date(2026, 2, 1), D("1000"))])
    assert st.total == D("5000.00") and st.remaining_principal == D("5000.00")


def test_first_day_late_counts_one_day_and_the_40_euros() -> None:
    st = compute(D("3650.00"), date(2026, 2, 14), date(2026, 2, 15))
    assert st.days_late == 1
    assert periods(st) == [("2026-02-15", "2026-02-15", 1, "0.1215", "1.22")]
    assert st.indemnity == D("40.00")


def test_payment_before_due_reduces_the_base_without_interest() -> None:
    st = compute(D("6000.00"), date(2026, 2, 14), date(2026, 4, 16), payments=[(date(2026, 2, 1), D("1000"))])
    assert st.periods[0].base == D("5000.00")
    assert st.interest == (D("5000") * D("0.1215") * 61 / 365).quantize(D("0.01"))
    assert st.indemnity == D("40.00")


def test_paid_in_full_by_the_due_date_is_not_late() -> None:
    st = compute(D("6000.00"), date(2026, 2, 14), date(2026, 4, 16),
                 payments=[(date(2026, 2, 14), D("6000"))])
    assert st.interest == D("0.00") and st.indemnity == D("0.00") and st.total == D("0.00")
    assert st.days_late == 61


def test_overpayment_total_zero_with_a_note() -> None:
    st = compute(D("1000.00"), date(2026, 2, 14), date(2026, 4, 16), payments=[(date(2026, 3, 1), D("2000"))])
    assert st.total == D("0.00")
    assert st.remaining_principal == D("0.00")
    assert any("overpaid" in n for n in st.notes)
    # once the principal is paid nothing accrues any more
    assert st.periods[-1]["to"] == "2026-03-01"


def test_interest_stops_when_everything_is_paid() -> None:
    # 28 days on 1000 at 12,15 % = 9.32; + 40 €: 1049.32 settles the invoice on 28/02
    st = compute(D("1000.00"), date(2026, 1, 31), date(2026, 6, 30),
                 payments=[(date(2026, 2, 28), D("1049.32"))])
    assert st.periods[-1]["to"] == "2026-02-28"
    assert st.interest == D("9.32") and st.total == D("0.00")
    assert not any("overpaid" in n for n in st.notes)


def test_paying_the_principal_amount_leaves_principal_due() -> None:
    # 1000 paid on 28/02 goes to 9.32 of interest and 40 € first: 49.32 of principal still bears interest
    st = compute(D("1000.00"), date(2026, 1, 31), date(2026, 3, 31),
                 payments=[(date(2026, 2, 28), D("1000"))])
    assert st.remaining_principal == D("49.32")
    assert periods(st)[-1] == ("2026-03-01", "2026-03-31", 31, "0.1215", "0.51")
    assert st.total == D("49.83")


# --- Validation --------------------------------------------------------------------------------------------

def test_payment_after_on_is_an_error_naming_it() -> None:
    with pytest.raises(RelanceError, match="2026-05-01"):
        compute(D("1000.00"), date(2026, 2, 14), date(2026, 4, 30), payments=[(date(2026, 5, 1), D("10"))])


@pytest.mark.parametrize("principal", [D("-1"), D("0"), D("10.001"), 10.5, "abc"])
def test_bad_principal(principal: object) -> None:
    with pytest.raises(RelanceError):
        compute(principal, date(2026, 2, 14), date(2026, 4, 30))  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [D("1.5"), D("-0.1"), 0.15, "legal-x2", D("NaN")])
def test_bad_rate(rate: object) -> None:
    with pytest.raises(RelanceError):
        compute(D("1000.00"), date(2026, 2, 14), date(2026, 4, 30), rate=rate)  # type: ignore[arg-type]


def test_bad_kind() -> None:
    with pytest.raises(RelanceError, match="unknown kind"):
        compute(D("1000.00"), date(2026, 2, 14), date(2026, 4, 30), kind="b2g")  # type: ignore[arg-type]


@pytest.mark.parametrize(("due", "on", "semester"), [
    (date(2026, 12, 15), date(2027, 1, 1), "2027-S1"),
    (date(2015, 11, 30), date(2016, 1, 31), "2015-S2"),
    (date(2015, 3, 1), date(2015, 4, 1), "2015-S1"),
])
def test_missing_semester_is_an_error_naming_it(due: date, on: date, semester: str) -> None:
    with pytest.raises(RateMissingError, match=semester):
        compute(D("1000.00"), due, on)


def test_missing_legal_rate_for_b2c_and_legal_x3() -> None:
    with pytest.raises(RateMissingError, match="no legal interest rate for semester 2026-S2"):
        compute(D("1000.00"), date(2026, 6, 1), date(2026, 7, 2), kind="b2c", notice=date(2026, 6, 5))
    with pytest.raises(RateMissingError, match="2026-S2"):
        compute(D("1000.00"), date(2026, 6, 1), date(2026, 7, 2), rate="legal-x3")


def test_missing_semester_not_needed_when_not_late() -> None:
    st = compute(D("1000.00"), date(2026, 8, 1), date(2026, 7, 15))
    assert st.total == D("1000.00")


def test_format_rate() -> None:
    assert format_rate(D("0.1215")) == "0.1215"
    assert format_rate(D("0.15")) == "0.1500"
    assert format_rate(D("0.12345")) == "0.12345"


def test_statement_is_frozen() -> None:
    st = compute(D("1000.00"), date(2026, 2, 14), date(2026, 4, 30))
    with pytest.raises(AttributeError):
        st.total = D("0")  # type: ignore[misc]

