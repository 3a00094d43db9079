"""Limitation period (prescription) of the action for payment of an invoice.

- b2b and public buyers: 5 years from the due date (C. com. L110-4; C. civ. 2224).
- b2c: 2 years from the completion of the service or the delivery (C. consom. L218-2; Cass. 1re civ.
  19 mai 2021, n° 20-12.520; Cass. 3e civ. 1er mars 2023, n° 21-23.176), no longer from the invoice.

A reminder or a formal notice does not interrupt it; a claim in court (injonction de payer included), an
acknowledgment by the debtor or an enforcement act does (C. civ. 2240-2244).
A period in years ends on the day with the same date in the last year, or on the last day of the month
when that date does not exist (29 February; CPC 641).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import NamedTuple

from relance.errors import RelanceError

B2B_YEARS = 5
B2C_YEARS = 2


class Limitation(NamedTuple):
    """``date``: the last day to act (the claim is time-barred once it has passed); ``basis``: why."""

    date: dt.date
    basis: str


def add_years(day: dt.date, years: int) -> dt.date:
    """Same day and month ``years`` later; 29 February becomes 28 February (CPC 641)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def limitation_date(kind: str, due: dt.date, delivered: dt.date | None = None) -> Limitation:
    """When the creditor's action for payment is time-barred, with its legal basis."""
    if kind in ("b2b", "public"):
        basis = (f"{B2B_YEARS} years from the due date {due} (C. com. L110-4; C. civ. 2224); a reminder or a "
                 "formal notice does not interrupt it (C. civ. 2240-2244)")
        if kind == "public":
            barred = dt.date(due.year + 4, 12, 31)
            basis += (f"; public debtor: check the déchéance quadriennale (loi n° 68-1250 du 31 déc. 1968), "
                      f"which may bar a claim against the State, a local authority or a public establishment "
                      f"after {barred} [À VÉRIFIER]")
        return Limitation(add_years(due, B2B_YEARS), basis)
    if kind == "b2c":
        if delivered is None:
            basis = (f"{B2C_YEARS} years (C. consom. L218-2) counted from the due date {due} because no "
                     "delivery or completion date was given: the law counts from the completion of the "
                     "service or the delivery (Cass. 3e civ. 1er mars 2023), which is usually earlier; "
                     "record it")
            return Limitation(add_years(due, B2C_YEARS), basis)
        basis = (f"{B2C_YEARS} years from the completion of the service or the delivery on {delivered} "
                 "(C. consom. L218-2; Cass. 1re civ. 19 mai 2021; Cass. 3e civ. 1er mars 2023); a formal "
                 "notice does not interrupt it")
        return Limitation(add_years(delivered, B2C_YEARS), basis)
    raise RelanceError(f"unknown kind {kind!r} (expected b2b, b2c or public)", "kind")
