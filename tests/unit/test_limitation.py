"""relance.law.limitation: when the action for payment is time-barred."""

from __future__ import annotations

from datetime import date

import pytest

from relance.errors import RelanceError
from relance.law import limitation_date
from relance.law.limitation import add_years


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


def test_public_five_years_with_quadrennial_warning() -> None:
    result = limitation_date("public", date(2026, 2, 14))
    assert result.date == date(2031, 2, 14)
    assert "68-1250" in result.basis and "2030-12-31" in result.basis


def test_29_february() -> None:
    assert add_years(date(2024, 2, 29), 5) == date(2029, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert limitation_date("b2c", date(2024, 3, 1), delivered=date(2024, 2, 29)).date == date(2026, 2, 28)


def test_unknown_kind() -> None:
    with pytest.raises(RelanceError, match="unknown kind"):
        limitation_date("b2g", date(2026, 1, 1))
