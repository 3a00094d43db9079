"""Limitation period (prescription, déchéance) of the action for payment of an invoice.

- b2b: 5 years from the due date (C. com. L110-4; C. civ. 2224).
- b2c: 2 years from the completion of the service or the delivery (C. consom. L218-2; Cass. 1re civ.
  19 mai 2021, n° 20-12.520; Cass. 3e civ. 1er mars 2023, n° 21-23.176), no longer from the invoice.
  Without a delivery date, the due date is used and the basis says so (the law's start is usually earlier).
- public buyers: déchéance quadriennale (loi n° 68-1250 du 31 décembre 1968, art. 1): four years from
  1 January of the year after the one in which the right arose, i.e. barred after 31 December of year + 4.
  The right to be paid arises with the service done (or the delivery); without that date, the due date's
  year is used.

A reminder or a formal notice does not interrupt it; a claim in court (injonction de payer included), an
acknowledgment by the debtor or an enforcement act does (C. civ. 2240-2244); for public buyers, any written
claim to the administration about the debt interrupts the déchéance (loi 68-1250, art. 2) — relance does
not count on it and stops at the first date.
A period in years ends on the day with the same date in the last year, or on the last day of the month
when that date does not exist (29 February; CPC 641).

Before every send the engine stops an invoice whose last day to act has passed (``time_barred``); the
approval email and the case file warn when it is ``NEAR_DAYS`` away.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from typing import NamedTuple

from relance.errors import RelanceError

B2B_YEARS = 5
B2C_YEARS = 2
PUBLIC_YEARS = 4
NEAR_DAYS = 60   # the approval email and the case file warn when the limit is this close


class Limitation(NamedTuple):
    """``date``: the last day to act (the claim is time-barred once it has passed); ``basis``: why."""

    date: dt.date
    basis: str


def add_years(day: dt.date, years: int) -> dt.date:
    """Same day and month ``years`` later; 29 February becomes 28 February (CPC 641)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@functools.lru_cache(maxsize=65536)
def last_day(kind: str, due: dt.date, delivered: dt.date | None = None) -> dt.date:
    """The last day the creditor can act (cheap: the engine calls it for every evaluation)."""
    if kind == "b2b":
        return add_years(due, B2B_YEARS)
    if kind == "b2c":
        return add_years(delivered or due, B2C_YEARS)
    if kind == "public":
        arose = delivered or due
        return dt.date(arose.year + PUBLIC_YEARS, 12, 31)
    raise RelanceError(f"unknown kind {kind!r} (expected b2b, b2c or public)", "kind")


def is_time_barred(kind: str, due: dt.date, on: dt.date, delivered: dt.date | None = None) -> bool:
    """True once the last day to act has passed: no message may go out any more."""
    return on > last_day(kind, due, delivered)


def days_left(kind: str, due: dt.date, on: dt.date, delivered: dt.date | None = None) -> int:
    """Days from ``on`` to the last day to act (negative once time-barred)."""
    return (last_day(kind, due, delivered) - on).days


def limitation_date(kind: str, due: dt.date, delivered: dt.date | None = None) -> Limitation:
    """When the creditor's action for payment is time-barred, with its legal basis."""
    date = last_day(kind, due, delivered)
    if kind == "b2b":
        return Limitation(date, f"{B2B_YEARS} years from the due date {due} (C. com. L110-4; C. civ. 2224); a "
                                "reminder or a formal notice does not interrupt it (C. civ. 2240-2244)")
    if kind == "public":
        start = delivered or due
        origin = (f"the service done or delivery on {delivered}" if delivered else
                  f"the due date {due} (no delivery date recorded)")
        return Limitation(date, f"déchéance quadriennale (loi n° 68-1250 du 31 décembre 1968, art. 1): four "
                                f"years from 1 January {start.year + 1}, the year after {origin}")
    if delivered is None:
        return Limitation(date, f"{B2C_YEARS} years (C. consom. L218-2) counted from the due date {due} because "
                                "no delivery or completion date was given: the law counts from the completion "
                                "of the service or the delivery (Cass. 3e civ. 1er mars 2023), which is "
                                "usually earlier; record it")
    return Limitation(date, f"{B2C_YEARS} years from the completion of the service or the delivery on "
                            f"{delivered} (C. consom. L218-2; Cass. 1re civ. 19 mai 2021; Cass. 3e civ. 1er mars "
                            "2023); a formal notice does not interrupt it")


def near_warnings(kind: str, invoices: list[tuple[str, dt.date, dt.date | None]], on: dt.date,
                  near: int = NEAR_DAYS) -> list[str]:
    """French warnings for the invoices whose last day to act is within ``near`` days of ``on`` (or passed).

    ``invoices``: (number, due date, delivery date or None). Shown in the approval email and the case file:
    only a claim in court (injonction de payer, référé-provision...) interrupts the period, not a letter.
    """
    out = []
    for number, due, delivered in invoices:
        last = last_day(kind, due, delivered)
        left = (last - on).days
        when = last.strftime("%d/%m/%Y")
        if left < 0:
            out.append(f"Facture {number} : prescrite, le dernier jour pour agir était le {when} ; rien ne peut plus "
                       "être réclamé.")
        elif left <= near:
            out.append(f"Facture {number} : prescription acquise après le {when} (dans {left} jour"
                       f"{'s' if left > 1 else ''}) ; seule une demande en justice l'interrompt, pas une lettre.")
    return out
