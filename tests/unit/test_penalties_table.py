"""The penalty table a debtor can check (law/table.py): rows that multiply out, summing to `relance penalties`.

Worked cases of legal-fr.md (1, 2, 5, 7, 8, 11) and new ones; every row is re-multiplied here, and the
rows plus the rounding line equal the statement's interest to the cent.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance.law.penalties import accessories_after_principal, compute
from relance.law.table import penalty_table


def check(table) -> None:  # type: ignore[no-untyped-def]
    for row in table.rows:
        expected = (row.base * row.rate * row.days / D(365)).quantize(D("0.01"), ROUND_HALF_UP)
        assert row.amount == expected, row
        assert row.checks
        assert (row.end - row.start).days + 1 == row.days
    assert table.rows_total + table.rounding == table.interest
    assert abs(table.rounding) <= D("0.01") * max(1, len(table.rows))


def test_case_1_one_row() -> None:
    st_ = compute(D("6000.00"), date(2026, 2, 14), date(2026, 4, 16))
    table = penalty_table("F-2026-001", st_)
    check(table)
    assert [(r.start, r.end, r.days, r.base, r.rate, r.amount) for r in table.rows] == [
        (date(2026, 2, 15), date(2026, 4, 16), 61, D("6000.00"), D("0.1215"), D("121.83"))]
    assert table.interest == D("121.83") and table.indemnity == D("40.00")


def test_case_2_one_row_per_semester() -> None:
    table = penalty_table("F2", compute(D("14400.00"), date(2025, 6, 14), date(2025, 9, 15)))
    check(table)
    assert [(r.days, r.rate, r.amount) for r in table.rows] == [
        (16, D("0.1315"), D("83.01")), (77, D("0.1215"), D("369.09"))]
    assert table.interest == D("452.10") and table.rounding == 0


def test_case_5_contractual_rate() -> None:
    table = penalty_table("F5", compute(D("1200.00"), date(2026, 2, 9), date(2026, 3, 20), rate=D("0.15")))
    check(table)
    assert [(r.days, r.rate, r.amount) for r in table.rows] == [(39, D("0.15"), D("19.23"))]


def test_case_7_partial_payments_follow_1343_1() -> None:
    st_ = compute(D("12000.00"), date(2026, 3, 1), date(2026, 4, 30),
                  payments=[(date(2026, 3, 31), D("4000.00")), (date(2026, 4, 30), D("8000.00"))])
    table = penalty_table("F7", st_)
    check(table)
    # the base changes the day after the first payment: two rows, each with its own base
    assert [(r.start, r.end, r.days, r.base, r.amount) for r in table.rows] == [
        (date(2026, 3, 2), date(2026, 3, 31), 30, D("12000.00"), D("119.84")),
        (date(2026, 4, 1), date(2026, 4, 30), 30, D("8159.84"), D("81.49"))]
    first, second = table.imputations
    assert (first.interest, first.indemnity, first.principal) == (D("119.84"), D("40.00"), D("3840.16"))
    assert (second.interest, second.indemnity, second.principal) == (D("81.49"), D("0"), D("7918.51"))
    assert table.principal_unpaid == D("241.33") and st_.total == D("241.33")   # legal-fr case 7 (a)


def test_issue_15_row_never_mixes_two_bases() -> None:
    # issue 15: "base 900,00 €, 32 days, 12,15 %, 11,77 €" mixed two bases; each row now has one base
    st_ = compute(D("1800.00"), date(2026, 4, 16), date(2026, 5, 18), payments=[(date(2026, 4, 27), D("900.00"))])
    table = penalty_table("A1", st_)
    check(table)
    assert len({r.base for r in table.rows}) == len(table.rows) == 2
    assert table.rows[1].base == st_.remaining_principal


def test_case_8_leap_year_two_semesters() -> None:
    table = penalty_table("F8", compute(D("4800.00"), date(2024, 11, 30), date(2025, 1, 31)))
    check(table)
    assert [(r.days, r.rate, r.amount) for r in table.rows] == [
        (31, D("0.1425"), D("58.09")), (31, D("0.1315"), D("53.61"))]
    assert table.interest == D("111.70")


def test_case_11_consumer_from_the_formal_notice() -> None:
    table = penalty_table("F11", compute(D("1500.00"), date(2026, 1, 15), date(2026, 6, 30), kind="b2c",
                                         notice=date(2026, 3, 2)))
    check(table)
    assert [(r.start, r.days, r.rate, r.amount) for r in table.rows] == [
        (date(2026, 3, 3), 120, D("0.0262"), D("12.92"))]
    assert table.indemnity == 0


def test_public_buyer_rate_frozen_at_the_semester_interest_started() -> None:
    table = penalty_table("P1", compute(D("8400.00"), date(2026, 5, 15), date(2026, 11, 16), kind="public"))
    check(table)
    assert {r.rate for r in table.rows} == {D("0.1015")}   # 2,15 % of 1 Jan 2026 + 8 points, R2192-31 CCP


def test_a_2021_invoice_computes() -> None:
    table = penalty_table("OLD", compute(D("6000.00"), date(2021, 3, 31), date(2021, 12, 1)))
    check(table)
    assert {r.rate for r in table.rows} == {D("0.10")}     # MRO 0,00 % + 10 points all of 2021


def test_rounding_line_when_the_rows_do_not_add_up() -> None:
    # three segments whose rounded amounts differ from the single rounding of the sum
    st_ = compute(D("1000.01"), date(2025, 6, 29), date(2026, 1, 2))
    table = penalty_table("R", st_)
    check(table)


@settings(max_examples=150, deadline=None)
@given(amount=st.decimals(min_value=D("1.00"), max_value=D("250000.00"), places=2),
       due=st.dates(min_value=date(2021, 1, 1), max_value=date(2026, 6, 30)),
       late=st.integers(min_value=1, max_value=700),
       pays=st.lists(st.tuples(st.integers(min_value=0, max_value=700),
                               st.decimals(min_value=D("0.01"), max_value=D("50000.00"), places=2)), max_size=3))
def test_rows_multiply_out_and_sum_to_the_statement(amount: D, due: date, late: int,
                                                    pays: list[tuple[int, D]]) -> None:
    on = min(due + dt.timedelta(days=late), date(2026, 12, 31))
    payments = [(min(due + dt.timedelta(days=d), on), a) for d, a in pays]
    st_ = compute(amount, due, on, payments=payments)
    table = penalty_table("H", st_)
    check(table)
    assert table.interest == st_.interest


@pytest.mark.parametrize(("payments", "interest", "indemnity", "principal"), [
    # legal-fr case 1: the whole 6 000 paid on 16/04/2026: 121,83 + 40 = 161,83 remain
    ([(date(2026, 4, 16), D("6000.00"))], D("121.83"), D("40.00"), D("0")),
    # legal-fr case 7 (a): 241,33 remain after 4 000 then 8 000
    ([(date(2026, 3, 31), D("4000.00")), (date(2026, 4, 30), D("8000.00"))], D("81.49"), D("0.00"), D("159.84")),
])
def test_accessories_after_principal(payments: list[tuple[date, D]], interest: D, indemnity: D,
                                     principal: D) -> None:
    amount = sum((a for _, a in payments), D(0))
    due = date(2026, 2, 14) if len(payments) == 1 else date(2026, 3, 1)
    left = accessories_after_principal(amount, due, "b2b", payments)
    assert (left.interest, left.indemnity, left.principal) == (interest, indemnity, principal)
    assert left.known_total == (D("161.83") if len(payments) == 1 else D("241.33"))
    assert left.known_total == compute(amount, due, payments[-1][0], payments=payments).total


def test_accessories_when_the_rate_is_missing_keep_the_indemnity() -> None:
    left = accessories_after_principal(D("1000.00"), date(2027, 1, 5), "b2b", [(date(2027, 2, 1), D("1000.00"))])
    assert left.interest is None and left.indemnity == D("40.00") and "2027-S1" in (left.missing or "")
