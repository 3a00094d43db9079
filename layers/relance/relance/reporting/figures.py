"""The figures reports show: invoices as a report sees them, amounts in euros, the aging buckets."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0")
BUCKETS = ("not due", "1–30", "31–60", "61–90", "90+")
# Still owed: open (chased, paused or « à décider »), with a partner, or declined before decisions existed.
OWED = ("open", "handed_off", "escalation_declined", "declined")
WRITTEN_OFF = ("written_off",)


@dataclass
class Invoice:
    """An invoice as the report sees it."""

    id: str
    customer: str
    issued: dt.date | None
    due: dt.date | None
    amount: Decimal
    balance: Decimal
    status: str = "open"
    valid: bool = True
    to_decide: bool = False      # open and owed, waiting for the team's decision (refused or expired hand-off)


def money(value: Decimal) -> str:
    """1 234,56 € (French grouping, no locale dependency)."""
    q = value.quantize(Decimal("0.01"))
    sign = "-" if q < 0 else ""
    whole, _, cents = f"{abs(q):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups) or '0'},{cents} €"


def bucket_of(due: dt.date | None, on: dt.date) -> str:
    if due is None or due >= on:
        return BUCKETS[0]
    late = (on - due).days
    if late <= 30:
        return BUCKETS[1]
    if late <= 60:
        return BUCKETS[2]
    if late <= 90:
        return BUCKETS[3]
    return BUCKETS[4]


def aging(invoices: Iterable[Invoice], on: dt.date) -> list[tuple[str, int, Decimal]]:
    """(bucket, invoices, amount owed) for what is still owed on ``on``; every bucket listed."""
    counts: Counter[str] = Counter()
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for inv in invoices:
        if inv.valid and inv.status in OWED and inv.balance > 0:
            bucket = bucket_of(inv.due, on)
            counts[bucket] += 1
            amounts[bucket] += inv.balance
    return [(b, counts[b], amounts[b]) for b in BUCKETS]
