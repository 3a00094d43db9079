"""Properties of compute() (hypothesis) and an independent day-by-day cross-check.

The naive model below shares no code with relance.law: its rates are copied by hand from legal-fr.md
(tables 0.2 and 0.3), it walks one day at a time in exact fractions and rounds half up by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction as F
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from relance.law import compute

FIRST, LAST = date(2024, 1, 1), date(2026, 6, 30)      # 2024-S1 .. 2026-S1: every rate is published

# legal-fr.md, table 0.3 (« taux refi de référence ») and table 0.2 (« autres cas »), in percent.
ECB_REFERENCE = {(2024, 1): "4.50", (2024, 2): "4.25", (2025, 1): "3.15", (2025, 2): "2.15",
                 (2026, 1): "2.15"}
LEGAL_OTHER = {(2024, 1): "5.07", (2024, 2): "4.92", (2025, 1): "3.71", (2025, 2): "2.76",
               (2026, 1): "2.62"}


def pct(text: str) -> F:
    return F(text) / 100


def sem(day: date) -> tuple[int, int]:
    return (day.year, 1 if day.month <= 6 else 2)


def half_up(x: F) -> D:
    """Round a non-negative fraction to the cent, half up."""
    cents_ = (x * 100 + F(1, 2)).__floor__()
    return D(cents_) / 100


def naive(principal: D, due: date, on: date, kind: str = "b2b", rate: object = None,
          notice: date | None = None, payments: Sequence[tuple[date, D]] = ()) -> tuple[D, D, D]:
    """(interest, indemnity, total) walking one day at a time; a payment day rounds the interest so far."""
    pays = sorted(payments)
    left_at_due = F(principal) - sum((F(a) for d, a in pays if d <= due), F(0))
    late = on > due and left_at_due > 0
    indemnity = F(40) if late and kind != "b2c" else F(0)
    start: date | None = due + timedelta(days=1) if late else None
    if kind == "b2c":
        start = notice + timedelta(days=1) if (late and notice is not None and notice >= due) else None

    def day_rate(day: date) -> F:
        if kind == "b2c":
            return pct(LEGAL_OTHER[sem(day)])
        if kind == "public":
            assert start is not None
            return pct(ECB_REFERENCE[sem(start)]) + F(8, 100)
        if rate == "legal-x3":
            return 3 * pct(LEGAL_OTHER[sem(day)])
        if rate is not None:
            return F(str(rate))
        return pct(ECB_REFERENCE[sem(day)]) + F(10, 100)

    base, pending, interest, unpaid, owed = F(principal), F(0), F(0), F(0), indemnity
    paid = sum((F(a) for _, a in pays), F(0))
    day = min([due] + [d for d, _ in pays])
    while day <= on:
        if start is not None and day >= start and base > 0:
            pending += base * day_rate(day) / 365
        todays = [F(a) for d, a in pays if d == day]
        if todays:
            chunk = F(half_up(pending))
            interest, unpaid, pending = interest + chunk, unpaid + chunk, F(0)
            for amount in todays:
                part = min(amount, unpaid)
                unpaid, amount = unpaid - part, amount - part
                if day > due:
                    part = min(amount, owed)
                    owed, amount = owed - part, amount - part
                base -= min(amount, base)
        day += timedelta(days=1)
    interest += F(half_up(pending))
    total = max(F(principal) + interest + indemnity - paid, F(0))
    return half_up(interest), half_up(indemnity), half_up(total)


amounts = st.integers(min_value=1, max_value=10_000_000).map(lambda c: D(c) / 100)
days_in_range = st.dates(min_value=FIRST, max_value=LAST)


@st.composite
def invoices(draw: st.DrawFn, with_payments: bool = True) -> dict[str, Any]:
    due = draw(st.dates(min_value=FIRST - timedelta(days=1), max_value=LAST))
    on = draw(st.dates(min_value=max(FIRST, due - timedelta(days=60)), max_value=LAST))
    kind = draw(st.sampled_from(["b2b", "b2c", "public"]))
    principal = draw(amounts)
    args: dict[str, Any] = {"principal": principal, "due": due, "on": on, "kind": kind}
    if kind == "b2b":
        args["rate"] = draw(st.one_of(st.none(), st.just("legal-x3"),
                                      st.integers(0, 3000).map(lambda b: D(b) / 10000)))
    if kind == "b2c":
        args["notice"] = draw(st.one_of(st.none(), st.dates(min_value=due, max_value=max(due, on))))
    if with_payments:
        pays = draw(st.lists(st.tuples(st.dates(min_value=min(due, on) - timedelta(days=30), max_value=on),
                                       st.integers(1, int(principal * 100) + 5000).map(lambda c: D(c) / 100)),
                             max_size=3))
        args["payments"] = pays
    return args


@settings(max_examples=300, deadline=None)
@given(invoices())
def test_matches_the_naive_day_by_day_model(args: dict[str, Any]) -> None:
    st_ = compute(**args)
    interest, indemnity, total = naive(**args)
    assert (st_.interest, st_.indemnity, st_.total) == (interest, indemnity, total)


@settings(max_examples=200, deadline=None)
@given(invoices(with_payments=False), st.integers(0, 400))
def test_interest_monotonic_in_on(args: dict[str, Any], extra: int) -> None:
    later = min(LAST, args["on"] + timedelta(days=extra))
    first = compute(**args)
    second = compute(**{**args, "on": later})
    assert second.interest >= first.interest
    assert second.total >= first.total


@settings(max_examples=200, deadline=None)
@given(invoices())
def test_invariants(args: dict[str, Any]) -> None:
    st_ = compute(**args)
    assert st_.total >= 0
    assert st_.interest >= 0
    assert st_.days_late == max(0, (st_.on - st_.due).days)
    if st_.kind == "b2c":
        assert st_.indemnity == 0
    else:
        assert st_.indemnity in (D("0.00"), D("40.00"))
    if st_.on <= st_.due:
        assert st_.interest == 0 and st_.indemnity == 0 and st_.periods == []
    assert sum(p.days for p in st_.periods) <= st_.days_late
    if not any("overpaid" in n for n in st_.notes):
        assert st_.total == st_.principal + st_.interest + st_.indemnity - st_.paid
    assert abs(sum(p.interest for p in st_.periods) - st_.interest) <= D("0.01") * max(1, len(st_.periods))
    for p in st_.periods:   # segments never cross a semester boundary
        assert (p.start.year, p.start.month <= 6) == (p.end.year, p.end.month <= 6)


@settings(max_examples=100, deadline=None)
@given(amounts, days_in_range, st.integers(0, 400))
def test_zero_when_on_not_after_due(principal: D, due: date, back: int) -> None:
    st_ = compute(principal, due, due - timedelta(days=back))
    assert (st_.interest, st_.indemnity, st_.total, st_.days_late) == (0, 0, principal, 0)
