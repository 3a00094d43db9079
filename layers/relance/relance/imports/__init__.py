"""Ways invoices come in besides the API: CSV spreadsheets, Factur-X PDFs, e-invoicing lifecycle statuses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def today_paris(now: dt.datetime | None = None) -> dt.date:
    """The calendar date in Europe/Paris (the business day of a French creditor)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(PARIS).date()
